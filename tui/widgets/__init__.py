"""Widgets the panes are built from: sample drawings, charts and settings forms.

- ``sample_view``: a sample drawn in the terminal.
- ``class_chart``: class counts as bars, drawn cell by cell; ``axes``: whole-number ticks (its, and
  the percent line charts').
- ``line_chart``: the line chart of the training and watch panes; ``loss_chart`` and
  ``accuracy_chart`` are its configurations for the training pane.
- ``per_class_chart``: per-class accuracy as plotext bars.
- ``confusion_view``: the confusion matrix.
- ``toggles``: checkbox and radio button that show their state by glyph ([x], (*)).
- ``loader_settings``, ``train_settings``: the forms of the batches and training panes.
- ``choice``: the drop-down they use, which leaves the pane keys to the app.
"""
