"""What a shop owner sees while ingest runs (issue #19): a tqdm bar with rate and ETA on a
terminal, a plain line every N seconds elsewhere, the final report as before."""

from __future__ import annotations

import io
import re

from recommender.ingest import IngestReport, Progress, ingest
from tests.recommender.conftest import CATALOG


def test_plain_lines_every_n_seconds(monkeypatch):
    import recommender.ingest as module

    clock = [100.0]
    monkeypatch.setattr(module.time, "monotonic", lambda: clock[0])
    out = io.StringIO()
    progress = Progress(out, every=10.0, tty=False)
    progress.plan(1000, 800, 150, 50, 0)
    progress.phase("embedded and stored", 800)
    for _ in range(8):  # one batch of 100 every 4 s: a line at most every 10 s
        clock[0] += 4.0
        progress.advance(100)
    progress.phase("index build", None)
    clock[0] += 61.0
    progress.done(IngestReport())
    lines = out.getvalue().splitlines()
    assert lines[0] == ("ingest: 1,000 products: 800 to embed, 150 payload updates, 50 unchanged, "
                        "0 to delete")
    status = [line for line in lines if "%" in line]
    assert status == [  # the rate counts from the first stored batch (start-up left out)
        "ingest: 300 of 800 embedded and stored (37.5 %), 25 products/s, about 20 s left",
        "ingest: 600 of 800 embedded and stored (75.0 %), 25 products/s, about 8 s left",
    ]
    assert lines[-3:] == ["ingest: 800 of 800 embedded and stored in 32 s", "ingest: index build…",
                          "ingest: index build took 1 min 01 s"]


def test_a_bar_with_rate_and_eta_on_a_terminal():
    out = io.StringIO()
    progress = Progress(out, tty=True)
    progress.phase("embedded and stored", 300)
    for _ in range(3):
        progress.advance(100)
    progress.done(IngestReport())
    text = out.getvalue()
    assert "embedded and stored" in text and "300/300" in text
    assert re.search(r"products/s", text) and re.search(r"<\d\d:\d\d", text)  # rate, ETA


def test_ingest_reports_its_phases_and_nothing_without_a_stream(fresh_store, encoder, tmp_path):
    out = io.StringIO()
    report = ingest(CATALOG, fresh_store, encoder, progress=Progress(out, every=0.0, tty=False))
    assert report.added == 32 and report.index_seconds >= 0
    text = out.getvalue()
    assert "32 products: 32 to embed, 0 payload updates, 0 unchanged, 0 to delete" in text
    assert "32 of 32 embedded and stored" in text and "index build took" in text
    assert "payload updates…" not in text  # a phase with nothing to do says nothing
    assert ingest(CATALOG, fresh_store, encoder).unchanged == 32  # progress=None: silent
