"""Several processes, one model: data-parallel training under ``torchrun``.

torchrun, asked for N processes of ``rnnlab train``, starts N copies of the command with RANK,
WORLD_SIZE and LOCAL_RANK (and MASTER_ADDR/MASTER_PORT) in their environment.
:func:`process_group` joins them (gloo on the CPU, nccl when CUDA is there); the training
loop (:func:`rnnlab.forecast.training.train`) sees the group and then

- draws the same batch order on every rank (one seed), and gives rank r the windows
  r, r + N, r + 2N, … of each batch: its shard;
- wraps the module in ``DistributedDataParallel``, which averages the gradients over the ranks
  during ``backward``; each rank's loss is scaled so that the average is the gradient of the
  whole batch's mean squared error, exactly as one process would compute it:

      loss_r = N · Σ_{i ∈ shard_r} (ŷ_i − y_i)² / B
      (1/N) Σ_r ∇loss_r = ∇ (1/B) Σ_i (ŷ_i − y_i)²      the gradient of the batch's MSE

- takes the validation loss from rank 0, so early stopping stops every rank at the same epoch.

Rank 0 alone writes checkpoints and reports and prints; the others stay silent. Without
those variables nothing here runs: one process trains as before.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import Tensor

from rnnlab.errors import RnnlabError

ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK")


@dataclass(frozen=True)
class Launch:
    """This process's place in a torchrun launch."""

    rank: int  # 0 … world_size − 1 over all nodes
    world_size: int  # processes in all
    local_rank: int  # 0 … on this node (the GPU index with nccl)


def launch_from_env(environ: Mapping[str, str] | None = None) -> Launch | None:
    """The launch torchrun describes in the environment; None for a plain single process."""
    environ = os.environ if environ is None else environ
    present = [k for k in ENV if k in environ]
    if not present:
        return None
    if len(present) != len(ENV):
        missing = ", ".join(k for k in ENV if k not in environ)
        raise RnnlabError(f"torchrun environment: {missing} not set (start with torchrun)")
    try:
        rank, world, local = (int(environ[k]) for k in ENV)
    except ValueError:
        raise RnnlabError(
            "torchrun environment: RANK, WORLD_SIZE and LOCAL_RANK must be whole numbers"
        ) from None
    if world < 1 or not 0 <= rank < world or local < 0:
        raise RnnlabError(f"torchrun environment: RANK={rank} WORLD_SIZE={world} do not fit")
    return Launch(rank, world, local)


def default_backend() -> str:
    """nccl when CUDA is available, else gloo (the CPU backend)."""
    return "nccl" if torch.cuda.is_available() else "gloo"


@contextmanager
def process_group(launch: Launch | None, backend: str | None = None) -> Iterator[int]:
    """Join the launch's process group for the block; yields this process's rank (0 alone).

    The group is destroyed on the way out, also after an error.
    """
    if launch is None:
        yield 0
        return
    import torch.distributed as dist

    backend = default_backend() if backend is None else backend
    if backend == "nccl":
        torch.cuda.set_device(launch.local_rank)
    dist.init_process_group(backend, rank=launch.rank, world_size=launch.world_size)
    try:
        yield launch.rank
        dist.barrier()  # leave together
    finally:
        gc.collect()  # DDP's reducer (in a reference cycle) holds the group: free it first
        dist.destroy_process_group()


def world() -> tuple[int, int]:
    """(rank, world size) of the running process group; (0, 1) without one."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def device() -> torch.device:
    """Where the group computes: this rank's GPU with nccl, else the CPU."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized() and dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def sum_over_ranks(x: Tensor) -> Tensor:
    """Σ over the ranks of a tensor (a new tensor; every rank gets the same)."""
    import torch.distributed as dist

    out = x.detach().clone()
    dist.all_reduce(out, op=dist.ReduceOp.SUM)
    return out


def from_rank0(value: float, dev: torch.device) -> float:
    """Rank 0's value of a float, on every rank."""
    import torch.distributed as dist

    t = torch.tensor([value], dtype=torch.float64, device=dev)
    dist.broadcast(t, src=0)
    return float(t[0])


def gather(t: Tensor) -> list[Tensor]:
    """Every rank's copy of a same-shaped tensor, rank 0 first (on the CPU)."""
    import torch.distributed as dist

    size = world()[1]
    if size == 1:
        return [t.clone()]
    dev = device()
    parts = [torch.empty_like(t, device=dev) for _ in range(size)]
    dist.all_gather(parts, t.to(dev))
    return [p.cpu() for p in parts]
