"""Widgets the panes are built from: sample drawings, charts and settings forms.

- ``sample_view``: a sample drawn in the terminal.
- ``class_chart``, ``loss_chart``, ``accuracy_chart``, ``per_class_chart``: plotext charts.
- ``confusion_view``: the confusion matrix.
- ``loader_settings``, ``train_settings``: the forms of the batches and training panes.
"""
