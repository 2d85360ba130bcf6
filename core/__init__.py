"""dataloupe's engine: datasets, statistics, sample rendering, batching, training, checkpoints.

Nothing here imports textual, plotext or rich (``tests/test_core_isolation.py`` proves it),
so every part can be driven from a plain script::

    from core.sources import DatasetSpec
    from core.readers import open_dataset
    handle = open_dataset(DatasetSpec("digits"))
    x, y = handle.split("train")[0]

Modules that need torch import it themselves; importing :mod:`core` or
:mod:`core.sources` stays cheap so the app can draw its first screen before torch loads.

Exports (by module):
- ``errors``: ``DataloupeError`` and its kinds; ``Cancelled``.
- ``progress``: ``Progress`` and the cancel check used by every long loop.
- ``sources``: ``DatasetSpec``, the built-in names, the default root (torch-free).
- ``pipeline``: ``Pipeline``, the transform from stored values to tensors.
- ``readers``: ``open_dataset`` and one reader per kind of source.
- ``datasets``: ``DatasetHandle``, ``Split``, ``build_handle`` (what every reader returns).
- ``moments``: the mean and std of a split, in bounded memory.
- ``render``: samples drawn as half-block Unicode or ASCII text.
- ``stats``: ``class_counts`` (the one way to count classes) and the balance summary.
- ``checks``: ``run_checklist``, the data checklist (numeric, split, shuffled, scaled, balanced, …).
- ``report``: the class table and the checklist as plain text or JSON.
- ``samplers``: ``make_sampler`` (sequential, random, class-balanced).
- ``batching``: ``LoaderSettings``, ``BatchStepper``, ``BatchSummary``.
- ``models``: the tutorials' MLP and a small CNN, rebuilt from a ``ModelSpec``.
- ``device``: CPU or CUDA, with the fallback and its notice.
- ``settings``: ``TrainConfig``, its defaults, choices and limits (torch-free: the form reads it first).
- ``snapshots``: ``TrainingSnapshot``, ``Evaluation``, ``EvalResult`` (frozen values that cross threads).
- ``evaluation``: ``evaluate_model``, ``evaluate_on_test`` (the one way to score a trained model), the held-out split.
- ``train_data``: how a run draws its batches (held on the device, or a DataLoader).
- ``training``: ``TrainingRun`` (cancel, pause, sampled snapshots).
- ``checkpoint``: atomic save, safe load (``weights_only=True``), evaluation of a checkpoint.
- ``wording``: counts with their nouns, sizes, durations.
"""
