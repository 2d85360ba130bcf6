"""Errors a user can act on.

Every message is written for the person at the keyboard: it says what went wrong,
with the path or value involved, and what to do next. The app shows ``str(error)``
in a notification; the command line prints it to stderr and exits with code 2.
"""


class DataloupeError(Exception):
    """A problem the user can fix; ``str(error)`` is the whole message to show."""


class DatasetError(DataloupeError):
    """The dataset cannot be found, opened or read as asked."""


class DownloadError(DatasetError):
    """A dataset download failed; nothing partial was left behind."""


class SettingsError(DataloupeError):
    """A loader, training or command-line setting is out of range."""


class CheckpointError(DataloupeError):
    """A checkpoint cannot be written, read, or does not fit the model."""


class Cancelled(Exception):  # noqa: N818 - it is an outcome, not a fault
    """Work stopped early because its cancel event was set."""


class UserCodeError(DatasetError):
    """The user's own Dataset or DataLoader code raised; ``str(error)`` holds their traceback."""
