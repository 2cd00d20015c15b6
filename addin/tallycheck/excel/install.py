"""`tallycheck addin install | remove | status`: put the add-in where Excel loads it, and tell it
which Python to run, the way `xlwings addin install` does.

- The add-in (tallycheck.xlam, shipped in this package) goes to Excel's per-user startup folder,
  which Excel opens at every start: ``%APPDATA%\\Microsoft\\Excel\\XLSTART`` on Windows,
  ``~/Library/Group Containers/UBF8T346G9.Office/User Content.localized/Startup.localized/Excel``
  on macOS.
- The Python it runs is this one (``sys.executable``), written as ``INTERPRETER_WIN`` /
  ``INTERPRETER_MAC`` to the add-in's config file, where its xlwings module looks:
  ``%USERPROFILE%\\.tallycheck\\tallycheck.conf`` on Windows,
  ``~/Library/Containers/com.microsoft.Excel/Data/tallycheck.conf`` on macOS (Excel's sandbox).
- In a conda environment on Windows it writes ``CONDA PATH`` and ``CONDA ENV`` instead, as
  `xlwings addin install` does (RunPython then activates the environment, which NumPy needs).
- The file is written in the encoding the add-in's VBA reads it with (Windows: the ANSI code
  page, "mbcs"), so a profile folder like ``C:\\Users\\José`` comes back as it was written.
- ``--server`` (Windows) also turns on xlwings' UDF server: one Python stays running, so clicks
  after the first skip Python's start-up. It needs xlwings' DLL of the pinned version beside the
  interpreter, which is checked first; the ribbon's "Restart Python" stops that Python.
- On macOS, RunPython needs xlwings' AppleScript in ``~/Library/Application Scripts/com.microsoft.Excel``
  (what `xlwings runpython install` copies); it is copied under the name the add-in's VBA calls.

Anything else (Linux, no Excel found, Excel holding the file, xlwings missing from the Python the
add-in is to run) gets a sentence and exit status 2.
"""

from __future__ import annotations

import importlib.util
import ntpath
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import typer

ADDIN_NAME = "tallycheck.xlam"
CONFIG_NAME = "tallycheck.conf"

addin_app = typer.Typer(
    add_completion=False, no_args_is_help=True,
    help="Install, remove or inspect the Tally Check Excel add-in (Windows and macOS).",
)


class Unsupported(Exception):
    """This platform or machine cannot take the add-in; the message says why and what to do."""


@dataclass(frozen=True)
class Locations:
    """Where things go on one machine."""

    platform: str  # "windows" or "mac"
    startup: Path  # Excel's startup folder
    excel_home: Path  # a folder that exists when Excel has been installed/run for this user
    config: Path
    interpreter_key: str
    applescripts: Path | None = None
    encoding: str = "utf-8"  # what the add-in's VBA reads the config file with

    @property
    def addin(self) -> Path:
        return self.startup / ADDIN_NAME


def locations(platform: str | None = None, home: Path | None = None, env: dict[str, str] | None = None) -> Locations:
    """Excel's folders for this user; Unsupported where there is no desktop Excel."""
    platform = platform or sys.platform
    env = dict(os.environ) if env is None else env
    home = Path(home) if home is not None else Path.home()
    if platform.startswith("win"):
        appdata = Path(env.get("APPDATA") or home / "AppData" / "Roaming")
        profile = Path(env.get("USERPROFILE") or home)
        excel = appdata / "Microsoft" / "Excel"
        return Locations("windows", excel / "XLSTART", excel, profile / ".tallycheck" / CONFIG_NAME, "INTERPRETER_WIN",
                         encoding=ansi_encoding())
    if platform == "darwin":
        office = home / "Library" / "Group Containers" / "UBF8T346G9.Office"
        startup = office / "User Content.localized" / "Startup.localized" / "Excel"
        data = home / "Library" / "Containers" / "com.microsoft.Excel" / "Data"
        return Locations("mac", startup, office, data / CONFIG_NAME, "INTERPRETER_MAC",
                         home / "Library" / "Application Scripts" / "com.microsoft.Excel")
    raise Unsupported(
        f"The Excel add-in runs in Microsoft Excel on Windows and macOS; this is {platform}. "
        "Here, check and mark workbooks with: tallycheck check --mark PATH"
    )


def ansi_encoding() -> str:
    """The Windows ANSI code page, which VBA's ``Input #`` reads text files with.

    "mbcs" is that code page on Windows; elsewhere (tests of a Windows setup) cp1252 stands for it.
    """
    try:
        "".encode("mbcs")
    except LookupError:
        return "cp1252"
    return "mbcs"


def packaged_addin() -> Path:
    return Path(__file__).resolve().parent / ADDIN_NAME


def vba_xlwings_version() -> str:
    """The xlwings version of the VBA module inside the add-in."""
    from . import XLWINGS_VERSION

    return XLWINGS_VERSION


def read_config(path: Path, encoding: str = "utf-8") -> dict[str, str]:
    """The config file's "KEY","VALUE" lines (xlwings' format)."""
    out: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text(encoding=encoding, errors="replace").splitlines():
            m = re.match(r'\s*"([^"]*)"\s*,\s*"(.*)"\s*$', line)
            if m:
                out[m.group(1)] = m.group(2)
    return out


#: The keys the ribbon's Settings write to the user's config file (TallyCheck.bas TallySetConfig).
CHECKS_OFF_KEY = "TALLYCHECK CHECKS OFF"  # rule names, comma-separated
TOLERANCE_KEY = "TALLYCHECK TOLERANCE"  # 5 or 1%; blank: none
NOTES_KEY = "TALLYCHECK NOTES"  # "False": no notes


@dataclass(frozen=True)
class AddinSettings:
    """What the ribbon's Settings chose: checks off, a tolerance, notes or not."""

    checks_off: tuple[str, ...] = ()
    tolerance: str = ""
    notes: bool = True


def user_settings(loc: Locations | None = None) -> AddinSettings:
    """The Settings in the user's own config file, never the workbook's (see the module docstring).

    No desktop Excel here (Linux): the defaults.
    """
    try:
        loc = loc or locations()
    except Unsupported:
        return AddinSettings()
    values = {k.upper(): v.strip() for k, v in read_config(loc.config, loc.encoding).items()}
    off = tuple(name.strip() for name in values.get(CHECKS_OFF_KEY, "").split(",") if name.strip())
    return AddinSettings(off, values.get(TOLERANCE_KEY, ""), values.get(NOTES_KEY, "True").lower() != "false")


def write_config(path: Path, values: dict[str, str], encoding: str = "utf-8") -> None:
    """Write the settings in the encoding the add-in reads; Unsupported if a value cannot be."""
    text = "".join(f'"{k}","{v}"\n' for k, v in values.items())
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError as exc:
        bad = text[exc.start : exc.end]
        raise Unsupported(
            f"the setting {bad!r} cannot be written in this Windows' code page, which the add-in reads "
            f"({path}). Install Python in a folder whose name has only characters of your system language, "
            "or pass --interpreter with such a path."
        ) from None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def conda_settings(env: dict[str, str]) -> tuple[str, str] | None:
    """(CONDA PATH, CONDA ENV) of an active conda environment, as xlwings' installer finds them."""
    name, exe = env.get("CONDA_DEFAULT_ENV"), env.get("CONDA_EXE")
    if not name or not exe:
        return None
    return ntpath.dirname(ntpath.dirname(exe)), name


def _excel_present(loc: Locations) -> bool:
    if loc.platform == "mac":
        return loc.excel_home.is_dir() or Path("/Applications/Microsoft Excel.app").exists()
    return loc.excel_home.is_dir()


def install(loc: Locations, interpreter: str | None = None, *, force: bool = False, server: bool = False,
            env: dict[str, str] | None = None) -> list[str]:
    """Copy the add-in and configure the interpreter; return what was done, line by line."""
    env = dict(os.environ) if env is None else env
    source = packaged_addin()
    if not source.is_file():
        raise Unsupported(f"the add-in file is missing from this installation ({source}); reinstall tallycheck")
    if not _excel_present(loc) and not force:
        raise Unsupported(
            f"Excel does not seem to be installed for this user (no {loc.excel_home}). Start Excel once, "
            "then run this again (or pass --force to install anyway)."
        )
    if interpreter is None and importlib.util.find_spec("xlwings") is None:
        raise Unsupported(
            'xlwings is not installed in this Python, and every button needs it. Run: pip install "tallycheck[excel]" '
            "and then tallycheck addin install again."
        )
    if server and loc.platform != "windows":
        raise Unsupported("--server (xlwings' UDF server) is for Excel on Windows only; clicks on a Mac start Python afresh.")
    values = read_config(loc.config, loc.encoding)
    for key in (loc.interpreter_key, "CONDA PATH", "CONDA ENV", "USE UDF SERVER"):
        values.pop(key, None)
    conda = conda_settings(env) if loc.platform == "windows" and interpreter is None else None
    if conda is not None:
        values["CONDA PATH"], values["CONDA ENV"] = conda
        python = _conda_python(*conda)
        runs = f"Tally Check will run Python in the conda environment {conda[1]} ({conda[0]})"
    else:
        python = interpreter or sys.executable
        values[loc.interpreter_key] = python
        runs = f"Tally Check will run {python}"
    if server:
        dll = udf_server_dll(python)
        if dll is None:
            raise Unsupported(
                f"--server needs xlwings' {_dll_names()[0]} beside {python} or in its parent folder "
                f'(pip install "xlwings=={vba_xlwings_version()}" in that Python puts it there); not found, nothing changed.'
            )
        values["USE UDF SERVER"] = "True"
    write_config(loc.config, values, loc.encoding)  # before the copy: a path it cannot take changes nothing
    done = []
    try:
        loc.startup.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, loc.addin)
    except PermissionError:
        raise Unsupported(
            f"cannot write {loc.addin}: Excel is probably running and has the add-in open. Quit Excel and try again."
        ) from None
    except OSError as exc:
        raise Unsupported(f"cannot write {loc.addin}: {exc.strerror or exc}") from None
    done.append(f"Installed the add-in: {loc.addin}")
    done.append(f"{runs} (set in {loc.config})")
    if server:
        done.append(f"Python stays running between clicks (xlwings' UDF server, {dll}); "
                    "after upgrading tallycheck, click Restart Python on the ribbon.")
    if loc.applescripts is not None:
        script = _applescript()
        if script is not None:
            loc.applescripts.mkdir(parents=True, exist_ok=True)
            target = loc.applescripts / f"xlwings-{vba_xlwings_version()}.applescript"
            shutil.copyfile(script, target)
            done.append(f"Enabled RunPython for Excel: {target}")
    done.extend(_xlwings_notes())
    done.append("Restart Excel: the 'Tally Check' tab appears on the ribbon.")
    return done


def _conda_python(conda_path: str, conda_env: str) -> str:
    """The python.exe of a conda environment, where xlwings' VBA looks for it."""
    if conda_env == "base":
        home = conda_path
    elif "\\" in conda_env:
        home = conda_env
    else:
        home = ntpath.join(conda_path, "envs", conda_env)
    return ntpath.join(home, "python.exe")


def _dll_names() -> tuple[str, str]:
    version = vba_xlwings_version()
    return f"xlwings64-{version}.dll", f"xlwings32-{version}.dll"


def udf_server_dll(python: str) -> Path | None:
    """xlwings' DLL for the UDF server, where the add-in's VBA loads it from (XLPyLoadDLL)."""
    folder = ntpath.dirname(python)
    for where in (folder, ntpath.dirname(folder)):
        for name in _dll_names():
            candidate = Path(where) / name
            if where and candidate.is_file():
                return candidate
    return None


def _applescript() -> Path | None:
    try:
        import xlwings
    except ImportError:
        return None
    folder = Path(xlwings.__file__).parent
    found = sorted(folder.glob("xlwings-*.applescript"))
    return found[-1] if found else None


def _xlwings_notes() -> list[str]:
    try:
        import xlwings
    except ImportError:
        return ["Warning: xlwings is not installed in this Python; the add-in needs it: pip install 'tallycheck[excel]'"]
    if xlwings.__version__ != vba_xlwings_version():
        return [f"Note: this Python has xlwings {xlwings.__version__}; the add-in was built with "
                f"xlwings {vba_xlwings_version()}'s RunPython module (usually fine; if a button fails, "
                f"pip install xlwings=={vba_xlwings_version()})."]
    return []


def remove(loc: Locations) -> list[str]:
    if not loc.addin.exists():
        return [f"The add-in is not installed (nothing at {loc.addin})."]
    try:
        loc.addin.unlink()
    except PermissionError:
        raise Unsupported(f"cannot remove {loc.addin}: quit Excel (it has the add-in open) and try again.") from None
    out = [f"Removed the add-in: {loc.addin}", "Restart Excel to drop the 'Tally Check' tab."]
    if loc.config.exists():
        out.append(f"The interpreter setting stays in {loc.config} (delete it if you like).")
    return out


def status(loc: Locations) -> list[str]:
    out = []
    if loc.addin.exists():
        same = loc.addin.read_bytes() == packaged_addin().read_bytes()
        out.append(f"Installed: {loc.addin}" + ("" if same else " (an older build: run tallycheck addin install)"))
    else:
        out.append(f"Not installed. 'tallycheck addin install' puts it at {loc.addin}")
    settings = read_config(loc.config, loc.encoding)
    python = settings.get(loc.interpreter_key)
    if python is None and "CONDA ENV" in settings:
        python = _conda_python(settings.get("CONDA PATH", ""), settings["CONDA ENV"])
    if python is None:
        out.append(f"Interpreter: not set ({loc.config}); 'tallycheck addin install' sets it to this Python.")
    elif python not in ("python", "pythonw") and not Path(python).exists():
        out.append(f"Interpreter: {python} does not exist any more; run 'tallycheck addin install' again.")
    else:
        out.append(f"Interpreter: {python}")
    if settings.get("USE UDF SERVER") == "True":
        dll = udf_server_dll(python or "")
        out.append(f"UDF server: on ({dll})" if dll else f"UDF server: on, but {_dll_names()[0]} is not beside {python}: "
                   "clicks will fail; run 'tallycheck addin install' (without --server) or reinstall xlwings there.")
    out.extend(_xlwings_notes())
    return out


def _run(action, **kwargs) -> None:
    try:
        loc = locations()
        for line in action(loc, **kwargs):
            typer.echo(line)
    except Unsupported as exc:
        typer.echo(f"tallycheck: {exc}", err=True)
        raise typer.Exit(2) from None


@addin_app.command("install")
def install_command(
    interpreter: str | None = typer.Option(None, help="Python for the add-in to run (default: this one)."),
    force: bool = typer.Option(False, "--force", help="Install even if no Excel folder is found."),
    server: bool = typer.Option(False, "--server", help="Windows: keep Python running between clicks (xlwings' UDF server)."),
) -> None:
    """Copy the add-in to Excel's startup folder and make it run this Python."""
    _run(install, interpreter=interpreter, force=force, server=server)


@addin_app.command("remove")
def remove_command() -> None:
    """Remove the add-in from Excel's startup folder."""
    _run(remove)


@addin_app.command("status")
def status_command() -> None:
    """Say whether the add-in is installed and which Python it runs."""
    _run(status)
