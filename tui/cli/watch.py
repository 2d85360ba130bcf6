"""``dataloupe watch PATH``: watch training runs from their logs, live, in the app, or print them once.

PATH is a TensorBoard log folder, a Lightning ``metrics.csv``, a ``.jsonl`` file of metrics,
a Hugging Face ``trainer_state.json`` (or its output folder), or a folder of several runs.
``--once`` prints each run's latest and best value per tag, the step and time of its last
point, and any NaN, then exits: 0 when all is well; 1 when a run has a NaN, is stalled, or
could not be read whole (a corrupt event file, garbage rows, a line too long); 2 when
nothing at all could be read (no logs, a folder that cannot be listed, only unreadable files).
``--tags REGEX`` keeps the tags whose names match (the app's ``/`` filter).

    dataloupe watch lightning_logs/             # the app, live
    dataloupe watch runs/ --once --json         # one JSON object for scripts
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from dataloupe.core.errors import SettingsError

DEFAULT_STALL_MINUTES = 10.0
"""Minutes without a new point before a run is called stalled."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """PATH, --once, --json and --stall-after."""
    parser.add_argument(
        "path", type=Path, metavar="PATH", help="a log file, a run folder or a folder of runs"
    )
    parser.add_argument("--once", action="store_true", help="print the runs once and exit instead of the app")
    parser.add_argument("--json", action="store_true", help="with --once: one JSON object instead of text")
    parser.add_argument(
        "--tags",
        metavar="REGEX",
        default="",
        help="with --once: only the tags whose names match (a regular expression, case ignored)",
    )
    parser.add_argument(
        "--stall-after",
        type=float,
        default=DEFAULT_STALL_MINUTES,
        metavar="MIN",
        help=f"minutes without a new point before a run is stalled (default {DEFAULT_STALL_MINUTES:g})",
    )


def run(args: argparse.Namespace) -> int:
    """The app on PATH, or with ``--once`` a report; see the module's docstring for exit codes."""
    if args.stall_after <= 0:
        raise SettingsError(f"--stall-after {args.stall_after:g}: give a number of minutes above 0.")
    if args.json and not args.once:
        raise SettingsError("--json goes with --once (the app cannot print JSON); add --once.")
    from dataloupe.core.runlogs import Watch
    from dataloupe.core.runlogs.filters import strict_filter

    try:
        tags = strict_filter(args.tags)
    except ValueError as e:
        raise SettingsError(f"--tags: {e}; give a regular expression such as 'loss' or '^val/'.") from e

    stall = args.stall_after * 60
    if not args.once:
        from dataloupe.tui.app import AppOptions, build_app
        from dataloupe.tui.cli.entry import run_app, terminal_problem

        problem = terminal_problem()
        if problem is not None:
            raise SettingsError(problem)
        app = build_app(AppOptions(open_on_start=False, watch=str(args.path), stall_after=stall))
        return run_app(app)
    sampler = _system_sampler() if args.json else None
    watch = Watch(args.path, stall_after=stall)
    try:
        snapshot = only_tags(watch.read_all(), tags)
    finally:
        watch.close()
    if args.json:
        record = as_record(snapshot)
        if sampler is not None:
            add_system(record, snapshot, sampler)
        print(json.dumps(record, indent=None))
    else:
        print(as_text(snapshot))
        for problem in snapshot.problems:
            print(f"dataloupe: {problem}", file=sys.stderr)
    return exit_code(snapshot)


def exit_code(snapshot) -> int:
    """0 all well; 1 a NaN, a stall or a problem reading some run; 2 nothing could be read at all."""
    if not snapshot.runs or (snapshot.problems and not any(r.points for r in snapshot.runs)):
        return 2
    return 0 if snapshot.healthy and not snapshot.problems else 1


def only_tags(snapshot, tags):
    """``snapshot`` with only the tags ``tags`` matches (NaN and best values of the others left out)."""
    from dataclasses import replace

    if not tags.text:
        return snapshot
    runs = []
    for r in snapshot.runs:
        kept = tuple(t for t in r.tags if tags.matches(t.tag))
        bad = [(t.first_bad_step, t.tag) for t in kept if t.first_bad_step is not None]
        first_bad = (min(bad)[1], min(bad)[0]) if bad else None
        columns = {t.tag: r.columns[t.tag] for t in kept if t.tag in r.columns}
        runs.append(replace(r, tags=kept, columns=columns, first_bad=first_bad))
    return replace(snapshot, runs=tuple(runs))


def _number(value: float | None) -> float | str | None:
    """A value for JSON: NaN and infinities as the strings "nan", "inf", "-inf" (JSON has no such numbers)."""
    if value is None or math.isfinite(value):
        return value
    return str(value)


def as_record(snapshot) -> dict[str, Any]:
    """The ``--json`` object: every run with its tags, and the problems."""
    runs = []
    for r in snapshot.runs:
        runs.append(
            {
                "name": r.name,
                "path": r.path,
                "format": r.format,
                "points": r.points,
                "last_step": r.last_step,
                "last_point_at": r.last_point_at,
                "seconds_since_last": None
                if r.seconds_since_last is None
                else round(r.seconds_since_last, 1),
                "stalled": r.stalled,
                "state": r.state,
                "steps_per_second": r.steps_per_second,
                "total_steps": r.total_steps,
                "eta_seconds": r.eta,
                "first_nan": {"tag": r.first_bad[0], "step": r.first_bad[1]} if r.first_bad else None,
                "tags": {
                    t.tag: {
                        "points": t.points,
                        "last": _number(t.last_value),
                        "last_step": t.last_step,
                        "best": _number(t.best_value),
                        "best_step": t.best_step,
                        "better": {"min": "lower", "max": "higher"}.get(t.direction or ""),
                        "first_nan_step": t.first_bad_step,
                    }
                    for t in r.tags
                },
                "problems": list(r.problems),
            }
        )
    return {
        "path": snapshot.root,
        "runs": runs,
        "healthy": snapshot.healthy,
        "problems": list(snapshot.problems),
    }


def _system_sampler():
    """The sampler for ``--json``'s ``system`` object, its CPU interval begun while the logs are read."""
    from dataloupe.core.system import SystemSampler

    sampler = SystemSampler()
    sampler.prime()
    return sampler


def add_system(record: dict[str, Any], snapshot, sampler) -> None:
    """Add the top-level ``system`` object and each run's ``process`` (its writer, or None) to ``record``."""
    from dataloupe.core.system.records import process_record, system_record

    sampler.follow({r.name: r.path for r in snapshot.runs})
    try:
        system = sampler.sample_once()
    finally:
        sampler.close()
    record["system"] = system_record(system)
    for run in record["runs"]:
        run["process"] = process_record(system.writers.get(run["name"]), bool(system.gpus))


def _value(v: float | None) -> str:
    if v is None:
        return "-"
    if not math.isfinite(v):
        return str(v)
    return f"{v:.6g}"


def as_text(snapshot) -> str:
    """The plain-text report: a block per run, a row per tag."""
    from dataloupe.core.runlogs.run import describe

    lines: list[str] = []
    for r in snapshot.runs:
        lines.append(f"{r.name} ({r.format}: {r.path})")
        lines.append("  " + describe(r))
        if r.tags:
            width = max(12, *(len(t.tag) for t in r.tags))
            lines.append(f"  {'tag':<{width}}  {'last':>12}  {'at step':>9}  {'best':>12}  {'at step':>9}")
            for t in r.tags:
                best = _value(t.best_value) if t.direction else "-"
                best_step = f"{t.best_step:,}" if t.best_step is not None else "-"
                nan = f"  NaN from step {t.first_bad_step:,}" if t.first_bad_step is not None else ""
                last_step = f"{t.last_step:,}" if t.last_step is not None else "-"
                lines.append(
                    f"  {t.tag:<{width}}  {_value(t.last_value):>12}  {last_step:>9}  {best:>12}  {best_step:>9}{nan}"
                )
        lines.append("")
    if not snapshot.runs:
        lines.append(f"no runs under {snapshot.root}")
    return "\n".join(lines).rstrip()
