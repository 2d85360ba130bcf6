"""Choose a dataset: a built-in name or a path, the root, the split, the CSV options; then open it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Log, ProgressBar, RadioSet, Select, Static

from dataloupe.core.data.sources import BUILTINS, BUNDLED, DatasetSpec, default_root
from dataloupe.core.errors import DataloupeError
from dataloupe.tui.panes.base import Pane, show_fraction
from dataloupe.tui.widgets.choice import Choice
from dataloupe.tui.widgets.toggles import Checkbox, RadioButton

if TYPE_CHECKING:
    from dataloupe.core.data.datasets import DatasetHandle


CODE_OUTPUT_LINES = 500
"""Lines of the user's prints kept in the dataset pane."""


PATH_CHOSEN = "-path-"
"""The Built-in field's value while the dataset open (or about to open) is the path field's."""
PATH_CHOSEN_LABEL = "none: the path below"
"""How the Built-in field shows it."""


class DatasetPane(Pane):
    """The form that opens datasets, with progress, the last outcome and what the user's code printed."""

    printed = 0
    """Prints captured from the user's code (and anything else printed while the app runs)."""
    _told = False
    _unseen = False
    """Prints arrived while another pane was showing: key 1 scrolls them into view."""

    BINDINGS = [
        Binding("ctrl+o", "open", "Open", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def compose(self) -> ComposeResult:
        spec = self.app.options.spec if hasattr(self.app, "options") else DatasetSpec()
        is_name = spec.is_builtin
        options = [(f"{b.title}: {b.about}", b.name) for b in BUILTINS.values()]
        options.append((PATH_CHOSEN_LABEL, PATH_CHOSEN))
        with VerticalScroll(id="dataset-form"):
            with Horizontal(classes="row"):
                yield Label("Built-in", classes="field-label")
                yield Choice(
                    options,
                    value=spec.source.lower() if is_name else PATH_CHOSEN,
                    allow_blank=False,
                    id="builtin",
                    compact=True,
                )
            with Horizontal(classes="row"):
                yield Label("or a path", classes="field-label")
                yield Input(
                    value="" if is_name else spec.source,
                    id="path",
                    compact=True,
                    placeholder="folder, IDX, .csv or file.py:NAME (over Built-in)",
                )
            with Horizontal(classes="row"):
                yield Label("Root", classes="field-label")
                yield Input(
                    value=str(spec.root or ""), id="root", compact=True, placeholder=str(default_root())
                )
                yield Checkbox("download", spec.download, id="download", compact=True)
            with Horizontal(classes="row"):
                yield Label("Split", classes="field-label")
                with RadioSet(id="split", compact=True):
                    yield RadioButton("train", value=self.app.options.split != "test", id="split-train")
                    yield RadioButton("test", value=self.app.options.split == "test", id="split-test")
            with Horizontal(classes="row"):
                yield Label("CSV label", classes="field-label")
                yield Input(value=spec.label or "", id="label", compact=True, placeholder="last column")
                yield Label("threshold", classes="field-label-short")
                yield Input(
                    value="" if spec.threshold is None else f"{spec.threshold:g}",
                    id="threshold",
                    compact=True,
                    placeholder="none",
                )
                yield Label("resize", classes="field-label-short")
                yield Input(value=spec.resize or "", id="resize", compact=True, placeholder="64 or 64x48")
            with Horizontal(classes="row"):
                yield Button("Open (ctrl+o)", id="open", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True, disabled=True)
            yield ProgressBar(total=None, show_eta=False, id="open-progress")
            yield Static("", id="open-status")
            yield Static("", id="dataset-description")
            yield Static("printed by your code", id="code-output-title")
            yield Log(id="code-output", max_lines=CODE_OUTPUT_LINES)

    def on_mount(self) -> None:
        self.query_one("#open-progress").display = False
        self.query_one("#code-output-title").display = False
        self.query_one("#code-output").display = False
        # Your Dataset's prints (from any worker) land here, never over the screen.
        self.app.begin_capture_print(self)

    def on_print(self, event: events.Print) -> None:
        """Show what the user's code printed; the first line after each open is also a notification."""
        if not event.text.strip():
            self.query_one("#code-output", Log).write(event.text)
            return
        self.printed += 1
        for widget in ("#code-output-title", "#code-output"):
            self.query_one(widget).display = True
        self.query_one("#code-output", Log).write(event.text)
        self._unseen = True
        if not self._told:
            self._told = True
            self.app.notify(
                f"{event.text.strip()[:200]}\n(all of it in the dataset pane, key 1)",
                title="Your code printed",
            )

    def pane_activated(self) -> None:
        self.query_one("#builtin", Select).focus(scroll_visible=not self._unseen)
        if self._unseen:  # the notification sent the user here: show what their code printed
            self._unseen = False
            self.call_after_refresh(self.query_one("#code-output").scroll_visible, animate=False)

    # ------------------------------------------------------------------ reading the form
    def current_spec(self) -> DatasetSpec:
        """The spec the form describes; raises ``ValueError`` with a message for a bad threshold."""
        path = self.query_one("#path", Input).value.strip()
        chosen = str(self.query_one("#builtin", Select).value)
        source = path or (BUNDLED if chosen == PATH_CHOSEN else chosen)
        root = self.query_one("#root", Input).value.strip()
        label = self.query_one("#label", Input).value.strip() or None
        threshold_text = self.query_one("#threshold", Input).value.strip()
        resize = self.query_one("#resize", Input).value.strip() or None
        threshold = None
        if threshold_text:
            try:
                threshold = float(threshold_text)
            except ValueError:
                raise ValueError(
                    f"Threshold {threshold_text!r} is not a number; leave it empty or type e.g. 5.5."
                ) from None
        try:
            return self._spec(source, root, label, threshold, resize)
        except DataloupeError as e:  # a malformed resize
            raise ValueError(str(e)) from None

    def _spec(self, source: str, root: str, label, threshold, resize) -> DatasetSpec:
        asked = self.app.options.spec if hasattr(self.app, "options") else DatasetSpec()
        return DatasetSpec(
            keys=asked.keys,  # --keys and --limit from the command line apply to code typed here too
            limit=asked.limit,
            source=source,
            root=Path(root).expanduser() if root else None,
            download=self.query_one("#download", Checkbox).value,
            label=label,
            threshold=threshold,
            resize=resize,
            max_pixels=self.app.options.spec.max_pixels,
        )

    def chosen_split(self) -> str:
        return "test" if self.query_one("#split-test", RadioButton).value else "train"

    # ------------------------------------------------------------------ actions
    def action_open(self) -> None:
        try:
            spec = self.current_spec()
        except ValueError as e:
            self.app.notify(str(e), severity="error")
            self.query_one("#open-status", Static).update(str(e))
            return
        self.app.open_dataset(spec, self.chosen_split())

    def action_cancel(self) -> None:
        """Esc: leave the text field first (so 1-6 and q work again), then stop an open."""
        if isinstance(self.app.focused, Input):
            self.query_one("#dataset-form").focus()
            return
        self.app.cancel_open()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self._mark_focused_row()

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        self._mark_focused_row()

    def _mark_focused_row(self) -> None:
        """Give the row holding the focused field the class that shows its label in reverse."""
        focused = self.app.focused
        for row in self.query(".row"):
            row.set_class(focused is not None and row in focused.ancestors, "-has-focus")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "open":
            self.action_open()
        elif event.button.id == "cancel":
            self.action_cancel()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_open()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "builtin" and event.value != PATH_CHOSEN:
            self.query_one("#path", Input).value = ""  # a built-in chosen: the path would take precedence

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        split = "test" if event.pressed.id == "split-test" else "train"
        if self.handle is not None and split in self.handle.splits:
            self.app.choose_split(split)

    # ------------------------------------------------------------------ called by the app
    def loading_started(self, spec: DatasetSpec) -> None:
        self._told = False  # the next print is news again
        bar = self.query_one("#open-progress", ProgressBar)
        bar.display = True
        bar.update(total=None, progress=0)
        self.query_one("#cancel", Button).disabled = False
        where = f" (root {spec.resolved_root})" if spec.is_builtin and spec.source != BUNDLED else ""
        self.query_one("#open-status", Static).update(f"opening {spec.source}{where}…")

    def loading_progress(self, what: str, fraction: float | None) -> None:
        show_fraction(self.query_one("#open-progress", ProgressBar), fraction)
        self.query_one("#open-status", Static).update(what + "…")

    def loading_failed(self, text: str) -> None:
        self.query_one("#open-progress").display = False
        self.query_one("#cancel", Button).disabled = True
        self.query_one("#open-status", Static).update(f"✗ {text}")
        self.set_class(True, "-failed")

    def loading_done(self, handle: DatasetHandle, seconds: float) -> None:
        # the Built-in field names what is open: a built-in, or "a path" when the path field's dataset is
        chooser = self.query_one("#builtin", Select)
        spec = handle.spec
        name = spec.source.lower() if spec is not None and spec.is_builtin else PATH_CHOSEN
        if name in BUILTINS or name == PATH_CHOSEN:
            with self.prevent(Select.Changed):
                chooser.value = name
        self.query_one("#open-progress").display = False
        self.query_one("#cancel", Button).disabled = True
        self.set_class(False, "-failed")
        self.query_one("#open-status", Static).update(f"✓ opened {handle.name} in {seconds:.1f} s")

    def dataset_changed(self) -> None:
        handle = self.handle
        if handle is None:
            return
        # the description decodes a sample: the opening worker wrote it, the UI thread only shows it
        description = self.facts.description if self.facts is not None else handle.name
        self.query_one("#dataset-description", Static).update(description)
        want_test = self.split_name == "test"
        button = self.query_one("#split-test" if want_test else "#split-train", RadioButton)
        if not button.value:
            with self.prevent(RadioSet.Changed):
                button.value = True
