"""NVIDIA GPUs through NVML: utilisation, memory, temperature and power of each, and the memory each
process holds on them.

NVML comes from ``nvidia-ml-py``, NVIDIA's own binding (imported as ``pynvml``), loaded when
:meth:`Gpus.open` is first called. A box without a GPU or without the driver is an ordinary case:
:attr:`Gpus.note` says "no GPU" and :meth:`Gpus.sample` returns nothing, never an exception. A GPU
that stops answering mid-run is marked lost and asked again every :data:`RETRY_LOST` seconds while
the others go on. GPUs are numbered by NVML's index, which is the number ``nvidia-smi`` shows.

    python -c "from dataloupe.core.system.gpus import Gpus; g = Gpus(); print(g.sample() or g.note)"
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from typing import Any

RETRY_LOST = 10.0
"""Seconds between two attempts to read a GPU that stopped answering."""
NO_GPU = "no GPU"
"""What the strip says where NVML finds no GPU, or there is no NVIDIA driver at all."""


@dataclass(frozen=True)
class GpuSample:
    """One GPU at one moment; a figure NVML does not give for this GPU is None."""

    index: int
    """NVML's index: the GPU's number in ``nvidia-smi``."""
    name: str
    """Its product name ("NVIDIA H100 80GB HBM3")."""
    utilization: float | None
    """Percent of the last sample period in which a kernel ran (None on a MIG-enabled GPU)."""
    memory_used: int | None
    """Bytes of its memory in use."""
    memory_total: int | None
    """Bytes of memory it has."""
    temperature: float | None
    """Degrees Celsius."""
    power: float | None
    """Watts drawn."""
    state: str
    """"ok"; "mig" (split into MIG slices: no utilisation per GPU); "lost" (stopped answering)."""
    cuda_index: int | None
    """Its number for CUDA in this process when ``CUDA_VISIBLE_DEVICES`` is set and lists it."""


class Gpus:
    """The NVIDIA GPUs of this box, read through NVML; safe to use where there are none."""

    def __init__(self, retry_lost: float = RETRY_LOST) -> None:
        self.retry_lost = retry_lost
        """Seconds between two attempts to read a lost GPU."""
        self.note: str | None = None
        """"no GPU" once :meth:`open` found none (or no driver); None while GPUs answer."""
        self._nvml: Any = None
        self._handles: list[Any] = []
        self._names: list[str] = []
        self._uuids: list[str] = []
        self._lost_at: dict[int, float] = {}
        self._cuda: dict[int, int] = {}
        self._opened = False

    def open(self) -> None:
        """Load NVML and list the GPUs (once; later calls do nothing)."""
        if self._opened:
            return
        self._opened = True
        try:
            import pynvml

            pynvml.nvmlInit()
        except Exception:  # noqa: BLE001 - no binding, no library, no driver: all mean "no GPU"
            self.note = NO_GPU
            return
        self._nvml = pynvml
        try:
            count = pynvml.nvmlDeviceGetCount()
        except Exception:  # noqa: BLE001
            count = 0
        for i in range(count):
            try:
                handle = pynvml.nvmlDeviceGetHandleByIndex(i)
            except Exception:  # noqa: BLE001 - listed but unreadable: shown as lost
                handle = None
                self._lost_at[i] = time.monotonic()
            self._handles.append(handle)
            self._names.append(_text(self._call(handle, "nvmlDeviceGetName", "GPU")))
            self._uuids.append(_text(self._call(handle, "nvmlDeviceGetUUID", "")))
        if not count:
            self.note = NO_GPU
        self._cuda = cuda_mapping(os.environ.get("CUDA_VISIBLE_DEVICES"), self._uuids)

    def sample(self) -> tuple[GpuSample, ...]:
        """Every GPU as it is now (an empty tuple where there is none)."""
        self.open()
        return tuple(self._sample_one(i) for i in range(len(self._handles)))

    def _sample_one(self, i: int) -> GpuSample:
        nvml = self._nvml
        lost = GpuSample(i, self._names[i], None, None, None, None, None, "lost", self._cuda.get(i))
        lost_at = self._lost_at.get(i)
        if lost_at is not None:
            if time.monotonic() - lost_at < self.retry_lost:
                return lost
            try:
                self._handles[i] = nvml.nvmlDeviceGetHandleByIndex(i)
            except Exception:  # noqa: BLE001
                self._lost_at[i] = time.monotonic()
                return lost
        handle = self._handles[i]
        try:
            memory = nvml.nvmlDeviceGetMemoryInfo(handle)
            used, total = int(memory.used), int(memory.total)
        except Exception:  # noqa: BLE001 - memory is asked first: a GPU that cannot say it is gone
            self._lost_at[i] = time.monotonic()
            return lost
        self._lost_at.pop(i, None)
        mig = self._call(handle, "nvmlDeviceGetMigMode", None)
        in_mig = bool(mig) and mig[0] == getattr(nvml, "NVML_DEVICE_MIG_ENABLE", 1)
        rates = None if in_mig else self._call(handle, "nvmlDeviceGetUtilizationRates", None)
        temperature = self._call(
            handle, "nvmlDeviceGetTemperature", None, getattr(nvml, "NVML_TEMPERATURE_GPU", 0)
        )
        milliwatts = self._call(handle, "nvmlDeviceGetPowerUsage", None)
        return GpuSample(
            index=i,
            name=self._names[i],
            utilization=None if rates is None else float(rates.gpu),
            memory_used=used,
            memory_total=total,
            temperature=None if temperature is None else float(temperature),
            power=None if milliwatts is None else milliwatts / 1000,
            state="mig" if in_mig else "ok",
            cuda_index=self._cuda.get(i),
        )

    def process_memory(self) -> dict[int, int]:
        """Process id → bytes it holds on all GPUs together, as NVML lists them (empty without a GPU).

        In a container NVML may list the host's process ids, which match no process here."""
        self.open()
        held: dict[int, int] = {}
        for i, handle in enumerate(self._handles):
            if i in self._lost_at:
                continue
            for name in ("nvmlDeviceGetComputeRunningProcesses", "nvmlDeviceGetGraphicsRunningProcesses"):
                for p in self._call(handle, name, None) or ():
                    used = getattr(p, "usedGpuMemory", None)
                    held[int(p.pid)] = held.get(int(p.pid), 0) + int(used or 0)
        return held

    def _call(self, handle: Any, name: str, default: Any, *args: Any) -> Any:
        """NVML's ``name(handle, *args)``, or ``default`` where this GPU or driver does not give it."""
        if handle is None or self._nvml is None:
            return default
        try:
            return getattr(self._nvml, name)(handle, *args)
        except Exception:  # noqa: BLE001 - Not Supported, No Permission, an older driver without it
            return default

    def close(self) -> None:
        """Release NVML."""
        if self._nvml is not None:
            with contextlib.suppress(Exception):  # shutting down a library that lost its GPU
                self._nvml.nvmlShutdown()
            self._nvml = None
        self._handles = []
        self._opened = False


def cuda_mapping(visible: str | None, uuids: list[str]) -> dict[int, int]:
    """NVML index → CUDA's number under ``CUDA_VISIBLE_DEVICES`` (empty when unset).

    Entries are indices or UUIDs (``GPU-8f3c…``, a prefix is enough); as CUDA does, the list ends
    at the first entry that names no GPU. Indices are taken in ``nvidia-smi``'s order, which is
    CUDA's too when ``CUDA_DEVICE_ORDER=PCI_BUS_ID`` (and on a box of identical GPUs)."""
    if visible is None:
        return {}
    mapping: dict[int, int] = {}
    for entry in (e.strip() for e in visible.split(",")):
        index = None
        if entry.isdigit() and int(entry) < len(uuids):
            index = int(entry)
        elif entry.startswith("GPU-"):
            index = next((i for i, u in enumerate(uuids) if u and u.startswith(entry)), None)
        if index is None or index in mapping:
            break
        mapping[index] = len(mapping)
    return mapping


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
