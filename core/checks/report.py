"""A checklist report written out: the class table, the balance summary and the checks, as plain
text or as one JSON document. ``dataloupe check`` prints these; the tests read them.

    python -c "from dataloupe.core.checks import run_checklist; from dataloupe.core.readers import open_dataset; \\
from dataloupe.core.data.sources import DatasetSpec; from dataloupe.core.checks.report import report_text; \\
print(report_text(run_checklist(open_dataset(DatasetSpec('digits')))))"
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable
from typing import Any

from dataloupe.core.checks import VERDICTS, ChecklistReport, CheckResult
from dataloupe.core.stats.classes import balance_summary

Paint = Callable[[str, str], str]
"""``paint(verdict, text)`` returns ``text`` dressed for a terminal (colour), or unchanged."""


def _plain(verdict: str, text: str) -> str:
    return text


def class_table_lines(report: ChecklistReport) -> list[str]:
    """Counts and percentages per class: one column pair per split, and the total when there are two."""
    columns = [(s.name, s.counts) for s in report.splits]
    if len(columns) > 1:
        columns.append(("total", report.total_counts))
    name_width = max([len("class"), len("total")] + [len(c) for c in report.classes])
    count_width = max([7] + [len(f"{sum(counts):,}") for _, counts in columns])
    head = f"{'class':<{name_width}}" + "".join(f"  {name:>{count_width}} {'%':>6}" for name, _ in columns)
    lines = [head, "─" * len(head)]
    for k, cls in enumerate(report.classes):
        cells = ""
        for _, counts in columns:
            n = counts[k] if k < len(counts) else 0
            total = sum(counts)
            share = f"{n / total:.1%}" if total else "–"
            cells += f"  {n:>{count_width},} {share:>6}"
        lines.append(f"{cls:<{name_width}}{cells}")
    lines.append("─" * len(head))
    totals = "".join(f"  {sum(counts):>{count_width},} {'':>6}" for _, counts in columns)
    lines.append(f"{'total':<{name_width}}{totals}".rstrip())
    return lines


def balance_lines(report: ChecklistReport) -> list[str]:
    """One summary line per split, and the total over both."""
    lines = [f"{s.name}: {s.summary.describe()}" for s in report.splits]
    if len(report.splits) > 1:
        total = balance_summary(report.total_counts, report.classes, report.threshold)
        lines.append(f"total: {total.describe()}")
    return lines


def check_lines(result: CheckResult, width: int | None = None, paint: Paint = _plain) -> list[str]:
    """One check: "✓ numeric      evidence", and "fix: …" under it when there is one."""
    label = f"{result.symbol} {result.verdict:<4} {result.name:<12} "
    indent = " " * len(label)
    body = textwrap.wrap(result.evidence, width - len(label)) if width else [result.evidence]
    lines = [paint(result.verdict, label) + (body[0] if body else "")]
    lines += [indent + line for line in body[1:]]
    if result.fix:
        fix = f"fix: {result.fix}"
        for line in textwrap.wrap(fix, width - len(indent)) if width else [fix]:
            lines.append(indent + line)
    return lines


def verdict_line(report: ChecklistReport) -> str:
    """ "verdict: fail (1 fail, 2 warn, 6 pass)"."""
    tally = ", ".join(
        f"{sum(r.verdict == v for r in report.results)} {v}"
        for v in reversed(VERDICTS)
        if any(r.verdict == v for r in report.results)
    )
    return f"verdict: {report.verdict} ({tally})"


def report_text(report: ChecklistReport, width: int | None = 100, paint: Paint = _plain) -> str:
    """The whole report as plain text (``paint`` may colour the verdicts for a terminal)."""
    sizes = " and ".join(f"{s.name} {s.total:,}" for s in report.splits)
    seen = "as stored (no scaling)" if report.mode == "raw" else f"after {report.transform}"
    lines = [
        f"{report.dataset}: {sizes} samples, {len(report.classes)} classes; "
        f"checked {seen} in {report.seconds:.2f} s",
        "",
        *class_table_lines(report),
        "",
        *balance_lines(report),
        "",
    ]
    for result in report.results:
        lines += check_lines(result, width, paint)
    lines += ["", paint(report.verdict, verdict_line(report))]
    return "\n".join(lines)


def report_json(report: ChecklistReport) -> dict[str, Any]:
    """The report as a JSON-ready dict: counts per split and in total, and every check's verdict."""

    def number(x: float) -> float | None:  # JSON has no inf or NaN
        return None if math.isinf(x) or math.isnan(x) else round(x, 6)

    def balance(counts: tuple[int, ...]) -> dict[str, Any]:
        s = balance_summary(counts, report.classes, report.threshold)
        return {
            "counts": list(counts),
            "by_class": dict(zip(report.classes, counts, strict=False)),
            "total": s.total,
            "largest_over_smallest": number(s.ratio),
            "majority_class": s.classes[s.largest] if s.total else None,
            "majority_accuracy": number(s.majority_accuracy),
            "normalized_entropy": number(s.entropy),
            "unbalanced": s.unbalanced,
        }

    return {
        "dataset": report.dataset,
        "classes": list(report.classes),
        "transform": report.transform,
        "mode": report.mode,
        "imbalance_threshold": report.threshold,
        "splits": {s.name: balance(s.counts) for s in report.splits},
        "total": balance(report.total_counts),
        "checks": [
            {"name": r.name, "verdict": r.verdict, "evidence": r.evidence, "fix": r.fix}
            for r in report.results
        ],
        "verdict": report.verdict,
        "seconds": round(report.seconds, 3),
    }
