"""Rendering the flow as TwiML for the voice line, one function per node type.

Every word comes from the catalogs; this module decides which entries are said, in which voice,
and which keys lead where. A call's state (position, language, unanswered turns, what is shown)
rides in the query string of every action URL, so the server keeps nothing between requests.
Phone numbers are read digit by digit with SSML ``say-as``.

A ``zip`` step asks for a ZIP code keyed in (five digits, where every other menu takes one key),
then, if no kind of help was chosen, for the kind, then reads the nearest services with their
distance, three at a time. The ZIP code rides only in the action URLs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import sqlite_utils
from flask import url_for
from twilio.twiml import TwiML
from twilio.twiml.voice_response import Gather, Say, VoiceResponse

from hotline_bridge.channels.sms.render import listing, nearby_listing
from hotline_bridge.directory.models import (
    Service,
    Site,
    dial_string,
    display_number,
    distinct_labels,
    get_service,
    get_services,
)
from hotline_bridge.directory.nearby import Nearby
from hotline_bridge.engine.catalogs import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    Catalogs,
    Words,
    other_language,
)
from hotline_bridge.engine.flow import (
    Flow,
    Node,
    Option,
    Position,
    decode,
    has_more,
    page_of,
    zip_item,
)
from hotline_bridge.settings import ConfigError

CHANNEL = "voice"

# Keys the voice line keeps for itself in every menu, besides the flow's home and talk keys.
KEY_REPEAT = "9"
KEY_HANGUP = "*"
KEY_LANGUAGE = "#"
# The key that connects on the offer of the 24/7 line.
KEY_CONNECT = "1"
# Keys that choose a language in the greeting, in the order the languages are offered.
LANGUAGE_KEYS = {str(n): lang for n, lang in enumerate(LANGUAGES, 1)}
# What a caller said that matched nothing: an invalid choice, never mistaken for silence.
NOT_UNDERSTOOD = "?"
# How many keys a ZIP code takes, and the key that ends a shorter entry at once (such as 0 for
# the main menu) instead of after a pause.
ZIP_DIGITS = 5
KEY_END_ENTRY = "#"

# Unanswered turns (silence or a key that is not an option) before the 24/7 line is offered,
# so a caller hears a menu at most twice before help is put in front of them.
MAX_MISSES = 2

# What a menu shows besides its options: nothing more, the official name and number of a
# service, or the number of a line that just did not answer.
VIEW_PLAIN, VIEW_DETAILS, VIEW_UNANSWERED = "", "d", "x"
VIEWS = frozenset({VIEW_PLAIN, VIEW_DETAILS, VIEW_UNANSWERED})

# Twilio's Polly voices by the language they speak (names without the -Neural suffix).
POLLY_LANGUAGES = {
    **dict.fromkeys(
        [
            "Danielle",
            "Gregory",
            "Ivy",
            "Joanna",
            "Joey",
            "Justin",
            "Kendra",
            "Kevin",
            "Kimberly",
            "Matthew",
            "Patrick",
            "Ruth",
            "Salli",
            "Stephen",
        ],
        "en-US",
    ),
    **dict.fromkeys(["Lupe", "Penelope", "Miguel", "Pedro"], "es-US"),
    **dict.fromkeys(["Mia", "Andres"], "es-MX"),
    **dict.fromkeys(["Conchita", "Lucia", "Enrique", "Sergio", "Alba", "Raul"], "es-ES"),
}

# Hints Twilio accepts for speech recognition are bounded; keep the most useful first.
MAX_HINTS = 60

# Written wording that a voice reads with an SSML substitute (see ``Voice.around_the_clock``).
AROUND_THE_CLOCK = "24/7"

# Marks a phone number inside a sentence, so it can be read as SSML digits.
_NUMBER = re.compile("\x00(\\w+)\x00")


def voice_language(voice: str) -> str | None:
    """Return the language a Twilio voice speaks (``Polly.Lupe-Neural`` is es-US), or None."""
    provider, _, name = voice.partition(".")
    if provider == "Polly":
        return POLLY_LANGUAGES.get(name.split("-")[0])
    if provider == "Google":
        parts = name.split("-")
        return "-".join(parts[:2]) if len(parts) > 2 else None
    return None


@dataclass(frozen=True)
class Voice:
    """The voice that reads one language and the language code used for reading and listening."""

    name: str
    language: str
    # What "24/7" is read as: text-to-speech reads the digits and slash in odd ways, mostly in
    # Spanish. Filled from the catalog key ``voice.around_the_clock`` at start-up.
    around_the_clock: str = AROUND_THE_CLOCK


def voices_from(config: Mapping[str, Any]) -> dict[str, Voice]:
    """Return the voice of each language from the settings; raise ``ConfigError`` when a voice
    does not speak its language, so a Spanish sentence is never read in an English voice."""
    voices = {}
    for lang in LANGUAGES:
        suffix = lang.upper()
        voice = Voice(config[f"VOICE_{suffix}"], config[f"VOICE_LANGUAGE_{suffix}"])
        if not voice.language.lower().startswith(f"{lang}-"):
            raise ConfigError(f"VOICE_LANGUAGE_{suffix}: {voice.language!r} is not {lang}")
        if voice_language(voice.name) != voice.language:
            raise ConfigError(
                f"VOICE_{suffix}: {voice.name!r} is not a known voice for {voice.language}"
            )
        voices[lang] = voice
    return voices


@dataclass(frozen=True)
class State:
    """Where a call stands; carried in the query string of every action URL."""

    node: str
    item: str | None = None
    page: int = 0
    lang: str = DEFAULT_LANGUAGE
    misses: int = 0
    view: str = VIEW_PLAIN

    @property
    def position(self) -> Position:
        return Position(self.node, self.item, self.page)

    @classmethod
    def at(cls, position: Position, lang: str) -> State:
        """Return a fresh state at ``position``."""
        return cls(position.node, position.item, position.page, lang)

    @classmethod
    def parse(cls, flow: Flow, args: Mapping[str, str]) -> State:
        """Read a state from a query string; anything unknown falls back to a safe value."""
        text = args.get("n", "") + (f":{args['i']}" if args.get("i") else "")
        text += f"@{args['g']}" if args.get("g", "").isdigit() else ""
        lang = args.get("l", "")
        misses = args.get("r", "0")
        view = args.get("v", "")
        return cls.at(decode(flow, text), lang if lang in LANGUAGES else DEFAULT_LANGUAGE).but(
            misses=min(int(misses), MAX_MISSES) if misses.isdigit() else 0,
            view=view if view in VIEWS else VIEW_PLAIN,
        )

    def but(self, **changes: Any) -> State:
        """Return a copy with ``changes``."""
        return replace(self, **changes)

    def query(self) -> dict[str, str]:
        """Return the state as short query parameters (only those that are set)."""
        values = {
            "n": self.node,
            "i": self.item or "",
            "g": str(self.page) if self.page else "",
            "l": self.lang,
            "r": str(self.misses) if self.misses else "",
            "v": self.view,
        }
        return {key: value for key, value in values.items() if value}


@dataclass(frozen=True)
class FailSafeWords:
    """The fail-safe sentences of one language, with number marks, prepared at start-up."""

    before: str
    after: str


@dataclass(frozen=True)
class VoiceSetup:
    """What the voice line prepares once at start-up: voices, timeouts and the fail-safe."""

    voices: Mapping[str, Voice]
    dial_timeout: int
    gather_timeout: int
    hotline_phone: str
    emergency_phone: str
    failsafe: Mapping[str, FailSafeWords]


def prepare(
    config: Mapping[str, Any], catalogs: Catalogs, hotline: str, emergency: str
) -> VoiceSetup:
    """Check the voice settings and prepare the fail-safe wording, so that answering with it
    later touches neither the database nor the disk; raise ``ConfigError`` or ``CatalogError``."""
    failsafe = {
        lang: FailSafeWords(
            catalogs.bind(lang).t("voice.failsafe", emergency=number_mark("emergency")),
            catalogs.bind(lang).t("voice.failsafe_number", number=NUMBER),
        )
        for lang in LANGUAGES
    }
    voices = {
        lang: replace(voice, around_the_clock=catalogs.bind(lang).t("voice.around_the_clock"))
        for lang, voice in voices_from(config).items()
    }
    return VoiceSetup(
        voices=voices,
        dial_timeout=config["VOICE_DIAL_TIMEOUT"],
        gather_timeout=config["VOICE_GATHER_TIMEOUT"],
        hotline_phone=hotline,
        emergency_phone=emergency,
        failsafe=failsafe,
    )


def fail_safe(setup: VoiceSetup, lang: str | None) -> VoiceResponse:
    """Return the static answer: we are connecting you to a 24/7 line (in ``lang``, or in every
    language when it is unknown), the call to that line, and its number for later."""
    langs = [lang] if lang in LANGUAGES else list(LANGUAGES)
    numbers = {"number": setup.hotline_phone, "emergency": setup.emergency_phone}
    response = VoiceResponse()
    for code in langs:
        say(response, setup.voices[code], setup.failsafe[code].before, numbers)
    response.dial(
        dial_string(setup.hotline_phone), timeout=setup.dial_timeout, answer_on_bridge=True
    )
    for code in langs:
        say(response, setup.voices[code], setup.failsafe[code].after, numbers)
    response.hangup()
    return response


@dataclass(frozen=True)
class Call:
    """What answering one request of a call needs."""

    flow: Flow
    catalogs: Catalogs
    db: sqlite_utils.Database
    site: Site
    setup: VoiceSetup

    @property
    def voices(self) -> Mapping[str, Voice]:
        return self.setup.voices

    def words(self, lang: str) -> Words:
        return self.catalogs.bind(lang)


# --- Speaking --------------------------------------------------------------------------------


def number_mark(name: str) -> str:
    """Return the placeholder that ``say`` turns into the number ``name`` read digit by digit."""
    return f"\x00{name}\x00"


def read_digits(say: Say, number: str) -> None:
    """Add ``number`` to ``say`` digit by digit, a short pause between its groups."""
    for n, group in enumerate(display_number(number).split("-")):
        if n:
            say.break_(time="250ms")
        say.say_as(group, interpret_as="digits")


def say(parent: TwiML, voice: Voice, text: str, numbers: Mapping[str, str] | None = None) -> Say:
    """Add ``text`` spoken by ``voice`` to ``parent``; marks made with ``number_mark`` are read
    as the matching entry of ``numbers``, digit by digit."""
    spoken: Say = parent.say(voice=voice.name, language=voice.language)
    for n, part in enumerate(_NUMBER.split(text)):
        if n % 2:
            read_digits(spoken, (numbers or {})[part])
        elif part:
            _say_words(spoken, voice, part)
    return spoken


def _say_words(spoken: Say, voice: Voice, text: str) -> None:
    for n, piece in enumerate(text.split(AROUND_THE_CLOCK)):
        if n:
            spoken.sub(AROUND_THE_CLOCK, alias=voice.around_the_clock)
        if piece:
            spoken.nest(piece)


# Given as a sentence's ``number`` parameter, it is read as the phone number passed to ``speak``.
NUMBER = number_mark("number")


def speak(parent: TwiML, call: Call, lang: str, text: str, phone: str | None = None) -> None:
    """Say ``text`` in ``lang``'s voice, its ``NUMBER`` mark as ``phone`` digit by digit."""
    say(parent, call.voices[lang], text, {"number": phone} if phone else None)


def dialable(service: Service | None) -> bool:
    """Return whether Twilio can connect a caller to ``service`` (a full number, not 911 or
    other three-digit service codes, which a caller must dial themselves)."""
    return bool(service and service.phone and service.phone.startswith("+"))


# --- Choices ---------------------------------------------------------------------------------


def choices(call: Call, state: State) -> list[tuple[str, str]]:
    """Return the keys offered at ``state`` with their labels in the call's language."""
    node = call.flow.node(state.node)
    words = call.words(state.lang)
    if node.type == "list":
        shown = page_of(call.flow, listing(call.db, node, call.site).services, state.page)
        labels = distinct_labels(shown, state.lang)
        services = [(str(n), label) for n, label in enumerate(labels, 1)]
        return services + [(o.key, words.t(o.label)) for o in list_options(call.flow, node)]
    if node.type == "zip" and (asking_zip(call.flow, state) or zip_kind(call.flow, state)):
        return zip_choices(call, state)
    options = tuple(o for o in node.options_for(CHANNEL) if voiced(call.flow, o.goto))
    if node.type == "detail" and not dialable(get_service(call.db, state.item or "")):
        options = tuple(option for option in options if option.action != "dial")
    if node.type == "connect" and state.view == VIEW_PLAIN and _dials_now(call, node):
        return []
    return [(option.key, words.t(option.label)) for option in options]


def voiced(flow: Flow, node_id: str | None) -> bool:
    """Return whether the voice line can read the node ``node_id`` (None: no node, an action)."""
    return node_id is None or flow.node(node_id).type in RENDERERS


def _dials_now(call: Call, node: Node) -> bool:
    return dialable(get_service(call.db, node.service or ""))


def list_options(flow: Flow, node: Node) -> tuple[Option, ...]:
    """Return the options a list offers on the voice line after its services (such as the key
    that asks for a ZIP code to find the nearest of them)."""
    return tuple(o for o in node.options_for(CHANNEL) if o.goto and voiced(flow, o.goto))


# --- Nearest by ZIP code -----------------------------------------------------------------------
#
# The flow carries a kind of help at a zip step only with its ZIP code (``02139.legal``). While
# the voice line waits for the code after a list's ZIP key, the kind rides alone after the dot
# (``.legal``), which the flow reads as "no ZIP code yet".


@dataclass(frozen=True)
class Nearest:
    """What a zip step reads: the nearest services, through the page after the one read (to
    know whether there is more), or when nothing is near, the lines that can help instead."""

    found: Sequence[Nearby]
    fallback: Sequence[Service]

    @property
    def ids(self) -> list[str]:
        """Return the ids a key chooses among, in order, for the flow's ``advance``."""
        if self.found:
            return [near.service.id for near in self.found]
        return [service.id for service in self.fallback]


def asking_zip(flow: Flow, state: State) -> bool:
    """Return whether ``state`` waits for a ZIP code to be keyed in."""
    return flow.node(state.node).type == "zip" and zip_item(flow, state.position)[0] is None


def zip_kind(flow: Flow, state: State) -> str | None:
    """Return the kind of help (a list node) chosen at a zip step, before or after its code."""
    code, kind = zip_item(flow, state.position)
    if code is None:
        kind = (state.item or "").rpartition(".")[2]
    if kind is None or kind not in flow.nodes:
        return None
    return kind if flow.node(kind).type == "list" else None


def ask_zip(node_id: str, kind: str | None, lang: str) -> State:
    """Return the state that asks for a ZIP code at the zip step ``node_id``, for ``kind``."""
    return State(node_id, f".{kind}" if kind else None, lang=lang)


def follow_list_option(flow: Flow, state: State, key: str) -> State | None:
    """Return where ``key`` leads through a list's own option: from a list, or from the nearest
    services of that kind (its ZIP key then asks for another ZIP code); None if it does not."""
    node = flow.node(state.node)
    kind = node.id if node.type == "list" else None
    if node.type == "zip" and not asking_zip(flow, state):
        kind = zip_item(flow, state.position)[1]
    if kind is None:
        return None
    for option in list_options(flow, flow.node(kind)):
        if option.key != key or option.goto is None:
            continue
        if flow.node(option.goto).type == "zip":
            return ask_zip(option.goto, kind, state.lang)
        if node.type == "list":
            return State(option.goto, lang=state.lang)
    return None


def zip_key(flow: Flow, kind: str) -> str | None:
    """Return the key of the list ``kind`` that asks for a ZIP code, if it has one."""
    for option in list_options(flow, flow.node(kind)):
        if option.goto and flow.node(option.goto).type == "zip":
            return option.key
    return None


def nearest_at(call: Call, state: State) -> Nearest | None:
    """Return what the zip step at ``state`` reads once a ZIP code and a kind are chosen; None
    before that, or when the offline table does not know the ZIP code."""
    kind = zip_kind(call.flow, state)
    if asking_zip(call.flow, state) or kind is None:
        return None
    found = nearby_listing(call.db, call.flow, call.site, state.position, state.lang)
    if found is None:
        return None
    fallback = () if found else get_services(call.db, call.flow.node(kind).fallback)
    return Nearest(found, fallback)


def _zip_page_size(flow: Flow, node: Node) -> int:
    return node.page_size or flow.page_size


def zip_choices(call: Call, state: State) -> list[tuple[str, str]]:
    """Return the keys offered with the nearest services (or, when nothing is near, the lines
    that can help) and the key for another ZIP code; none while a ZIP code is keyed in."""
    nearest = nearest_at(call, state)
    kind = zip_kind(call.flow, state)
    if nearest is None or kind is None:
        return []
    size = _zip_page_size(call.flow, call.flow.node(state.node))
    services = [near.service for near in nearest.found] or list(nearest.fallback)
    shown = page_of(call.flow, services, state.page, size)
    offered = [(str(n), service.label(state.lang)) for n, service in enumerate(shown, 1)]
    again = zip_key(call.flow, kind)
    if again:
        offered.append((again, call.words(state.lang).t("voice.zip.again")))
    return offered


def distance(words: Words, miles: float) -> str:
    """Return how far a service is, as it is said ("2.4 miles away", "a 2.4 millas")."""
    if miles < 0.1:
        return words.t("voice.zip.very_near")
    if miles == 1:
        return words.t("voice.zip.one_mile")
    return words.t("voice.zip.miles", miles=f"{miles:.1f}".removesuffix(".0"))


def result_sentence(words: Words, key: int, near: Nearby) -> str:
    """Return how one of the nearest services is read: its discreet label, its distance, "open
    now" when its hours say so, and its key."""
    label, far = near.service.label(words.lang), distance(words, near.miles)
    if near.open_now:
        return words.t("voice.zip.result_open", label=label, distance=far, key=key)
    return words.t("voice.zip.result", label=label, distance=far, key=key)


# --- Building blocks ---------------------------------------------------------------------------


def menu_url(state: State) -> str:
    """Return the action URL that carries ``state``."""
    return state_url("voice.menu", state)


def state_url(endpoint: str, state: State) -> str:
    """Return the URL of ``endpoint`` with ``state`` in its query string."""
    # Typed loosely because url_for also takes options such as ``_external: bool``; the state's
    # one-letter keys never collide with them.
    values: dict[str, Any] = state.query()
    return url_for(endpoint, **values)


def listen(
    call: Call, lang: str, action: str, hints: Sequence[str]
) -> tuple[VoiceResponse, Gather]:
    """Return a response holding a menu that listens for one key or speech in ``lang``, and,
    when the caller says nothing, goes to the same action without input, so silence counts."""
    response = VoiceResponse()
    menu = response.gather(
        input="dtmf speech",
        action=action,
        method="POST",
        num_digits=1,
        finish_on_key="",  # "#" is a choice (the other language), not the end of input
        timeout=call.setup.gather_timeout,
        speech_timeout="auto",
        language=call.voices[lang].language,
        hints=", ".join(dict.fromkeys(h for h in hints if h)) or None,
    )
    response.redirect(action, method="POST")
    return response, menu


def speech_hints(call: Call, lang: str, offered: Sequence[tuple[str, str]]) -> list[str]:
    """Return the phrases a menu is likely to hear: its labels and the shortcut words."""
    words = call.words(lang)
    shortcuts = (
        words.t("voice.speech.talk"),
        words.t("voice.speech.home"),
        words.t("voice.speech.repeat"),
    )
    vocabulary = [phrase.strip() for text in shortcuts for phrase in text.split(",")]
    return [*(label for _, label in offered), *vocabulary][:MAX_HINTS]


def say_options(parent: TwiML, call: Call, lang: str, offered: Sequence[tuple[str, str]]) -> None:
    """Say each offered key with its label."""
    for key, label in offered:
        speak(parent, call, lang, call.words(lang).t("voice.option", label=label, key=key))


def say_shortcuts(parent: TwiML, call: Call, state: State) -> None:
    """Say the keys that work everywhere; on the main menu, how to end the call and switch
    language instead (the switch in the other language's own voice)."""
    flow, lang, other = call.flow, state.lang, other_language(state.lang)
    if state.node == flow.start:
        speak(parent, call, lang, call.words(lang).t("voice.shortcuts_main", repeat=KEY_REPEAT))
        speak(parent, call, other, call.words(other).t("voice.switch_language"))
        return
    keys = {"talk": flow.talk_key, "home": flow.home_key, "repeat": KEY_REPEAT}
    speak(parent, call, lang, call.words(lang).t("voice.shortcuts", **keys))


def prompt(
    call: Call,
    state: State,
    notice: str | None,
    body: Callable[[Gather], None],
    read: Sequence[tuple[str, str]] | None = None,
) -> VoiceResponse:
    """Return a menu: an optional notice, the node's own lines, its options and shortcuts.

    ``read`` are the options said as "label: press key" (default: all offered), for a body
    that reads some of them in its own words."""
    offered = choices(call, state)
    hints = speech_hints(call, state.lang, offered)
    response, menu = listen(call, state.lang, menu_url(state), hints)
    if notice:
        say(menu, call.voices[state.lang], notice)
    body(menu)
    say_options(menu, call, state.lang, offered if read is None else read)
    say_shortcuts(menu, call, state)
    return response


def hang_up(call: Call, lang: str) -> VoiceResponse:
    """Return a neutral goodbye and the end of the call."""
    response = VoiceResponse()
    speak(response, call, lang, call.words(lang).t("voice.goodbye"))
    response.hangup()
    return response


def last_word(call: Call, lang: str) -> VoiceResponse:
    """Return the 24/7 line's number and the end of the call, for a caller who has not
    answered the menus nor been answered by that line."""
    response = VoiceResponse()
    text = call.words(lang).t("voice.final", number=NUMBER)
    speak(response, call, lang, text, call.setup.hotline_phone)
    response.hangup()
    return response


def dial(
    call: Call, state: State, phone: str, response: VoiceResponse | None = None
) -> VoiceResponse:
    """Add 'connecting you' and a ``<Dial>`` whose outcome comes back with ``state``."""
    response = response or VoiceResponse()
    speak(response, call, state.lang, call.words(state.lang).t("voice.connecting"))
    response.dial(
        dial_string(phone),
        action=state_url("voice.dialed", state),
        method="POST",
        timeout=call.setup.dial_timeout,
        answer_on_bridge=True,
    )
    return response


# --- Node types ------------------------------------------------------------------------------


def _message(call: Call, node: Node, lang: str) -> Callable[[TwiML], None]:
    def body(menu: TwiML) -> None:
        key = node.message_for(CHANNEL)
        if key:
            speak(menu, call, lang, call.words(lang).t(key))

    return body


def render_menu(call: Call, node: Node, state: State, notice: str | None) -> VoiceResponse:
    """A menu or an info step: its message, then its options and the shortcuts."""
    return prompt(call, state, notice, _message(call, node, state.lang))


def render_list(call: Call, node: Node, state: State, notice: str | None) -> VoiceResponse:
    """A list of services, read by their discreet labels, a page at a time."""
    services = listing(call.db, node, call.site).services

    def body(menu: Gather) -> None:
        _message(call, node, state.lang)(menu)
        if has_more(call.flow, services, state.page):
            more = call.words(state.lang).t("voice.more", key=call.flow.more_key)
            speak(menu, call, state.lang, more)

    return prompt(call, state, notice, body)


def _say_contact(menu: Gather, call: Call, state: State, service: Service, name: str) -> None:
    if dialable(service):
        text = call.words(state.lang).t("voice.call_number", number=NUMBER, name=name)
        speak(menu, call, state.lang, text, service.phone)
    elif service.phone:
        text = call.words(state.lang).t("voice.dial_yourself", number=NUMBER)
        speak(menu, call, state.lang, text, service.phone)


def render_detail(call: Call, node: Node, state: State, notice: str | None) -> VoiceResponse:
    """One service: its discreet label; on request (or after a call to it failed) its official
    name and number."""
    service = get_service(call.db, state.item or "")
    if service is None:
        home = State(call.flow.start, lang=state.lang)
        return render(call, home, call.words(state.lang).t("voice.gone"))

    def body(menu: Gather) -> None:
        say(menu, call.voices[state.lang], service.label(state.lang))
        if state.view != VIEW_PLAIN or not dialable(service):
            _say_contact(menu, call, state, service, service.name(state.lang))
        if service.fictional:
            speak(menu, call, state.lang, call.words(state.lang).t("directory.fictional"))

    return prompt(call, state, notice, body)


def render_connect(call: Call, node: Node, state: State, notice: str | None) -> VoiceResponse:
    """A line to reach now: dialled at once when Twilio can; otherwise (911, or after the line
    did not answer) its number, read digit by digit, with other choices."""
    service = get_service(call.db, node.service or "")
    if service is None:
        raise LookupError("connect node names a service the directory lacks")
    if state.view == VIEW_PLAIN and dialable(service):
        response = VoiceResponse()
        _message(call, node, state.lang)(response)
        return dial(call, state, service.phone or "", response)

    def body(menu: Gather) -> None:
        if state.view == VIEW_PLAIN:
            _message(call, node, state.lang)(menu)
        _say_contact(menu, call, state, service, service.label(state.lang))

    return prompt(call, state, notice, body)


def render_zip(call: Call, node: Node, state: State, notice: str | None) -> VoiceResponse:
    """Nearest by ZIP code: the question of the code, then of the kind of help when none was
    chosen, then the nearest services, nearest first (or the lines that can help)."""
    words = call.words(state.lang)
    if asking_zip(call.flow, state):
        return render_zip_question(call, state, notice)
    kind = zip_kind(call.flow, state)
    if kind is None:
        return prompt(
            call, state, notice, lambda menu: speak(menu, call, state.lang, words.t("zip.kind"))
        )
    nearest = nearest_at(call, state)
    if nearest is None:  # a ZIP code the offline table does not know, in a hand-made URL
        again = ask_zip(node.id, kind, state.lang).but(misses=state.misses)
        return render_zip_question(call, again, words.t("voice.zip.unknown"))
    if not nearest.found:
        none = words.t("voice.zip.none")
        return prompt(call, state, notice, lambda menu: speak(menu, call, state.lang, none))
    size = _zip_page_size(call.flow, node)
    shown = page_of(call.flow, nearest.found, state.page, size)

    def body(menu: Gather) -> None:
        if not state.page:
            speak(menu, call, state.lang, words.t("voice.zip.nearest"))
        for n, near in enumerate(shown, 1):
            say(menu, call.voices[state.lang], result_sentence(words, n, near))
        if any(near.service.fictional for near in shown):
            speak(menu, call, state.lang, words.t("directory.fictional"))
        if has_more(call.flow, nearest.found, state.page, size):
            speak(menu, call, state.lang, words.t("voice.more", key=call.flow.more_key))

    again_key = zip_key(call.flow, kind)
    read = [(again_key, words.t("voice.zip.again"))] if again_key else []
    return prompt(call, state, notice, body, read)


def render_zip_question(call: Call, state: State, notice: str | None) -> VoiceResponse:
    """Ask for a ZIP code keyed in: five digits, or a shortcut key ended by pound (or a pause).
    Silence goes to the same action without input, so it counts as for any menu."""
    action, lang = menu_url(state), state.lang
    response = VoiceResponse()
    menu = response.gather(
        input="dtmf",
        action=action,
        method="POST",
        num_digits=ZIP_DIGITS,
        finish_on_key=KEY_END_ENTRY,
        timeout=call.setup.gather_timeout,
        language=call.voices[lang].language,
    )
    response.redirect(action, method="POST")
    words = call.words(lang)
    if notice:
        say(menu, call.voices[lang], notice)
    speak(menu, call, lang, words.t("voice.zip.ask"))
    keys = {"talk": call.flow.talk_key, "home": call.flow.home_key}
    speak(menu, call, lang, words.t("voice.zip.shortcuts", **keys))
    return response


# How each node type is read on the voice line. A type without an entry (such as a new one not
# yet voiced) answers with the fail-safe, which connects the caller to the 24/7 line.
RENDERERS: dict[str, Callable[[Call, Node, State, str | None], VoiceResponse]] = {
    "menu": render_menu,
    "info": render_menu,
    "list": render_list,
    "detail": render_detail,
    "connect": render_connect,
    "zip": render_zip,
}


def render(call: Call, state: State, notice: str | None = None) -> VoiceResponse:
    """Return the TwiML for the node at ``state``, after an optional notice."""
    node = call.flow.node(state.node)
    renderer = RENDERERS.get(node.type)
    if renderer is None:
        return fail_safe(call.setup, state.lang)
    return renderer(call, node, state, notice)


def render_greeting(call: Call, default_lang: str) -> VoiceResponse:
    """The greeting: a welcome in the site's language, then each language offered in its own
    words and voice; pressing nothing goes on in the site's language."""
    action = url_for("voice.language", d=default_lang)
    names = [phrase for lang in LANGUAGES for phrase in _language_words(call, lang)]
    response, menu = listen(call, default_lang, action, names)
    program = call.site.program_name(default_lang) or call.words(default_lang).t("program.name")
    speak(menu, call, default_lang, call.words(default_lang).t("voice.welcome", program=program))
    for key, lang in LANGUAGE_KEYS.items():
        speak(menu, call, lang, call.words(lang).t("voice.choose_language", key=key))
    return response


def _language_words(call: Call, lang: str) -> list[str]:
    digits = call.words(lang).t("voice.speech.digits").split(",")
    return [digits[int(key)].strip() for key in LANGUAGE_KEYS]


def render_offer(call: Call, lang: str) -> VoiceResponse:
    """After unanswered menus: the 24/7 line's number, and a key (or silence) to be connected."""
    response, menu = listen(call, lang, url_for("voice.offer", l=lang), [])
    text = call.words(lang).t(
        "voice.offer", number=NUMBER, key=KEY_CONNECT, home=call.flow.home_key
    )
    speak(menu, call, lang, text, call.setup.hotline_phone)
    return response
