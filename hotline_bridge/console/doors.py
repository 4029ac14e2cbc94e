"""Seeing the line as people will, through its real doors: signed in-process requests to the SMS
and voice webhooks, and a GET of the kiosk page.

Nothing here calls a renderer: it walks the flow as a person would (the menu keys come from the
flow file, the labels from the directory) and reads what the webhooks and the kiosk answer, so it
shows exactly what a phone or the lobby screen would. Every request is marked as a trial
(``counters.DRY_RUN``), so none is counted as use.
"""

from __future__ import annotations

import re
import secrets
from collections import deque
from dataclasses import dataclass, field
from xml.etree import ElementTree

from flask import Flask

from hotline_bridge.channels.sms.segments import cost
from hotline_bridge.channels.sms.simulator import SmsSimulator
from hotline_bridge.channels.voice.render import language_keys
from hotline_bridge.channels.voice.simulator import Phone
from hotline_bridge.counters import DRY_RUN
from hotline_bridge.directory.models import Service, Site, site_for_number
from hotline_bridge.directory.store import open_db
from hotline_bridge.engine.flow import Flow, Position

# How many pages of a list are followed to find a service.
MAX_PAGES = 6
# The cookie Flask keeps the SMS conversation in (set in create_app).
SMS_COOKIE = "s"
# How many exchanges a trial conversation keeps on screen.
TRIAL_LOG = 12


@dataclass
class Seen:
    """What one channel shows of a service: its words, and the SMS cost when it is a text."""

    text: str
    encoding: str = ""
    segments: int = 0
    steps: list[str] = field(default_factory=list)


def path_to_list(flow: Flow, category: str, channel: str) -> list[str] | None:
    """Return the keys that lead from the flow's start to the list of ``category``."""
    queue: deque[tuple[str, list[str]]] = deque([(flow.start, [])])
    seen = {flow.start}
    while queue:
        node_id, keys = queue.popleft()
        node = flow.node(node_id)
        if node.type == "list" and category in node.categories:
            return keys
        for option in node.options:
            if option.goto and option.goto not in seen:
                seen.add(option.goto)
                queue.append((option.goto, [*keys, option.key]))
    return None


def key_after(text: str, label: str) -> str | None:
    """Return the key a reply offers for ``label``: the first digit after the label (SMS lists
    read "1 Label", the voice line "Label: press 1")."""
    sms = re.search(rf"^(\d+) {re.escape(label)}", text, re.MULTILINE)
    if sms:
        return sms[1]
    at = text.find(label)
    found = re.search(r"\d", text[at + len(label) :]) if at >= 0 else None
    return found[0] if found else None


def _sms_number(site: Site) -> str:
    return site.numbers[0] if site.numbers else ""


def sms_detail(app: Flask, flow: Flow, site: Site, service: Service, lang: str) -> Seen:
    """Text the line to the service's detail, as a person would; return the detail reply."""
    simulator = SmsSimulator(app, _sms_number(site))
    keys = path_to_list(flow, service.category, "sms")
    if keys is None:
        return Seen("")
    # The first message opens the main menu in the site's language; the second chooses ours.
    steps = [lang.upper(), lang.upper()]
    for word in steps:
        _status, text = simulator.send(word)
    for key in keys:
        _status, text = simulator.send(key)
        steps.append(key)
    for _page in range(MAX_PAGES):
        choice = key_after(text, service.label(lang))
        if choice:
            _status, text = simulator.send(choice)
            size = cost(text)
            return Seen(text, size.encoding, size.segments, [*steps, choice])
        _status, text = simulator.send(flow.more_key)
        steps.append(flow.more_key)
    return Seen("")


def _language_key(app: Flask, to: str, lang: str) -> str:
    """Return the key that chooses ``lang`` at the greeting of the site the number ``to``
    reaches: that site's language is offered first, then the others calls are read in."""
    setup = app.extensions["hotline_bridge.voice"]
    with open_db(app) as db:
        first = setup.spoken(site_for_number(db, to).default_language)
    keys = language_keys(setup.languages, first)
    return {chosen: key for key, chosen in keys.items()}[lang]


def voice_detail(
    app: Flask, flow: Flow, site: Site, service: Service, lang: str, details_label: str
) -> Seen:
    """Call the line to the service, as a person would; return what the line reads about it
    (for a language no voice speaks, what its callers hear: the call in its fallback)."""
    spoken = app.extensions["hotline_bridge.voice"].spoken(lang)
    if spoken != lang:
        lang = spoken
        details_label = app.extensions["hotline_bridge"].catalogs.text(lang, "option.details")
    to = _sms_number(site)
    phone = Phone(app, to=to or None, dry_run=True)
    keys = path_to_list(flow, service.category, "voice")
    if keys is None:
        return Seen("")
    phone.dial_in()
    steps = [_language_key(app, to, lang), *keys]
    for key in steps:
        phone.press(key)
    for _page in range(MAX_PAGES):
        choice = key_after(phone.text, service.label(lang))
        if choice:
            phone.press(choice)
            read = [phone.text]
            details = key_after(phone.text, details_label)
            if details:
                phone.press(details)
                read.append(phone.text)
            return Seen("\n\n".join(read), steps=[*steps, choice])
        phone.press(flow.more_key)
        steps.append(flow.more_key)
    return Seen("")


def kiosk_card(app: Flask, flow: Flow, site: Site, service: Service, lang: str) -> str:
    """GET the service's kiosk page and return its main content as the lobby screen shows it."""
    detail = next((n.id for n in flow.nodes.values() if n.type == "detail"), None)
    if detail is None:
        return ""
    where = Position(detail, item=service.id).encode()
    page = app.test_client().get(f"/kiosk/{site.id}/{lang}/{where}", environ_base={DRY_RUN: True})
    html = page.get_data(as_text=True)
    main = re.search(r"<main[^>]*>(.*?)</main>", html, re.DOTALL)
    return _nested(main[1], lang) if main else ""


def _nested(html: str, prefix: str) -> str:
    """Fit a kiosk page's content inside a console page: its headings below the console's own,
    its ids made unique, and its sections no longer landmarks of the console page."""
    html = re.sub(r"<(/?)h([1-4])\b", lambda m: f"<{m[1]}h{int(m[2]) + 3}", html)
    html = re.sub(r'\b(id|aria-labelledby|aria-describedby)="', rf'\1="{prefix}-', html)
    return re.sub(r"<(/?)section\b", r"<\1div", html)


# --- Trying the line -------------------------------------------------------------------------


def text_line(app: Flask, site: Site, state: dict[str, object], body: str) -> dict[str, object]:
    """Send one text to the SMS webhook in the trial conversation ``state``; return the state."""
    simulator = SmsSimulator(app, _sms_number(site))
    cookie = state.get("cookie")
    if isinstance(cookie, str):
        simulator.client.set_cookie(SMS_COOKIE, cookie)
    _status, reply = simulator.send(body)
    kept = simulator.client.get_cookie(SMS_COOKIE)
    size = cost(reply)
    log = [*_log(state), {"from": "you", "text": body}]
    log.append(
        {"from": "line", "text": reply, "encoding": size.encoding, "segments": size.segments}
    )
    return {"cookie": kept.value if kept else None, "log": log[-TRIAL_LOG:]}


def _log(state: dict[str, object]) -> list[dict[str, object]]:
    log = state.get("log")
    return list(log) if isinstance(log, list) else []


def call_line(
    app: Flask, site: Site, state: dict[str, object], key: str | None
) -> dict[str, object]:
    """Ring the voice line (``key`` None), press a key, or stay silent (``key`` empty)."""
    phone = Phone(app, to=_sms_number(site) or None, dry_run=True)
    twiml = state.get("twiml")
    if key is None or not isinstance(twiml, str):
        phone.fields["CallSid"] = "CA" + secrets.token_hex(16)
        phone.dial_in()
        log: list[dict[str, object]] = [{"from": "you", "text": "call"}]
    else:
        phone.fields["CallSid"] = str(state.get("sid"))
        phone.twiml = ElementTree.fromstring(twiml)
        log = [*_log(state), {"from": "you", "text": key or "…"}]
        if phone.listening:
            phone.press(key) if key else phone.wait()
    said = [{"from": "line", "text": s.text, "language": s.language} for s in phone.said]
    if phone.hung_up:
        said.append({"from": "line", "event": "hangup"})
    if phone.dialing is not None:
        said.append({"from": "line", "event": "dial", "number": (phone.dialing.text or "").strip()})
    return {
        "sid": phone.fields["CallSid"],
        "twiml": None if phone.twiml is None else ElementTree.tostring(phone.twiml, "unicode"),
        "listening": phone.listening,
        "log": [*log, *said][-TRIAL_LOG:],
    }
