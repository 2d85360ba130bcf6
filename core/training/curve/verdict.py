"""The plain answer a learning curve gives: would more data help, and which network shape wins where.

:func:`judge` reads the best network at the largest size measured and compares its mean test
accuracy there with the size before (with the default plan, the last doubling of the data).
A gain of at least :data:`MIN_GAIN` points that is larger than the spread between seeds means more
data still helps; a smaller gain is a plateau; a gain the seeds disagree about as much is called
too noisy to tell, so that noise is never read as a trend.

    python -c "from dataloupe.core.training.curve.verdict import gain_sentence; \\
print(gain_sentence(3.1, 0.4, 0.5, 1.0))"
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from dataloupe.core.training.curve.points import CurveResult

VerdictKind = Literal["helps", "plateau", "noisy", "early"]
"""More data still helps; plateau; a gain within the noise; too few points to judge."""

MIN_GAIN = 1.0
"""Points of test accuracy the last step of data must add to count as still helping."""
DOUBLING = (1.7, 2.6)
"""Ratios of two sizes that a reader would call a doubling (the default plan steps by 2.1)."""


@dataclass(frozen=True)
class Verdict:
    """The sweep's answer, in words and in numbers."""

    kind: VerdictKind
    """Which answer."""
    text: str
    """ "more data still helps: +3.1 points from 47% to 100% (...)"."""
    best: str
    """Which network wins at which size: "best: 1×96 at 72-340 samples; 4×24 at 680-1,437 samples"."""
    network: str = ""
    """The network judged: the best at the largest size measured."""
    gain: float | None = None
    """Points of test accuracy gained over the last step of data."""
    spread: float | None = None
    """Largest spread between seeds, in points, at the two sizes compared (None with one seed)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain values (for ``--json``)."""
        return {
            "verdict": self.text,
            "kind": self.kind,
            "best": self.best,
            "network": self.network,
            "gain": None if self.gain is None else round(self.gain, 2),
            "spread": None if self.spread is None else round(self.spread, 2),
        }


def percent(share: float) -> str:
    """0.4729 as "47%", 0.05 as "5%", 0.0123 as "1.2%"."""
    return f"{share:.0%}" if share >= 0.095 else f"{share:.1%}".replace(".0%", "%")


def gain_sentence(
    gain: float, spread: float | None, low: float, high: float, network: str = ""
) -> tuple[VerdictKind, str]:
    """The verdict for a gain of ``gain`` points from share ``low`` to ``high`` with seeds ``spread`` apart."""
    span = (
        "over the last doubling"
        if DOUBLING[0] <= high / low <= DOUBLING[1]
        else f"from {percent(low)} to {percent(high)}"
    )
    what = f"{network}; " if network else ""
    gain = 0.0 if abs(gain) < 0.05 else gain  # never "-0.0 points"
    noise = (
        f"the spread between seeds is {spread:.1f}"
        if spread is not None
        else "one seed, so the spread between seeds is unknown; --repeats 2 shows it"
    )
    if gain < MIN_GAIN:
        return "plateau", f"plateau: {gain:+.1f} points {span} ({what}{noise})"
    if spread is not None and gain <= spread:
        return "noisy", (
            f"too noisy to tell: {gain:+.1f} points from {percent(low)} to {percent(high)}, "
            f"no more than the spread between seeds ({spread:.1f}; {what}more repeats would tell)"
        )
    return (
        "helps",
        f"more data still helps: {gain:+.1f} points from {percent(low)} to {percent(high)} ({what}{noise})",
    )


def judge(result: CurveResult) -> Verdict:
    """Would more data help, judged from the points measured so far; and which network wins where."""
    best = best_by_size(result)
    measured = [s for s in result.sizes if any(result.cell(n.name, s.samples) for n in result.networks)]
    if not measured:
        return Verdict("early", f"too early to judge: 0 of {result.total} points measured", best)
    last = measured[-1]
    cells = {n.name: result.cell(n.name, last.samples) for n in result.networks}
    network = max((name for name, c in cells.items() if c is not None), key=lambda name: cells[name].test)
    earlier = [s for s in measured[:-1] if result.cell(network, s.samples) is not None]
    if not earlier:
        return Verdict(
            "early",
            f"too early to judge: one training size measured ({len(result.points)} of {result.total} points)",
            best,
            network,
        )
    prev = earlier[-1]
    before, after = result.cell(network, prev.samples), cells[network]
    assert before is not None and after is not None
    gain = 100 * (after.test - before.test)
    spreads = [c.spread for c in (before, after) if c.spread is not None]
    spread = 100 * max(spreads) if spreads else None
    kind, text = gain_sentence(gain, spread, prev.share, last.share, network if len(cells) > 1 else "")
    if result.state != "finished":
        text = f"so far, {text} ({len(result.points)} of {result.total} points)"
    return Verdict(kind, text, best, network, gain, spread)


def best_by_size(result: CurveResult) -> str:
    """ "best: 1×96 at 72-340 samples; 1×96 and 4×24 tie at 680-1,437 samples" (empty with one network).

    Networks whose mean test accuracy is within the largest spread between seeds of the best one
    tie: a lead the seeds themselves disagree about is no lead.
    """
    if len(result.networks) < 2:
        return ""
    runs: list[tuple[tuple[str, ...], list[int]]] = []
    for s in result.sizes:
        cells = {n.name: result.cell(n.name, s.samples) for n in result.networks}
        scored = {name: c for name, c in cells.items() if c is not None}
        if not scored:
            continue
        top = max(c.test for c in scored.values())
        noise = max((c.spread or 0.0 for c in scored.values()), default=0.0)
        leaders = tuple(name for name, c in scored.items() if top - c.test <= noise)
        if runs and runs[-1][0] == leaders:
            runs[-1][1].append(s.samples)
        else:
            runs.append((leaders, [s.samples]))
    if not runs:
        return ""
    parts = []
    for leaders, sizes in runs:
        who = leaders[0] if len(leaders) == 1 else ", ".join(leaders[:-1]) + f" and {leaders[-1]} tie"
        if len(runs) == 1 and len(sizes) == len(result.sizes):
            return f"best: {who} at every size"
        where = f"{sizes[0]:,}" if len(sizes) == 1 else f"{sizes[0]:,}-{sizes[-1]:,}"
        parts.append(f"{who} at {where} samples")
    return "best: " + "; ".join(parts)
