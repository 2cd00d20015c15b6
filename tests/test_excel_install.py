"""`tallycheck addin install|remove|status` on simulated Windows and macOS user folders, and the
clear message everywhere else."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from tallycheck.cli import app
from tallycheck.excel import install
from typer.testing import CliRunner


def windows(tmp_path: Path) -> install.Locations:
    env = {"APPDATA": str(tmp_path / "AppData" / "Roaming"), "USERPROFILE": str(tmp_path)}
    (tmp_path / "AppData" / "Roaming" / "Microsoft" / "Excel").mkdir(parents=True)
    return install.locations("win32", tmp_path, env)


def mac(tmp_path: Path) -> install.Locations:
    (tmp_path / "Library" / "Group Containers" / "UBF8T346G9.Office").mkdir(parents=True)
    return install.locations("darwin", tmp_path, {})


def test_windows_install_status_remove(tmp_path: Path) -> None:
    loc = windows(tmp_path)
    assert loc.addin == tmp_path / "AppData/Roaming/Microsoft/Excel/XLSTART/tallycheck.xlam"
    assert "Not installed" in install.status(loc)[0]
    done = install.install(loc, interpreter=r"C:\Python311\python.exe")
    assert loc.addin.read_bytes() == install.packaged_addin().read_bytes()
    assert loc.config == tmp_path / ".tallycheck" / "tallycheck.conf"
    assert loc.config.read_text() == '"INTERPRETER_WIN","C:\\Python311\\python.exe"\n'
    assert any("Restart Excel" in line for line in done)
    assert install.status(loc)[0] == f"Installed: {loc.addin}"
    assert "does not exist any more" in install.status(loc)[1]
    install.install(loc)  # again, with this Python: replaces the setting, keeps other keys
    install.write_config(loc.config, {**install.read_config(loc.config), "SHOW CONSOLE": "True"})
    install.install(loc)
    assert install.read_config(loc.config) == {"INTERPRETER_WIN": sys.executable, "SHOW CONSOLE": "True"}
    assert install.status(loc)[1] == f"Interpreter: {sys.executable}"
    assert install.remove(loc)[0] == f"Removed the add-in: {loc.addin}"
    assert not loc.addin.exists()
    assert "not installed" in install.remove(loc)[0]


def test_mac_install_copies_the_runpython_applescript(tmp_path: Path) -> None:
    loc = mac(tmp_path)
    install.install(loc)
    assert loc.addin.parent.name == "Excel" and "Startup.localized" in str(loc.addin)
    assert install.read_config(loc.config) == {"INTERPRETER_MAC": sys.executable}
    assert "com.microsoft.Excel/Data" in str(loc.config)
    script = loc.applescripts / f"xlwings-{install.vba_xlwings_version()}.applescript"
    assert script.is_file() and "VbaHandler" in script.read_text()


def test_no_excel_and_no_windows_or_mac_are_clear_messages(tmp_path: Path) -> None:
    loc = install.locations("win32", tmp_path, {"APPDATA": str(tmp_path / "none"), "USERPROFILE": str(tmp_path)})
    with pytest.raises(install.Unsupported, match="Excel does not seem to be installed"):
        install.install(loc)
    install.install(loc, force=True)
    with pytest.raises(install.Unsupported, match="Windows and macOS; this is linux"):
        install.locations("linux", tmp_path, {})


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="checks the message on other systems")
def test_cli_on_linux_says_so() -> None:
    for command in ("install", "remove", "status"):
        result = CliRunner().invoke(app, ["addin", command])
        assert result.exit_code == 2
        assert "Windows and macOS" in result.output and "Traceback" not in result.output
