"""HTML → A4 PDF with WeasyPrint, embedding the bundled Noto Sans SC so the sheet prints the same anywhere.

Why WeasyPrint: it turns the very HTML page the citizen sees into the PDF (one template, two formats), follows
CSS paged media (A4, margins, running footers, page breaks), embeds only the glyphs used (a sheet is ~100 kB), and
needs only Pango, which Debian installs with the base system; a headless browser would be a 300 MB dependency to
start per request, reportlab a second layout written in Python.
"""

from __future__ import annotations

import hashlib
import logging
from functools import lru_cache
from pathlib import Path

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT_FAMILY = "HujiSans"
FONT_FILES = {400: "NotoSansSC-Regular.otf", 700: "NotoSansSC-Bold.otf"}


def font_face_css() -> str:
    """@font-face rules for the bundled fonts (file URLs: WeasyPrint reads them from disk)."""
    return "\n".join(
        f"@font-face {{ font-family: {FONT_FAMILY}; font-weight: {weight}; "
        f"src: url('{(FONT_DIR / name).as_uri()}'); }}"
        for weight, name in FONT_FILES.items()
    )


def html_to_pdf(html: str) -> bytes:
    return _cached_pdf(hashlib.sha256(html.encode()).hexdigest(), html)


@lru_cache(maxsize=128)
def _cached_pdf(_digest: str, html: str) -> bytes:
    from weasyprint import HTML  # imported late: it is slow to import and only the document routes need it

    logging.getLogger("fontTools").setLevel(logging.WARNING)
    # hinting=True keeps the font's hints: stripping them from a CJK font costs more CPU than the whole layout
    return HTML(string=html, base_url=str(FONT_DIR)).write_pdf(hinting=True)
