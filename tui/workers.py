"""How every worker in the app runs its job: one place for cancel, errors and progress reports.

A worker body builds a ``job(cancel) -> Message | None`` and hands it to :func:`run_job`, which
runs it with the worker's cancel event and posts what it returns. Whatever goes wrong becomes a
message built by the worker's ``failed(text, error)``: a :class:`~core.errors.Cancelled` with
``error=False``, a :class:`~core.errors.DataloupeError` with its own text (written for the user),
anything else with the exception's type and text, logged too. Nothing reaches the screen as a
traceback, and no worker touches a widget.

:func:`throttled` wraps a progress callback so that a fast loop posts at most a few reports a
second (the last one always passes).

    @work(thread=True, exclusive=True, group="checklist", exit_on_error=False)
    def _check_worker(self, handle):
        def job(cancel):
            report = run_checklist(handle, progress=throttled(self._post_progress), cancel=cancel)
            return self.Finished(handle, report)

        run_job(self, job, lambda text, error: self.Stopped(handle, text, error), what="The checklist")
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from textual.message import Message
from textual.message_pump import MessagePump

from core.errors import Cancelled, DataloupeError
from core.progress import Progress, Throttle

Report = TypeVar("Report")

Job = Callable[[threading.Event], Message | None]
"""A worker's work: receives the cancel event, returns the message to post (or None)."""
Failed = Callable[[str, bool], Message | None]
"""Builds the message for an outcome other than success: ``(text for the user, is it an error)``."""


def current_cancel_event() -> threading.Event:
    """The cancel event of the worker running this code (a fresh, never-set one outside a worker)."""
    from textual.worker import NoActiveWorker, get_current_worker

    try:
        return get_current_worker().cancelled_event
    except NoActiveWorker:
        return threading.Event()


def run_job(
    owner: MessagePump,
    job: Job,
    failed: Failed,
    *,
    what: str,
    cancelled: str = "",
    keep_if_cancelled: bool = False,
) -> bool:
    """Run ``job`` in the current worker and post its message, or ``failed(...)``'s; never raises.

    ``what`` names the work in a message about an unexpected error ("Saving failed: ..."), and
    ``cancelled`` is the text sent when the job stops on its cancel event. A result that arrives
    after the cancel event was set is dropped (nobody is waiting for it any more), unless
    ``keep_if_cancelled``: a training run that was stopped still reports where it stopped.
    Returns True when the job ran to the end (so a worker with several jobs goes on to the next).
    """
    cancel = current_cancel_event()
    try:
        message = job(cancel)
    except Cancelled:
        message = failed(cancelled or f"{what} was cancelled.", False)
    except DataloupeError as e:
        message = failed(str(e), True)
    except Exception as e:  # noqa: BLE001 - anything else becomes a message, never a crash
        owner.log.error(f"{what} failed", e)
        message = failed(f"{what} failed: {type(e).__name__}: {e}", True)
    else:
        if cancel.is_set() and not keep_if_cancelled:
            return False
        if message is not None:
            owner.post_message(message)
        return True
    if message is not None:
        owner.post_message(message)
    return False


def throttled(
    send: Callable[[Report], None], is_final: Callable[[Report], bool] | None = None
) -> Callable[[Report], None]:
    """``send`` at most once per :data:`core.progress.PROGRESS_INTERVAL`; a final report always passes.

    ``is_final`` says which report is the last; by default a :class:`~core.progress.Progress` whose
    fraction is 1.
    """
    throttle = Throttle()
    final = is_final or _progress_done

    def report(value: Report) -> None:
        if throttle.ready(final=final(value)):
            send(value)

    return report


def _progress_done(p: Progress) -> bool:  # type: ignore[type-var]
    return p.fraction == 1.0
