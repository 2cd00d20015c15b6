"""mark_workbook and clear_workbook for files: refuse early, patch in memory, replace atomically.

The file is read once into memory and never opened for writing: the new package goes to a
temporary file beside the destination, is flushed to disk, and only then replaces the destination
with os.replace. Any failure before that leaves the original exactly as it was.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, TypeVar

from ..engine.findings import Finding
from ..engine.grid import DEFAULT_MAX_SIZE, WorkbookError, package_problem, read_bytes
from .errors import MarkError, PatchRefused
from .logic import apply_marks, clear_marks
from .package.opc import Package
from .package.target import PackageTarget
from .package.validate import check_written

TEMP_SUFFIX = ".tallycheck-tmp"
#: Our temporary files: "." + the workbook's name + "." + mkstemp's 8 random characters + TEMP_SUFFIX.
_TEMP_NAME = re.compile(r"\..+\.[a-z0-9_]{8}" + re.escape(TEMP_SUFFIX))
#: A temporary file this old whose writer holds no lock on it was left by a killed run. The age
#: covers the moment between creating the file and locking it (and systems without flock).
STALE_TEMP_AGE = 60.0
_swept: set[str] = set()  # folders already swept by this process: once each, not once a workbook
_T = TypeVar("_T")


@dataclass(frozen=True)
class MarkSummary:
    """What mark_workbook did."""

    path: Path  # the file written (the workbook itself, or the copy at out)
    findings: int
    cells: int  # cells marked (several findings on one cell make one mark)
    errors: int
    warnings: int
    summary_sheet: str | None  # the summary sheet's name, None when there was nothing to mark
    cleared: int  # cells of a previous run's marks that were restored first
    notes_skipped: tuple[str, ...]  # cells whose threaded comment kept our note out
    written: bool  # False when nothing had to change and the file was left alone


def mark_workbook(
    path: Path, findings: Sequence[Finding], *, out: Path | None = None, version: str = "0.1.0",
    max_size: int = DEFAULT_MAX_SIZE,
) -> MarkSummary:
    """Mark each finding's cell (fill + note) and add a summary sheet; replace earlier marks.

    out=None marks the workbook in place; otherwise the marked copy is written at out and the
    original is not touched. Raises MarkError (nothing written) if the workbook cannot be marked.
    """
    path = Path(path)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")

    def run(target: PackageTarget) -> tuple[int, int, str | None, tuple[str, ...]]:
        result = apply_marks(target, findings, version=version, when=when, workbook=path.name)
        return result.cells, result.cleared, result.summary_sheet, result.notes_skipped

    dest, written, (cells, cleared, sheet, skipped) = _patch(path, out, run, max_size)
    errors = sum(1 for f in findings if f.severity == "error")
    return MarkSummary(dest, len(findings), cells, errors, len(findings) - errors, sheet, cleared,
                       skipped, written)


def clear_workbook(path: Path, *, out: Path | None = None, max_size: int = DEFAULT_MAX_SIZE) -> int:
    """Remove every mark tallycheck made; return the number of cells restored.

    Cells get their own format index back, notes their own text, and the summary sheet and the
    restore record go. A workbook without marks is left alone (or copied as is to out).
    """
    _, _, restored = _patch(Path(path), out, clear_marks, max_size)
    return restored


def _patch(
    path: Path, out: Path | None, run: Callable[[PackageTarget], _T], max_size: int = DEFAULT_MAX_SIZE
) -> tuple[Path, bool, _T]:
    dest = Path(out) if out is not None else path
    if out is not None and dest.is_dir():
        raise MarkError(dest, "is a folder; out= takes the path of the file to write")
    in_place = out is None or _same_file(path, dest)
    data, before = _read(path)  # first: "not a workbook" is the more useful reason
    if in_place:
        dest = path.resolve()
        _check_writable(path)
    elif dest.exists():
        _check_writable(dest)
    try:
        pkg = Package(data, max_size)
        target = PackageTarget(pkg)
        result = run(target)
        target.flush()
    except PatchRefused as exc:
        raise MarkError(path, str(exc)) from None
    except ValueError as exc:  # a finding's cell reference is not a cell
        raise MarkError(path, f"cannot mark: {exc}") from None
    except Exception as exc:  # a bug must not cost the user a file: nothing was written yet
        raise MarkError(path, f"internal error while patching ({type(exc).__name__}: {exc}); "
                              "the workbook was not changed") from exc
    if in_place and not pkg.changed():
        return dest, False, result
    if not pkg.changed():
        _atomic_write(path, dest, lambda f: f.write(data), before if in_place else None)
        return dest, True, result
    payload = io.BytesIO()
    try:
        written = pkg.write(payload)
        check_written(payload.getvalue(), data, pkg.changed_parts(), target.wb.part, contents=written,
                      verbatim=target.verbatim())
    except PatchRefused as exc:
        raise MarkError(path, str(exc)) from None
    _atomic_write(path, dest, lambda f: f.write(payload.getbuffer()), before if in_place else None)
    return dest, True, result


def _same_file(a: Path, b: Path) -> bool:
    try:
        return b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _read(path: Path) -> tuple[bytes, os.stat_result]:
    """The whole file, after the checks that give a clear reason instead of a zip error."""
    try:
        before = path.stat()
        data = read_bytes(path)
    except FileNotFoundError:
        raise MarkError(path, "no such file") from None
    except WorkbookError as exc:
        raise MarkError(path, exc.reason) from None
    problem = package_problem(data)
    if problem:
        raise MarkError(path, problem)
    return data, before


def _check_writable(path: Path) -> None:
    """Refuse a read-only or open-elsewhere workbook before doing any work."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise MarkError(path, "no such file") from None
    except OSError as exc:
        raise MarkError(path, f"cannot be examined ({exc.strerror or exc})") from None
    if not st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(
        path, os.W_OK
    ):
        raise MarkError(path, "is read-only; make it writable or use --out to mark a copy")
    for lock, app in ((f"~${path.name}", "Excel"), (f".~lock.{path.name}#", "LibreOffice")):
        if (path.parent / lock).exists():
            raise MarkError(path, f"is open in {app} (lock file {lock}); close it first")
    if not os.access(path.parent, os.W_OK):
        raise MarkError(path, "its folder is not writable, so it cannot be replaced safely")


def _atomic_write(
    source: Path, dest: Path, write: Callable[[BinaryIO], object],
    before: os.stat_result | None,
) -> None:
    """Write via a temporary file in dest's folder, fsync, then os.replace over dest."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(dest.parent)
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.",
                                        suffix=TEMP_SUFFIX)
    except OSError as exc:
        raise MarkError(dest, f"cannot write here ({exc.strerror or exc})") from None
    tmp = Path(tmp_name)
    _lock(fd)  # held until the file is closed: a sweep by another run leaves it alone
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        mode = (dest if dest.exists() else source).stat().st_mode
        os.chmod(tmp, stat.S_IMODE(mode))
        if before is not None:
            now = source.stat()
            if (now.st_mtime_ns, now.st_size) != (before.st_mtime_ns, before.st_size):
                raise MarkError(source, "changed on disk while it was being marked; try again")
        os.replace(tmp, dest)
    except PermissionError:
        _unlink(tmp)
        raise MarkError(dest, "is locked or not writable (open in Excel?)") from None
    except MarkError:
        _unlink(tmp)
        raise
    except OSError as exc:
        _unlink(tmp)
        raise MarkError(dest, f"could not be written ({exc.strerror or exc}); "
                              "the original is unchanged") from None
    except BaseException:
        _unlink(tmp)
        raise
    _fsync_dir(dest.parent)


def remove_stale_temps(folder: Path) -> list[Path]:
    """Delete the temporary files a killed write of ours left in ``folder``; return them.

    Only files named the way _atomic_write names them, older than STALE_TEMP_AGE and not locked
    by a writer still at work; anything else in the folder is left alone. Once per folder per run.
    """
    key = os.path.abspath(folder)
    if key in _swept:
        return []
    _swept.add(key)
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    for entry in entries:
        if not (entry.name.endswith(TEMP_SUFFIX) and _TEMP_NAME.fullmatch(entry.name)):
            continue
        try:
            if not entry.is_file(follow_symlinks=False) or time.time() - entry.stat().st_mtime < STALE_TEMP_AGE:
                continue
            if _unlocked(Path(entry.path)):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue  # gone already, or in use (Windows refuses to delete an open file)
    return removed


def _lock(fd: int) -> None:
    """An exclusive lock on our temporary file while it is written (POSIX; a no-op elsewhere)."""
    try:
        import fcntl
    except ImportError:
        return
    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _unlocked(path: Path) -> bool:
    """Whether no process holds the writer's lock on this file (its writer is gone)."""
    try:
        import fcntl
    except ImportError:
        return True  # the age alone decides; deleting a file still open fails there anyway
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def _unlink(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
