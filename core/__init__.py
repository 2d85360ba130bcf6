"""dataloupe's engine: datasets, statistics, sample rendering, batching, training, checkpoints.

Nothing here imports textual, plotext or rich (``tests/test_core_isolation.py`` proves it),
so every part can be driven from a plain script::

    from dataloupe.core.data.sources import DatasetSpec
    from dataloupe.core.readers import open_dataset
    handle = open_dataset(DatasetSpec("digits"))
    x, y = handle.split("train")[0]

Modules that need torch import it themselves; importing :mod:`dataloupe.core` or
:mod:`dataloupe.core.data.sources` stays cheap so the app can draw its first screen before torch loads.

Packages, from the data up:
- ``data``: ``DatasetSpec`` (torch-free), ``DatasetHandle`` and ``Split``, samples, the ``Pipeline``.
- ``readers``: ``open_dataset`` and one reader per kind of source.
- ``stats``: ``class_counts`` (the one way to count classes), the balance summary, per-channel moments.
- ``checks``: ``run_checklist`` and its report as plain text or JSON.
- ``batching``: ``LoaderSettings``, ``BatchStepper``, ``BatchSummary``, the samplers.
- ``training``: ``TrainingRun``, the models, the device, evaluation and checkpoints.
- ``runlogs``: other programs' training logs (TensorBoard, CSV, JSON Lines), read as they grow.

Modules beside them, used by all: ``errors`` (``DataloupeError``, ``Cancelled``), ``progress``,
``settings`` (every default, torch-free), ``history`` (``DecimatedHistory``), ``render`` (samples as
text), ``wording``, ``threads`` and ``memory`` (process-wide tuning).
"""
