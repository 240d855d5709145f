"""`rnnlab explore`: the page's size, its offline-ness and torch-free writing; its JavaScript maths
against the glass box and `rnnlab walkthrough --json`, its controls, step player and layout,
all in a real (headless) chromium.

The browser tests need Debian's ``chromium`` and ``chromium-driver`` and the ``selenium``
package (dev extras); without them they skip, saying so (``pytest -ra``). CI installs both.
Set ``RNNLAB_SCREENSHOTS=DIR`` to keep the screenshots (docs/img/explore_*.png, and
explore_model_lstm.png: a trained LSTM's page, whole).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import pytest

from rnnlab.explore.page import page_html, write_page
from rnnlab.explore.trace import build_trace
from rnnlab.glassbox import RNNParams, forward, jacobian_products

WALKTHROUGH_KEYS = ("activation", "weights", "steps", "prediction")
BACKWARD_KEYS = ("grad_norm", "loss", "wh_grad", "wh_grad_by_lag", "target")
RTOL = 1e-12
worst = {"relative error": 0.0}  # the largest JS-vs-Python difference seen (printed: -s)


def close(a, b, where="trace"):
    """Equal structures, numbers within RTOL relative; records the worst relative error."""
    if isinstance(a, dict):
        assert isinstance(b, dict), where
        assert set(a) == set(b), (where, sorted(a), sorted(b))
        for k in a:
            close(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list), where
        assert len(a) == len(b), where
        for i, (u, v) in enumerate(zip(a, b, strict=True)):
            close(u, v, f"{where}[{i}]")
    elif isinstance(a, int | float) and not isinstance(a, bool):
        assert isinstance(b, int | float), (where, a, b)
        scale = max(abs(a), abs(b))
        err = 0.0 if scale == 0 else abs(a - b) / scale
        worst["relative error"] = max(worst["relative error"], err)
        assert err <= RTOL, f"{where}: {a!r} vs {b!r} (relative {err:.2e})"
    else:
        assert a == b, (where, a, b)


# ------------------------------------------------------------------- without a browser


def test_page_is_small_offline_and_written_without_torch(tmp_path):
    out = tmp_path / "explore.html"
    code = (
        "import sys, time\n"
        "from rnnlab.cli import main\n"
        "t = time.perf_counter()\n"
        f"rc = main(['explore', '--out', {str(out)!r}])\n"
        "print(rc, time.perf_counter() - t, 'torch' in sys.modules)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    rc, seconds, torch_loaded = proc.stdout.split()[-3:]
    assert rc == "0"
    assert torch_loaded == "False"
    assert float(seconds) < 1.0
    html = out.read_text(encoding="utf-8")
    assert len(html.encode()) < 300_000
    # the only URL is the SVG namespace's name, which nothing fetches (and the page's CSP
    # default-src 'none' forbids any load)
    assert re.findall(r"https?://(?!www\.w3\.org/2000/svg\b)\S+", html) == []
    assert "default-src 'none'" in html
    for slot in ("/*STYLE*/", "/*SCRIPT*/", "/*MODEL*/", "/*TRACE*/"):
        assert slot not in html


def test_embedded_trace_is_the_walkthrough_of_the_default_state(cli_here):
    html = page_html()
    embedded = re.search(r'<script type="application/json" id="trace">(.*?)</script>', html, re.S)
    trace = json.loads(embedded.group(1))
    r = cli_here("walkthrough", "--json")
    assert r.code == 0, r.err
    assert {k: trace[k] for k in WALKTHROUGH_KEYS} == json.loads(r.out)


@pytest.mark.parametrize(
    "args",
    [
        ("--inputs", "0.2,0.5,0.9", "--scale", "100,200"),
        ("--inputs", "0.3,-1,2,0.7", "--wx=-0.7", "--wh=1.3", "--b=0.2", "--h0=0.4"),
        ("--inputs", "1,-2,3", "--activation", "relu", "--wh=0.9", "--standard", "50,4"),
    ],
)
def test_python_trace_has_walkthroughs_keys_and_values(cli_here, args):
    r = cli_here("walkthrough", *args, "--json")
    assert r.code == 0, r.err
    expected = json.loads(r.out)
    state = trace_of_args(args)
    assert {k: v for k, v in state.items() if k not in BACKWARD_KEYS} == expected


def test_gradients_follow_the_article():
    """50 zero inputs: ∂h_50/∂h_1 = Wh^49, 0.5^49 ≈ 1.8e−15 and 1.5^49 ≈ 4.3e8."""
    zeros = np.zeros((50, 1))
    for wh, far in ((0.5, 1.776e-15), (1.5, 4.2508e8)):
        trace = build_trace(RNNParams.scalar(1.8, wh, 0.0, 1.1, 0.0), zeros)
        assert len(trace["grad_norm"]) == 50
        assert trace["grad_norm"][49] == pytest.approx(wh**49, rel=1e-12)
        assert trace["grad_norm"][49] == pytest.approx(far, rel=1e-3)


def test_backward_terms_add_up_to_bptt():
    """grad_norm is ‖∂h_T/∂h_t‖ from jacobian_products; the per-lag terms of dL/dWh sum to it."""
    rng = np.random.default_rng(3)
    params = RNNParams.random(3, 1, 1, seed=4, scale=1.5)
    xs = rng.normal(size=(7, 1))
    trace = build_trace(params, xs, activation="tanh", target=0.3)
    J = jacobian_products(params, forward(params, xs))
    assert trace["grad_norm"] == pytest.approx([np.linalg.norm(J[7 - k]) for k in range(7)])
    scalar = RNNParams.scalar(0.9, -1.2, 0.1, 1.4, 0.2)
    xs = rng.normal(size=(6, 1))
    t = build_trace(scalar, xs, target=0.5)
    cache = forward(scalar, xs)
    dy = 2 * (cache.y[-1, 0] - 0.5)
    h, a = cache.h[:, 0], cache.a[:, 0]
    dh, terms = dy * 1.4, []
    for step in range(6, 0, -1):  # the chain rule by hand, term by term
        da = dh * (1 - np.tanh(a[step - 1]) ** 2)
        terms.append(da * h[step - 1])
        dh = da * -1.2
    assert t["wh_grad_by_lag"] == pytest.approx([abs(v) for v in terms], rel=1e-12)
    assert t["wh_grad"] == pytest.approx(sum(terms), rel=1e-12)


def test_cli_errors_are_one_line(cli, user_error, tmp_path):
    user_error(cli("explore", "--out", str(tmp_path)), "--out:", "is a directory")
    user_error(cli("explore", "--model", str(tmp_path / "nope"), "--out", str(tmp_path / "x.html")))
    assert not (tmp_path / "x.html").exists()


# ------------------------------------------------------------------- the browser


def trace_of_args(args: tuple[str, ...]) -> dict:
    """build_trace on walkthrough-style arguments (scalar weights)."""
    from rnnlab.data.scaling import MinMaxScaler, StandardScaler

    opts = dict(wx=1.8, wh=-0.5, b=0.0, wout=1.1, bout=0.0)
    inputs, h0, activation, scaler = "0,0", None, "tanh", None
    it = iter(args)
    for a in it:
        name, _, value = a.partition("=")
        value = value or next(it)
        key = name.lstrip("-")
        if key in opts:
            opts[key] = float(value)
        elif key == "inputs":
            inputs = value
        elif key == "h0":
            h0 = np.array([float(value)])
        elif key == "activation":
            activation = value
        elif key == "scale":
            scaler = MinMaxScaler(*map(float, value.split(",")))
        elif key == "standard":
            scaler = StandardScaler(*map(float, value.split(",")))
    xs = np.array([float(v) for v in inputs.split(",")])[:, None]
    return build_trace(RNNParams.scalar(**opts), xs, h0, activation, scaler)


def _browser_missing() -> str | None:
    for exe in ("chromium", "chromedriver"):
        if shutil.which(exe) is None:
            return f"{exe} not found: apt-get install chromium chromium-driver (.ci/run does)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium not installed: pip install -e '.[dev]'"
    return None


MISSING = _browser_missing()
browser_test = pytest.mark.skipif(MISSING is not None, reason=f"no browser: {MISSING}")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    path = tmp_path_factory.mktemp("explore") / "explore.html"
    write_page(path)
    return path


@pytest.fixture(scope="module")
def driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    profile = tempfile.mkdtemp(prefix="rnnlab-chromium-")
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    viewport(d, 1280, 800)
    yield d
    d.quit()
    shutil.rmtree(profile, ignore_errors=True)


def viewport(d, width: int, height: int) -> None:
    d.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )


def load(d, page: Path, query: dict | None = None) -> dict:
    d.get(page.as_uri() + ("?" + urlencode(query, safe=",") if query else ""))
    return read_trace(d)


def read_trace(d) -> dict:
    return json.loads(d.execute_script("return document.getElementById('trace').textContent"))


def no_console_errors(d) -> None:
    errors = [e for e in d.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert errors == []


def walkthrough(cli_here, args) -> dict:
    r = cli_here("walkthrough", *args, "--json")
    assert r.code == 0, r.err
    return json.loads(r.out)


def cases() -> list[dict]:
    """Query states: the article's, random ones, 50 inputs, relu, saturation, both scalings."""
    rng = np.random.default_rng(15)
    out = [
        dict(inputs="0.2,0.5,0.9", wx=1.8, wh=-0.5, b=0, wout=1.1, bout=0, h0=0, scale="100,200"),
        dict(inputs=",".join(["0"] * 50), wh=0.5),
        dict(inputs=",".join(["0"] * 50), wh=1.5, standard="10,3"),
    ]
    for i in range(6):
        T = int(rng.integers(1, 51))
        out.append(
            dict(
                inputs=",".join(repr(float(v)) for v in rng.normal(0, 1.5, T)),
                **{k: float(rng.normal(0, 1.2)) for k in ("wx", "wh", "b", "wout", "bout", "h0")},
                activation="relu" if i % 2 else "tanh",
            )
        )
    out.append(dict(inputs="5,-7,9,40,-3", wx=30, wh=2.5, b=1, h0=1, activation="tanh"))
    out.append(dict(inputs="5,7,9,40,3", wx=30, wh=1.9, b=1, activation="relu", target=3))
    out.append(dict(inputs=",".join(["0.9"] * 50), wx=3, wh=1.2, activation="relu"))
    return out


def as_args(case: dict) -> tuple[str, ...]:
    return tuple(f"--{k}={v}" for k, v in case.items() if k != "target")


@browser_test
def test_javascript_agrees_with_walkthrough_and_glass_box(driver, page, cli_here):
    for case in cases():
        query = {k: repr(v) if isinstance(v, float) else v for k, v in case.items()}
        got = load(driver, page, query)
        assert "error" not in got, got
        expected = walkthrough(cli_here, as_args(case))
        close({k: got[k] for k in expected}, expected, "walkthrough")
        python = trace_of_args(as_args(case))
        if "target" in case:
            python = build_trace(
                RNNParams.scalar(case["wx"], case["wh"], case["b"], 1.1, 0.0),
                np.array([float(v) for v in case["inputs"].split(",")])[:, None],
                activation=case["activation"],
                target=case["target"],
            )
        close({k: got[k] for k in BACKWARD_KEYS}, {k: python[k] for k in BACKWARD_KEYS}, "bptt")
        assert set(got) == set(expected) | set(BACKWARD_KEYS)
    no_console_errors(driver)
    print(f"\nJS vs Python, worst relative error: {worst['relative error']:.3g}")


@browser_test
def test_the_article_numbers_on_the_page(driver, page):
    for wh, far in ((0.5, "1.78e−15"), (1.5, "4.25e8")):
        trace = load(driver, page, {"inputs": ",".join(["0"] * 50), "wh": wh})
        assert trace["grad_norm"][49] == pytest.approx(wh**49, rel=1e-12)
        text = driver.find_element("id", "backward-text").text
        assert f"‖∂h₅₀/∂h₁‖ = {far}" in text, text
    no_console_errors(driver)


@browser_test
def test_slider_keys_and_inputs_update_trace_and_svg(driver, page, cli_here):
    from selenium.webdriver.common.keys import Keys

    before = load(driver, page, {"inputs": "0.2,0.5,0.9"})
    fmt = lambda v: driver.execute_script("return RNNLAB.fmt(arguments[0])", v)  # noqa: E731
    slider = driver.find_element("id", "wh")
    slider.send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)  # the keyboard
    after = read_trace(driver)
    assert after["weights"]["wh"] == pytest.approx(-0.47, abs=1e-12)
    assert after["steps"][2]["h"] != before["steps"][2]["h"]
    expected = walkthrough(cli_here, ("--inputs=0.2,0.5,0.9", f"--wh={after['weights']['wh']!r}"))
    close({k: after[k] for k in expected}, expected)
    for t in (1, 2, 3):
        svg = driver.find_element("id", f"v-h-{t}").text
        assert svg == fmt(after["steps"][t - 1]["h"])
    assert driver.find_element("id", "v-shared-wh").text == fmt(-0.47)
    assert driver.find_element("id", "wh-value").get_attribute("value") == "-0.47"
    # the exact value and the inputs as typed
    exact = driver.find_element("id", "wx-value")
    exact.clear()
    exact.send_keys("0.25", Keys.TAB)
    box = driver.find_element("id", "inputs")
    box.clear()
    box.send_keys("0.1, 0.2, 0.3, 0.4", Keys.TAB)
    trace = read_trace(driver)
    assert [s["x"] for s in trace["steps"]] == [0.1, 0.2, 0.3, 0.4]
    assert trace["weights"]["wx"] == 0.25
    assert driver.find_element("id", "v-y-4").text == fmt(trace["steps"][3]["y"])
    assert driver.find_element("id", "v-wxx-4").text == fmt(0.25 * 0.4)
    driver.find_element("id", "activation").send_keys("relu")
    assert read_trace(driver)["activation"] == "relu"
    # a bad list is said on the page, and the last good state stays
    box.clear()
    box.send_keys("1, oops", Keys.TAB)
    assert "inputs item 2" in driver.find_element("id", "error").text
    assert len(read_trace(driver)["steps"]) == 4
    no_console_errors(driver)


@browser_test
def test_step_through_time(driver, page):
    load(driver, page, {"inputs": "0.2,0.5,0.9"})
    live = lambda: driver.find_elements("css selector", "#unrolled .cell.live")  # noqa: E731
    assert [c.get_attribute("id") for c in live()] == ["cell-3"]
    driver.find_element("id", "step-back").click()
    driver.find_element("id", "step-back").click()
    assert [c.get_attribute("id") for c in live()] == ["cell-1"]
    assert driver.find_element("id", "step-text").text.startswith("Step 1: Wx·x₁ = 1.8 × 0.2")
    assert len(driver.find_elements("css selector", "#unrolled .cell.future")) == 2
    driver.find_element("id", "step-next").click()
    assert [c.get_attribute("id") for c in live()] == ["cell-2"]
    driver.find_element("id", "play").click()
    assert driver.find_element("id", "play").get_attribute("aria-label") == "Pause"
    driver.find_element("id", "play").click()
    assert driver.find_element("id", "play").get_attribute("aria-label") == "Play"
    no_console_errors(driver)


@browser_test
@pytest.mark.parametrize("width", [1280, 400])
def test_layout_fits_and_screenshot(driver, page, width):
    viewport(driver, width, 800)
    try:
        load(driver, page, {"inputs": "0.2,0.5,0.9", "scale": "100,200"})
        sizes = driver.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert sizes[0] <= sizes[1], sizes
        overflowing = driver.execute_script(
            """return [...document.querySelectorAll('body *')]
                 .filter(e => !e.closest('.scroller') && !e.closest('[hidden]'))
                 .filter(e => e.getBoundingClientRect().right > innerWidth + 0.5)
                 .map(e => e.tagName + '#' + e.id)"""
        )
        assert overflowing == []
        for label in driver.find_elements("css selector", "input, select, button"):
            name = driver.execute_script(
                "const e = arguments[0]; return e.getAttribute('aria-label') || "
                "(e.labels && e.labels.length ? e.labels[0].textContent : '') || e.textContent",
                label,
            )
            assert name.strip(), label.get_attribute("id")
        folder = os.environ.get("RNNLAB_SCREENSHOTS")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            assert driver.save_screenshot(str(Path(folder) / f"explore_{width}.png"))
        no_console_errors(driver)
    finally:
        viewport(driver, 1280, 800)


# ------------------------------------------------------------------- a trained model


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """Tiny one-layer rnn, lstm and gru (H=5) and a two-layer gru, trained on a made-up series."""
    from rnnlab.cli import main

    folder = tmp_path_factory.mktemp("models")
    days = np.arange("2021-01-01", "2021-06-01", dtype="datetime64[D]")
    values = 100 + 5 * np.sin(np.arange(len(days)) / 5) + 0.1 * np.arange(len(days))
    csv = folder / "prices.csv"
    csv.write_text(
        "date,value\n" + "".join(f"{d},{v:.4f}\n" for d, v in zip(days, values, strict=True))
    )
    args = ["train", "--data", str(csv), "--window", "12", "--hidden", "5", "--epochs", "2"]
    for cell in ("rnn", "lstm", "gru"):
        assert main([*args, "--cell", cell, "--out", str(folder / cell)]) == 0
    stack = [
        *args,
        "--cell",
        "gru",
        "--layers",
        "2",
        "--epochs",
        "1",
        "--out",
        str(folder / "gru2"),
    ]
    assert main(stack) == 0
    return folder


def test_model_stacks_are_refused_in_one_line(checkpoints, cli_here, user_error, tmp_path):
    r = cli_here("explore", "--model", str(checkpoints / "gru2"), "--out", str(tmp_path / "m.html"))
    user_error(r, "--model:", "one layer", "rnn, lstm, gru", "this model has 2")
    assert not (tmp_path / "m.html").exists()


def reference_run(kind: str, cell, x: np.ndarray):
    """torch's own nn.LSTM/nn.GRU with the checkpoint's weights copied in (float64), and the
    gates by the equations of torch's documentation: (h (T, H), c (T, H) or None, gates)."""
    import torch
    from torch import nn

    H = cell.hidden_size
    net = (nn.LSTM if kind == "lstm" else nn.GRU)(1, H, batch_first=True).double()
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(net, f"{name}_l0").copy_(getattr(cell, name).double())
    X = torch.as_tensor(x, dtype=torch.float64)[None]  # (1, T, 1)
    with torch.no_grad():
        out, final = net(X)
    h = out[0].numpy()  # (T, H)
    h_prev = np.vstack([np.zeros(H), h[:-1]])
    W_ih, W_hh = net.weight_ih_l0.detach().numpy(), net.weight_hh_l0.detach().numpy()
    b_ih, b_hh = net.bias_ih_l0.detach().numpy(), net.bias_hh_l0.detach().numpy()
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    gx, gh = x @ W_ih.T + b_ih, h_prev @ W_hh.T + b_hh  # (T, G·H)
    part = lambda m, k: m[:, k * H : (k + 1) * H]  # noqa: E731
    if kind == "lstm":  # i, f, g, o
        i, f, g, o = (part(gx, k) + part(gh, k) for k in range(4))
        gates = {"input": sig(i), "forget": sig(f), "candidate": np.tanh(g), "output": sig(o)}
        c, c_t = [], np.zeros(H)
        for t in range(len(x)):
            c_t = gates["forget"][t] * c_t + gates["input"][t] * gates["candidate"][t]
            c.append(c_t)
        c = np.array(c)
        assert np.allclose(c[-1], final[1][0, 0].numpy(), atol=1e-12)
        return h, c, gates
    r = sig(part(gx, 0) + part(gh, 0))  # r, z, n; n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
    z = sig(part(gx, 1) + part(gh, 1))
    n = np.tanh(part(gx, 2) + r * part(gh, 2))
    assert np.allclose(h, (1 - z) * n + z * h_prev, atol=1e-12)  # torch's z keeps the OLD state
    return h, None, {"reset": r, "update": z, "candidate": n}


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_model_gates_are_torchs(checkpoints, kind):
    """The embedded gates, states and reach-back are nn.LSTM/nn.GRU's own; the next value is the
    forecaster's."""
    import torch

    from rnnlab.explore.model import model_data
    from rnnlab.forecast.checkpoint import load_checkpoint

    model, trace = model_data(checkpoints / kind)
    f = load_checkpoint(checkpoints / kind)
    cell = f.cells[0]
    x = np.array(model["window"])[:, None]  # (T, 1)
    T = len(x)
    h, c, gates = reference_run(kind, cell, x)
    assert list(trace["gates"]) == [g["name"] for g in model["gates"]] == list(gates)
    for name, values in gates.items():
        np.testing.assert_allclose(trace["gates"][name], values, atol=1e-6, rtol=0)
    np.testing.assert_allclose([s["h"] for s in trace["steps"]], h, atol=1e-6, rtol=0)
    np.testing.assert_allclose([s["h_prev"] for s in trace["steps"]][1:], h[:-1], atol=1e-6)
    if c is not None:
        np.testing.assert_allclose([s["c"] for s in trace["steps"]], c, atol=1e-6, rtol=0)
    head = f.module_.head
    y = h[-1] @ head.weight.detach().double().numpy()[0] + float(head.bias.detach()[0])
    assert trace["prediction"][0] == pytest.approx(y, abs=1e-6)
    assert trace["next_level"] == pytest.approx(float(f.predict(1).iloc[0]), rel=1e-5)
    # the reach-back over the whole window, ‖∂h_T/∂h_1‖_F (c_1 held), by torch's autograd
    W = {
        k: getattr(cell, k).detach().double()
        for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    }
    X = torch.as_tensor(x, dtype=torch.float64)
    c1 = torch.as_tensor(c[0]) if c is not None else None

    def last(h1):
        state = (h1, c1) if c1 is not None else h1
        for t in range(1, T):
            if c1 is not None:
                state = torch.lstm_cell(X[t][None], (state[0][None], state[1][None]), *W.values())
                state = (state[0][0], state[1][0])
            else:
                state = torch.gru_cell(X[t][None], state[None], *W.values())[0]
        return state[0] if c1 is not None else state

    J = torch.autograd.functional.jacobian(last, torch.as_tensor(h[0]))
    assert trace["grad_norm"][T - 1] == pytest.approx(float(torch.linalg.norm(J)), rel=1e-5)
    assert len(trace["grad_norm"]) == T
    assert trace["grad_norm"][0] == pytest.approx(np.sqrt(5))  # ‖I‖_F, H = 5
    assert ("cell_grad_norm" in trace) == (kind == "lstm")
    assert len(trace["gate_path"]) == T


@browser_test
def test_model_page(driver, checkpoints, cli_here, tmp_path):
    from rnnlab.explore.model import model_data
    from rnnlab.forecast.checkpoint import load_checkpoint

    out = tmp_path / "model.html"
    r = cli_here("explore", "--model", str(checkpoints / "rnn"), "--out", str(out))
    assert r.code == 0, r.err
    got = load(driver, out)
    _, python = model_data(checkpoints / "rnn")
    assert len(got["steps"]) == 12
    assert len(got["steps"][0]["h"]) == 5
    close(got, python, "model")
    # the page's next value is the forecaster's own (float32 torch against float64 here)
    torch_next = float(load_checkpoint(checkpoints / "rnn").predict(1).iloc[0])
    assert got["next_level"] == pytest.approx(torch_next, rel=1e-5)
    assert driver.find_element("id", "heatmap").size["width"] > 0
    assert (
        f"{RNNLAB_fmt(driver, got['next_level'])}" in driver.find_element("id", "prediction").text
    )
    no_console_errors(driver)


@pytest.mark.parametrize("kind", ["mingru", "minlstm"])
def test_minimal_cells_gates_are_their_coefficients(kind):
    """minGRU/minLSTM (the paper's convention: z takes the NEW candidate): the named gates give
    the cell's own a_t, b_t of h_t = a_t ⊙ h_{t−1} + b_t, and its step."""
    import torch

    from rnnlab.cells import make_cell
    from rnnlab.explore.model import GATES, _state_from_gates, gate_values

    torch.manual_seed(0)
    cell = make_cell(kind, 1, 4).double()
    x = np.random.default_rng(0).normal(size=(9, 1))
    with torch.no_grad():
        h, _ = cell.loop(torch.as_tensor(x)[None])
        a, b = (v.numpy() for v in cell.coefficients(torch.as_tensor(x)))
    h = np.vstack([np.zeros(4), h[0].numpy()])  # h_0 … h_T
    gates = gate_values(cell, x, h[:-1])
    assert list(gates) == [g[0] for g in GATES[kind]]
    np.testing.assert_allclose(_state_from_gates(kind, gates, h[:-1], None), h[1:], atol=1e-12)
    if kind == "mingru":
        np.testing.assert_allclose(1 - gates["update"], a, atol=1e-12)
        np.testing.assert_allclose(gates["update"] * gates["candidate"], b, atol=1e-12)
    else:
        f, i = gates["forget"], gates["input"]
        np.testing.assert_allclose(f / (f + i), a, atol=1e-12)


@browser_test
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_gated_model_page(driver, checkpoints, cli_here, tmp_path, kind):
    """The page shows the embedded numbers as they are, the gate charts labelled, the reach-back,
    and fits a 400 px screen."""
    from rnnlab.explore.model import model_data

    out = tmp_path / f"{kind}.html"
    r = cli_here("explore", "--model", str(checkpoints / kind), "--out", str(out))
    assert r.code == 0, r.err
    assert out.stat().st_size < 120_000  # H = 5, 12 steps
    got = load(driver, out)
    model, python = model_data(checkpoints / kind)
    close(got, python, "model")
    names = [g["name"] for g in model["gates"]]
    charts = [f"gate-{n}" for n in names] + (["cell-state"] if kind == "lstm" else [])
    for chart in charts:
        canvas = driver.find_element("id", chart)
        assert canvas.tag_name == "canvas"
        assert canvas.size["width"] > 0
        assert canvas.get_attribute("aria-label").startswith("Heatmap of the ")
        caption = driver.execute_script(
            "return arguments[0].previousElementSibling.textContent", canvas
        )
        assert chart.removeprefix("gate-").replace("-", " ") in caption, caption
    text = driver.find_element("id", "gates-text").text
    assert "gates computed by rnnlab, shown here" in text.lower()
    if kind == "gru":
        assert "OLD state" in driver.find_element("id", "gate-charts").text
    assert driver.find_element(
        "id", "v-gate-forget-12" if kind == "lstm" else "v-gate-update-12"
    ).text
    assert RNNLAB_fmt(driver, got["next_level"]) in driver.find_element("id", "prediction").text
    assert (
        "‖∂h₁₂/∂h₁‖ = " + RNNLAB_fmt(driver, got["grad_norm"][11])
        in driver.find_element("id", "backward-text").text
    )
    dots = driver.find_elements("css selector", "#gradients circle.dot")
    assert len(dots) == 12
    assert len(driver.find_elements("css selector", "#gradients rect.cdot")) == (
        12 if kind == "lstm" else 0
    )
    # a query cannot change numbers computed by rnnlab: said, and the trace stays
    again = load(driver, out, {"inputs": "1,2,3"})
    assert again == got
    assert "computed by rnnlab" in driver.find_element("id", "error").text
    no_console_errors(driver)
    viewport(driver, 400, 800)
    try:
        load(driver, out)
        sizes = driver.execute_script("return [document.documentElement.scrollWidth, innerWidth]")
        assert sizes[0] <= sizes[1], sizes
        overflowing = driver.execute_script(
            """return [...document.querySelectorAll('body *')]
                 .filter(e => !e.closest('.scroller') && !e.closest('[hidden]'))
                 .filter(e => e.getBoundingClientRect().right > innerWidth + 0.5)
                 .map(e => e.tagName + '#' + e.id)"""
        )
        assert overflowing == []
        no_console_errors(driver)
        folder = os.environ.get("RNNLAB_SCREENSHOTS")
        if folder and kind == "lstm":  # the whole page at 1280 px
            viewport(driver, 1280, 800)
            load(driver, out)
            height = driver.execute_script("return document.documentElement.scrollHeight")
            viewport(driver, 1280, height)
            Path(folder).mkdir(parents=True, exist_ok=True)
            assert driver.save_screenshot(str(Path(folder) / "explore_model_lstm.png"))
    finally:
        viewport(driver, 1280, 800)


def RNNLAB_fmt(driver, v) -> str:  # noqa: N802 (the page's RNNLAB.fmt)
    return driver.execute_script("return RNNLAB.fmt(arguments[0])", v)
