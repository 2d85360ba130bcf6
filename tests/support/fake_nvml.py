"""A stand-in for the ``pynvml`` module of ``nvidia-ml-py``, for tests on machines without a GPU.

Install it with ``monkeypatch.setitem(sys.modules, "pynvml", FakeNvml(...))``: it answers the calls
:mod:`dataloupe.core.system.gpus` makes the way NVML does, with GPUs that can be lost (every call
about them raises ``NVMLError`` "GPU is lost") or split into MIG slices, and a process list.
"""

from __future__ import annotations

import types
from types import SimpleNamespace

NVML_ERROR_NOT_SUPPORTED = 3
NVML_ERROR_LIBRARY_NOT_FOUND = 12
NVML_ERROR_GPU_IS_LOST = 15
GIB = 1024**3


class NVMLError(Exception):
    """As nvidia-ml-py raises it: ``value`` holds NVML's return code."""

    def __init__(self, value: int) -> None:
        super().__init__(value)
        self.value = value


class FakeNvml(types.ModuleType):
    """``gpus`` H100s; ``processes`` maps a GPU index to [(pid, bytes)]; ``mig`` lists GPUs in MIG mode."""

    NVML_TEMPERATURE_GPU = 0
    NVML_DEVICE_MIG_ENABLE = 1
    NVMLError = NVMLError

    def __init__(
        self,
        gpus: int = 1,
        *,
        processes: dict[int, list[tuple[int, int]]] | None = None,
        mig: tuple[int, ...] = (),
        driver: bool = True,
    ) -> None:
        super().__init__("pynvml")
        self.count = gpus
        self.processes = processes or {}
        self.mig = set(mig)
        self.driver = driver
        self.lost: set[int] = set()
        """GPUs that stopped answering: every call about them raises."""
        self.calls = 0
        """Calls about a GPU so far."""
        self.initialised = False

    def _gpu(self, handle: int) -> int:
        self.calls += 1
        if handle in self.lost:
            raise NVMLError(NVML_ERROR_GPU_IS_LOST)
        return handle

    def nvmlInit(self) -> None:
        if not self.driver:
            raise NVMLError(NVML_ERROR_LIBRARY_NOT_FOUND)
        self.initialised = True

    def nvmlShutdown(self) -> None:
        self.initialised = False

    def nvmlDeviceGetCount(self) -> int:
        return self.count

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        return self._gpu(index)

    def nvmlDeviceGetName(self, handle: int) -> str:
        self._gpu(handle)
        return "NVIDIA H100 80GB HBM3"

    def nvmlDeviceGetUUID(self, handle: int) -> str:
        self._gpu(handle)
        return f"GPU-{handle:08x}-aaaa-bbbb-cccc-{handle:012x}"

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> SimpleNamespace:
        i = self._gpu(handle)
        used = (10 + 8 * i) * GIB
        return SimpleNamespace(used=used, total=80 * GIB, free=80 * GIB - used)

    def nvmlDeviceGetMigMode(self, handle: int) -> list[int]:
        i = self._gpu(handle)
        return [1, 1] if i in self.mig else [0, 0]

    def nvmlDeviceGetUtilizationRates(self, handle: int) -> SimpleNamespace:
        i = self._gpu(handle)
        if i in self.mig:
            raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
        return SimpleNamespace(gpu=90 + i, memory=40)

    def nvmlDeviceGetTemperature(self, handle: int, sensor: int) -> int:
        return 60 + self._gpu(handle)

    def nvmlDeviceGetPowerUsage(self, handle: int) -> int:
        return (300 + 10 * self._gpu(handle)) * 1000  # milliwatts

    def nvmlDeviceGetComputeRunningProcesses(self, handle: int) -> list[SimpleNamespace]:
        i = self._gpu(handle)
        return [SimpleNamespace(pid=pid, usedGpuMemory=used) for pid, used in self.processes.get(i, [])]

    def nvmlDeviceGetGraphicsRunningProcesses(self, handle: int) -> list[SimpleNamespace]:
        self._gpu(handle)
        return []
