"""The learning-curve view's worker: one sweep in a thread, reported as the view's own messages.

The sweep (:class:`dataloupe.core.training.curve.sweep.CurveSweep`) runs with the worker's cancel
event; the sweep as it stands crosses as ``LearningCurveView.Measured`` (throttled by the sweep, a
newer one replacing an older one), and its end as a final ``Measured``, kept when it was stopped:
the points measured are the result. Settings the sweep cannot use come back as ``Failed``. The
worker never touches a widget.

    worker = start_curve(view, handle, config, CurvePlan())
"""

from __future__ import annotations

import threading
from functools import partial
from typing import TYPE_CHECKING

from dataloupe.tui.workers import run_job

if TYPE_CHECKING:
    from textual.worker import Worker

    from dataloupe.core.data.datasets import DatasetHandle
    from dataloupe.core.settings import TrainConfig
    from dataloupe.core.training.curve.points import CurvePlan, CurveResult
    from dataloupe.tui.widgets.curve_view import LearningCurveView


def start_curve(
    view: LearningCurveView, handle: DatasetHandle, config: TrainConfig, plan: CurvePlan
) -> Worker:
    """Measure ``plan`` on ``handle`` with ``config`` in a thread worker that posts to ``view``."""

    def on_progress(result: CurveResult) -> None:
        if not result.ended:  # the final one is the job's own message, which nothing may replace
            view.post_message(view.Measured(result))

    def job(cancel: threading.Event) -> LearningCurveView.Measured:
        from dataloupe.core.training.curve.sweep import CurveSweep

        return view.Measured(CurveSweep(handle, config, plan, cancel=cancel, on_progress=on_progress).run())

    body = partial(
        run_job,
        view,
        job,
        lambda text, error: view.Failed(text, error),
        what="The learning curve",
        cancelled="The learning curve was stopped before its first point.",
        keep_if_cancelled=True,
    )
    return view.run_worker(
        body, name="learning curve", group="curve", thread=True, exclusive=True, exit_on_error=False
    )
