"""How every worker in the app runs its job: one place for cancel, errors and progress reports.

A worker body builds a ``job(cancel) -> Message | None`` and hands it to :func:`run_job`, which
runs it with the worker's cancel event and posts what it returns. Whatever goes wrong becomes a
message built by the worker's ``failed(text, error)``: a :class:`~core.errors.Cancelled` with
``error=False``, a :class:`~core.errors.DataloupeError` with its own text (written for the user),
anything else with the exception's type and text, logged too. Nothing reaches the screen as a
traceback, and no worker touches a widget.

Textual can cancel a worker before its thread runs the body at all; then no message comes. A
pane that waits for one also calls :func:`ended_unheard` from ``on_worker_state_changed``: it is
True exactly when the worker is over and its body never reported (or crashed outside the job),
so nothing that waits for a worker waits for one that is gone.

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
import weakref
from collections.abc import Callable
from typing import TypeVar

from textual.message import Message
from textual.message_pump import MessagePump
from textual.worker import Worker, WorkerState

from core.errors import Cancelled, DataloupeError
from core.progress import Progress, Throttle

Report = TypeVar("Report")

Job = Callable[[threading.Event], Message | None]
"""A worker's work: receives the cancel event, returns the message to post (or None)."""
Failed = Callable[[str, bool], Message | None]
"""Builds the message for an outcome other than success: ``(text for the user, is it an error)``."""


_BODIES: weakref.WeakKeyDictionary[Worker, str] = weakref.WeakKeyDictionary()
"""Where each worker's body is: "running", "reported" (its message is posted) or "abandoned"
(cancelled before it began: it never will)."""
_BODIES_LOCK = threading.Lock()


def _current_worker() -> Worker | None:
    from textual.worker import NoActiveWorker, get_current_worker

    try:
        return get_current_worker()
    except NoActiveWorker:
        return None


def _begin(worker: Worker | None) -> bool:
    """Mark ``worker``'s body as running; False when the UI has already given it up."""
    if worker is None:
        return True
    with _BODIES_LOCK:
        if _BODIES.get(worker) == "abandoned":
            return False
        _BODIES[worker] = "running"
        return True


def _reported(worker: Worker | None) -> None:
    if worker is not None:
        with _BODIES_LOCK:
            _BODIES[worker] = "reported"


def ended_unheard(event: Worker.StateChanged) -> bool:
    """True when ``event`` ends a worker whose body will never post its message.

    That is a worker cancelled before its body began (Textual cancels the task; the thread never
    runs the job), or one whose body raised outside :func:`run_job`. A worker cancelled while its
    body runs is not one: the body notices the cancel event and reports, so this returns False.
    """
    worker, state = event.worker, event.state
    with _BODIES_LOCK:
        where = _BODIES.get(worker)
        if state == WorkerState.CANCELLED:
            if where is None:
                _BODIES[worker] = "abandoned"  # if the thread starts now, it does nothing
                return True
            return False
        if state in (WorkerState.ERROR, WorkerState.SUCCESS):
            return where != "reported"
    return False


def current_cancel_event() -> threading.Event:
    """The cancel event of the worker running this code (a fresh, never-set one outside a worker)."""
    worker = _current_worker()
    return worker.cancelled_event if worker is not None else threading.Event()


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
    after the cancel event was set is not posted (it may be cut short; nobody asked for it any
    more): the cancel message goes instead, unless ``keep_if_cancelled`` (a training run that was
    stopped still reports where it stopped). Returns True when the job's own result was posted,
    so a worker with several jobs goes on to the next.
    """
    worker = _current_worker()
    if not _begin(worker):
        return False  # cancelled before it began; the pane heard that from the worker's state
    cancel = worker.cancelled_event if worker is not None else threading.Event()
    ok = False
    try:
        message = job(cancel)
        ok = not cancel.is_set() or keep_if_cancelled
        if not ok:
            message = failed(cancelled or f"{what} was cancelled.", False)
    except Cancelled:
        message = failed(cancelled or f"{what} was cancelled.", False)
    except DataloupeError as e:
        message = failed(str(e), True)
    except Exception as e:  # noqa: BLE001 - anything else becomes a message, never a crash
        owner.log.error(f"{what} failed", e)
        message = failed(f"{what} failed: {type(e).__name__}: {e}", True)
    if message is not None:
        owner.post_message(message)
    _reported(worker)
    return ok


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
