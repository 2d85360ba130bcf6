"""The user's own code in the app (Pilot): typed into the path field, its prints captured, its errors shown
with their file and line while the app keeps running, and its DataLoader's own batches in the batches pane."""

from __future__ import annotations

from textual.widgets import Input, Log, Static

from dataloupe.core.data.sources import DatasetSpec
from dataloupe.tui.app import AppOptions, build_app
from dataloupe.tui.panes.batches_pane import BatchesPane
from dataloupe.tui.panes.dataset_pane import DatasetPane
from dataloupe.tui.widgets.loader_settings import LoaderSettingsForm

from support.pilot import screen_text, settle, wait_for

SIZE = (100, 30)
CODE = """
import torch
from torch.utils.data import DataLoader, Dataset

print("hello from mydata at import")


class Blobs(Dataset):
    classes = ["dim", "bright"]

    def __len__(self):
        return 40

    def __getitem__(self, i):
        if i == 7:
            print("reading sample seven")
        return torch.full((1, 6, 6), float(i % 2)), i % 2


class Broken(Blobs):
    def __getitem__(self, i):
        raise KeyError(f"no file for sample {i}")


good = Blobs()
broken = Broken()
loader = DataLoader(Blobs(), batch_size=9, shuffle=False)
"""


def status(app) -> str:
    return str(app.query_one("#open-status", Static).render())


async def test_typed_path_error_traceback_and_prints(tmp_path):
    path = tmp_path / "mydata.py"
    path.write_text(CODE)
    raise_line = CODE.splitlines().index('        raise KeyError(f"no file for sample {i}")') + 1
    app = build_app(AppOptions())
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("1")
        field = app.query_one("#path", Input)
        field.value = f"{path}:broken"
        field.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: "KeyError" in status(app), what="the user's error")
        text = status(app)
        assert f'File "{path}", line {raise_line}, in __getitem__' in text
        assert "no file for sample 0" in text
        assert app.is_running and app.handle.name == "digits"  # what was open stays open
        # the prints at import went to the dataset pane (a real terminal gets none of it: see test_e2e;
        # under Pilot, Textual also copies prints to stdout)
        pane = app.query_one(DatasetPane)
        await wait_for(pilot, lambda: pane.printed >= 1, what="the captured print")
        assert "hello from mydata at import" in "\n".join(app.query_one("#code-output", Log).lines)
        # the same field then opens the good dataset in the same file
        field.value = f"{path}:good"
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.handle is not None and app.handle.name == f"{path}:good"
        assert app.handle.classes == ["dim", "bright"]
        assert "reading sample seven" in "\n".join(app.query_one("#code-output", Log).lines)
        assert any(n.title == "Your code printed" for n in app._notifications)


async def test_batches_pane_iterates_the_users_dataloader(tmp_path):
    path = tmp_path / "loaderdata.py"
    path.write_text(CODE)
    app = build_app(AppOptions(spec=DatasetSpec(f"{path}:loader")))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.handle.loader is not None
        await pilot.press("5")
        pane = app.query_one(BatchesPane)
        await wait_for(pilot, lambda: pane.summary is not None, what="the first batch")
        assert pane.summary.size == 9 and pane.summary.batches == 5  # its batch size, not the form's 10
        assert pane.summary.labels == (0, 1, 0, 1, 0, 1, 0, 1, 0)  # shuffle=False: its order
        info = str(app.query_one("#batch-info").render())
        assert "batch 0 of 5 · your DataLoader's SequentialSampler" in info
        assert "as your DataLoader delivers it (its Dataset's transforms, default collate)" in info
        await pilot.press("n")
        await wait_for(pilot, lambda: pane.summary.index == 1, what="the next batch")
        assert pane.summary.labels == (1, 0, 1, 0, 1, 0, 1, 0, 1)
        # the form's batch size, seed and sampler would change nothing: the loader's own, read-only, instead
        assert app.query_one(LoaderSettingsForm).disabled and not app.query_one(LoaderSettingsForm).display
        row = str(app.query_one("#own-loader-settings", Static).render())
        assert (
            "your DataLoader (set in your code, read-only): batch 9 · does not shuffle (SequentialSampler)"
            in row
        )
        assert "batch 10" not in screen_text(app) and "seed 0" not in screen_text(app)
        await pilot.press("b")
        await pilot.pause()
        assert not isinstance(app.focused, Input)
        assert any("your DataLoader's own batches" in str(n.message) for n in app._notifications)


async def test_an_error_in_one_sample_is_drawn_in_the_preview_and_the_app_goes_on(tmp_path):
    """Sample 1 is not read when opening (labels come from targets, moments from 2,000 of 5,000)."""
    path = tmp_path / "onebad.py"
    path.write_text(
        CODE
        + """

class OneBad(Blobs):
    targets = [i % 2 for i in range(5000)]

    def __len__(self):
        return 5000

    def __getitem__(self, i):
        if i == 1:
            raise OSError("cannot read image 1")
        return super().__getitem__(i)


onebad = OneBad()
"""
    )
    from dataloupe.tui.panes.preview_pane import PreviewPane
    from dataloupe.tui.widgets.sample_view import SampleView

    app = build_app(AppOptions(spec=DatasetSpec(f"{path}:onebad")))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.handle.name.endswith("onebad.py:onebad")
        preview = app.query_one(PreviewPane)
        preview.focus()
        await pilot.press("right")
        drawn = lambda: "\n".join(app.query_one(SampleView).text_rows)  # noqa: E731
        await wait_for(pilot, lambda: "OSError: cannot read image 1" in drawn(), what="the user's error")
        assert "Cannot draw sample 1:" in drawn() and f'File "{path}", line' in drawn()
        await pilot.press("right")
        await wait_for(pilot, lambda: "sample 2 of 5,000" in preview.last_info.plain, what="sample 2")


async def test_key_1_after_a_print_scrolls_the_prints_into_view(tmp_path):
    """At 80×24 the form, a long description and the prints do not fit; the notification says "key 1",
    so key 1 shows the prints, not the top of the form."""
    deep = tmp_path.joinpath(*["a-rather-long-folder-name"] * 4)
    deep.mkdir(parents=True)
    (deep / "mydata.py").write_text(CODE)
    app = build_app(AppOptions(spec=DatasetSpec(source=f"{deep / 'mydata.py'}:good")))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        pane = app.query_one(DatasetPane)
        await wait_for(pilot, lambda: pane.printed >= 1, what="the captured print")
        await pilot.press("2", "1")
        await settle(app, pilot)
        log = app.query_one("#code-output", Log)
        form = app.query_one("#dataset-form")
        assert form.scroll_y > 0
        assert form.region.contains_region(log.region), (form.region, log.region)
        await pilot.press("2", "1")  # nothing new: key 1 is the form from the top again
        await settle(app, pilot)
        assert app.focused is app.query_one("#builtin")


async def test_feature_vectors_from_a_users_dataset_are_listed_in_the_preview(tmp_path):
    """Samples of 2 numbers without column names: one line per feature, named by place, without bars
    (their range was never measured) and without the images' note about negative values."""
    from dataloupe.tui.panes.preview_pane import PreviewPane
    from dataloupe.tui.widgets.sample_view import SampleView

    path = tmp_path / "points.py"
    path.write_text(
        "import torch\n"
        "from torch.utils.data import TensorDataset\n"
        "x = torch.tensor([[-1.5, 2.25], [0.5, -0.75], [1.0, 1.0], [-2.0, 0.0]] * 10)\n"
        "points = TensorDataset(x, torch.arange(40) % 2)\n"
    )
    app = build_app(AppOptions(spec=DatasetSpec(f"{path}:points")))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        preview = app.query_one(PreviewPane)
        drawn = lambda: "\n".join(app.query_one(SampleView).text_rows)  # noqa: E731
        await wait_for(pilot, lambda: "x[1]" in drawn(), what="the features of sample 0")
        rows = [row.split() for row in drawn().splitlines() if "x[" in row]
        assert rows == [["x[0]", "-1.5"], ["x[1]", "2.25"]]
        info = preview.last_info.plain
        assert "your Dataset's own transform" in info and "MinMaxScale" not in info
        assert "negative values" not in info
