"""Every user-facing string has a Simplified Chinese translation that keeps its placeholders."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "translations" / "zh_Hans" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _catalog():
    with CATALOG.open("rb") as handle:
        return read_po(handle, locale="zh_Hans")


def test_catalog_covers_every_string_in_the_code(tmp_path):
    template = tmp_path / "messages.pot"
    subprocess.run(
        [
            str(Path(sys.executable).parent / "pybabel"),
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-o",
            str(template),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with template.open("rb") as handle:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    catalog = _catalog()
    have = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
    missing = sorted(wanted - have)
    assert not missing, f"run `make translations-update` and translate: {missing[:10]}"


@pytest.mark.parametrize("message", [m for m in _catalog() if m.id], ids=lambda m: str(m.id)[:40])
def test_each_message_is_translated_with_its_placeholders(message):
    ids = [message.id] if isinstance(message.id, str) else list(message.id)
    strings = [message.string] if isinstance(message.string, str) else list(message.string)
    assert all(strings), f"untranslated: {message.id!r}"
    assert not message.fuzzy, f"fuzzy: {message.id!r}"
    wanted = set(PLACEHOLDER.findall(ids[-1])) | set(PLACEHOLDER.findall(ids[0]))
    for string in strings:
        assert set(PLACEHOLDER.findall(string)) <= wanted, (message.id, string)
        assert set(PLACEHOLDER.findall(ids[0])) <= set(PLACEHOLDER.findall(string)) | (
            {"num", "n"} if len(ids) > 1 else set()
        ), (message.id, string)
