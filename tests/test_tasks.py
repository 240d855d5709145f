"""The task generators (structure, targets), their baselines computed by simulation, and the
training runner (learning, determinism, divergence caught)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rnnlab.diagnostics.explode import ExplodeConfig, exploding_in_practice
from rnnlab.errors import RnnlabError
from rnnlab.tasks import AddingProblem, CopyTask, RunConfig, make_task, run_task


def test_adding_batches_have_one_mark_in_each_half_and_the_sum_as_target():
    T = 12
    x, y = AddingProblem(T).batch(500, torch.Generator().manual_seed(0))
    assert x.shape == (500, T, 2)
    values, marks = x[..., 0], x[..., 1]
    assert torch.all((values >= 0) & (values < 1))
    assert torch.all(marks[:, : T // 2].sum(1) == 1)
    assert torch.all(marks[:, T // 2 :].sum(1) == 1)
    firsts = marks[:, : T // 2].argmax(1)
    assert len(torch.unique(firsts)) == T // 2  # every position of the first half is used
    torch.testing.assert_close(y, (values * marks).sum(1))


def test_adding_baseline_by_simulation():
    """The best constant is E[y]; its MSE, Var(y), matches the task's baseline."""
    n = 200_000
    _, y = AddingProblem(20).batch(n, torch.Generator().manual_seed(1))
    y = y.double().numpy()
    assert y.mean() == pytest.approx(1.0, abs=4 * math.sqrt(1 / 6 / n))
    mse_of_one = np.mean((y - 1.0) ** 2)  # the baseline answer "1"
    se = np.std((y - 1.0) ** 2) / math.sqrt(n)
    assert mse_of_one == pytest.approx(AddingProblem(20).baseline(), abs=4 * se)
    assert AddingProblem(20).threshold == 0.01


def test_copy_sequences_layout():
    T = 7
    task = CopyTask(T)
    inputs, target = task.sequences(50, torch.Generator().manual_seed(2))
    assert inputs.shape == target.shape == (50, T + 20)
    data = inputs[:, :10]
    assert torch.all((data >= 1) & (data <= 8))
    assert torch.all(inputs[:, 10 : 10 + T - 1] == 0)
    assert torch.all(inputs[:, 10 + T - 1] == 9)  # the delimiter after T − 1 blanks
    assert torch.all(inputs[:, 10 + T :] == 0)
    assert torch.all(target[:, : T + 10] == 0)
    assert torch.equal(target[:, T + 10 :], data)
    x, y = task.batch(3, torch.Generator().manual_seed(2))
    assert x.shape == (3, T + 20, 10)
    assert y.shape == (3, T + 20)
    torch.testing.assert_close(x.sum(-1), torch.ones(3, T + 20))


@pytest.mark.parametrize("T", [5, 30])
def test_copy_baseline_by_simulation(T):
    """The best prediction from the position alone: each step's target frequencies, measured
    on one sample and scored by cross-entropy on another."""
    task = CopyTask(T)
    _, fit = task.sequences(40_000, torch.Generator().manual_seed(3))
    counts = torch.stack([torch.bincount(fit[:, t], minlength=9) for t in range(T + 20)])
    p = (counts.double() + 1e-12) / counts.sum(1, keepdim=True)  # (T + 20, 9)
    _, test = task.sequences(40_000, torch.Generator().manual_seed(4))
    ce = -torch.log(p.gather(1, test.T)).mean().item()  # mean over steps and sequences
    assert ce == pytest.approx(task.baseline(), rel=2e-3)
    logits = torch.log(p).float()[None].expand(len(test), -1, -1)
    assert task.loss(logits, test).item() == pytest.approx(ce, rel=1e-5)


def test_make_task_and_bad_lengths():
    assert isinstance(make_task("copy", 10), CopyTask)
    with pytest.raises(RnnlabError, match="unknown task 'parity'"):
        make_task("parity", 10)
    with pytest.raises(RnnlabError, match=r"^length must be a whole number >= 2, got 1"):
        AddingProblem(1)


def test_runner_learns_a_short_adding_problem():
    task = AddingProblem(5)
    config = RunConfig(
        cell="gru", hidden=16, batch_size=32, lr=1e-2, max_steps=300, eval_every=50, eval_size=500
    )
    result = run_task(task, config)
    assert result.curve[0][3] > 0.1  # near the baseline 1/6 at first
    assert result.final_loss < 0.2 * task.baseline()
    assert result.steps <= 300
    assert result.solved == (result.final_loss < 0.01)
    again = run_task(task, config)  # fixed seeds: the same run again
    assert again.final_loss == result.final_loss
    assert again.grad_norm == result.grad_norm


def test_runner_stops_when_solved_and_on_budget():
    task = AddingProblem(3)
    config = RunConfig(cell="gru", hidden=16, lr=1e-2, max_steps=2000, eval_every=25)
    solved = run_task(task, config)
    assert solved.status == "solved"
    assert solved.solved
    assert solved.final_loss < 0.01
    assert solved.solved_step == solved.steps
    out_of_time = run_task(task, RunConfig(cell="rnn", hidden=4, budget=1e-9, max_steps=100))
    assert out_of_time.status == "budget"
    assert out_of_time.steps == 0
    assert out_of_time.final_loss == pytest.approx(out_of_time.curve[-1][3])


def test_exploding_without_clipping_is_caught_and_clipping_trains():
    # The stated criterion, ‖g_k‖ > 10⁴·‖g_1‖, is crossed by orders of magnitude on every CPU;
    # where the unclipped trajectory goes afterwards is chaotic and never asserted.
    config = ExplodeConfig(hidden=32, init="orthogonal", scale=1.5, length=10, steps=1000)
    plain, clipped, baseline = exploding_in_practice(config)
    assert plain.diverged
    assert plain.status in ("exploded", "diverged")
    assert plain.message.startswith("step ")
    assert plain.steps < 100
    finite = [n for n in plain.grad_norm if math.isfinite(n)]
    assert plain.status == "diverged" or max(finite) > 1e4 * plain.grad_norm[0]
    assert not clipped.diverged
    assert clipped.steps == 1000
    assert clipped.clipping.fired > 0
    assert clipped.clipping.max < 1e2  # the clip keeps the weights where gradients stay sane
    assert clipped.final_loss < 0.75 * baseline  # 0.35–0.49× the baseline over seeds 0–5


def test_explode_factor_stops_before_the_step():
    task = AddingProblem(10)
    config = RunConfig(
        cell="rnn",
        hidden=8,
        batch_size=8,
        lr=0.1,
        optimizer="sgd",
        max_steps=20,
        eval_size=8,
        init="orthogonal",
        scale=1.5,
        explode_factor=1.0000001,
        seed=0,
    )
    r = run_task(task, config)
    # the first ‖g‖ that exceeds the first by the factor stops the run; no step taken with it
    assert r.status == "exploded"
    k = next(i for i, n in enumerate(r.grad_norm) if n > 1.0000001 * r.grad_norm[0])
    assert r.steps == k == len(r.grad_norm) - 1
    assert f"step {k + 1}:" in r.message
