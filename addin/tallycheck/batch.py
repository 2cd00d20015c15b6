"""Many workbooks at once: chunks checked in parallel, on local processes or a Dask cluster.

The per-chunk work is one function, `check_chunk`, that both executors call; pandera validates once
per relation kind per chunk. Results stream back in completion order for the progress bar and the
cache; the final list keeps the order the files were given in.
"""

from __future__ import annotations

import fnmatch
import gc
import math
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .engine import WORKBOOK_SUFFIXES, Report, check_workbooks
from .engine.findings import selected
from .engine.grid import DEFAULT_MAX_SIZE

DEFAULT_EXCLUDE = (".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", ".tallycheck_cache", "~$*")


@dataclass(frozen=True)
class Item:
    """One workbook to check: where it is, its bytes when they travel, where its marked copy goes."""

    path: str
    data: bytes | None = None
    mark: bool = False
    out: str | None = None
    rules: str | None = None  # a rules file used instead of the tallycheck.toml found beside the workbook
    select: tuple[str, ...] = ()  # only these rules' findings are marked (all when empty)
    ignore: tuple[str, ...] = ()  # these rules' findings are not marked
    max_size: int = DEFAULT_MAX_SIZE  # the most its XML parts may inflate to (--max-size)


@dataclass
class RunResult:
    reports: list[Report]
    total: int
    elapsed: float
    interrupted: bool = False
    from_cache: int = 0
    mark_errors: list[str] = field(default_factory=list)


def _excluded(rel: PurePosixPath, patterns: Sequence[str]) -> bool:
    text = rel.as_posix()
    return any(fnmatch.fnmatch(text, p) or any(fnmatch.fnmatch(part, p) for part in rel.parts) for p in patterns)


#: files found in folders that look like workbooks but cannot be checked, and why (named as skipped)
SKIPPED_SUFFIXES = {
    ".xls": "legacy .xls: save it as .xlsx in Excel to check it",
    ".xlsb": "binary .xlsb: save it as .xlsx in Excel to check it",
}
LOCK_FILE = "Excel's lock file for a workbook open in Excel (not a workbook)"


def collect(paths: Iterable[Path], include: Sequence[str] = (), exclude: Sequence[str] = ()) -> list[Path]:
    """Workbooks under the given files and folders, filtered like ruff/pytest globs.

    A path named explicitly is always checked; files found in folders must match an ``include``
    glob (when given) and no ``exclude`` glob (matched against the path relative to the folder and
    against each of its parts). Lock files and tool folders are excluded by default.
    """
    return collect_with_skipped(paths, include, exclude)[0]


def collect_with_skipped(
    paths: Iterable[Path], include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> tuple[list[Path], list[tuple[Path, str]]]:
    """``collect``, and the files found in folders that were skipped although they look like
    workbooks (legacy .xls, Excel's ~$ lock files), each with the reason, so a summary can name them."""
    patterns = (*DEFAULT_EXCLUDE, *exclude)
    skipped: list[tuple[Path, str]] = []
    out: list[Path] = []
    seen: set[Path] = set()
    for root in paths:
        root = Path(root)
        if not root.is_dir():
            candidates = [root]
        else:
            candidates = []
            for folder, dirs, files in os.walk(root):
                rel_folder = PurePosixPath(Path(folder).relative_to(root).as_posix())
                dirs[:] = sorted(d for d in dirs if not _excluded(rel_folder / d, patterns))
                for name in sorted(files):
                    rel = rel_folder / name
                    suffix = Path(name).suffix.lower()
                    if include and not any(fnmatch.fnmatch(rel.as_posix(), p) or fnmatch.fnmatch(name, p) for p in include):
                        continue
                    if suffix in SKIPPED_SUFFIXES and not _excluded(rel, patterns):
                        skipped.append((Path(folder) / name, SKIPPED_SUFFIXES[suffix]))
                    elif suffix in WORKBOOK_SUFFIXES and name.startswith("~$") and not _excluded(rel, exclude):
                        skipped.append((Path(folder) / name, LOCK_FILE))
                    if suffix not in WORKBOOK_SUFFIXES or _excluded(rel, patterns):
                        continue
                    candidates.append(Path(folder) / name)
        for path in candidates:
            key = path.resolve()
            if key not in seen:
                seen.add(key)
                out.append(path)
    return out, skipped


def check_chunk(items: Sequence[Item]) -> list[Report]:
    """Check (and, when asked, mark) a chunk of workbooks: the unit of work of every executor."""
    rules = Path(items[0].rules) if items and items[0].rules else None
    max_size = items[0].max_size if items else DEFAULT_MAX_SIZE
    reports = check_workbooks([i.path for i in items], [i.data for i in items], rules=rules, max_size=max_size)
    for item, report in zip(items, reports, strict=True):
        if item.mark:
            _mark(item, report)
    return reports


def _mark(item: Item, report: Report) -> None:
    """Mark one checked workbook; the report says whether it was marked and why not."""
    from .marks import MarkError, mark_workbook

    report.marked = False
    if not report.readable:
        return  # not checked, so nothing to mark: its error says why
    out = Path(item.out) if item.out else None
    try:
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
        summary = mark_workbook(Path(item.path), selected(report.findings, item.select, item.ignore), out=out, max_size=item.max_size)
        report.marked_cells = summary.cells
        report.marked = True
    except MarkError as exc:
        report.mark_error = str(exc)
    except OSError as exc:
        report.mark_error = f"{item.path}: {exc}"


#: The most workbooks checked (and validated) as one chunk.
MAX_CHUNK = 128
#: The most bytes of workbook files one chunk holds: each workbook's grid lives until its chunk is
#: validated (a daily series' claims point into it), so big workbooks go in chunks of their own
#: rather than 128 of them in memory at once (a 3 MB, 100,000-row series holds ~150 MB).
MAX_CHUNK_BYTES = 8 << 20


def _chunks(items: list[Item], jobs: int) -> list[list[Item]]:
    """Chunks big enough that pandera's fixed cost per validation fades (about 6-12 ms per kind of
    relation per chunk: 30 files, 1 ms a file; 128, ~0.25), small enough to keep every core busy to
    the end and the progress bar moving (four chunks a worker), and within MAX_CHUNK_BYTES."""
    size = max(1, min(MAX_CHUNK, math.ceil(len(items) / max(1, jobs * 4))))
    chunks: list[list[Item]] = []
    held = 0
    for item in items:
        weight = _size_of(item)
        if not chunks or len(chunks[-1]) >= size or (held + weight > MAX_CHUNK_BYTES and chunks[-1]):
            chunks.append([])
            held = 0
        chunks[-1].append(item)
        held += weight
    return chunks


def _size_of(item: Item) -> int:
    if item.data is not None:
        return len(item.data)
    try:
        return os.path.getsize(item.path)
    except OSError:
        return 0  # its report will say why it cannot be read


def _warm_imports() -> None:
    """Import the heavy libraries once, before the first workbook and before forking (workers inherit
    them), with the cyclic collector off: their 10^5 objects live as long as the process, and it would
    rescan them dozens of times while they load (0.02 s of a one-workbook run)."""
    import python_calamine  # noqa: F401

    from .engine import checks

    collecting = gc.isenabled()
    gc.disable()
    try:
        checks.pandera_pandas()
        checks._register()
    finally:
        if collecting:
            gc.enable()


def run(
    files: Sequence[Path],
    *,
    jobs: int | None = None,
    scheduler: str | None = None,
    mark: bool = False,
    out_paths: dict[Path, Path] | None = None,
    cache: object | None = None,
    changed: bool = False,
    on_result: Callable[[Report], None] | None = None,
    rules: Path | None = None,
    contents: dict[Path, bytes] | None = None,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    max_size: int = DEFAULT_MAX_SIZE,
) -> RunResult:
    """Check every file; ``on_result`` sees each report as it arrives. Ctrl-C stops cleanly.

    ``contents`` are bytes already read for some paths (a workbook from standard input: ``-``);
    ``select`` / ``ignore`` limit which findings ``mark`` marks (reports keep them all, for the cache);
    ``max_size``: the most a workbook's XML parts may inflate to before it is reported as too large.
    """
    from .cache import Cache, content_hash
    from .declared.sources import rules_fingerprint

    started = time.perf_counter()
    jobs = jobs or os.cpu_count() or 1
    done: dict[int, Report] = {}
    todo: list[tuple[int, Item]] = []
    from_cache = 0
    fingerprints: dict[int, str] = {}
    for n, path in enumerate(files):
        if isinstance(cache, Cache):
            fingerprints[n] = rules_fingerprint(path, rules)  # a changed rules file re-checks its workbooks
        given = (contents or {}).get(path)
        if changed and isinstance(cache, Cache) and not mark and given is None:
            sha = content_hash(path)
            hit = cache.get(path, sha, fingerprints[n]) if sha else None
            if hit is not None:
                done[n] = hit
                from_cache += 1
                if on_result:
                    on_result(hit)
                continue
        out = (out_paths or {}).get(path)
        data = given if given is not None else path.read_bytes() if scheduler and not mark and path.is_file() else None
        todo.append((n, Item(str(path), data, mark, str(out) if out else None, str(rules) if rules else None,
                             tuple(select), tuple(ignore), max_size)))

    index = {id(item): n for n, item in todo}
    interrupted = False

    def take(chunk: list[Item], reports: list[Report]) -> None:
        for item, report in zip(chunk, reports, strict=True):
            report.path = Path(item.path)
            done[index[id(item)]] = report
            if isinstance(cache, Cache):
                cache.put(report, fingerprints[index[id(item)]])
            if on_result:
                on_result(report)

    items = [item for _, item in todo]
    here = bool(items) and not scheduler  # checked in this process or its workers
    try:
        if here:
            _warm_imports()
            gc.freeze()  # what the start-up built is out of the collector's way while the workbooks are checked
        if scheduler:
            _run_dask(scheduler, _chunks(items, jobs), take)
        elif jobs == 1 or len(items) <= 8:
            for chunk in _chunks(items, 1 if len(items) <= 8 else jobs):
                take(chunk, check_chunk(chunk))
        else:
            _run_local(jobs, _chunks(items, jobs), take)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if here:
            gc.unfreeze()  # the caller's garbage is collectable again
    reports = [done[n] for n in sorted(done)]
    errors = [r.mark_error for r in reports if r.mark_error]
    return RunResult(reports, len(files), time.perf_counter() - started, interrupted, from_cache, errors)


def _run_local(jobs: int, chunks: list[list[Item]], take: Callable[[list[Item], list[Report]], None]) -> None:
    """Chunks on a pool of processes. ``run`` has warmed the imports and frozen what they built, so
    forked workers inherit both and neither rescan nor copy it."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context)
    crashed: list[list[Item]] = []
    try:
        pending = {pool.submit(check_chunk, chunk): chunk for chunk in chunks}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                chunk = pending.pop(future)
                try:
                    take(chunk, future.result())
                except BrokenProcessPool:
                    crashed.append(chunk)  # a worker died (a reader crash, the OOM killer): retried below
            if crashed and pending:
                crashed.extend(pending.values())
                pending.clear()
    except KeyboardInterrupt:
        workers = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in workers:  # a chunk under way is abandoned, not waited for
            proc.terminate()
        raise
    else:
        pool.shutdown()
    finally:
        gc.unfreeze()  # the caller's garbage is collectable again
    if crashed:  # which chunk killed the pool is unknown: halve them all and try again in a fresh one
        singles = [chunk for chunk in crashed if len(chunk) == 1]
        halves = [half for chunk in crashed if len(chunk) > 1 for half in (chunk[: len(chunk) // 2], chunk[len(chunk) // 2 :])]
        if halves:
            _run_local(jobs, halves, take)
        for (item,) in singles:
            take([item], _isolated(item, context))


def _isolated(item: Item, context: object) -> list[Report]:
    """Check one workbook in a process of its own, so that if it kills its worker only it is lost."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:  # type: ignore[arg-type]
        try:
            return pool.submit(check_chunk, [item]).result()
        except BrokenProcessPool:
            return [Report(Path(item.path), error="the worker checking it crashed (out of memory, or a reader crash)")]


def _run_dask(address: str, chunks: list[list[Item]], take: Callable[[list[Item], list[Report]], None]) -> None:
    from distributed import Client, as_completed

    with Client(address, timeout="20s") as client:
        futures = {client.submit(check_chunk, chunk, pure=False): chunk for chunk in chunks}
        try:
            for future in as_completed(list(futures)):
                chunk = futures[future]
                try:
                    reports = future.result()
                except Exception as exc:  # e.g. KilledWorker: the cluster gave up on this chunk
                    reports = [Report(Path(i.path), error=f"the cluster could not check it: {type(exc).__name__}: {exc}") for i in chunk]
                take(chunk, reports)
        except KeyboardInterrupt:
            client.cancel(list(futures))
            raise
