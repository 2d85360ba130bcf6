"""Statistics of a split, streamed in bounded memory.

- :mod:`.classes`: ``class_counts`` (the one way to count classes) and ``balance_summary``.
- :mod:`.moments`: ``scaled_moments``, the per-channel mean and standard deviation.
"""
