"""Every string the code marks for translation has a Simplified Chinese translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]


def _marked_strings() -> set[str]:
    """What `make translations-update` extracts (same babel.cfg, same keywords)."""
    with ROOT.joinpath("babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, keywords=keywords
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def _translated(locale: str) -> set[str]:
    path = ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        catalog = read_po(po)
    done = set()
    for message in catalog:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.id and all(strings) and not message.fuzzy:
            done.add(message.id[0] if isinstance(message.id, tuple) else message.id)
    return done


def test_every_marked_string_is_translated_to_chinese():
    missing = _marked_strings() - _translated("zh_Hans")
    assert not missing, f"run `make translations-update` and translate: {sorted(missing)}"
