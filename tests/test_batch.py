"""Folders of workbooks: the same report whichever executor runs it, partial results on Ctrl-C."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import EXAMPLES
from tallycheck.batch import collect, run
from tallycheck.report import to_json
from test_cli import run as run_cli


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("folder")
    for i in range(3):
        for src in sorted(EXAMPLES.glob("*.xlsx")):
            shutil.copy(src, root / f"{i}-{src.name}")
    (root / "broken.xlsx").write_bytes(b"PK\x03\x04 not really")
    return root


def _doc(result) -> dict:
    return to_json(result.reports)


def test_process_pool_and_in_process_give_the_same_report(folder):
    files = collect([folder])
    assert len(files) == 19
    single = run(files, jobs=1)
    pooled = run(files, jobs=2)
    assert _doc(single) == _doc(pooled)
    assert [r.path for r in pooled.reports] == files  # order as given, whatever finished first
    assert sum(len(r.findings) for r in pooled.reports) == 3 * 12


def test_a_dask_cluster_gives_the_same_report_as_the_local_run(folder):
    distributed = pytest.importorskip("distributed")
    files = collect([folder])
    local = run(files, jobs=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = run(files, scheduler=cluster.scheduler_address)
    assert _doc(remote) == _doc(local)


def test_ctrl_c_stops_cleanly_with_what_was_done(folder):
    files = collect([folder])
    seen = []

    def interrupt_after_five(report):
        seen.append(report)
        if len(seen) == 5:
            raise KeyboardInterrupt

    result = run(files, jobs=2, on_result=interrupt_after_five)
    assert result.interrupted
    assert 5 <= len(result.reports) < len(files)


def test_report_option_writes_the_run_report(folder, tmp_path):
    out = tmp_path / "run.json"
    result = run_cli("check", "--format", "json", "--no-cache", "--report", str(out), str(folder), cwd=tmp_path)
    assert result.returncode == 2  # broken.xlsx could not be read
    assert json.loads(out.read_text()) == json.loads(result.stdout)
    html = tmp_path / "run.html"
    run_cli("check", "-q", "--no-cache", "--report", str(html), str(folder), cwd=tmp_path)
    assert "broken.xlsx" in html.read_text()
    bad = run_cli("check", "--report", str(tmp_path / "run.txt"), str(folder), cwd=tmp_path)
    assert bad.returncode == 2 and ".txt" in bad.stderr


def _crash_on_marked_files(items):
    import os

    from tallycheck import batch

    if any("crash" in item.path for item in items):
        os._exit(3)  # what a reader's segfault or the OOM killer looks like from the pool
    return batch._real_check_chunk(items)


def test_a_workbook_that_kills_its_worker_is_reported_and_the_rest_go_on(folder, tmp_path, monkeypatch):
    from tallycheck import batch

    crash = tmp_path / "crash.xlsx"
    shutil.copy(EXAMPLES / "missing-in-action.xlsx", crash)
    files = [*collect([folder]), crash]
    monkeypatch.setattr(batch, "_real_check_chunk", batch.check_chunk, raising=False)
    monkeypatch.setattr(batch, "check_chunk", _crash_on_marked_files)  # forked workers inherit it
    result = run(files, jobs=2)
    by_name = {r.path.name: r for r in result.reports}
    assert len(result.reports) == len(files)
    assert "crashed" in by_name["crash.xlsx"].error
    assert all(r.readable for r in result.reports if r.path.name not in ("crash.xlsx", "broken.xlsx"))
    assert sum(len(r.findings) for r in result.reports) == 3 * 12


def test_an_unexpected_error_in_one_workbook_is_its_own_error(folder, monkeypatch):
    from tallycheck.engine import tables

    real = tables.find_tables

    def fragile(sheet):
        if sheet.name == "Courts":
            raise ValueError("an odd layout")
        return real(sheet)

    monkeypatch.setattr(tables, "find_tables", fragile)
    files = collect([folder])
    result = run(files, jobs=1)
    bad = [r for r in result.reports if r.error and "odd layout" in r.error]
    assert len(bad) == 3 and all(r.path.name.endswith("missing-in-action.xlsx") for r in bad)
    assert sum(r.readable for r in result.reports) == len(files) - 4  # and broken.xlsx


def test_checking_leaves_the_callers_garbage_collector_as_it_was(folder):
    """The engine lets the collector run rarely and freezes imports for the pool's workers; a notebook
    calling it gets its own settings back, from concurrent calls too, and its garbage stays collectable."""
    import gc
    from concurrent.futures import ThreadPoolExecutor

    from tallycheck import check_workbooks

    files = collect([folder])
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    gc.set_threshold(500, 7, 9)
    try:
        with ThreadPoolExecutor(3) as threads:
            reports = [r for batch in threads.map(check_workbooks, [files[:6], files[6:12], files[12:]]) for r in batch]
        assert gc.get_threshold() == (500, 7, 9)
        result = run(files, jobs=2)
        assert gc.get_threshold() == (500, 7, 9)
        assert gc.get_freeze_count() == frozen
    finally:
        gc.set_threshold(*before)
    assert any(r.findings for r in reports) and any(r.error for r in reports)
    assert _doc(result) == to_json(reports)  # threads, and the pool, give the report one call gives


def test_big_workbooks_are_not_held_by_the_hundred_in_one_chunk() -> None:
    # each workbook's grid lives until its chunk is validated: chunks are bounded in bytes as in count
    from tallycheck.batch import MAX_CHUNK_BYTES, Item, _chunks

    big = MAX_CHUNK_BYTES // 3 + 1
    items = [Item(path=f"b{i}.xlsx", data=b"x" * (big if i % 2 else 9_000)) for i in range(60)]
    chunks = _chunks(items, jobs=1)
    assert [i for c in chunks for i in c] == items  # every workbook once, in order
    assert all(sum(len(i.data) for i in c) <= MAX_CHUNK_BYTES or len(c) == 1 for c in chunks)
    small = [Item(path=f"s{i}.xlsx", data=b"x" * 9_000) for i in range(1_000)]
    assert [len(c) for c in _chunks(small, jobs=2)] == [125] * 8  # small ones: four chunks a worker
