"""Image quality: blank, very dark or light, low in information, blurred, odd in size or shape, grey
among colour; for tables, constant columns and rows that are the same after rounding.

Each property is measured on every image, a chunk at a time, and judged against the dataset's
own median and MAD (median absolute deviation): an image is flagged when it lies more than
:data:`Z_LIMIT` robust deviations from the median. MNIST's black backgrounds are then normal,
and only what is odd for this dataset stands out.

    python -c "import torch; from dataloupe.core.checks.quality import image_properties; \\
print(image_properties(torch.rand(4, 1, 28, 28), 1.0))"
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 - torch's own spelling

from dataloupe.core.checks.findings import Finding
from dataloupe.core.checks.gather import DeepSamples
from dataloupe.core.checks.results import CheckResult
from dataloupe.core.progress import ProgressCallback, check_cancel, report
from dataloupe.core.wording import plural

Z_LIMIT = 6.0
"""Robust deviations (MAD × 1.4826) from the median beyond which a property is odd for the dataset."""
BLANK_SHARE = 0.1
"""An image whose contrast is below this share of the dataset's median contrast is blank."""
BINS = 32
"""Grey levels counted for the entropy."""
CHUNK = 4096
"""Images measured at once."""
NAMED = 5
"""Samples named in the evidence line; every one is in the findings."""
_LAPLACE = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])[None, None]


@dataclass(frozen=True)
class Rule:
    """One way an image can be odd: which property, which side of the median, and what to call it."""

    prop: str
    """The property measured."""
    side: int
    """-1: too low; +1: too high."""
    name: str
    """What the finding says: "very dark"."""


RULES = (
    Rule("brightness", -1, "very dark"),
    Rule("brightness", +1, "very light"),
    Rule("entropy", -1, "low information"),
    Rule("sharpness", -1, "blurred"),
    Rule("aspect", -1, "odd aspect ratio"),
    Rule("aspect", +1, "odd aspect ratio"),
    Rule("pixels", -1, "odd size"),
    Rule("pixels", +1, "odd size"),
)
"""The properties judged by their distance from the median (blank and grey are judged apart)."""


def image_properties(x: torch.Tensor, scale: float) -> dict[str, np.ndarray]:
    """Brightness, contrast, entropy and sharpness of images ``x`` (N×C×H×W), values read as 0..``scale``."""
    g = x.float().mean(1) / scale if x.dim() == 4 else x.float() / scale
    flat = g.flatten(1)
    levels = (flat.clamp(0, 1) * (BINS - 1)).round().long()
    counts = torch.zeros(len(g), BINS).scatter_add_(1, levels, torch.ones_like(flat))
    share = counts / flat.shape[1]
    entropy = -(share * torch.log2(share.clamp_min(1e-12))).sum(1)
    lap = F.conv2d(g[:, None], _LAPLACE) if min(g.shape[-2:]) >= 3 else torch.zeros(len(g), 1, 1, 1)
    colour = torch.zeros(len(g))
    if x.dim() == 4 and x.shape[1] >= 3:  # how far the channels part: 0 for a grey image stored as RGB
        rgb = x[:, :3].float() / scale
        colour = (rgb.amax(1) - rgb.amin(1)).flatten(1).amax(1)
    return {
        "brightness": flat.mean(1).numpy(),
        "contrast": flat.std(1).numpy() if flat.shape[1] > 1 else np.zeros(len(g)),
        "entropy": entropy.numpy(),
        "sharpness": np.log10(lap.flatten(1).var(1).numpy() + 1e-8)
        if lap.numel() > len(g)
        else np.zeros(len(g)),
        "colour": colour.numpy(),
    }


def robust_z(values: np.ndarray) -> np.ndarray:
    """(value − median) / (1.4826 × MAD), with a floor on the MAD so that a property nearly every
    sample shares does not turn a tiny difference into a large score."""
    med = np.median(values)
    mad = np.median(np.abs(values - med)) * 1.4826
    floor = 0.02 * abs(med) + 1e-6
    return (values - med) / max(mad, floor)


def check_image_quality(
    samples: DeepSamples,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> tuple[CheckResult, list[Finding]]:
    """Flag the images that are blank, odd in brightness, information, sharpness, size or colour."""
    if samples.kind != "image":
        return check_table_quality(samples)
    props: dict[str, list[np.ndarray]] = {}
    names = list(samples.splits)
    done, total = 0, samples.total
    for s in samples.splits.values():
        for start in range(0, len(s), CHUNK):
            check_cancel(cancel)
            report(progress, "measuring every image", done, total)
            for k, v in image_properties(s.x[start : start + CHUNK], samples.scale).items():
                props.setdefault(k, []).append(v)
            done += min(CHUNK, len(s) - start)
    report(progress, "measuring every image", total, total)
    if not props:
        return CheckResult("quality", "pass", "no images to measure"), []
    values = {k: np.concatenate(v) for k, v in props.items()}
    shapes = [s.shapes for s in samples.splits.values()]
    if all(sh is not None for sh in shapes):
        stored = np.concatenate(shapes)
        values["pixels"] = np.log(np.maximum(stored[:, 1] * stored[:, 2], 1)).astype(np.float64)
        values["aspect"] = np.log(np.maximum(stored[:, 2], 1) / np.maximum(stored[:, 1], 1))
        channels = stored[:, 0]
    else:
        channels = np.full(total, next(iter(samples.splits.values())).x.shape[1])
    split_of, index_of = samples.positions()

    flagged: dict[int, tuple[str, str, float, float]] = {}  # sample → (finding, property, z, value)
    contrast = values["contrast"]
    blank = contrast <= BLANK_SHARE * max(float(np.median(contrast)), 1e-6)
    for i in np.flatnonzero(blank):
        flagged[int(i)] = ("blank", "contrast", float(robust_z(contrast)[i]), float(contrast[i]))
    for rule in RULES:
        if rule.prop not in values:
            continue
        z = robust_z(values[rule.prop])
        odd = np.flatnonzero(z * rule.side > Z_LIMIT)
        for i in odd[np.argsort(-np.abs(z[odd]))]:
            if int(i) not in flagged:
                flagged[int(i)] = (
                    rule.name,
                    rule.prop,
                    float(z[i]),
                    float(_shown(rule.prop, values[rule.prop][i])),
                )
    colour_set = np.median(channels) >= 3 and np.median(values["colour"]) > 0.02
    if colour_set:  # grey images in a colour set: one channel, or three equal ones
        grey = (channels < 3) | (values["colour"] <= 1.0 / 255)
        if grey.mean() < 0.5:
            for i in np.flatnonzero(grey):
                flagged.setdefault(
                    int(i), ("grey in a colour set", "colour", 0.0, float(values["colour"][i]))
                )

    findings = []
    for i, (what, prop, z, value) in sorted(flagged.items(), key=lambda kv: -abs(kv[1][2])):
        s = samples.splits[names[split_of[i]]]
        findings.append(
            samples.finding(
                "quality",
                s,
                int(index_of[i]),
                f"{what} ({prop} {value:.3g})",
                round(z, 3),
                prop=prop,
                value=value,
            )
        )
    return _quality_result(findings, total), findings


def _shown(prop: str, v: float) -> float:
    """A property as the user reads it: pixels and aspect are measured as logarithms."""
    return float(np.exp(v)) if prop in ("pixels", "aspect") else v


def _quality_result(findings: list[Finding], total: int) -> CheckResult:
    if not findings:
        return CheckResult(
            "quality",
            "pass",
            f"all {total:,} images look ordinary for this dataset (brightness, contrast, information, "
            f"sharpness, size; {Z_LIMIT:g} MADs from the median)",
        )
    kinds: dict[str, int] = {}
    for f in findings:
        kind = f.found.split(" (")[0]
        kinds[kind] = kinds.get(kind, 0) + 1
    tally = ", ".join(f"{n:,} {k}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
    named = "; ".join(f"{f.place} {f.found}" for f in findings[:NAMED])
    more = f"; and {len(findings) - NAMED:,} more" if len(findings) > NAMED else ""
    return CheckResult(
        "quality",
        "warn",
        f"{plural(len(findings), 'image')} of {total:,} stand out: {tally}. {named}{more}",
        "look at them (the app's findings view, or --export suspects.csv) and remove or fix the ones "
        "that are not real samples",
    )


def check_table_quality(samples: DeepSamples) -> tuple[CheckResult, list[Finding]]:
    """Tables: columns that never change, and rows that are the same after rounding (to 1/1000 of
    each column's spread) but are not exact copies."""
    xs = [s.x.double().numpy() for s in samples.splits.values()]
    x = np.concatenate(xs) if xs else np.zeros((0, 0))
    if not len(x):
        return CheckResult("quality", "pass", "no rows to measure"), []
    spread = x.std(axis=0)
    constant = np.flatnonzero(spread == 0)
    names = list(samples.splits)
    split_of, index_of = samples.positions()
    step = np.where(spread > 0, spread * 1e-3, 1.0)
    rounded = np.round(x / step)
    _, first, inverse, counts = np.unique(
        rounded, axis=0, return_index=True, return_inverse=True, return_counts=True
    )
    inverse = inverse.reshape(-1)
    _, exact_inverse = np.unique(x, axis=0, return_inverse=True)
    exact_inverse = exact_inverse.reshape(-1)
    findings = []
    for i in np.flatnonzero(counts[inverse] > 1):
        twin = int(first[inverse[i]])
        if twin == i or exact_inverse[twin] == exact_inverse[i]:
            continue  # the first of its group, or an exact copy (the split check counts those)
        s = samples.splits[names[split_of[i]]]
        o = samples.splits[names[split_of[twin]]]
        j, k = int(index_of[i]), int(index_of[twin])
        findings.append(
            samples.finding(
                "quality",
                s,
                j,
                f"the same as {o.where(k) or f'{o.name} {k:,}'} after rounding",
                0.0,
                other_split=o.name,
                other_index=k,
                other_where=o.where(k),
                prop="rounded row",
            )
        )
    parts = []
    if len(constant):
        verb = "never changes" if len(constant) == 1 else "never change"
        parts.append(
            f"{plural(len(constant), 'column')} {verb} (feature {', '.join(str(c) for c in constant[:8])})"
        )
    if findings:
        named = "; ".join(f"{f.place} {f.found}" for f in findings[:NAMED])
        parts.append(f"{plural(len(findings), 'row')} equal another after rounding: {named}")
    if not parts:
        return CheckResult(
            "quality", "pass", f"every column varies; no two of {len(x):,} rows are the same after rounding"
        ), findings
    return CheckResult(
        "quality",
        "warn",
        "; ".join(parts),
        "drop the constant columns (they carry nothing) and the near-copies of rows",
    ), findings
