"""Command-line settings that can also live in tallycheck.toml or pyproject.toml's [tool.tallycheck].

Like ruff and pytest: the command line wins over the file, the file over the defaults. Settings are
read once per run, and a wrong or unknown one is one error naming the file and line, before any
workbook is checked (not a finding in every workbook).
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OUTPUT_FORMATS = ("text", "concise", "json", "github", "sarif")
FAIL_ON = ("error", "warning", "never")


def _choices(values: tuple[str, ...]) -> str:
    quoted = [f'"{v}"' for v in values]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


#: setting -> (what its value must be, in words; a check of a parsed TOML value)
_KINDS: dict[str, tuple[str, Any]] = {
    "include": ("a glob or a list of globs", lambda v: _is_globs(v)),
    "exclude": ("a glob or a list of globs", lambda v: _is_globs(v)),
    "select": ("a rule name or a list of rule names", lambda v: _is_globs(v)),
    "ignore": ("a rule name or a list of rule names", lambda v: _is_globs(v)),
    "jobs": ("a whole number of at least 1", lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1),
    "fail-on": (_choices(FAIL_ON), lambda v: v in FAIL_ON),
    "output-format": (_choices(OUTPUT_FORMATS), lambda v: v in OUTPUT_FORMATS),
}
#: every top-level key a config file may hold besides its settings
OTHER_KEYS = ("rules",)
#: the settings, in both spellings TOML files use (fail-on and fail_on)
SETTING_KEYS = tuple(sorted({*_KINDS, *(k.replace("-", "_") for k in _KINDS)}))


def _is_globs(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))


class SettingsError(Exception):
    """A setting that cannot be used: the message names the file and line."""


@dataclass(frozen=True)
class Settings:
    """What a config file sets (None / empty: not set there), and the file it came from."""

    source: Path | None = None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    jobs: int | None = None
    fail_on: str | None = None
    output_format: str | None = None
    lines: dict[str, int] = field(default_factory=dict, compare=False)

    def where(self, key: str) -> str:
        """'tallycheck.toml:4' for a setting's line, for messages about its value."""
        name = self.source.name if self.source else "settings"
        line = self.lines.get(key, 0)
        return f"{self.source}:{line}" if self.source and line else name


def _line_of(text: str, key: str, pyproject: bool) -> int:
    """The line ``key = ...`` is on, inside the tallycheck table (TOML parsers give no lines)."""
    inside = not pyproject
    for n, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"^\s*\[+\s*([^\]]+?)\s*\]+", line)
        if header:
            # settings are the top-level keys of a tallycheck.toml (before any table), or [tool.tallycheck]'s
            inside = pyproject and header.group(1) == "tool.tallycheck"
            continue
        if inside and re.match(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=", line):
            return n
    return 1


def read_settings(path: Path) -> Settings:
    """The settings of one tallycheck.toml or pyproject.toml; SettingsError for the first wrong one."""
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise SettingsError(f"{path}:{line.group(1) if line else 1}: not valid TOML: {exc}") from None
    pyproject = path.name == "pyproject.toml"
    table = data.get("tool", {}).get("tallycheck", {}) if pyproject else data
    values: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for key, value in table.items():
        line = _line_of(text, key, pyproject)
        name = key.replace("_", "-")
        if key in OTHER_KEYS:
            continue
        if name not in _KINDS:
            close = difflib.get_close_matches(name, [*_KINDS, *OTHER_KEYS], n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else f" (the settings are {', '.join(_KINDS)} and [[rules]])"
            raise SettingsError(f"{path}:{line}: unknown setting '{key}'{hint}")
        words, valid = _KINDS[name]
        if not valid(value):
            raise SettingsError(f"{path}:{line}: {key} must be {words}, not {value!r}")
        values[name.replace("-", "_")] = tuple([value] if isinstance(value, str) else value) if name in (
            "include", "exclude", "select", "ignore") else value
        lines[name] = line
    return Settings(source=path, lines=lines, **values)


def find_settings(paths: list[Path]) -> Path | None:
    """The config file for a run: the nearest one above the first path given, else above the working folder."""
    from .declared.sources import _config_in

    starts = [p if p.is_dir() else p.parent for p in paths if p.exists()] + [Path.cwd()]
    for start in starts:
        found = _config_in(start.resolve())
        if found is not None:
            return found
    return None
