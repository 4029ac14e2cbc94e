"""Every word a person reads is in both catalogs, translated, and within the SMS budget."""

from __future__ import annotations

import ast
import shutil
import statistics
from pathlib import Path

import pytest
from flask import Flask

from hotline_bridge.channels.sms.segments import (
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
