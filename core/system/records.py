"""The system figures and each run's writer as plain JSON values (``dataloupe watch --once --json``).

python -c "from dataloupe.core.system import SystemSampler; from dataloupe.core.system.records import system_record; print(system_record(SystemSampler().sample_once()))"
"""

from __future__ import annotations

from typing import Any

from dataloupe.core.system.sampler import SystemSnapshot
from dataloupe.core.system.writers import WriterProcess


def system_record(system: SystemSnapshot) -> dict[str, Any]:
    """CPU, memory (bytes) and ``gpus``, a list that is empty where there is no GPU."""
    return {
        "cpu_percent": system.cpu_percent,
        "cpu_count": system.cpu_count,
        "memory_used": system.memory_used,
        "memory_total": system.memory_total,
        "gpus": [
            {
                "index": g.index,
                "name": g.name,
                "state": g.state,
                "utilization_percent": g.utilization,
                "memory_used": g.memory_used,
                "memory_total": g.memory_total,
                "temperature_c": g.temperature,
                "power_w": g.power,
                "cuda_index": g.cuda_index,
            }
            for g in system.gpus
        ],
        "gpu_note": system.gpu_note,
        "cuda_visible_devices": system.cuda_visible,
    }


def process_record(writer: WriterProcess | None, has_gpu: bool) -> dict[str, Any] | None:
    """A run's writer: pid, command, state, CPU %, resident bytes, and GPU bytes where there is a GPU;
    None when no writer was found."""
    if writer is None:
        return None
    record: dict[str, Any] = {
        "pid": writer.pid,
        "command": writer.command,
        "state": writer.state,
        "cpu_percent": writer.cpu_percent,
        "rss": writer.rss,
        "found_by": writer.found_by,
    }
    if has_gpu:
        record["gpu_memory"] = writer.gpu_memory
    return record
