"""How every worker in the app runs its job: one place for cancel, errors and progress reports.

A worker body builds a ``job(cancel) -> Message | None`` and hands it to :func:`run_job`, which
runs it with the worker's cancel event and posts what it returns. Whatever goes wrong becomes a
message built by the worker's ``failed(text, error)``: a :class:`~dataloupe.core.errors.Cancelled` with
``error=False``, a :class:`~dataloupe.core.errors.DataloupeError` with its own text (written for the user),
running out of memory with how much was asked for and what to try, anything else with the
exception's type and text, logged too. Nothing reaches the screen as a
traceback, and no worker touches a widget.

A worker's end must always be heard. ``Worker.cancel`` cancels the task, and a task cancelled
before its thread begins never runs the body: no message comes, and Textual 8 posts no state
change either (the worker stays RUNNING and leaves the manager). So a pane that waits for a
worker stops it with :func:`stop_job`, which for a body not yet begun only sets the cancel
event: the body still runs, finds the event set and reports that it stopped. Textual's own cancels remain for a worker that a
newer one in its group replaces (the pane then waits for the newer one) and for quitting. A body
that raises outside the job ends in an ERROR state: :func:`ended_unheard` says so from
``on_worker_state_changed``.

:func:`throttled` wraps a progress callback so that a fast loop posts at most a few reports a
second (the last one always passes). :class:`LeavingExecutor` runs the thread workers so that one
stuck in the user's code never keeps the app from quitting.

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
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from textual.message import Message
from textual.message_pump import MessagePump
from textual.worker import Worker, WorkerState

from dataloupe.core.errors import Cancelled, DataloupeError
from dataloupe.core.progress import Progress, Throttle

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


def stop_job(worker: Worker | None) -> None:
    """Ask ``worker``'s job to stop, so that it reports how it stopped even if it has not begun.

    A worker whose body has begun is cancelled as Textual does it (the body notices and reports).
    One whose body has not begun only has its cancel event set: its task must still run the body,
    which finds the event set and reports the stop (see the module's docstring).
    """
    if worker is None:
        return
    with _BODIES_LOCK:
        begun = worker in _BODIES
    if begun:
        worker.cancel()
    else:
        worker.cancelled_event.set()


def ended_unheard(event: Worker.StateChanged) -> bool:
    """True when ``event`` ends a worker whose body will never post its message.

    That is a body that raised outside :func:`run_job` (ERROR), or, where Textual reports it, a
    worker cancelled before its body began. A worker cancelled while its body runs is not one: the
    body notices the cancel event and reports, so this returns False.
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
        if cancel.is_set() and not keep_if_cancelled:
            raise Cancelled()  # stopped before it began: say so without doing the work
        message = job(cancel)
        ok = not cancel.is_set() or keep_if_cancelled
        if not ok:
            message = failed(cancelled or f"{what} was cancelled.", False)
    except Cancelled:
        message = failed(cancelled or f"{what} was cancelled.", False)
    except DataloupeError as e:
        message = failed(str(e), True)
    except Exception as e:  # noqa: BLE001 - anything else becomes a message, never a crash
        from dataloupe.core.memory import is_out_of_memory, out_of_memory_message

        owner.log.error(f"{what} failed", e)
        if is_out_of_memory(e):  # numpy reading a file, torch building a model: too little memory, not a bug
            message = failed(f"{what} failed: {out_of_memory_message(e)}", True)
        else:
            message = failed(f"{what} failed: {type(e).__name__}: {e}", True)
    if message is not None:
        owner.post_message(message)
    _reported(worker)
    return ok


def throttled(
    send: Callable[[Report], None], is_final: Callable[[Report], bool] | None = None
) -> Callable[[Report], None]:
    """``send`` at most once per :data:`dataloupe.core.progress.PROGRESS_INTERVAL`; a final report always passes.

    ``is_final`` says which report is the last; by default a :class:`~dataloupe.core.progress.Progress` whose
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


class LeavingExecutor(ThreadPoolExecutor):
    """The event loop's executor for thread workers: a daemon thread per job, and a shutdown that waits
    for every job except one stuck in the user's code.

    A thread cannot be killed, and the user's ``__getitem__`` may never return. Under the default
    executor, quitting then hung for ever: ``asyncio.run`` waits for the executor's threads, and
    Python waits for them again at exit. Here a thread inside a call of the user's code (see
    :func:`dataloupe.core.user_calls.in_user_code`) is left behind, so the app quits; everything else
    (a save being written, a run stopping at its next step) is still waited for.
    """

    def __init__(self) -> None:
        super().__init__(max_workers=1)  # the pool itself is never used: each job has a thread of its own
        self._jobs: set[threading.Thread] = set()
        self._jobs_lock = threading.Lock()

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()

        def body() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = fn(*args, **kwargs)
            except BaseException as e:  # noqa: BLE001 - handed to whoever awaits the future
                future.set_exception(e)
            else:
                future.set_result(result)
            finally:
                with self._jobs_lock:
                    self._jobs.discard(threading.current_thread())

        thread = threading.Thread(target=body, name="dataloupe-worker", daemon=True)
        with self._jobs_lock:
            self._jobs.add(thread)
        thread.start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait=False, cancel_futures=cancel_futures)
        if not wait:
            return
        from dataloupe.core.user_calls import in_user_code

        with self._jobs_lock:
            jobs = list(self._jobs)
        for thread in jobs:
            while thread.is_alive() and not (thread.ident is not None and in_user_code(thread.ident)):
                thread.join(0.05)
