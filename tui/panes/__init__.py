"""The six panes, one per tab, each with its own ``.tcss`` beside it.

- ``base``: ``Pane``, what the app tells every pane (the dataset and split to show).
- ``dataset_pane`` (1), ``preview_pane`` (2), ``balance_pane`` (3), ``checklist_pane`` (4),
  ``batches_pane`` (5), ``training_pane`` (6).
"""
