"""Where training runs: ``auto`` takes CUDA when it is there, ``cuda`` falls back to the CPU with a notice.

Every ``torch.cuda`` call is guarded, so this module works the same on a CPU-only build;
the tests exercise the CUDA branches by monkeypatching ``torch.cuda.is_available``.

    python -c "from dataloupe.core.training.device import choose_device; print(choose_device('auto'))"
"""

from __future__ import annotations

import contextlib
import gc
from dataclasses import dataclass

import torch

from dataloupe.core import memory
from dataloupe.core.errors import SettingsError
from dataloupe.core.settings import DEVICES, one_of


@dataclass(frozen=True)
class DeviceChoice:
    """The device a run will use, and what the user should be told about the choice."""

    device: torch.device
    """cpu or cuda."""
    notice: str
    """Non-empty when the user did not get what they asked for ("cuda asked for but not available …")."""
    name: str
    """For the screen: "cpu (2 threads)" or "cuda:0 (NVIDIA A100)"."""

    def __str__(self) -> str:
        return self.name + (f" — {self.notice}" if self.notice else "")


def cuda_available() -> bool:
    """Whether a CUDA device can be used (False on CPU-only builds, never raises)."""
    try:
        return bool(torch.cuda.is_available())
    except Exception:  # noqa: BLE001 - a broken driver counts as no CUDA
        return False


def describe_device(device: torch.device) -> str:
    """ "cpu (2 threads)" or "cuda:0 (device name)"."""
    if device.type == "cuda":
        try:
            index = device.index if device.index is not None else torch.cuda.current_device()
            return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
        except Exception:  # noqa: BLE001 - the name is decoration
            return "cuda"
    threads = torch.get_num_threads()
    return f"cpu ({threads} thread{'s' if threads != 1 else ''})"


def choose_device(wanted: str = "auto") -> DeviceChoice:
    """The device for ``wanted`` in auto|cpu|cuda; CUDA asked for but absent gives the CPU and a notice."""
    wanted = (wanted or "auto").lower()
    if wanted not in DEVICES:
        raise SettingsError(f"unknown device {wanted!r}: choose {one_of(DEVICES)}.")
    if wanted == "cpu":
        device = torch.device("cpu")
        return DeviceChoice(device, "", describe_device(device))
    if cuda_available():
        device = torch.device("cuda")
        return DeviceChoice(device, "", describe_device(device))
    device = torch.device("cpu")
    notice = ""
    if wanted == "cuda":
        notice = (
            "CUDA was asked for but is not available here (no GPU or a CPU-only torch); training on the CPU."
        )
    return DeviceChoice(device, notice, describe_device(device))


def memory_in_use(device: torch.device) -> int | None:
    """Bytes of GPU memory held by tensors on ``device``; None on the CPU (nothing to show)."""
    if device.type != "cuda":
        return None
    try:
        return int(torch.cuda.memory_allocated(device))
    except Exception:  # noqa: BLE001 - a figure for the screen, not worth a failure
        return None


def free_memory(device: torch.device) -> None:
    """Give cached GPU memory back after a run ends or runs out of memory (a no-op on the CPU)."""
    if device.type == "cuda":
        gc.collect()  # tensors only reachable through reference cycles hold GPU memory until collected
        with contextlib.suppress(Exception):  # best effort; the run is already over
            torch.cuda.empty_cache()


def is_out_of_memory(error: BaseException) -> bool:
    """Whether ``error`` is running out of memory, on the GPU or the CPU (see :func:`dataloupe.core.memory.is_out_of_memory`)."""
    oom = getattr(torch.cuda, "OutOfMemoryError", None)
    if oom is not None and isinstance(error, oom):
        return True
    return memory.is_out_of_memory(error)


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work (for honest timings); a no-op on the CPU."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
