"""Tests of the SMS channel, and how they read the SMS line's own wording."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from hotline_bridge.engine.catalogs import Words


@dataclass(frozen=True)
class SmsWords:
    """Catalog lookups as the SMS line words them: its own variant of a key where the catalogs
    have one (``sms.option.talk``, shorter to keep a reply to two segments), else the shared."""

    words: Words

    def t(self, key: str, /, **params: object) -> str:
        return self.words.pick("sms", key, **params)


def sms_words(app: Flask, lang: str) -> SmsWords:
    """Return the SMS line's wording in ``lang``."""
    return SmsWords(app.extensions["hotline_bridge"].catalogs.bind(lang))
