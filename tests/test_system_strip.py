"""The system strip on screen: "no GPU" and a real writer process in the watch pane (its pid in the
run list, "writer exited" once killed, why a stalled run stalled), and 8 faked GPUs at 80×24,
one of which stops answering."""

from __future__ import annotations

import json
import re
import sys

from textual.widgets import SelectionList

from dataloupe.core.system import GpuSample, SystemSnapshot
from dataloupe.tui.app import AppOptions, build_app
from dataloupe.tui.widgets.line_chart import LineChart
from dataloupe.tui.widgets.system_strip import SystemStrip, strip_text

from support.fake_nvml import FakeNvml
from support.pilot import screen_text as svg_text
from support.pilot import wait_for
from support.writer_process import end, start_writer

GB = 10**9


def screen_text(app) -> str:
    return re.sub(r"\s+", " ", svg_text(app))


def strip_of(app) -> SystemStrip:
    return app.screen.query_one(SystemStrip)


def gpus(n: int) -> tuple[GpuSample, ...]:
    return tuple(GpuSample(i, "H100", 90.0 + i, 70 * GB, 80 * GB, 60.0, 300.0, "ok", None) for i in range(n))


def snapshot(n: int) -> SystemSnapshot:
    return SystemSnapshot(0.0, 37.0, 16, 12 * GB, 64 * GB, gpus(n), None if n else "no GPU", None)


def test_every_gpu_fits_the_width_at_the_most_detail_that_fits():
    wide = strip_text(snapshot(2), 118).plain.split("\n")
    assert wide == [
        "CPU 37% of 16 · memory 12.0/64.0 GB",
        "GPU0 90% 70.0/80.0 GB 60°C 300 W │ GPU1 91% 70.0/80.0 GB 60°C 300 W",
    ]
    for width in (78, 60, 47):  # 80 columns less the padding, and narrower (47: 8 cells of 5 and 7 spaces)
        host, cells = strip_text(snapshot(8), width).plain.split("\n")
        assert len(host) <= width and len(cells) <= width
        assert [int(i) for i in re.findall(r"(\d):9\d", cells)] == list(range(8))
    assert strip_text(snapshot(0), 78).plain == "CPU 37% of 16 · memory 12.0/64.0 GB · no GPU"
    # samples that stop coming (a driver call that hangs) are shown with their age
    assert strip_text(snapshot(0), 78, now=4.0).plain.startswith("CPU 37%")
    assert strip_text(snapshot(2), 78, now=30.0).plain.startswith("(30 s old) CPU 37%")


async def test_no_gpu_and_the_writer_of_a_run_in_the_watch_pane(tmp_path):
    live = tmp_path / "live.jsonl"
    writer = start_writer(live)
    old = tmp_path / "old.jsonl"  # written long ago, by nobody now: stalled
    old.write_text(json.dumps({"step": 1, "loss": 0.5, "time": 1_700_000_000}) + "\n")
    app = build_app(AppOptions(open_on_start=False, watch=str(tmp_path)))
    try:
        async with app.run_test(size=(140, 40)) as pilot:
            await wait_for(
                pilot, lambda: app.screen.query(SystemStrip) and strip_of(app).samples, what="a sample"
            )
            runs = app.screen.query_one("#watch-runs", SelectionList)

            def labels() -> list[
                str
            ]:  # each run's line without the marker that leads it (the charts' legend)
                return [
                    str(runs.get_option_at_index(i).prompt).split(" ", 1)[1] for i in range(runs.option_count)
                ]

            await wait_for(
                pilot, lambda: f"live.jsonl · pid {writer.pid}" in labels(), what=lambda: str(labels())
            )
            await wait_for(
                pilot, lambda: f"writer: pid {writer.pid} python" in screen_text(app), what="the header"
            )
            text = screen_text(app)
            assert "· no GPU" in text and "CPU " in text
            assert labels() == ["live.jsonl · pid " + str(writer.pid), "old.jsonl"]
            await wait_for(
                pilot,
                lambda: "STALLED: no writer process found" in screen_text(app),
                what=lambda: screen_text(app),
            )
            end(writer)
            await wait_for(
                pilot, lambda: "live.jsonl · writer exited" in labels(), what=lambda: str(labels())
            )
            await wait_for(pilot, lambda: "· writer exited" in screen_text(app), what="the header")
    finally:
        end(writer)


async def test_eight_gpus_at_80x24_in_two_lines_and_one_stops_answering(tmp_path, monkeypatch):
    fake = FakeNvml(8)
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    log = tmp_path / "run.jsonl"
    log.write_text("".join(json.dumps({"step": s, "loss": 1 / (s + 1)}) + "\n" for s in range(100)))
    app = build_app(AppOptions(open_on_start=False, watch=str(log)))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(
            pilot, lambda: app.screen.query(SystemStrip) and strip_of(app).samples, what="a sample"
        )
        await wait_for(pilot, lambda: any(c.display for c in app.screen.query(LineChart)), what="a chart")
        strip = strip_of(app)
        await wait_for(pilot, lambda: strip.region.height == 2, what=lambda: f"two lines: {strip.region}")
        assert strip.region.width == 80
        cells = strip_text(strip.snapshot, strip.content_size.width).plain.split("\n")[1]
        assert re.findall(r"(\d):", cells) == [str(i) for i in range(8)]
        # utilisation / memory in percent, as the first line says
        await wait_for(pilot, lambda: "7:97/82" in screen_text(app), what="the GPU cells")
        assert "GPU n:use/mem %" in screen_text(app)
        chart = next(c for c in app.screen.query(LineChart) if c.display)
        assert chart.region.height >= 8 and chart.region.bottom <= 24  # the chart keeps its place
        fake.lost.add(3)
        await wait_for(pilot, lambda: "3:lost" in screen_text(app), what="GPU 3 lost")
        assert "4:94/52" in screen_text(app) and strip.snapshot.gpus[3].state == "lost"


async def test_a_sampler_that_fails_says_so_on_the_strip_and_the_app_goes_on():
    from textual.app import App

    from dataloupe.core.system import SystemSampler

    class Broken(SystemSampler):
        def sample(self):
            raise OSError("/proc is not mounted")

    class OneStrip(App):
        def compose(self):
            yield SystemStrip(Broken(interval=0.05))

    app = OneStrip()
    async with app.run_test(size=(80, 5)) as pilot:
        await wait_for(pilot, lambda: "figures stopped" in screen_text(app), what="the failure")
        assert "CPU, memory and GPU figures stopped: OSError: /proc is not mounted" in screen_text(app)
        assert app.is_running
