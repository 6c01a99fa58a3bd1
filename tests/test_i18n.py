"""The interface speaks English, French, German, Danish and Czech: every
message translated, and the compiled catalogues match their sources."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "locale"
LANGUAGES = ["fr", "de", "da", "cs"]


ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: ESCAPES.get(m.group(1), m.group(1)), text)


def po_entries(path: Path) -> list[tuple[str, str, list[str]]]:
    """(context, msgid, msgstrs) of every entry but the header."""
    entries: list[tuple[str, str, list[str]]] = []
    current: dict[str, list[str]] = {}
    key = ""

    def flush() -> None:
        if current.get("msgid") and "".join(current["msgid"]):
            strs = [unescape("".join(v)) for k, v in sorted(current.items()) if k.startswith("msgstr")]
            context = unescape("".join(current.get("msgctxt", [])))
            entries.append((context, unescape("".join(current["msgid"])), strs))

    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d\])?) "(.*)"$', line)
        if match:
            key, text = match.groups()
            starts_entry = key in {"msgctxt", "msgid"}
            if starts_entry and any(k.startswith("msgstr") for k in current):
                flush()
                current = {}
            current.setdefault(key, []).append(text)
        elif line.startswith('"') and key:
            current[key].append(line[1:-1])
    flush()
    return entries


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_interface_message_is_translated(language: str) -> None:
    entries = po_entries(LOCALE / language / "LC_MESSAGES" / "django.po")
    assert len(entries) > 100
    untranslated = [msgid for _ctx, msgid, strs in entries if not strs or not all(strs)]
    assert untranslated == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_matches_its_source(language: str) -> None:
    directory = LOCALE / language / "LC_MESSAGES"
    with (directory / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for context, msgid, strs in po_entries(directory / "django.po"):
        key = f"{context}\x04{msgid}" if context else msgid
        if len(strs) > 1:
            assert (
                compiled.npgettext(context, msgid, msgid, 5)
                if context
                else compiled.ngettext(msgid, msgid, 5)
            ), key
            continue
        got = compiled.pgettext(context, msgid) if context else compiled.gettext(msgid)
        assert got == strs[0], f"{language}: '{key}' is stale in django.mo; run make messages"
