"""Regenerates the embedded fonts in bot/documents/fonts/ (run by hand, not at set-up).

Why committed fonts: no CJK font is installed on a fresh machine and the PDF must print the same everywhere.
The one well-kept Simplified Chinese font on PyPI that installs beside numpy < 1.25 is Noto Sans CJK in
manimgx-fonts-cjk, a variable CFF2 collection; PDF needs static CFF, and instancing takes minutes, so it is done
once here: the SC face at weights 400 and 700, subset to GB 2312 plus every character the catalog uses.
Run it again when staff write a character the fonts lack (tests/test_documents.py says which):

    .venv/bin/pip install manimgx-fonts-cjk && .venv/bin/python -m bot.documents.make_fonts
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

from bot.documents.pdf import FONT_DIR
from bot.settings import SCENARIOS_DIR

WEIGHTS = {400: "NotoSansSC-Regular.otf", 700: "NotoSansSC-Bold.otf"}
SC_FACE = "Noto Sans CJK SC"


def wanted_characters(catalog_dir: Path) -> set[str]:
    chars: set[str] = set()
    for b1 in range(0xA1, 0xF8):  # GB 2312: every common Simplified Chinese character
        for b2 in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                chars.add(bytes([b1, b2]).decode("gb2312"))
    ranges = [(0x20, 0x7F), (0x2010, 0x2070), (0x2190, 0x2200), (0x2460, 0x24FF), (0x25A0, 0x2600),
              (0x3000, 0x3040), (0xFF00, 0xFFF0)]
    chars |= {chr(c) for low, high in ranges for c in range(low, high)} | set("✓✔☐☑×÷·")
    for path in catalog_dir.rglob("*.yml"):
        chars |= set(path.read_text(encoding="utf-8"))
    return {c for c in chars if c.isprintable() and ord(c) < 0x10000}


def main() -> int:
    import manimgx_fonts_cjk
    from fontTools import subset
    from fontTools.ttLib import TTCollection
    from fontTools.varLib import instancer

    source = Path(manimgx_fonts_cjk.__file__).parent / "NotoSansCJK-VF.otf.ttc"
    unicodes = [ord(c) for c in wanted_characters(SCENARIOS_DIR)]
    for weight, name in WEIGHTS.items():
        face = next(f for f in TTCollection(str(source)).fonts if f["name"].getDebugName(1) == SC_FACE)
        static = instancer.instantiateVariableFont(face, {"wght": weight}, static=True, downgradeCFF2=True)
        options = subset.Options()
        options.layout_features, options.name_IDs, options.notdef_outline = ["*"], ["*"], True
        options.drop_tables += ["VORG", "vhea", "vmtx"]
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=unicodes)
        subsetter.subset(static)
        subset.save_font(static, str(FONT_DIR / name), options)
        print(f"{name}: {len(unicodes)} characters", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
