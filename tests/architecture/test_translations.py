"""Every message the code and templates show has a Chinese translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "tongban/web/locale/zh_CN/LC_MESSAGES/messages.po"


def _keywords() -> dict[str, None]:
    makefile = (ROOT / "Makefile").read_text()
    block = makefile.split("KEYWORDS =", 1)[1].split("\nPO =", 1)[0]
    names = [w for w in block.replace("\\", " ").split() if w != "-k"]
    return dict.fromkeys(names)


def _extracted() -> set[str]:
    method_map = [("tongban/**.py", "python"), ("tongban/web/templates/**.html", "jinja2")]
    ids: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=method_map, keywords=_keywords()
    ):
        ids.add(message if isinstance(message, str) else message[0])
    return ids


def test_every_shown_message_has_a_chinese_translation() -> None:
    catalog = read_po(PO.open("rb"), locale="zh_CN")
    translated = {m.id for m in catalog if m.id and m.string}
    missing = sorted(_extracted() - translated)
    assert missing == [], "run `make messages` and translate these"


def test_catalog_has_no_empty_entries() -> None:
    catalog = read_po(PO.open("rb"), locale="zh_CN")
    assert [m.id for m in catalog if m.id and not m.string] == []
