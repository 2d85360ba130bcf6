"""One training step captured once as a CUDA graph and replayed, for the in-memory path on a GPU.

A small model's step on a GPU is bound by kernel launches, not arithmetic: the eager
loop spends most of its time starting kernels. Captured as one graph (the batch gathered
by index from the held split, scaled, forward, backward and the optimizer's update),
a step is replayed with a single launch. Capture can fail (an operation that cannot be
captured, an old driver); the run then trains eagerly and says why.

The decision is :func:`graph_plan`, which needs no GPU to be tested. :class:`GraphedStep`
needs CUDA; ``tests/test_training.py`` compares it with eager training where CUDA is present.

    python -c "import torch; from dataloupe.core.training.graphed_step import graph_plan; \\
print(graph_plan(torch.device('cpu'), held=True, batch_size=64, samples=60_000))"
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from dataloupe.core.training.data import HeldSplit
from dataloupe.core.wording import first_line

WARMUP_STEPS = 3
"""Eager steps on a side stream before capture, as CUDA graphs require (their effect is undone)."""


def graph_plan(
    device: torch.device, *, held: bool, batch_size: int, samples: int, wanted: bool = True
) -> tuple[bool, str]:
    """Whether a run should capture its step as a CUDA graph, and a note for the user when it will not.

    Only CUDA runs with the data held on the GPU are captured (the DataLoader path feeds
    batches from the CPU, which a graph cannot replay). No note on the CPU, nor when graphs
    were turned off (``wanted``): nothing unexpected happened.
    """
    if device.type != "cuda" or not wanted:
        return False, ""
    if not held:
        return False, "CUDA graphs need the data held on the GPU; the DataLoader path trains step by step"
    if samples < batch_size:
        return False, "fewer samples than one batch: nothing to replay, training step by step"
    return True, ""


def make_optimizer(
    params: list[nn.Parameter], name: str, lr: float, momentum: float, capturable: bool
) -> torch.optim.Optimizer:
    """Adam or SGD; ``capturable`` keeps the optimizer's state on the device so a graph can replay it.

    Otherwise the fused kernels are preferred: they update every parameter in one call, about
    a quarter faster per step for small models, where launching a kernel per tensor costs as
    much as the arithmetic.
    """
    if capturable:
        if name == "sgd":
            return torch.optim.SGD(params, lr=lr, momentum=momentum)
        return torch.optim.Adam(params, lr=lr, capturable=True)
    for fused in (True, False):
        try:
            if name == "sgd":
                return torch.optim.SGD(params, lr=lr, momentum=momentum, fused=fused or None)
            return torch.optim.Adam(params, lr=lr, fused=fused or None)
        except (RuntimeError, TypeError):
            continue  # this build or device has no fused kernel
    raise AssertionError("unreachable: the unfused optimizer always builds")


class GraphedStep:
    """A training step on full batches of a held split, captured once and replayed by sample index.

    The warm-up steps that capture needs are undone: the weights are put back and the
    optimizer's state zeroed (which is what a fresh optimizer holds), so the run's first
    replayed step is its first real step. Batches of another size (the last of an epoch)
    take an eager step with the same model and optimizer.
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        held: HeldSplit,
        batch_size: int,
    ) -> None:
        self.model = model
        """The network (its parameters are the graph's own tensors)."""
        self.optimizer = optimizer
        """A capturable optimizer (see :func:`make_optimizer`)."""
        self.loss_fn = loss_fn
        """Cross-entropy."""
        self.held = held
        """The training samples on the GPU."""
        self.batch_size = batch_size
        """The batch size the graph replays."""
        device = held.x.device
        self.index = torch.zeros(batch_size, dtype=torch.int64, device=device)
        """Sample indices of the next batch, read by the graph."""
        saved = [p.detach().clone() for p in model.parameters()]
        side = torch.cuda.Stream(device)
        side.wait_stream(torch.cuda.current_stream(device))
        with torch.cuda.stream(side):
            for _ in range(WARMUP_STEPS):
                self._eager(self.index)
        torch.cuda.current_stream(device).wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        """The captured step."""
        optimizer.zero_grad(set_to_none=True)
        with torch.cuda.graph(self.graph):
            self.loss = self._step_body(self.index)
            """The loss of the last replayed step (overwritten by each replay)."""
        self.reset(saved)

    def _step_body(self, index: torch.Tensor) -> torch.Tensor:
        xb, yb = self.held.batch(index)
        loss = self.loss_fn(self.model(xb), yb)
        loss.backward()
        self.optimizer.step()
        return loss

    def _eager(self, index: torch.Tensor, set_to_none: bool = True) -> torch.Tensor:
        # after capture the gradients stay the graph's own tensors: zeroed in place, never dropped
        self.optimizer.zero_grad(set_to_none=set_to_none)
        return self._step_body(index)

    @torch.no_grad()
    def reset(self, weights: list[torch.Tensor]) -> None:
        """Put ``weights`` back and zero the optimizer's state, in place (the graph keeps its tensors)."""
        for p, w in zip(self.model.parameters(), weights, strict=True):
            p.copy_(w)
        for state in self.optimizer.state.values():
            for value in state.values():
                if isinstance(value, torch.Tensor):
                    value.zero_()

    def __call__(self, index: torch.Tensor) -> torch.Tensor:
        """Train on samples ``index`` (on the GPU); the loss, as a tensor that later steps do not change."""
        if len(index) != self.batch_size:
            return self._eager(index, set_to_none=False).detach()
        self.index.copy_(index)
        self.graph.replay()
        return self.loss.detach().clone()


def capture_or_eager(
    model: nn.Module, loss_fn, held: HeldSplit, batch_size: int, name: str, lr: float, momentum: float
) -> tuple[torch.optim.Optimizer, GraphedStep | None, str]:
    """A capturable optimizer and the captured step, or, when capture fails, a fresh eager optimizer,
    None, and why (the weights that the warm-up steps before a failed capture moved are put back)."""
    params = list(model.parameters())
    optimizer = make_optimizer(params, name, lr, momentum, capturable=True)
    start = [p.detach().clone() for p in params]
    try:
        return optimizer, GraphedStep(model, optimizer, loss_fn, held, batch_size), ""
    except Exception as e:  # noqa: BLE001 - any capture failure (an old driver…) falls back to the eager loop
        with torch.no_grad():
            for p, w in zip(params, start, strict=True):
                p.copy_(w)
                p.grad = None
        why = f"CUDA graph capture failed ({type(e).__name__}: {first_line(e)}); training step by step"
        return make_optimizer(params, name, lr, momentum, capturable=False), None, why
