"""The box beside a run: CPU, memory and NVIDIA GPUs, and the process that writes each watched run.

``sampler`` (:class:`SystemSampler` and its frozen :class:`SystemSnapshot`), ``gpus`` (NVML through
``nvidia-ml-py``; "no GPU" where there is none), ``writers`` (which process writes a run, and whether
it still lives) and ``processes`` (the process table they search). torch-free and UI-free.

    python -c "from dataloupe.core.system import SystemSampler; print(SystemSampler().sample_once())"
"""

from dataloupe.core.system.gpus import NO_GPU, Gpus, GpuSample
from dataloupe.core.system.sampler import SystemSampler, SystemSnapshot
from dataloupe.core.system.writers import WriterFinder, WriterProcess, describe_writer, stall_reason

__all__ = [
    "NO_GPU",
    "GpuSample",
    "Gpus",
    "SystemSampler",
    "SystemSnapshot",
    "WriterFinder",
    "WriterProcess",
    "describe_writer",
    "stall_reason",
]
