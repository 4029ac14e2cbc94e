"""Proving that a printed number and keyword reach their site, through the app itself.

A card is only as good as the text it tells a person to send. Before anything is printed, the
keyword is texted to the number as a signed Twilio webhook through the app in-process (the same
route, flow, directory and catalogs that will answer the person), and the reply must be the site's
own main menu in the card's language. Trying the line this way adds nothing to the usage counts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from flask import Flask

from hotline_bridge.channels.sms import render as sms_replies
from hotline_bridge.channels.sms.sessions import conversation_cookie
from hotline_bridge.channels.sms.simulator import SmsSimulator
from hotline_bridge.channels.voice.simulator import Phone, spoken_text
from hotline_bridge.directory.models import Site
from hotline_bridge.directory.reader import SiteDirectory
from hotline_bridge.directory.store import open_db
from hotline_bridge.engine.flow import Position
from hotline_bridge.engine.keywords import normalize
from hotline_bridge.engine.step import show
from hotline_bridge.runtime import Runtime


@dataclass(frozen=True)
class Proven:
    """A number and keyword whose first reply is ``site``'s main menu in ``lang``."""

    site: str
    lang: str
    number: str
    keyword: str


@dataclass(frozen=True)
class Answer:
    """What the app answered to one test message: the reply, and where the conversation stands."""

    text: str
    site: str | None
    lang: str | None


def send(app: Flask, number: str, keyword: str) -> Answer:
    """Text ``keyword`` to ``number`` as a fresh conversation and return the app's answer."""
    simulator = SmsSimulator(app, number)
    status, text = simulator.send(keyword)
    cookie = simulator.client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    state = _session(app, cookie.value) if cookie is not None else {}
    if status != 200:
        return Answer("", None, None)
    return Answer(text, state.get("s"), state.get("l"))


def _session(app: Flask, value: str) -> dict[str, str]:
    try:
        return dict(conversation_cookie(app).signer.loads(value))
    except Exception:  # a cookie the app did not sign proves nothing
        return {}


def main_menu(app: Flask, site: Site, lang: str) -> str:
    """Return the first reply a person texting ``site`` in ``lang`` should get."""
    rt: Runtime = app.extensions["hotline_bridge"]
    with open_db(app) as db:
        words = rt.catalogs.bind(lang)
        directory = SiteDirectory(db, site, dt.datetime.now(dt.UTC), rt.discreet)
        caps = sms_replies.capabilities(rt.catalogs, rt.flow, site)
        screen = show(rt.flow, Position(rt.flow.start), lang, directory, caps)
        return sms_replies.reply(words, rt.flow, site, screen)


def reaches(app: Flask, site: Site, lang: str, number: str, keyword: str) -> bool:
    """Return whether ``keyword`` texted to ``number`` opens ``site``'s main menu in ``lang``."""
    answer = send(app, number, keyword)
    return (
        answer.site == site.id and answer.lang == lang and answer.text == main_menu(app, site, lang)
    )


def answers_calls(app: Flask, site: Site, number: str) -> bool:
    """Return whether a call to ``number`` is greeted with ``site``'s own welcome (not the
    fail-safe, not another site's), so the card can say "call" it."""
    rt: Runtime = app.extensions["hotline_bridge"]
    phone = Phone(app, to=number, dry_run=True)
    menu = phone.dial_in().find("Gather")
    if phone.status != 200 or menu is None:
        return False
    lang = site.default_language
    program = site.program_name(lang) or rt.catalogs.text(lang, "program.name")
    welcome = rt.catalogs.text(lang, "voice.welcome", program=program)
    return any(spoken_text(say) == welcome for say in menu.iter("Say"))


def candidates(app: Flask, site: Site, lang: str) -> Iterator[str]:
    """Yield the words a card could print, best first: the site's own keywords, then the
    greetings of ``lang`` (which reach a site through its own number)."""
    rt: Runtime = app.extensions["hotline_bridge"]
    seen: set[str] = set()
    for word in (*site.keywords, *rt.keywords.words("greeting", lang)):
        if normalize(word) not in seen:
            seen.add(normalize(word))
            yield word


def prove(app: Flask, site: Site, lang: str, keywords: Sequence[str] = ()) -> Proven | None:
    """Return the first of the site's numbers and of ``keywords`` (default: every candidate)
    proven to open ``site``'s menu in ``lang``, or None."""
    for number in site.numbers:
        for keyword in keywords or tuple(candidates(app, site, lang)):
            if reaches(app, site, lang, number, keyword):
                return Proven(site.id, lang, number, keyword)
    return None
