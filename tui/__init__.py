"""dataloupe's interface: the Textual app and the command line.

- ``cli``: ``dataloupe`` and its sub-commands (``check``, ``batches``, ``train``, ``eval``).
- ``app``: ``build_app``, the one factory the command line and the tests use, and ``DataloupeApp``.
- one module per pane or widget: ``dataset_pane``, ``preview_pane``, ``sample_view``, …
- ``messages``: what workers post to the app.

Nothing here is imported by ``core``. The app imports torch only in a worker thread,
so its first screen does not wait for it.
"""
