"""A text conversation (SMS, WhatsApp): keywords, language and the first words, on the engine.

Given where a conversation stands and one message, ``answer`` returns what to show and the new
state. It reads the message once and keeps nothing of it: the state holds only the language, the
position and whether the person opted out. Each text channel renders the outcome its own way
(SMS within its segment budget, WhatsApp with its own safety tips).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from hotline_bridge.engine.danger import Danger
from hotline_bridge.engine.flow import Flow, Position, decode
from hotline_bridge.engine.keywords import Keyword, Keywords
from hotline_bridge.engine.phones import display_number
from hotline_bridge.engine.screen import Notice, Screen
from hotline_bridge.engine.step import (
    CHOOSE_BACK,
    CHOOSE_HOME,
    CHOOSE_MORE,
    Capabilities,
    Directory,
    as_zip,
    enter_zip,
    respond,
    show,
)
from hotline_bridge.engine.wordlists import LanguageGuesser

# Keyword meanings that are choices in the flow.
_CHOICES = {"home": CHOOSE_HOME, "more": CHOOSE_MORE, "back": CHOOSE_BACK}
# Carrier keywords answered with the program's own wording (see the channel's renderer).
COMPLIANCE = frozenset({"stop", "start", "help"})
# The event counted for a message that suggests danger (or is 911, EMERGENCY): per day,
# channel and language only, like every count; nothing says which message or which words.
DANGER_EVENT = "danger"


@dataclass(frozen=True)
class State:
    """Where a conversation stands; ``lang`` is None until the person has written once."""

    lang: str | None = None
    position: str | None = None
    stopped: bool = False
    site: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What to answer: a screen, or a compliance reply (``stop``, ``start``, ``help``), or
    nothing (``screen`` and ``compliance`` both None); the new state; the event to count.
    ``forget``: the person asked that the copies of the conversation be deleted, which the
    channel does (the engine does no I/O) before it writes the confirmation."""

    state: State
    event: str
    lang: str
    screen: Screen | None = None
    compliance: str | None = None
    forget: bool = False


@dataclass(frozen=True)
class Conversation:
    """What answering a message needs: the flow, word lists, the site's directory and default
    language, the languages offered and what the channel can do."""

    flow: Flow
    keywords: Keywords
    guesser: LanguageGuesser
    danger: Danger
    directory: Directory
    caps: Capabilities
    languages: Sequence[str]
    default_language: str
    # The message was a site's own keyword, which starts the conversation over there.
    named_site: bool = False


def answer(c: Conversation, state: State, body: str) -> Outcome:
    """Return the answer to ``body`` in a conversation at ``state``."""
    keyword = c.keywords.match(body)
    meaning = keyword.meaning if keyword else None
    lang = _language(c, state, keyword, body)
    if meaning in COMPLIANCE:
        return _compliance(c, state, meaning or "", lang)
    if meaning == "delete":  # also after STOP: the copies go, though nothing is answered
        kept = state if state.stopped else replace(state, lang=lang)
        return Outcome(kept, "delete", lang, forget=True)
    if state.stopped:
        return Outcome(state, "silenced", lang)
    if meaning == "emergency":  # 911, EMERGENCY, EMERGENCIA: straight to the emergency screen
        return _emergency(c, lang)
    heard = keyword is None and not bare_number(body) and c.danger.found_in(body)
    notices = _signal(c) if heard else ()
    return _danger(_answer(c, state, body, keyword, lang, notices), notices)


def bare_number(body: str) -> bool:
    """Return whether ``body`` is a number alone ("1", " 12 "), which says nothing of danger
    nor of a language: no number is a word of danger but 911, which is a keyword, answered
    before (a number holding it is still heard in full). ``tests/engine`` holds the danger
    file to this for every number up to four digits."""
    choice = body.strip()
    return choice.isascii() and choice.isdigit() and "911" not in choice


def _danger(outcome: Outcome, notices: tuple[Notice, ...]) -> Outcome:
    """Count an answer to a message that suggests danger as such."""
    return replace(outcome, event=DANGER_EVENT) if notices else outcome


def _answer(
    c: Conversation,
    state: State,
    body: str,
    keyword: Keyword | None,
    lang: str,
    notices: tuple[Notice, ...],
) -> Outcome:
    """The answer to a message that is no carrier keyword, after the calm line if any."""
    meaning = keyword.meaning if keyword else None
    fresh = state.lang is None or c.named_site
    if fresh or meaning in {"greeting", "home"}:
        return _first(c, body, lang, notices, started=bool(meaning) or not fresh)
    position = decode(c.flow, state.position)
    if meaning == "language" and keyword is not None:
        screen = show(c.flow, position, keyword.lang, c.directory, c.caps)
        return _at(screen, keyword.lang, "language")
    choice = _CHOICES.get(meaning or "", body)
    turn = respond(c.flow, position, choice, lang, c.directory, c.caps)
    screen = turn.screen
    if notices and not turn.understood:
        # Words that suggest danger are heard, not "not understood": the calm line stands in
        # for that notice above the same screen, or above the main menu (as for a first
        # message) where the channel has no room for both.
        others = tuple(n for n in screen.notices if n.key != "notice.unknown")
        screen = replace(screen, notices=(*notices, *others))
        if c.caps.fits is not None and not c.caps.fits(screen, lang):
            return _first(c, body, lang, notices, started=True)
        return _at(screen, lang, turn.event)
    if notices:
        screen = replace(screen, notices=(*notices, *screen.notices))
    return _at(screen, lang, turn.event)


def _signal(c: Conversation) -> tuple[Notice, ...]:
    """The calm line for a message that suggests danger: the 24/7 line and 911, no more."""
    line = c.directory.service(c.flow.hotline)
    emergency = c.directory.service(c.flow.emergency)
    params = {
        "phone": display_number(line.phone if line else None),
        "emergency": display_number(emergency.phone if emergency else None),
    }
    return (Notice("notice.signal", params),)


def emergency_node(flow: Flow) -> str:
    """Return the node that connects to the flow's emergency line."""
    for name, node in flow.nodes.items():
        if node.type == "connect" and node.service == flow.emergency:
            return name
    return flow.start


def _emergency(c: Conversation, lang: str) -> Outcome:
    """911, EMERGENCY or EMERGENCIA as a message: the emergency screen, after the calm line
    that also gives the 24/7 line."""
    position = Position(emergency_node(c.flow))
    screen = show(c.flow, position, lang, c.directory, c.caps, _signal(c))
    return _at(screen, lang, DANGER_EVENT)


def _at(screen: Screen, lang: str, event: str) -> Outcome:
    return Outcome(State(lang, screen.position.encode()), event, lang, screen)


def _first(
    c: Conversation, body: str, lang: str, notices: tuple[Notice, ...], *, started: bool
) -> Outcome:
    """A conversation's first message (or a greeting, or MENU): a ZIP code finds help near it,
    anything else gets the main menu, after the calm line when the message suggests danger."""
    start = Position(c.flow.start)
    code = None if started else as_zip(body)
    if code is not None and c.flow.zip_node:
        turn = enter_zip(c.flow, start, code, lang, c.directory, c.caps)
        return _at(turn.screen, lang, turn.event)
    screen = show(c.flow, start, lang, c.directory, c.caps, notices)
    return _at(screen, lang, f"step:{c.flow.start}")


def _language(c: Conversation, state: State, keyword: Keyword | None, body: str) -> str:
    """Return the reply's language.

    A language keyword (``ES``) chooses it, also as a first message; a keyword written in
    Spanish answers in Spanish; a first message is answered in the language its words are
    written in, else the site's default; later, free text clearly written in another language
    than the conversation's switches to it. A first message whose words do not tell, but
    that holds a phrase suggesting danger, is answered in that phrase's language.
    """
    if keyword is not None and keyword.meaning == "emergency" and not _letters(body):
        return state.lang or c.default_language  # 911 is written the same in every language
    if keyword is not None and keyword.lang in c.languages:
        if keyword.meaning == "language" or state.lang is None or keyword.lang != "en":
            return keyword.lang
        return state.lang
    if state.lang is None:
        guessed = c.guesser.guess(body, c.languages)
        return guessed or c.danger.language_of(body, c.languages) or c.default_language
    if bare_number(body):
        return state.lang  # a menu choice: no words to tell a language by
    return c.guesser.guess(body, c.languages, clearly=True) or state.lang


def _letters(text: str) -> bool:
    return any(ch.isalpha() for ch in text)


def _compliance(c: Conversation, state: State, meaning: str, lang: str) -> Outcome:
    """STOP, START and HELP, as US carriers require of a short code."""
    start = Position(c.flow.start).encode()
    if meaning == "stop":
        return Outcome(State(lang, None, stopped=True), "stop", lang, compliance="stop")
    if meaning == "start":
        screen = show(c.flow, Position(c.flow.start), lang, c.directory, c.caps)
        return Outcome(State(lang, start), "start", lang, screen, compliance="start")
    kept = replace(state, lang=lang, position=state.position or start)
    return Outcome(kept, "help", lang, compliance="help")
