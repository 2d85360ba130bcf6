"""dataloupe's interface: the Textual app and the command line.

- ``app``: ``build_app``, the one factory the command line and the tests use, and ``DataloupeApp``.
- ``panes/``: one module per tab (dataset, preview, balance, checklist, batches, training).
- ``widgets/``: what the panes are built from (sample view, charts, settings forms).
- ``screens/``: modal screens.
- ``messages``: what workers post to the app.
- ``terminal``: what the terminal can show (NO_COLOR, the locale, ASCII stand-ins, chart glyphs);
  ``ascii_filter``: the line filter that keeps ``--ascii`` screens 7-bit.
- ``cli/``: ``dataloupe`` and its headless sub-commands (``check``, ``batches``, ``train``, ``eval``),
  which use ``core`` only, never textual.

Nothing here is imported by ``core``. The app imports torch only in a worker thread,
so its first screen does not wait for it.
"""
