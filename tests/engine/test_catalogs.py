"""Every word a person reads is in both catalogs, translated, and within the SMS budget."""

from __future__ import annotations

import ast
import shutil
import statistics
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline_bridge.channels.sms.segments import (
    GSM7,
    GSM7_EXTENDED,
    MAX_SEGMENTS,
    MEDIAN_SEGMENTS,
    cost,
)
from hotline_bridge.checks import sms_inventory, used_keys
from hotline_bridge.engine.catalogs import LANGUAGES, CatalogError, Catalogs, audit, po_path
from hotline_bridge.settings import PROJECT_ROOT

LOCALES = PROJECT_ROOT / "locales"

# Entries that are the same in both languages on purpose.
SAME_IN_BOTH = {"sms.tty", "print.hotline", "console.no"}  # "no" is the same word in both


def test_every_key_in_use_is_translated_in_both_languages(app: Flask) -> None:
    required = used_keys() | app.extensions["hotline_bridge"].flow.message_keys()
    assert len(required) > 30
    assert [str(p) for p in audit(LOCALES, required)] == []


def test_code_uses_keys_that_the_extractor_can_see() -> None:
    keys = used_keys()
    assert {"notice.unknown", "sms.help", "sms.stop", "failsafe.message", "menu.main"} <= keys


def test_spanish_is_not_a_copy_of_english() -> None:
    catalogs = Catalogs(LOCALES)
    keys = used_keys() - SAME_IN_BOTH
    copied = [k for k in keys if catalogs.text("en", k) == catalogs.text("es", k)]
    assert copied == []


def test_spanish_is_written_with_accents() -> None:
    text = po_path(LOCALES, "es").read_text(encoding="utf-8")
    assert all(ch in text for ch in "áéíóúñ¿")


@pytest.fixture
def locales_copy(tmp_path: Path) -> Path:
    target = tmp_path / "locales"
    shutil.copytree(LOCALES, target)
    return target


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda s: s.replace('msgstr "Ayuda cerca de usted"', 'msgstr ""'), "empty"),
        (lambda s: s.replace('msgid "option.local"', '#, fuzzy\nmsgid "option.local"'), "fuzzy"),
        (
            lambda s: s.replace('msgid "option.local"\nmsgstr "Ayuda cerca de usted"\n', ""),
            "missing",
        ),
        (lambda s: s.replace("Llame al %(number)s", "Llame al %(numero)s"), "placeholders"),
    ],
)
def test_audit_catches_gaps(locales_copy: Path, edit, reason: str) -> None:  # type: ignore[no-untyped-def]
    path = po_path(locales_copy, "es")
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    problems = [str(p) for p in audit(locales_copy, used_keys())]
    assert problems and all(p.startswith("es: ") for p in problems)
    assert reason in " ".join(problems)


def test_missing_compiled_catalog_refuses_start(locales_copy: Path) -> None:
    (locales_copy / "es" / "LC_MESSAGES" / "messages.mo").unlink()
    with pytest.raises(CatalogError, match="make catalogs"):
        Catalogs(locales_copy)


def test_missing_key_raises_instead_of_showing_the_key() -> None:
    with pytest.raises(CatalogError):
        Catalogs(LOCALES).text("es", "no.such.key")


def test_every_sms_reply_is_within_the_segment_budget(app: Flask) -> None:
    replies = sms_inventory(app)
    for lang in LANGUAGES:
        sizes = [cost(r.text).segments for r in replies if r.lang == lang]
        assert len(sizes) > 20
        assert max(sizes) <= MAX_SEGMENTS
        assert statistics.median(sizes) <= MEDIAN_SEGMENTS


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("Hello", "GSM-7", 1),
        ("x" * 160, "GSM-7", 1),
        ("x" * 161, "GSM-7", 2),
        ("x" * 306, "GSM-7", 2),
        ("x" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # escape characters count twice
        ("€" * 81, "GSM-7", 2),
        ("ñé Ñ ü", "GSM-7", 1),  # in the GSM alphabet
        ("Línea", "UCS-2", 1),  # í is not
        ("í" * 70, "UCS-2", 1),
        ("í" * 71, "UCS-2", 2),
        ("í" * 134, "UCS-2", 2),
        ("í" * 135, "UCS-2", 3),
        ("😀" * 35, "UCS-2", 1),  # an emoji is two UTF-16 units
        ("😀" * 36, "UCS-2", 2),
        # A character never straddles two segments, as Twilio counts them.
        ("a" * 152 + "€" + "a" * 152, "GSM-7", 3),
        ("€" * 153, "GSM-7", 3),
        ("€" * 152, "GSM-7", 2),
        ("😀" * 67, "UCS-2", 3),
        ("😀" * 66, "UCS-2", 2),
        ("a" * 153 + "€" + "a" * 151, "GSM-7", 2),
    ],
)
def test_segment_counting(text: str, encoding: str, segments: int) -> None:
    size = cost(text)
    assert (size.encoding, size.segments) == (encoding, segments)


def _cost_by_character(text: str) -> tuple[str, int, int]:
    """Count a message one character at a time, as the network splits it: the plain rule
    that ``cost`` must agree with."""
    if all(ch in GSM7 for ch in text):
        encoding, single, multi = "GSM-7", 160, 153
        sizes = [2 if ch in GSM7_EXTENDED else 1 for ch in text]
    else:
        encoding, single, multi = "UCS-2", 70, 67
        sizes = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    if sum(sizes) <= single:
        return encoding, sum(sizes), 1
    segments, used = 1, 0
    for size in sizes:
        if used + size > multi:
            segments, used = segments + 1, 0
        used += size
    return encoding, sum(sizes), segments


# Text near the segment boundaries: plain and escaped GSM-7, accents, emoji, lone surrogates.
_MESSAGE_CHARACTERS = st.sampled_from(["a", " ", "\n", "€", "[", "ñ", "í", "😀", "\ud800"])


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(
    st.lists(st.tuples(_MESSAGE_CHARACTERS, st.integers(1, 160)), max_size=5).map(
        lambda runs: "".join(ch * n for ch, n in runs)
    )
    | st.text(max_size=300)
)
def test_segment_counting_agrees_with_counting_each_character(text: str) -> None:
    size = cost(text)
    assert (size.encoding, size.units, size.segments) == _cost_by_character(text)


def _reasons_in_code() -> dict[str, set[str]]:
    """Return every ``Reason("key", english, **values)`` the importers build: key -> values."""
    found: dict[str, set[str]] = {}
    for path in (PROJECT_ROOT / "hotline_bridge").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "Reason"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                key = f"import.{node.args[0].value}"
                found[key] = {k.arg for k in node.keywords if k.arg}
    return found


def test_every_import_reason_is_said_in_both_languages_with_its_values() -> None:
    """The console says an importer's reason from its catalog key: one missing there, or one
    that drops a value, would show the English or a bare key to a reader of the console."""
    reasons = _reasons_in_code()
    assert {"import.detail_fits", "import.name_word", "import.zip"} <= reasons.keys()
    catalogs = Catalogs(LOCALES)
    for key, values in reasons.items():
        assert catalogs.has(key), key
        for lang in LANGUAGES:
            said = catalogs.text(lang, key, **{name: f"<{name}>" for name in values})
            assert all(f"<{name}>" in said for name in values), (lang, key, said)
