"""Widgets the panes are built from: sample drawings, charts and settings forms.

- ``sample_view``: a sample drawn in the terminal.
- ``class_chart``: class counts as bars, drawn cell by cell; ``axes``: its whole-number ticks.
- ``loss_chart``, ``accuracy_chart``, ``per_class_chart``: plotext charts.
- ``confusion_view``: the confusion matrix.
- ``toggles``: checkbox and radio button that show their state by glyph ([x], (*)).
- ``loader_settings``, ``train_settings``: the forms of the batches and training panes.
- ``choice``: the drop-down they use, which leaves the pane keys to the app.
"""
