"""An independent spreadsheet application opens marked workbooks and shows the fills.

LibreOffice (headless) renders the marked sheet to PDF, pdftoppm rasterises it, and the pixels
are counted: the error red and warning amber must be on the page of the marked workbook and gone
from the cleared one. Set TALLYCHECK_UPDATE_EXAMPLES=1 to refresh examples/marked-sheet.png.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import feature_workbook as fw
import pytest
import python_calamine
from tallycheck.engine.findings import Finding
from tallycheck.marks import MarkError, clear_workbook, mark_workbook

pytestmark = pytest.mark.skipif(
    shutil.which("soffice") is None or shutil.which("pdftoppm") is None,
    reason="LibreOffice (soffice) and poppler (pdftoppm) are not installed",
)
EXAMPLE_PNG = Path(__file__).resolve().parents[1] / "examples" / "marked-sheet.png"
RED, AMBER = (255, 199, 206), (255, 235, 156)
FINDINGS = [
    Finding("sum", "error", "Losses", "E6", ("B6", "C6", "D6", "E6"), 673_290, 674_290, 0,
            "Total 674,290 should equal Killed + Wounded + Missing = 673,290 (off by 1,000)"),
    Finding("sum", "warning", "Losses", "E7", ("B7", "C7", "D7", "E7"), 1_060_790, 1_060_790.4, 0.5,
            "Total matches only when rounded"),
]


def to_pdf(books: list[Path], out: Path, profile: Path) -> None:
    """One soffice call converting every workbook (start-up dominates)."""
    subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation={profile.as_uri()}", "--convert-to", "pdf",
         "--outdir", str(out), *map(str, books)],
        check=True, capture_output=True, timeout=300,
    )


def first_page_pixels(pdf: Path, dpi: int = 60) -> tuple[int, int, bytes]:
    """The first page as (width, height, RGB bytes) via pdftoppm's PPM output."""
    data = subprocess.run(["pdftoppm", "-r", str(dpi), "-f", "1", "-l", "1", str(pdf)],
                          check=True, capture_output=True, timeout=60).stdout
    magic, width, height, _max, pixels = data.split(maxsplit=4)
    assert magic == b"P6"
    return int(width), int(height), pixels


def count(pixels: bytes, rgb: tuple[int, int, int], tolerance: int = 6) -> int:
    return sum(
        1 for i in range(0, len(pixels) - 2, 3)
        if all(abs(pixels[i + k] - rgb[k]) <= tolerance for k in range(3))
    )


def test_libreoffice_renders_the_fills_and_loses_them_after_clear(tmp_path: Path) -> None:
    books = []
    for suffix in (".xlsx", ".xlsm"):
        book = fw.build(tmp_path / f"marked{suffix}", vba=suffix == ".xlsm")
        mark_workbook(book, FINDINGS)
        cleared = tmp_path / f"cleared{suffix}"
        shutil.copyfile(book, cleared)
        clear_workbook(cleared)
        books += [book, cleared]
    to_pdf(books, tmp_path / "pdf", tmp_path / "profile")
    for book in books:
        pdf = tmp_path / "pdf" / (book.stem + ".pdf")
        assert pdf.exists(), f"LibreOffice could not open {book.name}"
        _, _, pixels = first_page_pixels(pdf)
        red, amber = count(pixels, RED), count(pixels, AMBER)
        if book.stem.startswith("marked"):
            assert red > 50 and amber > 50, (book.name, red, amber)
        else:
            assert red == 0 and amber == 0, (book.name, red, amber)
    if os.environ.get("TALLYCHECK_UPDATE_EXAMPLES"):
        subprocess.run(["pdftoppm", "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile",
                        "-x", "60", "-y", "60", "-W", "760", "-H", "340",
                        str(tmp_path / "pdf" / "marked.pdf"), str(EXAMPLE_PNG.with_suffix(""))], check=True)


@pytest.mark.corpus
def test_libreoffice_opens_every_marked_corpus_workbook(tmp_path: Path) -> None:
    marked = []
    for source in sorted(fw.CALAMINE.glob("*.xls*")):
        try:
            meta = python_calamine.CalamineWorkbook.from_path(str(source)).sheets_metadata
        except Exception:
            continue
        sheet = next((m.name for m in meta if m.typ == python_calamine.SheetTypeEnum.WorkSheet), None)
        if sheet is None:
            continue
        out = tmp_path / "marked" / source.name
        try:
            mark_workbook(source, [Finding("sum", "error", sheet, "A1", ("A1",), 1, 2, 0, "x")], out=out)
        except MarkError:
            continue
        marked.append(out)
    assert len(marked) >= 60
    to_pdf(marked, tmp_path / "pdf", tmp_path / "profile")
    missing = [p.name for p in marked if not (tmp_path / "pdf" / (p.stem + ".pdf")).exists()]
    assert missing == []
