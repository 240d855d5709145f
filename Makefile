# The two set-up commands. Each bootstraps .venv on a fresh machine and is quick once set up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test test-cpus lint clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "rnnlab needs Python >= 3.11")'
	@echo "Setting up $(VENV): rnnlab with PyTorch, numba, pandas, matplotlib and statsforecast, plus"
	@echo "pytest, ruff, scikit-learn and Triton for the tests. The first time, pip fetches about 640 MB"
	@echo "of wheels and unpacks them to about 2.6 GB: allow several minutes (about 4 on a 2-core machine"
	@echo "from a local mirror; longer over a slow network). pip stays quiet until it is done."
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@echo "Installed: $(BIN)/rnnlab (this step is skipped from now on until pyproject.toml changes)."
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/rnnlab forecast --out out/forecast

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest -q

# The numerically sensitive tests again as other x86-64 CPUs would run them: ATen's and MKL's
# SIMD paths forced down (CI runs on AMD or Intel; no test may depend on which path is taken).
SENSITIVE := tests/test_gradients_cli.py tests/test_tasks.py tests/test_kernels_rnn.py \
	tests/test_kernels_scan.py tests/test_minimal.py tests/test_deer.py tests/test_diagnostics.py \
	tests/test_diagnostics_init.py tests/test_reproducibility.py tests/test_forecast_training.py \
	tests/test_longmemory_cli.py tests/test_cells.py tests/test_kernels_minimal.py
CPUS := "ATEN_CPU_CAPABILITY=default MKL_ENABLE_INSTRUCTIONS=SSE4_2" \
	"ATEN_CPU_CAPABILITY=default MKL_ENABLE_INSTRUCTIONS=AVX2" \
	"ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=SSE4_2" \
	"ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2"

test-cpus: $(STAMP)
	@for cpu in $(CPUS); do \
	  echo "== simulated CPU: $$cpu"; \
	  env $$cpu $(BIN)/python -m pytest -q -p no:cacheprovider $(SENSITIVE) || exit 1; \
	done

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .ruff_cache
