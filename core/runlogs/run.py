"""One training run read from its logs: tags, timing, NaNs, and an immutable snapshot of it all.

:class:`Run` holds the readers of one run and a :class:`~dataloupe.core.runlogs.series.TagSeries`
per tag. :meth:`Run.poll` takes what was written since the last poll; :meth:`Run.snapshot`
returns a :class:`RunSnapshot`, a frozen value that can cross to the screen's thread.

    python -c "from dataloupe.core.runlogs import Run; from dataloupe.core.runlogs.jsonl import JsonlReader as R; \
r = Run('demo', R('run.jsonl')); r.poll(); print(r.snapshot())"
"""

from __future__ import annotations

import math
import os
import time
from collections import deque
from dataclasses import dataclass

from dataloupe.core.runlogs.base import LogReader, printable
from dataloupe.core.runlogs.series import CHART_POINTS, TagSeries, TagSummary
from dataloupe.core.wording import duration, plural

STALL_AFTER = 600.0
"""Seconds without a new point after which a run is called stalled (10 minutes)."""
RATE_SAMPLE_EVERY = 1.0
"""Seconds between two (time, step) samples kept for steps per second."""
RATE_WINDOW = 120
"""Samples kept: the rate is measured over the last two minutes or so of the run."""
QUIET_AFTER = 30.0
"""Seconds without a new point after which a run that logs often has stopped writing (no ETA then)."""
QUIET_GAPS = 5
"""A run that logs rarely has stopped once this many of its usual gaps between points have passed."""

Columns = tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]
"""(steps, values, wall times) of one tag, :data:`~dataloupe.core.runlogs.series.CHART_POINTS` at most."""


@dataclass(frozen=True)
class RunSnapshot:
    """A run at one moment, as the screen and the headless report show it."""

    name: str
    """Its name in the run list (the path relative to the folder watched)."""
    path: str
    """The file or folder it is read from."""
    format: str
    """"tensorboard", "csv", "jsonl" or "trainer_state"."""
    tags: tuple[TagSummary, ...]
    """Every tag, in the order first seen."""
    columns: dict[str, Columns]
    """Chart data per tag (shared by the snapshots of a run that got no new point; never changed)."""
    points: int
    """Points read in all."""
    last_step: int | None
    """Highest step read."""
    last_point_at: float | None
    """Unix time of the latest point (its own time, or the file's when the format has none)."""
    started_at: float | None
    """Unix time of the run's first point (the origin of the relative-time axis)."""
    timed: bool
    """The log carries a time per point (TensorBoard, most JSON Lines): time axes mean something."""
    seconds_since_last: float | None
    """Seconds from the latest point to the snapshot."""
    stalled: bool
    """No new point for longer than the threshold, and the run has not reached its total."""
    writing: bool
    """Points are still arriving at about the run's own pace (an ETA means something only then)."""
    steps_per_second: float | None
    """Recent speed, when two points far enough apart in time are known."""
    total_steps: int | None
    """Planned steps, when the log says."""
    eta: float | None
    """Seconds to ``total_steps`` at the recent speed, while the run writes; None once it has stopped."""
    first_bad: tuple[str, int] | None
    """(tag, step) of the first NaN or infinite value."""
    problems: tuple[str, ...]
    """Messages about this run's files."""

    @property
    def finished(self) -> bool:
        """The run reached its planned total."""
        return (
            self.total_steps is not None and self.last_step is not None and self.last_step >= self.total_steps
        )

    @property
    def healthy(self) -> bool:
        """No NaN and not stalled (the headless command's exit code)."""
        return self.first_bad is None and not self.stalled

    @property
    def state(self) -> str:
        """ "finished", "writing", "stopped" (quiet for a while) or "stalled" (quiet past the threshold);
        "empty" before the first point."""
        if self.last_step is None:
            return "empty"
        if self.finished:
            return "finished"
        if self.stalled:
            return "stalled"
        return "writing" if self.writing else "stopped"


class Run:
    """One run: readers (usually one) feeding a series per tag."""

    def __init__(self, name: str, reader: LogReader, limit: int = CHART_POINTS) -> None:
        self.name = name
        """Name in the run list."""
        self.reader = reader
        """The source of its points."""
        self.limit = limit
        """Chart points per tag."""
        self.series: dict[str, TagSeries] = {}
        """Tag → its series, in first-seen order."""
        self.points = 0
        """Points accepted in all."""
        self.last_step: int | None = None
        self.last_point_at: float | None = None
        self.total_steps: int | None = None
        self.more = False
        """The last poll left a backlog."""
        self.started_at: float | None = None
        """Time of the first point."""
        self.timed = False
        """Some point carried its own time."""
        self.restarts = 0
        """Times the log was replaced (deleted and made again, or truncated) and the run started over."""
        self._rate: deque[tuple[float, int]] = deque(maxlen=RATE_WINDOW)
        self._cached: tuple[tuple[int, int], tuple[TagSummary, ...], dict[str, Columns]] | None = None

    def use_reader(self, reader: LogReader) -> None:
        """Read from another file from now on (the Trainer's newest checkpoint); old points stay."""
        self.reader.close()
        self.reader = reader

    def poll(self, now: float | None = None) -> int:
        """Read what was written since the last poll; the number of new points."""
        batch = self.reader.read()
        if batch.restarted:
            self._start_over()
        self.more = batch.more
        if batch.total_steps:
            self.total_steps = batch.total_steps
        if not batch.points:
            return 0
        file_time = None
        new = 0
        top_step, last_at = self.last_step, self.last_point_at
        series_of = self.series
        for tag, step, value, wall in batch.points:  # a million times when a big log is opened
            series = series_of.get(tag)
            if series is None:
                series = series_of[tag] = TagSeries(printable(tag), self.limit)
            if wall is None:
                if file_time is None:
                    file_time = _mtime(self.reader.path) or (now or time.time())
                wall = file_time
            elif not self.timed:
                self.timed = True
            if not series.add(step, value, wall):
                continue
            new += 1
            if self.started_at is None or wall < self.started_at:
                self.started_at = wall
            if top_step is None or step > top_step:
                top_step = step
                self._sample(wall, step)
            if last_at is None or wall > last_at:
                last_at = wall
        self.points += new
        self.last_step, self.last_point_at = top_step, last_at
        return new

    def _start_over(self) -> None:
        """The log was replaced: what was read from it belongs to another run."""
        self.restarts += 1
        self.series = {}
        self.points = 0
        self.last_step = self.last_point_at = self.total_steps = self.started_at = None
        self._rate.clear()

    def _quiet_after(self) -> float:
        """Seconds without a point after which this run has stopped writing: 30 s, or five of its own
        usual gaps between points when it logs more rarely than that."""
        if len(self._rate) < 2:
            return QUIET_AFTER
        gap = (self._rate[-1][0] - self._rate[0][0]) / (len(self._rate) - 1)
        return max(QUIET_AFTER, QUIET_GAPS * gap)

    def _sample(self, wall: float, step: int) -> None:
        """Keep (time, step) samples about a second apart; points of the same moment make one sample."""
        if self._rate and wall <= self._rate[-1][0]:
            self._rate[-1] = (self._rate[-1][0], step)
        elif len(self._rate) >= 2 and wall - self._rate[-2][0] < RATE_SAMPLE_EVERY:
            self._rate[-1] = (wall, step)
        else:
            self._rate.append((wall, step))

    def steps_per_second(self) -> float | None:
        """Steps per second over the recent samples, or None when they span no time."""
        if len(self._rate) < 2:
            return None
        (t0, s0), (t1, s1) = self._rate[0], self._rate[-1]
        if t1 - t0 <= 0 or s1 <= s0:
            return None
        return (s1 - s0) / (t1 - t0)

    def snapshot(self, now: float | None = None, stall_after: float = STALL_AFTER) -> RunSnapshot:
        """The run as an immutable value."""
        now = time.time() if now is None else now
        version = (self.points, self.restarts)
        if self._cached is None or self._cached[0] != version:  # quiet runs rebuild nothing
            tags = tuple(s.summary() for s in self.series.values())
            self._cached = (version, tags, {s.tag: s.columns() for s in self.series.values()})
        _, tags, columns = self._cached
        since = None if self.last_point_at is None else max(0.0, now - self.last_point_at)
        rate = self.steps_per_second()
        writing = since is not None and since <= min(stall_after, self._quiet_after())
        eta = None
        if writing and rate and self.total_steps and self.last_step is not None:
            eta = max(0.0, (self.total_steps - self.last_step) / rate)
        bad = [(t.first_bad_step, t.tag) for t in tags if t.first_bad_step is not None]
        first_bad = (min(bad)[1], min(bad)[0]) if bad else None
        finished = (
            self.total_steps is not None and self.last_step is not None and self.last_step >= self.total_steps
        )
        problem = self.reader.problem
        return RunSnapshot(
            name=printable(self.name),
            path=printable(str(self.reader.path)),
            format=self.reader.format,
            tags=tags,
            columns=columns,
            points=self.points,
            last_step=self.last_step,
            last_point_at=self.last_point_at,
            started_at=self.started_at,
            timed=self.timed,
            seconds_since_last=since,
            stalled=since is not None and since > stall_after and not finished,
            writing=writing and not finished,
            steps_per_second=rate,
            total_steps=self.total_steps,
            eta=eta,
            first_bad=first_bad,
            problems=(printable(problem),) if problem else (),
        )

    def close(self) -> None:
        """Release the reader's files."""
        self.reader.close()


def describe(run: RunSnapshot, since: float | None = None) -> str:
    """One line about a run: points, step, time since its last point, speed, ETA, stalled, NaN.

    ``since`` overrides the snapshot's own "seconds since the last point" (a screen that
    redraws between snapshots passes the time as it is now)."""
    parts = [plural(run.points, "point")]
    if run.last_step is not None:
        total = f"/{run.total_steps:,}" if run.total_steps else ""
        parts.append(f"step {run.last_step:,}{total}")
    since = run.seconds_since_last if since is None else since
    if since is not None and run.last_point_at is not None:
        clock = time.strftime(
            "%H:%M:%S" if since < 86400 else "%Y-%m-%d %H:%M", time.localtime(run.last_point_at)
        )
        parts.append(f"last point {clock}, {duration(since)} ago")
    state = run.state
    if state == "writing" and run.steps_per_second:
        parts.append(f"{run.steps_per_second:,.1f} steps/s")
    if state == "writing" and run.eta is not None:
        parts.append(f"ETA {duration(run.eta)}")
    elif state == "finished":
        parts.append("finished")
    elif state == "stopped":
        total = f" of {run.total_steps:,}" if run.total_steps else ""
        parts.append(f"stopped at step {run.last_step:,}{total}")
    elif state == "stalled":
        parts.append("STALLED")
    if run.first_bad:
        parts.append(f"NaN in {run.first_bad[0]} from step {run.first_bad[1]:,}")
    return " · ".join(parts)


def _mtime(path: os.PathLike[str] | str) -> float | None:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


def is_finite(value: float | None) -> bool:
    """Whether ``value`` is a finite number."""
    return value is not None and math.isfinite(value)
