"""The deep checks, run together: what needs both the data checks and a trained model.

The data side (``dataloupe.core.checks``) never imports training; this package sits above both and
wires dataloupe's K-fold models (``dataloupe.core.training.crossfit``) into the label check.

- ``deep``: ``run_deep`` (read every sample, then label noise, near copies and quality),
  ``run_checklist_deep`` (the checklist on every sample, then ``run_deep``: what the app and
  ``dataloupe check --deep`` run), ``crossfit_scorer`` (the default out-of-sample scorer).
"""

from dataloupe.core.audit.deep import crossfit_scorer, run_checklist_deep, run_deep

__all__ = ["crossfit_scorer", "run_checklist_deep", "run_deep"]
