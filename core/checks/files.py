"""The "readable" check: every file behind a split decodes, or is named, counted and skipped.

Splits held in memory were read whole when the dataset opened. An image folder opens by
listing its files; this check decodes each of them once (the long step of the checklist, with
progress counted in files) and records the bad ones, which every later read then skips.
"""

from __future__ import annotations

import os

from dataloupe.core.checks.facts import Facts
from dataloupe.core.checks.results import CheckResult
from dataloupe.core.wording import plural

NAMED = 5
"""Bad files named in the evidence; the rest are counted."""


def check_readable(f: Facts) -> CheckResult:
    """Every image file decodes; unreadable, truncated, oversized and non-image files are named and counted."""
    from dataloupe.core.readers.image_files import scan_files

    files = [d.files for d in (f.handle.splits[n] for n in f.handle.split_names) if d.files is not None]
    if not files:
        return CheckResult("readable", "pass", "every sample was read when the dataset opened")
    scan_files(files, f.progress, f.cancel)
    total = sum(len(x) for x in files)
    bad = [(x, i, reason) for x in files for i, reason in sorted(x.bad.items())]
    other = sum(x.other_files for x in files)
    others = [p for x in files for p in x.other_examples]
    parts = []
    if bad:
        named = "; ".join(f"{_short(x.paths[i], x.root)} ({reason})" for x, i, reason in bad[:NAMED])
        more = f"; and {len(bad) - NAMED:,} more" if len(bad) > NAMED else ""
        parts.append(
            f"{len(bad):,} of {plural(total, 'image file')} cannot be used and are skipped: {named}{more}"
        )
    if other:
        parts.append(
            f"{plural(other, 'file')} without an image extension skipped (e.g. {_short(others[0], files[0].root)})"
        )
    if bad:
        return CheckResult(
            "readable",
            "warn",
            "; ".join(parts),
            "replace or delete those files: wherever samples are read, each is skipped and the next "
            "readable image of its class stands in",
        )
    text = f"all {plural(total, 'image file')} decode"
    return CheckResult("readable", "pass", f"{text}; {parts[0]}" if parts else text)


def _short(path: str, root: str) -> str:
    return os.path.relpath(path, root) if root else path
