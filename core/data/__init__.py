"""What a dataset is, once it is open: where it came from, its splits and samples, and their transform.

- :mod:`.sources`: ``DatasetSpec``, the built-in names, the default root (torch-free: the app
  reads it before torch loads).
- :mod:`.datasets`: ``DatasetHandle``, ``Split``, ``build_handle``, what every reader returns.
- :mod:`.samples`: one sample of a user's own Dataset turned into a stored tensor and a label.
- :mod:`.pipeline`: ``Pipeline``, the transform from stored values to the tensors a model sees.

The readers that make these live in :mod:`dataloupe.core.readers`.
"""
