"""Read the logs of training runs that dataloupe did not start, live: ``dataloupe watch``.

One module per format (``tensorboard_events``, ``csv_metrics``, ``jsonl``, ``trainer_state``),
an incremental line reader (``tail``), a bounded series per tag (``series``), a run with
its timing and NaN watch (``run``), and the folder watcher (``watch``). No UI imports;
``tensorboard`` is imported only when an event file is read.

    python -c "from dataloupe.core.runlogs import Watch; print(Watch('runs').read_all())"
"""

from dataloupe.core.runlogs.jsonl import JsonlLog
from dataloupe.core.runlogs.run import STALL_AFTER, Run, RunSnapshot
from dataloupe.core.runlogs.series import TagSeries, TagSummary, chart_key, group_tags
from dataloupe.core.runlogs.watch import Watch, WatchSnapshot, find_sources

__all__ = [
    "STALL_AFTER",
    "JsonlLog",
    "Run",
    "RunSnapshot",
    "TagSeries",
    "TagSummary",
    "Watch",
    "WatchSnapshot",
    "chart_key",
    "find_sources",
    "group_tags",
]
