"""The plots: one colour per model in every plot, dates under every panel of test.png, and a
skill chart that one far-off model does not squash. Built from small stand-ins for the results
(no training), inspected as matplotlib figures before they are saved."""

from __future__ import annotations

import re
import struct
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib import dates as mdates
from matplotlib.colors import to_rgba

from rnnlab.data.series import Series
from rnnlab.data.splits import Split
from rnnlab.diagnostics.plot import gradient_flow_figure
from rnnlab.report import plots
from rnnlab.report.plots import (
    COLORS,
    ZOOM,
    model_color,
    plot_skill,
    plot_test,
    series_figure,
    skill_figure,
    test_figure,
    training_figure,
)
from rnnlab.settings.cells import BUILTIN_CELLS
from rnnlab.tasks.plot import learning_curves_figure

MODELS = ("persistence", "moving_average", "linear", "mlp", "rnn", "lstm", "gru", "mingru")


class Result:
    """What the report's plots read of a ForecastResult."""

    def __init__(self, n=300, n_test=100, dated=True, column="close", skills=None):
        rng = np.random.default_rng(0)
        values = 50 + np.cumsum(rng.normal(0, 1, n))
        dates = np.arange("2021-01-04", n, dtype="datetime64[D]") if dated else None
        self.series = Series(values, dates, name=f"demo {column}", column=column)
        n_val = (n - n_test) // 4
        self.split = Split(n - n_test - n_val, n_val, n_test)
        skills = skills or {m: 0.01 * i for i, m in enumerate(MODELS)}
        self.results = {
            m: SimpleNamespace(
                name=m,
                test_forecast=self.test_actual + rng.normal(0, 0.5, n_test),
                scores=SimpleNamespace(skill=skill),
                history=None
                if m in ("persistence", "moving_average", "linear")
                else SimpleNamespace(
                    epochs=3, train_loss=[1.0, 0.5, 0.4], val_loss=[1.1, 0.6, 0.7], best_epoch=2
                ),
            )
            for m, skill in skills.items()
        }

    @property
    def test_actual(self):
        return self.series.values[self.split.val_end :]

    def ranking(self):
        return list(self.results.values())


def _flow(T=12):
    lags = np.arange(T)
    return SimpleNamespace(
        lags=lags,
        grad_norm=0.9**lags,
        loss_grad_norm=0.5 * 0.9**lags,
        theory=list(0.95**lags),
        theory_kind="bound",
        theory_name="bound",
        gate=None,
        cell_state_norm=None,
    )


def _task():
    return SimpleNamespace(baseline=lambda: 1 / 6, threshold=0.01, describe=lambda: "adding")


def _run(cell, clip=None):
    curve = [(s, 0.1 * s, 1.0 / s, 1.0 / s) for s in (10, 20, 30)]
    return SimpleNamespace(
        cell=cell,
        curve=curve,
        final_loss=1 / 30,
        status="completed",
        seconds=1.0,
        config=SimpleNamespace(clip=clip),
        grad_norm=[1.0, 2.0, 0.5],
    )


def _line_colors(fig, suffix=""):
    """label -> RGBA of every line with a label ending in ``suffix`` (suffix cut off)."""
    found = {}
    for ax in fig.axes:
        for line in ax.get_lines():
            label = line.get_label()
            if label.endswith(suffix) and not label.startswith("_"):
                found[label[: len(label) - len(suffix)]] = to_rgba(line.get_color())
    return found


def _bar_colors(fig):
    ax = fig.axes[0]
    names = {round(t.get_position()[1]): t.get_text() for t in ax.get_yticklabels()}
    return {names[round(p.get_y() + p.get_height() / 2)]: p.get_facecolor() for p in ax.patches}


def _every_plot(result):
    """model -> its colour in each plot that shows it: {plot: {model: rgba}}."""
    skills = {r.name: r.scores.skill for r in result.ranking()}
    cells = [m for m in MODELS if m in BUILTIN_CELLS]
    curves = learning_curves_figure(_task(), [_run(c) for c in cells])
    return {
        "test": _line_colors(test_figure(result)),
        "training": _line_colors(training_figure(result), " train"),
        "skill": _bar_colors(skill_figure(skills)),
        "learning curves": {
            k.split(":")[0]: v for k, v in _line_colors(curves).items() if ":" in k
        },
        **{
            f"gradient flow {c}": {c: _line_colors(gradient_flow_figure(_flow(), c, cell=c))[m]}
            for c in cells
            for m in ["‖∂h_T/∂h_t‖ measured"]
        },
    }


def test_one_mapping_name_to_colour():
    for m in (*MODELS, *BUILTIN_CELLS, "moving_average", "actual"):
        assert m in COLORS, m
    neural = [c for m, c in COLORS.items() if m != "actual"]
    assert len(set(neural)) == len(neural)  # no two models share a colour
    assert model_color("persistence") == "tab:gray"
    assert model_color("actual") == "black"
    # a cell registered by the user: a colour of its own, the same every time
    assert model_color("my_cell") == model_color("my_cell") in plots.EXTRA_COLORS


def test_the_same_model_has_the_same_colour_in_every_plot():
    seen = _every_plot(Result())
    assert set(seen["test"]) >= set(MODELS)
    assert set(seen["skill"]) == set(MODELS)
    for plot, colours in seen.items():
        for m, rgba in colours.items():
            if m in COLORS:
                assert rgba == to_rgba(model_color(m)), (plot, m)


def test_every_plot_asks_model_color(monkeypatch):
    """Swap the mapping: every plot follows it, so none has a colour table of its own."""
    odd = {m: f"#{i + 1:02x}{2 * i + 3:02x}{3 * i + 5:02x}" for i, m in enumerate(MODELS)}
    monkeypatch.setattr(plots, "model_color", lambda m: odd.get(m, "#000000"))
    for plot, colours in _every_plot(Result()).items():
        assert colours, plot
        for m, rgba in colours.items():
            if m in odd:
                assert rgba == to_rgba(odd[m]), (plot, m)


@pytest.mark.parametrize("n_test", [ZOOM, 3 * ZOOM])  # one panel; the whole part and a zoom
def test_every_panel_of_test_png_has_dates(n_test):
    fig = test_figure(Result(n=4 * n_test, n_test=n_test))
    assert len(fig.axes) == (1 if n_test <= ZOOM else 2)
    fig.draw_without_rendering()
    for ax in fig.axes:
        assert isinstance(ax.xaxis.get_major_formatter(), mdates.AutoDateFormatter)
        shown = [t.get_text() for t in ax.get_xticklabels() if t.get_visible() and t.get_text()]
        assert len(shown) >= 3, shown
        assert all(re.fullmatch(r"\d{4}(-\d\d){0,2}", t) for t in shown), shown


def test_a_series_without_dates_numbers_its_rows():
    fig = test_figure(Result(n=400, n_test=3 * ZOOM, dated=False))
    fig.draw_without_rendering()
    for ax in fig.axes:
        assert ax.get_xlabel() == "row"
        assert [t for t in ax.get_xticklabels() if t.get_visible() and t.get_text()]
    series_figure(Result(dated=False))  # and the series plot draws too


def _notes(ax):
    """The notes with an arrow (on a bar cut at the axis edge)."""
    return [t.get_text() for t in ax.texts if getattr(t, "arrow_patch", None) is not None]


def test_a_far_off_model_does_not_set_the_skill_scale(tmp_path):
    skills = {"gru": 0.08, "lstm": 0.02, "persistence": 0.0, "mlp": -0.05, "rnn": -0.1}
    fig = skill_figure({**skills, "moving_average": -50.0})
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    assert -1 < lo < -0.1
    assert 0.08 < hi < 1
    assert hi - lo < 0.6
    (note,) = _notes(ax)  # …and the far one is named, with its value, at the edge
    assert "moving_average" in note
    assert "-50" in note
    values = [t.get_text() for t in ax.texts]
    assert "-0.1000" in values
    assert "+0.0800" in values
    assert "-50.0000" not in values
    # the cut bar's label is not drawn far outside the axes: the PNG keeps its size
    r = Result(skills={**skills, "moving_average": -50.0})
    width, height = struct.unpack(">II", plot_skill(r, tmp_path / "s.png").read_bytes()[16:24])
    assert width < 1200
    assert height < 800


def test_skill_far_off_on_the_right_and_not_a_number():
    fig = skill_figure({"gru": 3.0, "lstm": 0.01, "persistence": 0.0, "rnn": float("nan")})
    ax = fig.axes[0]
    assert ax.get_xlim()[1] < 0.2
    notes = _notes(ax)
    assert any("gru" in n and "+3.0000" in n for n in notes)
    assert any("rnn" in n and "not a number" in n for n in notes)


def test_comparable_skills_are_all_shown():
    values = {"persistence": 0.0, "gru": -2.5, "lstm": -3.0, "rnn": -1.4}
    ax = skill_figure(values).axes[0]
    assert ax.get_xlim()[0] < -3.0
    assert not _notes(ax)
    assert "cut" not in ax.get_xlabel()


def test_plots_keep_names_safe_and_stderr_clean(tmp_path):
    r = Result(n=200, n_test=ZOOM, column="收盘价 📈 $x^$ " + "a" * 300)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = plot_test(r, tmp_path / "test.png")
    assert not [w for w in caught if "Glyph" in str(w.message)]
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["test.png"]  # no temporary left
    fig = test_figure(r)
    label = fig.axes[0].get_ylabel()
    assert label == plots.plain(r.series.column, 40)  # shortened, "$" escaped
    assert "…" in label
    assert r"\$x^\$" in label


def test_the_plot_helpers_import_no_torch():
    """Torch-free commands draw with rnnlab.report.plots: importing it (and the package) must
    not import torch; write_report is loaded on first use."""
    import subprocess
    import sys

    code = (
        "import sys, rnnlab.report.plots, rnnlab.report; "
        "assert 'torch' not in sys.modules; "
        "from rnnlab.report import write_report; "
        "assert write_report.__module__ == 'rnnlab.report.html'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
