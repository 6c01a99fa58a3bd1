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


def test_the_catalogues_hold_every_message_of_the_code(tmp_path: Path) -> None:
    """Extract the messages afresh (Django's makemessages, in a copy of the
    project) and compare: a new or changed string in the code or templates
    that nobody extracted and translated fails here, not in front of a
    French-speaking resident."""
    import os
    import shutil
    import subprocess
    import sys

    if shutil.which("xgettext") is None:
        if os.environ.get("COPROD_REQUIRE_SERVICES"):
            pytest.fail("GNU gettext (xgettext) is needed: apt-get install gettext")
        pytest.skip("GNU gettext (xgettext) is not installed")
    root = Path(settings.BASE_DIR)
    copy = tmp_path / "project"
    for name in ("coprod", "surveys", "analytics", "templates", "locale"):
        shutil.copytree(root / name, copy / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    shutil.copy(root / "manage.py", copy / "manage.py")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "coprod.settings.local", "PYTHONPATH": str(copy)}
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "fr", "--no-obsolete", "--no-location"],
        cwd=copy,
        env=env,
        check=True,
        capture_output=True,
    )
    fresh = {(c, m) for c, m, _strs in po_entries(copy / "locale" / "fr" / "LC_MESSAGES" / "django.po")}
    committed = {(c, m) for c, m, _strs in po_entries(LOCALE / "fr" / "LC_MESSAGES" / "django.po")}
    assert fresh - committed == set(), "messages not in the catalogues: run make messages and translate them"
    assert committed - fresh == set(), "catalogues hold messages the code no longer has: run make messages"
