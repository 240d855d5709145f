"""The Triton minGRU/minLSTM kernel (path="triton") against the step loop.

On a machine with CUDA the kernels are compiled and run on the GPU; without one they run in
Triton's interpreter (TRITON_INTERPRET=1, set for this module's tests only) on CPU tensors.
Either way on small tiles (8 time steps × 4 hidden units, carry scans of 2 chunks), so that
every pass and boundary is crossed on small shapes (and few variants are compiled on a GPU);
one test runs the default tiles. The reference is the loop in float64; tolerances:

    float64   1e-12 of the largest value (seen: ≤ 1e-15; the scan only reassociates products)
    float32   1e-5  (seen: ≤ 6e-7; a ∈ (0, 1), so rounding errors do not grow along T)
    bfloat16  3e-2  (h, dW, … rounded once to 8 bits: 2⁻⁸ ≈ 4e-3, and h_{t−1} − h̃ in the
                     backward read from a rounded h)
"""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys

import pytest
import torch

from rnnlab.cells import make_cell
from rnnlab.errors import RnnlabError

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("triton") is None,
    reason="triton is not installed (pip install -e '.[dev]' adds it; torch's CUDA wheels "
    "bring it)",
)

CUDA = torch.cuda.is_available()
DEVICE = "cuda" if CUDA else "cpu"
KINDS = ["mingru", "minlstm"]


@pytest.fixture(scope="module")
def tm_and_tuning():
    """rnnlab.kernels.triton_minimal, compiled on a GPU or interpreted on the CPU; TUNING and
    TRITON_INTERPRET given back afterwards."""
    env = pytest.MonkeyPatch()
    if not CUDA:
        env.setenv("TRITON_INTERPRET", "1")  # read when the module's kernels are decorated
    from triton.runtime.interpreter import InterpretedFunction

    import rnnlab.kernels.triton_minimal as TM

    if isinstance(TM._local, InterpretedFunction) == CUDA:  # imported earlier in the other mode
        TM = importlib.reload(TM)
    saved = dict(TM.TUNING)
    TM.TUNING.update(chunk=8, block_h=4, block_c=2, walk_block_h=4, unroll=4, walk_programs=8)
    yield TM, saved
    TM.TUNING.clear()
    TM.TUNING.update(saved)
    env.undo()


@pytest.fixture
def tm(tm_and_tuning):
    return tm_and_tuning[0]


@pytest.fixture(params=["walk", "chunked"])
def variant(request, tm, monkeypatch):
    """Both kernels: the walk (one pass per direction, segments of time) and the chunked scan."""
    monkeypatch.setitem(tm.TUNING, "variant", request.param)
    return request.param


@pytest.fixture
def saved_tuning(tm_and_tuning):
    """The module's own tile sizes (the fixture runs the tests on small ones)."""
    return tm_and_tuning[1]


def _case(name, B, T, I, H, h0, dtype, seed=0):
    """A float64 loop cell, its inputs, and the loop's h and gradients for a random dL/dh."""
    torch.manual_seed(seed)
    ref = make_cell(name, I, H, path="loop").double()
    x = torch.randn(B, T, I, dtype=torch.float64)
    state = {"none": None, "zeros": torch.zeros(B, H), "random": torch.randn(B, H)}[h0]
    if state is not None:
        state = state.double()
    gout = torch.randn(B, T, H, dtype=torch.float64)
    with torch.no_grad():  # the inputs rounded to the tested dtype, so both see the same numbers
        for p in ref.parameters():
            p.copy_(p.to(dtype))
        x = x.to(dtype).double()
        state = None if state is None else state.to(dtype).double()
    return ref, x, state, gout


def _grads(cell, x, state, gout):
    x = x.detach().requires_grad_()
    s = None if state is None else state.detach().requires_grad_()
    h, last = cell(x, s)
    wrt = [x, cell.weight, cell.bias] + ([s] if s is not None else [])
    return [h, last, *torch.autograd.grad((h * gout).sum(), wrt)]


def _compare(name, B, T, I, H, h0, dtype, tol):
    ref, x, state, gout = _case(name, B, T, I, H, h0, dtype)
    want = [t.detach() for t in _grads(ref, x, state, gout)]
    cell = make_cell(name, I, H, path="triton").to(DEVICE, dtype)
    cell.load_state_dict(ref.state_dict())
    on = lambda t: None if t is None else t.to(DEVICE, dtype)  # noqa: E731
    got = _grads(cell, on(x), on(state), on(gout))
    names = ["h", "h_T", "dx", "dW", "db", "dh0"]
    for n, g, w in zip(names, [t.detach() for t in got], want, strict=False):
        assert g.dtype == dtype, n
        err = float((g.double().cpu() - w).abs().max() / w.abs().max().clamp_min(1e-30))
        assert err < tol, (n, err)


def _chunk(tm) -> int:
    return tm.TUNING["chunk"]


@pytest.mark.parametrize("name", KINDS)
@pytest.mark.parametrize("t", ["1", "5", "chunk+3", "3chunk"])
def test_agrees_with_the_loop_in_float64(tm, variant, name, t):
    """One chunk, a partial one, several with a ragged end; random h0; H = 3 (a partial tile).
    The walk on small tiles: 4 units, 4 steps per iteration, up to 4 segments per row."""
    C = _chunk(tm)
    T = {"1": 1, "5": 5, "chunk+3": C + 3, "3chunk": 3 * C}[t]
    _compare(name, 2, T, 2, 3, "random", torch.float64, 1e-12)


@pytest.mark.parametrize("name", KINDS)
@pytest.mark.parametrize("h0", ["none", "zeros"])
def test_initial_state_none_and_zeros(tm, name, h0):
    _compare(name, 2, _chunk(tm) + 3, 1, 3, h0, torch.float64, 1e-12)


@pytest.mark.parametrize("name", KINDS)
def test_float32_several_hidden_blocks(tm, variant, name):
    """H = 8: two hidden blocks in the interpreter, whose dx shares are summed."""
    _compare(name, 2, 2 * _chunk(tm) + 1, 1, 8, "random", torch.float32, 1e-5)


@pytest.mark.parametrize("name", KINDS)
def test_bfloat16_accumulates_in_float32(tm, name):
    _compare(name, 1, _chunk(tm) + 3, 1, 8, "random", torch.bfloat16, 3e-2)


@pytest.mark.parametrize("which", ["walk", "chunked"])
def test_default_tiles(tm, monkeypatch, saved_tuning, which):
    """The tiles the GPU runs: several chunks (segments) and two hidden blocks, partial at both
    ends."""
    for k, v in saved_tuning.items():
        monkeypatch.setitem(tm.TUNING, k, v)
    monkeypatch.setitem(tm.TUNING, "variant", which)
    if which == "walk":  # B = 1, T = 45: 6 segments of 8 steps (the last one 5)
        monkeypatch.setitem(tm.TUNING, "walk_programs", 12)
        T, H = 5 * tm.TUNING["unroll"] + 5, tm.TUNING["walk_block_h"] + 3
        assert tm._walk_sizes(1, T, H)[4] == 6
    else:
        T, H = 2 * tm.TUNING["chunk"] + 5, tm.TUNING["block_h"] + 3
    _compare("mingru", 1, T, 1, H, "random", torch.float32, 1e-5)


def test_walk_in_one_segment_and_in_many(tm, monkeypatch):
    """walk_programs 1: one program walks all of T (no map, no carry); 64: a segment per step
    iteration (T = 21: 6 segments of 4 steps, the last one 1)."""
    monkeypatch.setitem(tm.TUNING, "variant", "walk")
    for programs, segments in [(1, 1), (64, 6)]:
        monkeypatch.setitem(tm.TUNING, "walk_programs", programs)
        assert tm._walk_sizes(1, 21, 3)[4] == segments
        _compare("minlstm", 1, 21, 3, 3, "random", torch.float64, 1e-12)


def test_carry_pass_over_several_tiles_of_chunks(tm, variant, monkeypatch):
    """block_c = 2 chunk (segment) maps per carry scan: the carry crosses tiles (T = 5 chunks,
    4 walk segments)."""
    monkeypatch.setitem(tm.TUNING, "block_c", 2)
    _compare("minlstm", 1, 5 * _chunk(tm) - 1, 2, 3, "random", torch.float64, 1e-12)


def test_sum_of_h_gradient_is_broadcast_and_x_needs_none(tm):
    """Σh sends back expanded ones (stride 0), read as they are; x without grad: dx skipped."""
    torch.manual_seed(1)
    ref = make_cell("mingru", 1, 4, path="loop").double()
    cell = make_cell("mingru", 1, 4, path="triton").to(DEVICE, torch.float64)
    cell.load_state_dict(ref.state_dict())
    x = torch.randn(3, 2 * _chunk(tm) + 1, 1, dtype=torch.float64)
    ref(x)[0].sum().backward()
    cell(x.to(DEVICE))[0].sum().backward()
    for p, q in zip(ref.parameters(), cell.parameters(), strict=True):
        assert torch.allclose(p.grad, q.grad.cpu(), rtol=1e-12, atol=1e-12)


def test_triton_path_without_gpu_or_interpreter_is_a_one_line_error(monkeypatch):
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    cell = make_cell("mingru", 1, 3, path="triton")
    with pytest.raises(RnnlabError, match=r"path='triton' cannot run: it needs a CUDA tensor"):
        cell(torch.zeros(1, 4, 1))


def test_weight_of_the_wrong_height_is_refused(tm):
    w, b = torch.zeros(5, 1, device=DEVICE), torch.zeros(5, device=DEVICE)
    x, h0 = torch.zeros(1, 3, 1, device=DEVICE), torch.zeros(1, 2, device=DEVICE)
    with pytest.raises(ValueError, match="rows"):
        tm.MinimalTritonFunction.apply(x, w, b, h0, 0)


@pytest.mark.skipif(not CUDA, reason="auto picks the Triton kernel for CUDA tensors only")
def test_auto_on_cuda_takes_the_triton_kernel(tm, monkeypatch):
    calls = []
    real = tm.MinimalTritonFunction.apply
    monkeypatch.setattr(tm.MinimalTritonFunction, "apply", lambda *a: calls.append(1) or real(*a))
    make_cell("minlstm", 1, 8).cuda()(torch.randn(2, 9, 1, device="cuda"))
    assert calls == [1]


def test_importing_rnnlab_does_not_import_triton():
    code = (
        "import sys, rnnlab, rnnlab.cells, rnnlab.kernels, rnnlab.bench; "
        "print('triton' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
