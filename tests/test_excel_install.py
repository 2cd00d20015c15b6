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
    install.install(loc, env={})  # again, with this Python: replaces the setting, keeps other keys
    install.write_config(loc.config, {**install.read_config(loc.config), "SHOW CONSOLE": "True"})
    install.install(loc, env={})
    assert install.read_config(loc.config) == {"INTERPRETER_WIN": sys.executable, "SHOW CONSOLE": "True"}
    assert install.status(loc)[1] == f"Interpreter: {sys.executable}"
    assert install.remove(loc)[0] == f"Removed the add-in: {loc.addin}"
    assert not loc.addin.exists()
    assert "not installed" in install.remove(loc)[0]


def test_mac_install_copies_the_runpython_applescript(tmp_path: Path) -> None:
    loc = mac(tmp_path)
    install.install(loc, env={})
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


def test_config_is_written_in_the_code_page_the_vba_reads(tmp_path: Path) -> None:
    """VBA's Input # reads the ANSI code page: a UTF-8 'José' came back as 'JosÃ©' and no Python was found."""
    loc = windows(tmp_path)
    python = "C:\\Users\\José Müller\\AppData\\Local\\Programs\\Python\\Python311\\python.exe"
    install.install(loc, interpreter=python, env={})
    data = loc.config.read_bytes()
    assert data == f'"INTERPRETER_WIN","{python}"\n'.encode(install.ansi_encoding())
    assert b"Jos\xe9 M\xfcller" in data  # one byte per letter, as the code page has them
    assert install.read_config(loc.config, loc.encoding)["INTERPRETER_WIN"] == python
    assert install.status(loc)[1].endswith("does not exist any more; run 'tallycheck addin install' again.")


def test_a_path_the_code_page_cannot_hold_is_refused_before_anything_changes(tmp_path: Path) -> None:
    loc = windows(tmp_path)
    with pytest.raises(install.Unsupported, match="cannot be written in this Windows' code page"):
        install.install(loc, interpreter="C:\\Users\\Дмитрий\\python.exe", env={})
    assert not loc.addin.exists() and not loc.config.exists()


def test_conda_environment_is_configured_as_xlwings_does(tmp_path: Path) -> None:
    loc = windows(tmp_path)
    conda = {"CONDA_DEFAULT_ENV": "analysis", "CONDA_EXE": "C:\\Users\\me\\miniconda3\\Scripts\\conda.exe"}
    lines = install.install(loc, env=conda)
    assert install.read_config(loc.config, loc.encoding) == {"CONDA PATH": "C:\\Users\\me\\miniconda3",
                                                             "CONDA ENV": "analysis"}
    assert any("conda environment analysis" in line for line in lines)
    assert install.status(loc)[1] == (
        "Interpreter: C:\\Users\\me\\miniconda3\\envs\\analysis\\python.exe does not exist any more; "
        "run 'tallycheck addin install' again.")
    install.install(loc, env={})  # outside conda again: the interpreter replaces the conda settings
    assert install.read_config(loc.config, loc.encoding) == {"INTERPRETER_WIN": sys.executable}
    on_mac = mac(tmp_path)
    install.install(on_mac, env=conda)  # a Mac runs the interpreter itself, as xlwings does
    assert install.read_config(on_mac.config) == {"INTERPRETER_MAC": sys.executable}


def test_install_refuses_without_xlwings(tmp_path: Path, monkeypatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "xlwings" else real(name, *a))
    loc = windows(tmp_path)
    with pytest.raises(install.Unsupported, match=r'pip install "tallycheck\[excel\]"'):
        install.install(loc, env={})
    assert not loc.addin.exists() and not loc.config.exists()


def test_udf_server_only_where_its_dll_is(tmp_path: Path) -> None:
    loc = windows(tmp_path)
    venv = tmp_path / "venv"
    python = venv / "Scripts" / "python.exe"
    python.parent.mkdir(parents=True)
    python.write_bytes(b"")
    with pytest.raises(install.Unsupported, match=r"--server needs xlwings' xlwings64-0\.37\.8\.dll"):
        install.install(loc, interpreter=str(python), server=True, env={})
    assert not loc.config.exists()
    (venv / "xlwings64-0.37.8.dll").write_bytes(b"MZ")  # where pip puts it in a virtual environment
    lines = install.install(loc, interpreter=str(python), server=True, env={})
    assert install.read_config(loc.config, loc.encoding)["USE UDF SERVER"] == "True"
    assert any("Restart Python" in line for line in lines)
    assert install.status(loc)[2] == f"UDF server: on ({venv / 'xlwings64-0.37.8.dll'})"
    install.install(loc, interpreter=str(python), env={})  # without --server: off again
    assert "USE UDF SERVER" not in install.read_config(loc.config, loc.encoding)
    with pytest.raises(install.Unsupported, match="Windows only"):
        install.install(mac(tmp_path), server=True, env={})
