"""The run as one self-contained web page a person reads, shares and prints.

No network, ever: the CSS, the small filter script and the charts (SVG drawn here) are inline, and a
Content-Security-Policy says so to the browser. Every text from a workbook is escaped. The page is
built as a list of fragments joined once, so 1,000 workbooks cost no more than 1,000 times one.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from datetime import date, datetime
from html import escape
from pathlib import Path
from urllib.parse import quote

from .. import __version__
from ..engine import Report
from ..engine.findings import Finding, Series
from ..report import summary_line
from ._shared import Totals, display_path, run_stamp, totals, write_text_atomically

__all__ = ["render_html", "series_svg", "write_html"]


def write_html(path: Path, reports: Sequence[Report], *, started: datetime | None = None, elapsed: float | None = None) -> None:
    """Write the page; links to the workbooks are relative to it, so a copied folder keeps them."""
    path = Path(path)
    write_text_atomically(path, render_html(reports, started=started, elapsed=elapsed, base=path.parent))


def render_html(
    reports: Sequence[Report], *, started: datetime | None = None, elapsed: float | None = None, base: Path | None = None
) -> str:
    """The page as text; ``base`` is the folder it will live in (links are absolute without it)."""
    out: list[str] = []
    t = totals(reports)
    title = f"tallycheck report: {t.errors:,} error{'s' * (t.errors != 1)}, {t.warnings:,} warning{'s' * (t.warnings != 1)}"
    out.append(_HEAD.format(title=escape(title), css=_CSS))
    out.append('<header class="top"><div class="wrap">')
    out.append('<h1>tallycheck report</h1>')
    stamp = ", ".join(filter(None, [run_stamp(started, elapsed), f"tallycheck {__version__}"]))
    out.append(f'<p class="stamp">{escape(stamp)}</p>')
    out.append(f'<p class="verdict">{escape(summary_line(reports))}</p>')
    out.append("</div></header>")
    out.append('<main class="wrap">')
    _cards(out, t)

    unreadable = [r for r in reports if r.error is not None]
    flagged = [r for r in reports if r.error is None and r.findings]
    flagged.sort(key=lambda r: 0 if r.errors else 1)  # stable: the run's own order within a severity
    clean = [r for r in reports if r.error is None and not r.findings]

    if unreadable:
        out.append(f'<section class="unreadable" id="unreadable"><h2>Could not be read <span class="count">{len(unreadable):,}</span></h2><ul>')
        for r in unreadable:
            out.append(f'<li>{_file_link(r.path, base)}<span class="reason">{escape(r.error or "")}</span></li>')
        out.append("</ul></section>")

    if flagged:
        out.append(
            '<div class="toolbar" role="search"><input type="search" id="filter" placeholder="Filter by workbook, sheet, cell, rule or message" aria-label="Filter findings">'
            '<label><input type="checkbox" id="show-warnings" checked> show warnings</label>'
            f'<span id="shown" aria-live="polite">{len(flagged):,} workbook{"s" * (len(flagged) != 1)} with findings</span></div>'
        )
    for n, r in enumerate(flagged):
        _workbook(out, r, n, base)

    if clean:
        out.append(f'<details class="clean"><summary>{len(clean):,} workbook{"s" * (len(clean) != 1)} passed every check</summary><ul>')
        for r in clean:
            out.append(f'<li>{_file_link(r.path, base)} <span class="muted">{_plural(len(r.tables), "table")}</span></li>')
        out.append("</ul></details>")
    if not reports:
        out.append('<p class="muted">No workbooks were checked.</p>')
    out.append("</main>")
    out.append(f'<footer class="wrap">Written by tallycheck {escape(__version__)}. Cells are named as Excel names them; <code>tallycheck check --mark</code> marks each finding in its workbook.</footer>')
    out.append(f"<script>{_JS}</script></body></html>\n")
    return "".join(out)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _href(path: Path, base: Path | None) -> str:
    absolute = path.resolve()
    if base is not None:
        try:
            return quote(Path(os.path.relpath(absolute, base.resolve())).as_posix())
        except ValueError:  # another drive on Windows
            pass
    return absolute.as_uri()


def _file_link(path: Path, base: Path | None) -> str:
    return f'<a class="file" href="{escape(_href(path, base))}">{escape(display_path(path))}</a>'


def _cards(out: list[str], t: Totals) -> None:
    def card(label: str, value: int, kind: str) -> str:
        state = kind if value else "zero"
        return f'<div class="card {state}" data-kind="{kind}"><span class="n">{value:,}</span><span class="label">{label}</span></div>'

    out.append('<section class="cards" aria-label="Summary">')
    out.append(card("workbooks", t.workbooks, "neutral"))
    out.append(card("tables", t.tables, "neutral"))
    out.append(card("errors", t.errors, "error"))
    out.append(card("warnings", t.warnings, "warning"))
    out.append(card("unreadable", t.unreadable, "unreadable"))
    out.append("</section>")


def _workbook(out: list[str], report: Report, n: int, base: Path | None) -> None:
    severity = "error" if report.errors else "warning"
    name = display_path(report.path)
    out.append(f'<section class="workbook sev-{severity}" id="wb-{n}" data-path="{escape(name.lower())}">')
    badges = []
    if report.errors:
        badges.append(f'<span class="badge error">{_plural(report.errors, "error")}</span>')
    if report.warnings:
        badges.append(f'<span class="badge warning">{_plural(report.warnings, "warning")}</span>')
    out.append(f'<h2>{_file_link(report.path, base)} {"".join(badges)}<span class="muted tables">{_plural(len(report.tables), "table")} checked</span></h2>')

    for series in report.series:
        notes = _series_notes(report.findings, series)
        out.append('<figure class="chart">')
        out.append(series_svg(series, notes))
        out.append(
            f'<figcaption><strong>{escape(series.column)}</strong> on sheet {escape(series.sheet)}, '
            f'{_plural(len(series.dates), "day")}; <span class="key"><svg width="12" height="12" aria-hidden="true"><circle cx="6" cy="6" r="5" class="flag"/></svg> '
            f'{_plural(len(series.flagged), "discrepant day")}</span><span class="muted table-name">{escape(series.table)}</span></figcaption>'
        )
        out.append("</figure>")

    out.append('<table class="findings"><colgroup><col class="c-sev"><col class="c-sheet"><col class="c-cell"><col class="c-rule"><col></colgroup><thead><tr><th>Severity</th><th>Sheet</th><th>Cell</th><th>Rule</th><th>Message</th></tr></thead><tbody>')
    for f in report.findings:
        cells = ", ".join(f.cells)
        out.append(
            f'<tr data-sev="{escape(f.severity)}"><td><span class="badge {escape(f.severity)}">{escape(f.severity)}</span></td>'
            f'<td>{escape(f.sheet)}</td><td class="cell" title="{escape("Cells involved: " + cells)}">{escape(f.cell)}</td>'
            f'<td><code>{escape(f.rule)}</code></td><td class="message">{escape(f.message)}</td></tr>'
        )
    out.append("</tbody></table></section>")


def _series_notes(findings: Sequence[Finding], series: Series) -> dict[str, list[str]]:
    """The messages of the findings on each discrepant day of this series (for the chart's tooltips)."""
    notes: dict[str, list[str]] = {}
    for f in findings:
        if f.table == series.table and f.extra.get("series") == series.column and "date" in f.extra:
            notes.setdefault(str(f.extra["date"]), []).append(f"{f.cell}: {f.message}")
    return notes


# -- the chart ------------------------------------------------------------------------------------

_W = 760
_PLOT_H = 200
_LABEL_ROW = 15
_MAX_LABEL_ROWS = 3
_CHAR_W = 6.4  # px per character of the 11px axis text, a little generous
_LABEL_CHAR_W = 7.4  # the same for the bold 11.5px labels of discrepant days


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _day_label(text: str, with_year: bool = True) -> str:
    d = _day(text)
    if d is None:
        return text
    return f"{d.day} {d:%b %Y}" if with_year else f"{d.day} {d:%b}"


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round-numbered ticks (1, 2, 2.5, 5 × 10^k) covering lo..hi."""
    if hi <= lo:
        pad = abs(lo) * 0.05 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step) * step
    count = math.ceil(hi / step - 1e-9) - math.floor(lo / step)
    return [first + i * step for i in range(count + 1)]


def _number(v: float, step: float) -> str:
    """A tick label with as many decimals as the step needs (2.5 needs one, 0.25 two)."""
    decimals = next((d for d in range(7) if abs(round(step, d) - step) < 1e-9 * max(1.0, abs(step))), 6)
    return f"{v:,.{decimals}f}"


def series_svg(series: Series, notes: dict[str, list[str]] | None = None) -> str:
    """A line chart of a cumulative series with each discrepant day as a red dot and a label.

    The x axis is calendar time, so a gap in the dates shows as a gap. Labels sit in a band above the
    plot, stacked when they would overlap, each tied to its dot by a dashed line.
    """
    notes = notes or {}
    n = len(series.dates)
    values = list(series.values)
    known = [v for v in values if v is not None and math.isfinite(v)]
    days = [_day(d) for d in series.dates]
    # calendar time when every date parses, so a gap shows as a gap; else one step a row
    xs_raw = [d.toordinal() for d in days if d is not None]
    if len(xs_raw) != n:
        xs_raw = list(range(n))
    lo_x, hi_x = (min(xs_raw), max(xs_raw)) if xs_raw else (0, 1)
    ticks = _ticks(min(known), max(known)) if known else [0.0, 1.0]
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    tick_labels = [_number(v, step) for v in ticks]
    left = 16 + _CHAR_W * max(len(s) for s in tick_labels)
    right = 28
    plot_w = _W - left - right

    def x_of(i: int) -> float:
        return left + (plot_w / 2 if hi_x == lo_x else (xs_raw[i] - lo_x) / (hi_x - lo_x) * plot_w)

    index = {d: i for i, d in enumerate(series.dates)}
    flagged = [d for d in series.flagged if d in index]

    # Labels first: how many rows they need decides where the plot starts. A label that finds no room
    # in the first rows is left out; its day keeps its dot, its line and its tooltip.
    rows: list[list[tuple[float, float]]] = []
    label_of: dict[str, tuple[str, int, float]] = {}  # date -> text, row, centre x
    for d in flagged:
        i = index[d]
        cell = series.cells[i] if i < len(series.cells) else ""
        text = _day_label(d) + (f" · {cell}" if cell else "")
        width = len(text) * _LABEL_CHAR_W
        start = min(max(x_of(i) - width / 2, left - 8), _W - 4 - width)
        span = (start - 8, start + width + 8)
        row = next((k for k, used in enumerate(rows) if all(span[1] <= a or span[0] >= b for a, b in used)), len(rows))
        if row == _MAX_LABEL_ROWS:
            continue
        if row == len(rows):
            rows.append([])
        rows[row].append(span)
        label_of[d] = (text, row, start + width / 2)
    top = 14 + _LABEL_ROW * max(len(rows), 1)
    height = top + _PLOT_H + (50 if len(label_of) < len(flagged) else 38)
    lo_y, hi_y = ticks[0], ticks[-1]

    def y_of(v: float) -> float:
        return top + _PLOT_H - (v - lo_y) / (hi_y - lo_y) * _PLOT_H

    label = f"Chart of {series.column} on sheet {series.sheet}: {n} days, {len(flagged)} discrepant day{'s' * (len(flagged) != 1)} marked"
    out = [
        f'<svg class="series-chart" viewBox="0 0 {_W} {height:.0f}" width="100%" role="img" aria-label="{escape(label)}" '
        f'data-sheet="{escape(series.sheet)}" data-series="{escape(series.column)}" data-flagged="{len(flagged)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    # grid and y axis
    for v, text in zip(ticks, tick_labels, strict=True):
        y = y_of(v)
        out.append(f'<line class="grid" x1="{left:.1f}" x2="{left + plot_w:.1f}" y1="{y:.1f}" y2="{y:.1f}"/>')
        out.append(f'<text class="axis" x="{left - 8:.1f}" y="{y + 4:.1f}" text-anchor="end">{escape(text)}</text>')
    # x axis: up to 6 dates, evenly spread over the series
    if n:
        picks = sorted({round(k * (n - 1) / 5) for k in range(6)}) if n > 6 else list(range(n))
        span_days = hi_x - lo_x
        base_y = top + _PLOT_H
        for k, i in enumerate(picks):
            x = x_of(i)
            anchor = "start" if k == 0 and len(picks) > 1 else "end" if k == len(picks) - 1 and len(picks) > 1 else "middle"
            text = _day_label(series.dates[i], with_year=span_days > 300 or k in (0, len(picks) - 1))
            out.append(f'<line class="tick" x1="{x:.1f}" x2="{x:.1f}" y1="{base_y:.1f}" y2="{base_y + 5:.1f}"/>')
            out.append(f'<text class="axis" x="{x:.1f}" y="{base_y + 19:.1f}" text-anchor="{anchor}">{escape(text)}</text>')
        out.append(f'<line class="baseline" x1="{left:.1f}" x2="{left + plot_w:.1f}" y1="{base_y:.1f}" y2="{base_y:.1f}"/>')
    # the line, broken where a value is missing
    segment: list[str] = []
    for i, v in enumerate(values):
        if v is None or not math.isfinite(v):
            if len(segment) > 1:
                out.append(f'<polyline class="line" points="{" ".join(segment)}"/>')
            segment = []
            continue
        segment.append(f"{x_of(i):.1f},{y_of(v):.1f}")
    if len(segment) > 1:
        out.append(f'<polyline class="line" points="{" ".join(segment)}"/>')
    flagged_set = set(flagged)
    if n <= 120:  # a dot per day while the dots stay apart
        for i, v in enumerate(values):
            if v is not None and math.isfinite(v) and series.dates[i] not in flagged_set:
                out.append(
                    f'<circle class="pt" cx="{x_of(i):.1f}" cy="{y_of(v):.1f}" r="2.6"><title>{escape(_day_label(series.dates[i]))}: {v:,.0f}</title></circle>'
                )
    # the discrepant days: a dashed line up to the label, a red dot on the value
    for d in flagged:
        i = index[d]
        x = x_of(i)
        v = values[i]
        y = y_of(v) if v is not None and math.isfinite(v) else top + _PLOT_H
        tip = "\n".join([f"{_day_label(d)}: {v:,.0f}" if v is not None else _day_label(d), *notes.get(d, [])])
        if d in label_of:
            text, row, lx = label_of[d]
            ly = 12 + _LABEL_ROW * row
            out.append(f'<line class="flag-line" x1="{x:.1f}" x2="{x:.1f}" y1="{ly + 4:.1f}" y2="{y:.1f}"/>')
            out.append(f'<text class="flag-label" x="{lx:.1f}" y="{ly:.1f}" text-anchor="middle">{escape(text)}</text>')
        out.append(f'<circle class="flag" cx="{x:.1f}" cy="{y:.1f}" r="5.5" data-date="{escape(d)}"><title>{escape(tip)}</title></circle>')
    if len(label_of) < len(flagged):
        out.append(
            f'<text class="axis" x="{_W - 4}" y="{height - 2:.0f}" text-anchor="end">'
            f"{len(label_of)} of {len(flagged)} discrepant days labelled; every red dot names its day on hover</text>"
        )
    out.append("</svg>")
    return "".join(out)


# -- page furniture -------------------------------------------------------------------------------

_HEAD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="tallycheck">
<link rel="icon" href="data:,">
<title>{title}</title>
<style>{css}</style>
</head><body>
"""

_CSS = """
:root{--fg:#1c2430;--muted:#5d6b7a;--line:#dfe4ea;--bg:#f4f6f9;--card:#fff;--accent:#1f3a5f;
--err:#b42318;--err-bg:#fdecea;--warn:#8a5a00;--warn-bg:#fff3d1;--ok:#1a7f37;--unr:#6b4fa0;--unr-bg:#f1ecfa}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",sans-serif}
.wrap{max-width:1120px;margin:0 auto;padding-left:28px;padding-right:28px}
header.top{background:var(--accent);color:#fff;padding:22px 0 20px}
header.top h1{margin:0;font-size:24px;letter-spacing:.2px}
header.top .stamp{margin:2px 0 0;color:#c8d4e3;font-size:13px}
header.top .verdict{margin:10px 0 0;font-size:17px;font-weight:600}
main{padding-top:22px;padding-bottom:12px}
.cards{display:grid;grid-template-columns:repeat(5,minmax(0,1fr));gap:12px;margin-bottom:22px}
.card{background:var(--card);border:1px solid var(--line);border-left:5px solid var(--line);border-radius:8px;padding:10px 14px}
.card .n{display:block;font-size:28px;font-weight:700;line-height:1.15;font-variant-numeric:tabular-nums}
.card .label{color:var(--muted);font-size:13px;text-transform:uppercase;letter-spacing:.6px}
.card.error{border-left-color:var(--err)}.card.error .n{color:var(--err)}
.card.warning{border-left-color:#d89b00}.card.warning .n{color:var(--warn)}
.card.unreadable{border-left-color:var(--unr)}.card.unreadable .n{color:var(--unr)}
.card.neutral{border-left-color:var(--accent)}
.card.zero .n{color:var(--ok)}
h2{font-size:17px;margin:0 0 10px;display:flex;flex-wrap:wrap;align-items:baseline;gap:8px}
section.workbook,section.unreadable,details.clean{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px 18px;margin:0 0 16px}
section.workbook{border-top:4px solid var(--err)}
section.workbook.sev-warning{border-top-color:#d89b00}
section.unreadable{border-top:4px solid var(--unr)}
section.unreadable ul,details.clean ul{margin:0;padding-left:18px}
section.unreadable li{margin:4px 0}
.reason{display:block;color:var(--unr)}
.count{background:var(--unr-bg);color:var(--unr);border-radius:10px;padding:0 8px;font-size:13px}
a.file{color:var(--accent);text-decoration:none;font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:.95em;overflow-wrap:anywhere}
a.file:hover{text-decoration:underline}
.muted{color:var(--muted);font-weight:400;font-size:13px}
.tables{margin-left:auto}
.badge{display:inline-block;border-radius:999px;padding:1px 9px;font-size:12px;font-weight:700;letter-spacing:.3px;white-space:nowrap}
.badge.error{background:var(--err-bg);color:var(--err)}
.badge.warning{background:var(--warn-bg);color:var(--warn)}
table.findings{width:100%;border-collapse:collapse;font-size:14px;table-layout:fixed}
col.c-sev{width:96px}col.c-sheet{width:14%}col.c-cell{width:64px}col.c-rule{width:168px}
table.findings td{overflow-wrap:anywhere}
table.findings th{text-align:left;font-size:12px;text-transform:uppercase;letter-spacing:.5px;color:var(--muted);border-bottom:2px solid var(--line);padding:6px 8px}
table.findings td{border-bottom:1px solid var(--line);padding:7px 8px;vertical-align:top}
table.findings tr:last-child td{border-bottom:0}
table.findings td.cell{font-family:ui-monospace,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-weight:700;white-space:nowrap}
code{font-family:ui-monospace,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:12.5px;background:#eef1f5;border-radius:4px;padding:1px 5px;white-space:nowrap}
figure.chart{margin:4px 0 14px;border:1px solid var(--line);border-radius:8px;padding:10px 12px 8px;background:#fbfcfd}
figure.chart figcaption{font-size:13px;display:flex;flex-wrap:wrap;gap:4px 12px;align-items:center}
figure.chart .table-name{flex-basis:100%}
.key{color:var(--err);font-weight:600}
svg.series-chart{display:block;max-width:100%;height:auto;font-family:inherit}
svg .grid{stroke:#e7ebf0;stroke-width:1}
svg .baseline{stroke:#9aa6b2;stroke-width:1}
svg .tick{stroke:#9aa6b2}
svg .axis{fill:#5d6b7a;font-size:11px}
svg .line{fill:none;stroke:#2f6db5;stroke-width:2.2;stroke-linejoin:round;stroke-linecap:round}
svg .pt{fill:#2f6db5;stroke:#fff;stroke-width:1}
svg .flag{fill:#d92d20;stroke:#fff;stroke-width:2}
svg .flag-line{stroke:#d92d20;stroke-width:1;stroke-dasharray:3 3;opacity:.7}
svg .flag-label{fill:#b42318;font-size:11.5px;font-weight:700}
.toolbar{display:flex;flex-wrap:wrap;gap:10px 18px;align-items:center;margin:0 0 14px}
.toolbar input[type=search]{flex:1 1 320px;font:inherit;padding:7px 11px;border:1px solid #c5cdd6;border-radius:7px;background:#fff}
.toolbar label,#shown{color:var(--muted);font-size:14px}
details.clean summary{cursor:pointer;font-weight:600;color:var(--ok)}
details.clean li{margin:3px 0}
footer{color:var(--muted);font-size:12.5px;padding-top:4px;padding-bottom:28px}
[hidden]{display:none!important}
@media (max-width:720px){.cards{grid-template-columns:repeat(2,minmax(0,1fr))}.tables{margin-left:0}col.c-rule{width:110px}col.c-sev{width:80px}}
@media print{
 @page{margin:14mm}
 body{background:#fff;font-size:11pt}
 .wrap{max-width:none;padding:0}
 header.top{background:none;color:#000;padding:0 0 8px;border-bottom:2px solid #000}
 header.top .stamp{color:#444}
 .toolbar{display:none}
 .card,section.workbook,section.unreadable,details.clean,figure.chart{break-inside:avoid;box-shadow:none}
 section.workbook{break-inside:auto}
 tr,figure{break-inside:avoid}
 thead{display:table-header-group}
 a.file{color:#000}
 *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"""

_JS = """
(function(){
  var input=document.getElementById('filter'), warn=document.getElementById('show-warnings'), shown=document.getElementById('shown');
  if(!input||!warn){return;}
  var sections=Array.prototype.slice.call(document.querySelectorAll('section.workbook')).map(function(s){
    return {el:s, path:s.getAttribute('data-path')||'', rows:Array.prototype.slice.call(s.querySelectorAll('tbody tr')).map(function(tr){
      return {el:tr, text:tr.textContent.toLowerCase(), warning:tr.getAttribute('data-sev')==='warning'};})};
  });
  function apply(){
    var q=input.value.trim().toLowerCase(), w=warn.checked, count=0;
    sections.forEach(function(s){
      var any=false, inPath=q!=='' && s.path.indexOf(q)>=0;
      s.rows.forEach(function(r){var ok=(w||!r.warning)&&(q===''||inPath||r.text.indexOf(q)>=0); r.el.hidden=!ok; any=any||ok;});
      s.el.hidden=!any; if(any){count++;}
    });
    shown.textContent=count+' of '+sections.length+' workbooks with findings shown';
  }
  input.addEventListener('input',apply); warn.addEventListener('change',apply);
  window.addEventListener('beforeprint',function(){Array.prototype.forEach.call(document.querySelectorAll('details'),function(d){d.open=true;});});
})();
"""
