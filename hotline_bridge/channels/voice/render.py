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
from dataclasses import dataclass, field, replace
from typing import Any

from flask import url_for
from twilio.twiml import TwiML
from twilio.twiml.voice_response import Gather, Say, VoiceResponse

from hotline_bridge.directory.models import (
    Service,
    Site,
    dial_string,
    display_number,
    send_digits,
)
from hotline_bridge.engine.catalogs import (
    DEFAULT_LANGUAGE,
    Catalogs,
    Profile,
    Words,
)
from hotline_bridge.engine.flow import Flow, Position, decode
from hotline_bridge.engine.screen import (
    BACK,
    ENTRY,
    MORE,
    PREVIOUS,
    SHORTCUTS,
    Entry,
    Screen,
)
from hotline_bridge.engine.step import Capabilities, Directory, dialable
from hotline_bridge.settings import ConfigError

CHANNEL = "voice"

# Keys the voice line keeps for itself in every menu, besides the flow's shortcuts. Repeating
# is said ("repeat") or happens by itself after silence; 9 is the flow's Back.
KEY_REPEAT = "repeat"
KEY_HANGUP = "*"
KEY_LANGUAGE = "#"
# The key that connects on the offer of the 24/7 line.
KEY_CONNECT = "1"
# The key that deletes Twilio's records of the caller's calls and messages with the line, offered
# on the goodbye after a connected call and on the tips (an info screen), where it is no option:
# every digit but 6 is a shortcut or an option somewhere, so it means one thing where offered.
KEY_FORGET = "6"
# What the voice line can do: connect a call, and give a service's details only when asked,
# since everything said can be overheard. A ZIP code needs a key of its own on a list.
CAPABILITIES = Capabilities(keyed=True, zip_anywhere=False, dials=True, details_on_request=True)
# What a caller said that matched nothing: an invalid choice, never mistaken for silence.
NOT_UNDERSTOOD = "?"
# What a caller said that suggests danger (``engine.danger``), and "911" or "emergency" said
# alone: never keys a caller can press.
DANGER = "!"
EMERGENCY = "!911"
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

# Twilio's Polly voices by the languages they speak (names without the -Neural or -Generative
# suffix), from Amazon Polly's list of voices: a language added to locales/ names any of them.
_POLLY_VOICES = {
    "arb": "Zeina",
    "ar-AE": "Hala Zayd",
    "ca-ES": "Arlet",
    "cmn-CN": "Zhiyu",
    "cs-CZ": "Jitka",
    "cy-GB": "Gwyneth",
    "da-DK": "Naja Mads Sofie",
    "de-AT": "Hannah",
    "de-CH": "Sabrina",
    "de-DE": "Marlene Vicki Hans Daniel",
    "en-AU": "Nicole Olivia Russell",
    "en-GB": "Amy Emma Brian Arthur",
    "en-GB-WLS": "Geraint",
    "en-IE": "Niamh",
    "en-IN": "Aditi Raveena Kajal",
    "en-NZ": "Aria",
    "en-SG": "Jasmine",
    "en-US": "Danielle Gregory Ivy Joanna Joey Justin Kendra Kevin Kimberly Matthew Patrick "
    "Ruth Salli Stephen",
    "en-ZA": "Ayanda",
    "es-ES": "Conchita Lucia Enrique Sergio Alba Raul",
    "es-MX": "Mia Andres",
    "es-US": "Lupe Penelope Miguel Pedro",
    "fi-FI": "Suvi",
    "fr-BE": "Isabelle",
    "fr-CA": "Chantal Gabrielle Liam",
    "fr-FR": "Celine Lea Mathieu Remi",
    "hi-IN": "Aditi Kajal",
    "is-IS": "Dora Karl",
    "it-IT": "Carla Bianca Giorgio Adriano",
    "ja-JP": "Mizuki Takumi Kazuha Tomoko",
    "ko-KR": "Seoyeon Jihye",
    "nb-NO": "Liv Ida",
    "nl-BE": "Lisa",
    "nl-NL": "Laura Lotte Ruben",
    "pl-PL": "Ewa Maja Jacek Jan Ola",
    "pt-BR": "Camila Vitoria Ricardo Thiago",
    "pt-PT": "Ines Cristiano",
    "ro-RO": "Carmen",
    "ru-RU": "Tatyana Maxim",
    "sv-SE": "Astrid Elin",
    "tr-TR": "Filiz Burcu",
    "yue-CN": "Hiujin",
}
POLLY_LANGUAGES: dict[str, frozenset[str]] = {
    name: frozenset(lang for lang, names in _POLLY_VOICES.items() if name in names.split())
    for name in " ".join(_POLLY_VOICES.values()).split()
}

# Hints Twilio accepts for speech recognition are bounded; keep the most useful first.
MAX_HINTS = 60

# Written wording that a voice reads with an SSML substitute (see ``Voice.around_the_clock``).
AROUND_THE_CLOCK = "24/7"

# Marks a phone number inside a sentence, so it can be read as SSML digits.
_NUMBER = re.compile("\x00(\\w+)\x00")


def voice_languages(voice: str) -> frozenset[str]:
    """Return the languages a Twilio voice speaks (``Polly.Lupe-Neural`` speaks es-US, the
    bilingual ``Polly.Kajal-Neural`` en-IN and hi-IN; ``Google.fr-FR-Standard-A`` fr-FR), or
    none for a voice Twilio does not offer."""
    provider, _, name = voice.partition(".")
    if provider == "Polly":
        return POLLY_LANGUAGES.get(name.split("-")[0], frozenset())
    if provider == "Google":
        parts = name.split("-")
        return frozenset({"-".join(parts[:2])}) if len(parts) > 2 else frozenset()
    return frozenset()


@dataclass(frozen=True)
class Voice:
    """The voice that reads one language and the language code used for reading and listening."""

    name: str
    language: str
    # What "24/7" is read as: text-to-speech reads the digits and slash in odd ways, mostly in
    # Spanish. Filled from the catalog key ``voice.around_the_clock`` at start-up.
    around_the_clock: str = AROUND_THE_CLOCK


def voices_from(config: Mapping[str, Any], profiles: Mapping[str, Profile]) -> dict[str, Voice]:
    """Return the voice of each language that has one: its profile's
    (``locales/<lang>/language.toml``), unless a VOICE_<LANG> / VOICE_LANGUAGE_<LANG> setting
    overrides it. Raise ``ConfigError`` when a voice does not speak its language, so a Spanish
    sentence is never read in an English voice."""
    voices = {}
    for lang, profile in profiles.items():
        suffix = lang.upper()
        name = config.get(f"VOICE_{suffix}") or profile.voice
        if name is None:  # read in its fallback's voice (``fallbacks_from``)
            continue
        speech = config.get(f"VOICE_LANGUAGE_{suffix}") or profile.speech
        if speech is None:
            raise ConfigError(f"VOICE_{suffix}: set VOICE_LANGUAGE_{suffix} too")
        voice = Voice(name, speech)
        if config.get(f"VOICE_LANGUAGE_{suffix}") and not voice.language.lower().startswith(
            f"{lang}-"
        ):
            raise ConfigError(f"VOICE_LANGUAGE_{suffix}: {voice.language!r} is not {lang}")
        if voice.language not in voice_languages(voice.name):
            named_by = f"VOICE_{suffix}" if config.get(f"VOICE_{suffix}") else f"{lang} voice"
            raise ConfigError(
                f"{named_by}: {voice.name!r} is not a known voice for {voice.language}"
            )
        voices[lang] = voice
    return voices


def fallbacks_from(profiles: Mapping[str, Profile], voices: Mapping[str, Voice]) -> dict[str, str]:
    """Return, for each language without a voice, the language its callers hear instead (its
    ``voice_fallback``); raise ``ConfigError`` when that language has no voice either."""
    fallbacks = {}
    for lang, profile in profiles.items():
        if lang in voices:
            continue
        fallback = profile.voice_fallback
        if fallback is None or fallback not in voices:
            raise ConfigError(
                f"{lang} has no voice, and its voice_fallback {fallback!r} is no language "
                f"with one ({', '.join(voices)})"
            )
        fallbacks[lang] = fallback
    return fallbacks


@dataclass(frozen=True)
class State:
    """Where a call stands; carried in the query string of every action URL."""

    node: str
    item: str | None = None
    page: int = 0
    lang: str = DEFAULT_LANGUAGE
    misses: int = 0
    view: str = VIEW_PLAIN
    back: Position | None = None
    # False when the caller pressed the talk key in the greeting, before choosing a language:
    # the screens that follow (the 24/7 line did not answer) offer the next language too.
    chosen: bool = True

    @property
    def position(self) -> Position:
        return Position(self.node, self.item, self.page, self.back)

    @classmethod
    def at(cls, position: Position, lang: str) -> State:
        """Return a fresh state at ``position``."""
        return cls(position.node, position.item, position.page, lang, back=position.back)

    @classmethod
    def parse(cls, flow: Flow, args: Mapping[str, str], languages: Sequence[str]) -> State:
        """Read a state from a query string; anything unknown (a language not among
        ``languages``) falls back to a safe value."""
        text = args.get("n", "") + (f":{args['i']}" if args.get("i") else "")
        page = args.get("g", "")
        text += f"@{page}" if page.isascii() and page.isdigit() else ""
        text += f"~{args['b']}" if args.get("b") else ""
        lang = args.get("l", "")
        misses = args.get("r", "0")
        view = args.get("v", "")
        return cls.at(decode(flow, text), lang if lang in languages else DEFAULT_LANGUAGE).but(
            misses=min(int(misses), MAX_MISSES) if misses.isascii() and misses.isdigit() else 0,
            view=view if view in VIEWS else VIEW_PLAIN,
            chosen=args.get("u") != "1",
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
            "b": self.back.encode() if self.back else "",
            "u": "" if self.chosen else "1",
        }
        return {key: value for key, value in values.items() if value}


# The fail-safe's key for a caller whose language is not known: it is said in every language.
EVERY_LANGUAGE = ""


@dataclass(frozen=True)
class VoiceSetup:
    """What the voice line prepares once at start-up: voices, timeouts and the fail-safe."""

    voices: Mapping[str, Voice]
    dial_timeout: int
    gather_timeout: int
    hotline_phone: str
    emergency_phone: str
    # The fail-safe answer as TwiML, by language (``EVERY_LANGUAGE``: in all of them).
    failsafe: Mapping[str, str]
    # The languages no Twilio voice speaks, each with the language its callers hear instead.
    fallbacks: Mapping[str, str] = field(default_factory=dict)

    @property
    def languages(self) -> list[str]:
        """The languages calls are read in (those with a voice), in the catalogs' order."""
        return list(self.voices)

    def spoken(self, lang: str) -> str:
        """Return the language a call in ``lang`` is read in: its own, or its fallback's."""
        return self.fallbacks.get(lang, lang)


def prepare(
    config: Mapping[str, Any], catalogs: Catalogs, hotline: str, emergency: str
) -> VoiceSetup:
    """Check the voice settings and prepare the fail-safe answer, so that answering with it
    later touches neither the database nor the disk; raise ``ConfigError`` or ``CatalogError``."""
    voices = {
        lang: replace(voice, around_the_clock=catalogs.bind(lang).t("voice.around_the_clock"))
        for lang, voice in voices_from(config, catalogs.profiles).items()
    }
    setup = VoiceSetup(
        fallbacks=fallbacks_from(catalogs.profiles, voices),
        voices=voices,
        dial_timeout=config["VOICE_DIAL_TIMEOUT"],
        gather_timeout=config["VOICE_GATHER_TIMEOUT"],
        hotline_phone=hotline,
        emergency_phone=emergency,
        failsafe={},
    )
    failsafe = {lang: _fail_safe_twiml(setup, catalogs, [lang]) for lang in voices}
    failsafe[EVERY_LANGUAGE] = _fail_safe_twiml(setup, catalogs, list(voices))
    return replace(setup, failsafe=failsafe)


def _fail_safe_twiml(setup: VoiceSetup, catalogs: Catalogs, langs: Sequence[str]) -> str:
    """Return the static answer in each of ``langs``: we are connecting you to a 24/7 line, the
    call to that line, and its number for later."""
    numbers = {"number": setup.hotline_phone, "emergency": setup.emergency_phone}
    response = VoiceResponse()
    for lang in langs:
        text = catalogs.bind(lang).t("voice.failsafe", emergency=number_mark("emergency"))
        say(response, setup.voices[lang], text, numbers)
    response.dial(
        dial_string(setup.hotline_phone), timeout=setup.dial_timeout, answer_on_bridge=True
    )
    for lang in langs:
        text = catalogs.bind(lang).t("voice.failsafe_number", number=NUMBER)
        say(response, setup.voices[lang], text, numbers)
    response.hangup()
    return str(response)


def fail_safe(setup: VoiceSetup, lang: str | None) -> str:
    """Return the static answer prepared at start-up, in ``lang`` (in its fallback, for a
    language without a voice), or in every language when it is unknown."""
    key = setup.spoken(lang) if lang is not None else EVERY_LANGUAGE
    return setup.failsafe.get(key, setup.failsafe[EVERY_LANGUAGE])


@dataclass(frozen=True)
class Call:
    """What answering one request of a call needs."""

    flow: Flow
    catalogs: Catalogs
    directory: Directory
    site: Site
    setup: VoiceSetup

    @property
    def voices(self) -> Mapping[str, Voice]:
        return self.setup.voices

    @property
    def languages(self) -> list[str]:
        """The languages the call can be read in."""
        return self.setup.languages

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


# --- Reading a screen -------------------------------------------------------------------------


def offered(call: Call, state: State, screen: Screen) -> list[tuple[str, str]]:
    """Return the keys a caller can press at ``screen``, besides the shortcuts, with their
    labels in the call's language."""
    words = call.words(state.lang)
    if screen.kind == "connect" and state.view == VIEW_PLAIN and dialable(screen.service):
        return []
    found = []
    for choice in screen.all_choices():
        if choice.key is None or choice.role in SHORTCUTS or choice.role == PREVIOUS:
            continue
        if choice.role == ENTRY:
            found.append((choice.key, choice.label))
        elif choice.role != MORE:
            found.append((choice.key, words.pick(CHANNEL, choice.label)))
    return found


def say_notices(parent: TwiML, call: Call, lang: str, screen: Screen) -> None:
    """Say the screen's notices (the voice line's own wording of each, where it has one)."""
    words = call.words(lang)
    for notice in screen.notices:
        key = notice.key
        params = dict(notice.params)
        if key == "notice.signal":
            continue  # a text channel's line; a caller hears the 24/7 line in every menu
        speak(parent, call, lang, words.pick(CHANNEL, key, **params))


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


def speech_hints(call: Call, lang: str, keys: Sequence[tuple[str, str]]) -> list[str]:
    """Return the phrases a menu is likely to hear: its labels and the shortcut words."""
    words = call.words(lang)
    shortcuts = (
        words.t("voice.speech.talk"),
        words.t("voice.speech.home"),
        words.t("voice.speech.back"),
        words.t("voice.speech.repeat"),
    )
    vocabulary = [phrase.strip() for text in shortcuts for phrase in text.split(",")]
    return [*(label for _, label in keys), *vocabulary][:MAX_HINTS]


def say_options(parent: TwiML, call: Call, lang: str, keys: Sequence[tuple[str, str]]) -> None:
    """Say each offered key with its label."""
    for key, label in keys:
        speak(parent, call, lang, call.words(lang).t("voice.option", label=label, key=key))


def say_shortcuts(parent: TwiML, call: Call, state: State, screen: Screen) -> None:
    """Say the keys that work here: back (where it leads elsewhere), talk and home; on the main
    menu, how to end the call instead. On the main menu, and wherever the caller has not yet
    chosen a language, the pound key is offered in the words and voice of the language it
    leads to: the next one (with three languages, each press goes one further)."""
    flow, lang = call.flow, state.lang
    if state.node == flow.start:
        speak(parent, call, lang, call.words(lang).t("voice.shortcuts_main"))
    else:
        keys = {"talk": flow.talk_key, "home": flow.home_key, "back": flow.back_key}
        key = "voice.shortcuts" if screen.by_role(BACK) else "voice.shortcuts_no_back"
        speak(parent, call, lang, call.words(lang).t(key, **keys))
    following = next_language(call.languages, lang)
    if (state.node == flow.start or not state.chosen) and following != lang:
        speak(parent, call, following, call.words(following).t("voice.switch_language"))


def prompt(
    call: Call,
    state: State,
    screen: Screen,
    body: Callable[[Gather], None],
    read: Sequence[tuple[str, str]] | None = None,
) -> VoiceResponse:
    """Return a menu: the screen's notices, its own lines, its options and the shortcuts.

    ``read`` are the options said as "label: press key" (default: all offered), for a body
    that reads some of them in its own words."""
    keys = offered(call, state, screen)
    response, menu = listen(call, state.lang, menu_url(state), speech_hints(call, state.lang, keys))
    say_notices(menu, call, state.lang, screen)
    body(menu)
    say_options(menu, call, state.lang, keys if read is None else read)
    say_shortcuts(menu, call, state, screen)
    return response


def hang_up(call: Call, lang: str) -> VoiceResponse:
    """Return a neutral goodbye and the end of the call."""
    response = VoiceResponse()
    speak(response, call, lang, call.words(lang).t("voice.goodbye"))
    response.hangup()
    return response


def goodbye(call: Call, lang: str) -> VoiceResponse:
    """Return the goodbye after a connected call: a moment to press the key that deletes the
    line's records of the caller's calls and messages, then the goodbye and the end."""
    response = VoiceResponse()
    offer = response.gather(
        input="dtmf",
        action=url_for("voice.forget", l=lang),
        method="POST",
        num_digits=1,
        timeout=call.setup.gather_timeout,
        language=call.voices[lang].language,
    )
    speak(offer, call, lang, call.words(lang).t("voice.delete.offer", key=KEY_FORGET))
    speak(response, call, lang, call.words(lang).t("voice.goodbye"))
    response.hangup()
    return response


def offers_forget(screen: Screen) -> bool:
    """Whether the forget key works on ``screen``: an info screen (the tips) without it as an
    option."""
    return screen.kind == "info" and all(c.key != KEY_FORGET for c in screen.all_choices())


# What the caller hears of a deletion (``forget.DONE``, ``PARTIAL`` or ``UNDER_WAY``); the
# voice line words each as ``voice.delete.*``: the call's own record goes when the call ends.
_FORGOTTEN = {"done": "delete.done", "partial": "delete.partial", "under_way": "delete.under_way"}


def forgotten(result: str) -> str:
    """Return the notice that says what became of the deletion: every record deleted, not
    all of them, or still being deleted."""
    return _FORGOTTEN[result]


def forgotten_goodbye(call: Call, lang: str, result: str) -> VoiceResponse:
    """Return what the forget key on the goodbye answers: what became of it, and the end."""
    response = VoiceResponse()
    speak(response, call, lang, call.words(lang).pick(CHANNEL, forgotten(result)))
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
    call: Call,
    state: State,
    phone: str,
    response: VoiceResponse | None = None,
    also: Sequence[str] = (),
    *,
    extension: str | None = None,
) -> VoiceResponse:
    """Add 'connecting you' (in ``state``'s language, then in those ``also`` named) and a
    ``<Dial>`` whose outcome comes back with ``state``; an ``extension`` is dialled once the
    number answers (``<Number sendDigits>``)."""
    response = response or VoiceResponse()
    for lang in (state.lang, *also):
        speak(response, call, lang, call.words(lang).t("voice.connecting"))
    options = {
        "action": state_url("voice.dialed", state),
        "method": "POST",
        "timeout": call.setup.dial_timeout,
        "answer_on_bridge": True,
    }
    if extension:
        response.dial(**options).number(dial_string(phone), send_digits=send_digits(extension))
    else:
        response.dial(dial_string(phone), **options)
    return response


# --- Screen kinds ------------------------------------------------------------------------------


def _title(call: Call, screen: Screen, lang: str) -> Callable[[TwiML], None]:
    def body(menu: TwiML) -> None:
        if screen.title:
            speak(menu, call, lang, call.words(lang).pick(CHANNEL, screen.title))

    return body


def _more(menu: TwiML, call: Call, lang: str, screen: Screen) -> None:
    if screen.by_role(MORE):
        speak(menu, call, lang, call.words(lang).t("voice.more", key=call.flow.more_key))


def render_menu(call: Call, state: State, screen: Screen) -> VoiceResponse:
    """A menu: its message, then its options and the shortcuts."""
    return prompt(call, state, screen, _title(call, screen, state.lang))


def render_info(call: Call, state: State, screen: Screen) -> VoiceResponse:
    """An info step (the tips): its message, the key that deletes the line's records, then its
    options and the shortcuts."""

    def body(menu: Gather) -> None:
        _title(call, screen, state.lang)(menu)
        if offers_forget(screen):
            text = call.words(state.lang).t("voice.delete.offer", key=KEY_FORGET)
            speak(menu, call, state.lang, text)

    return prompt(call, state, screen, body)


def render_list(call: Call, state: State, screen: Screen) -> VoiceResponse:
    """A list of services, read by their discreet labels, a page at a time."""

    def body(menu: Gather) -> None:
        _title(call, screen, state.lang)(menu)
        _more(menu, call, state.lang, screen)

    return prompt(call, state, screen, body)


def _say_contact(
    menu: Gather, call: Call, state: State, service: Service, name: str | None
) -> None:
    """Say how to reach ``service``, after its ``name`` when the caller asked to hear it."""
    words = call.words(state.lang)
    if dialable(service):
        said = _digits_apart(name or service.label(state.lang))
        speak(
            menu,
            call,
            state.lang,
            words.t("voice.call_number", number=NUMBER, name=said),
            service.phone,
        )
    elif service.phone and name:
        text = words.t("voice.dial_yourself_named", number=NUMBER, name=_digits_apart(name))
        speak(menu, call, state.lang, text, service.phone)
    elif service.phone:
        speak(menu, call, state.lang, words.t("voice.dial_yourself", number=NUMBER), service.phone)
    if service.phone and service.phone_extension:
        extension = _digits_apart(service.phone_extension)
        speak(menu, call, state.lang, words.t("voice.extension", extension=extension))


# A run of digits in a name ("988 Suicide & Crisis Lifeline"), which a voice would read as a
# quantity ("nine hundred eighty-eight") unless its digits stand apart.
_DIGIT_RUN = re.compile(r"\d{2,}")


def _digits_apart(text: str) -> str:
    """Return ``text`` with each run of digits spaced out, so that it is read digit by digit;
    "24/7" stays whole, for ``_say_words`` reads it by its catalog wording."""
    pieces = text.split(AROUND_THE_CLOCK)
    spaced = (_DIGIT_RUN.sub(lambda run: " ".join(run.group()), piece) for piece in pieces)
    return AROUND_THE_CLOCK.join(spaced)


def render_detail(call: Call, state: State, screen: Screen) -> VoiceResponse:
    """One service: its discreet label; on request (or after a call to it failed) its official
    name, number and address."""
    service = screen.service
    if service is None:  # the turn shows the main menu instead (``routes._shown``)
        raise LookupError("a detail screen without its service")
    lang = state.lang

    def body(menu: Gather) -> None:
        say(menu, call.voices[lang], service.label(lang))
        asked = state.view != VIEW_PLAIN  # its name is said only on request: a call is overheard
        if asked or not dialable(service):
            _say_contact(menu, call, state, service, service.name(lang) if asked else None)
            address = ", ".join(p for p in (service.address, service.city) if p)
            if service.confidential:  # a shelter: never where it is, even in part
                speak(menu, call, lang, call.words(lang).t("voice.address_by_phone"))
            elif address:
                speak(menu, call, lang, call.words(lang).t("voice.address", address=address))
        if service.english_only_for(lang):
            speak(menu, call, lang, call.words(lang).t("directory.english_only"))
        if service.fictional:
            speak(menu, call, lang, call.words(lang).t("directory.fictional"))

    return prompt(call, state, screen, body)


def render_connect(call: Call, state: State, screen: Screen) -> VoiceResponse:
    """A line to reach now: dialled at once when Twilio can; otherwise (911, or after the line
    did not answer) its number, read digit by digit, with other choices."""
    service = screen.service
    if service is None:
        raise LookupError("connect node names a service the directory lacks")
    if state.view == VIEW_PLAIN and dialable(service):
        response = VoiceResponse()
        _title(call, screen, state.lang)(response)
        return dial(call, state, service.phone or "", response, extension=service.phone_extension)

    def body(menu: Gather) -> None:
        if state.view == VIEW_PLAIN:
            _title(call, screen, state.lang)(menu)
        _say_contact(menu, call, state, service, None)

    return prompt(call, state, screen, body)


def render_zip_kind(call: Call, state: State, screen: Screen) -> VoiceResponse:
    """Which kind of help to find near the ZIP code keyed in."""
    return prompt(call, state, screen, _title(call, screen, state.lang))


def render_nearby(call: Call, state: State, screen: Screen) -> VoiceResponse:
    """The nearest services, nearest first, with distance and "open now"; or, when nothing is
    near, the lines that can help from anywhere."""
    words, lang = call.words(state.lang), state.lang

    def body(menu: Gather) -> None:
        if screen.fallback:
            return  # the notice said nothing is near; the lines are read as options
        if not state.page:
            speak(menu, call, lang, words.t("voice.zip.nearest"))
        for entry in screen.entries:
            say(menu, call.voices[lang], result_sentence(words, entry))
        if any(entry.service.fictional for entry in screen.entries):
            speak(menu, call, lang, words.t("directory.fictional"))
        _more(menu, call, lang, screen)

    # Results are read in sentences of their own; the lines offered instead read as options.
    entries = {entry.key for entry in screen.entries}
    keys = offered(call, state, screen)
    read = keys if screen.fallback else [key for key in keys if key[0] not in entries]
    return prompt(call, state, screen, body, read)


def distance(words: Words, miles: float) -> str:
    """Return how far a service is, as it is said ("2.4 miles away", "a 2.4 millas")."""
    if miles < 0.1:
        return words.t("voice.zip.very_near")
    if miles == 1:
        return words.t("voice.zip.one_mile")
    return words.t("voice.zip.miles", miles=f"{miles:.1f}".removesuffix(".0"))


def result_sentence(words: Words, entry: Entry) -> str:
    """Return how one of the nearest services is read: its label, its distance, "open now"
    when its hours say so, and its key."""
    far = distance(words, entry.miles or 0.0)
    if entry.open_now:
        return words.t("voice.zip.result_open", label=entry.label, distance=far, key=entry.key)
    return words.t("voice.zip.result", label=entry.label, distance=far, key=entry.key)


def render_zip_question(call: Call, state: State, screen: Screen) -> VoiceResponse:
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
    say_notices(menu, call, lang, screen)
    speak(menu, call, lang, words.t("voice.zip.ask"))
    keys = {"talk": call.flow.talk_key, "home": call.flow.home_key, "back": call.flow.back_key}
    speak(menu, call, lang, words.t("voice.zip.shortcuts", **keys))
    return response


# How each kind of screen is read on the voice line. A kind without an entry (such as a new node
# type not yet voiced) answers with the fail-safe, which connects the caller to the 24/7 line.
RENDERERS: dict[str, Callable[[Call, State, Screen], VoiceResponse]] = {
    "menu": render_menu,
    "info": render_info,
    "list": render_list,
    "detail": render_detail,
    "connect": render_connect,
    "zip_ask": render_zip_question,
    "zip_kind": render_zip_kind,
    "nearby": render_nearby,
}


def render(call: Call, state: State, screen: Screen) -> VoiceResponse:
    """Return the TwiML of ``screen``, which the engine showed for ``state`` in the turn."""
    if screen.position != state.position:  # the engine moved on (an unknown ZIP code is dropped)
        state = State.at(screen.position, state.lang).but(misses=state.misses, view=state.view)
    renderer = RENDERERS.get(screen.kind)
    if renderer is None:  # the turn's fail-safe answers, and the fault is logged
        raise LookupError(f"the voice line reads no {screen.kind!r} screen")
    return renderer(call, state, screen)


# How long the greeting's first menu waits after its last sentence before the next language's
# menu begins (Twilio's shortest wait): a moment to press a key, little delay for the others.
GREETING_PAUSE = 1


def render_greeting(call: Call, default_lang: str) -> VoiceResponse:
    """The greeting: first the key to talk to someone now, in every language; then a welcome
    in the site's language and each language offered in its own words and voice. Pressing
    nothing goes on in the site's language.

    Twilio hears speech in one language per ``<Gather>`` (its ``language``); hints only favour
    phrases of that language. So each language's offer is listened for in a menu of its own,
    in that language, with the other languages' names and the words of its keys as hints. The
    way to help comes first and in one menu, in the site's language: a menu per language there
    would put a second's wait between the offers and the second language's past the budget
    (``timing.HELP_WITHIN_SECONDS``)."""
    order = list(language_keys(call.languages, default_lang).items())
    waits = [GREETING_PAUSE] * (len(order) - 1) + [call.setup.gather_timeout]
    response = VoiceResponse()
    offers = [lang for _, lang in order]
    first = _greeting_menu(call, response, default_lang, default_lang, waits[0], offers)
    for lang in offers:
        text = call.words(lang).t("voice.greeting.talk", key=call.flow.talk_key)
        speak(first, call, lang, text)
    program = call.site.program_name(default_lang) or call.words(default_lang).t("program.name")
    speak(first, call, default_lang, call.words(default_lang).t("voice.welcome", program=program))
    menu = first
    for n, (key, lang) in enumerate(order):
        menu = first if n == 0 else _greeting_menu(call, response, default_lang, lang, waits[n])
        speak(menu, call, lang, call.words(lang).t("voice.choose_language", key=key))
    _offer_by_text(call, menu)
    response.redirect(url_for("voice.language", d=default_lang), method="POST")
    return response


def _offer_by_text(call: Call, menu: Gather) -> None:
    """Tell the callers of each language no voice speaks, in the language they hear instead
    and in its voice, that theirs is offered by text message: its own name and its keyword."""
    for lang, fallback in call.setup.fallbacks.items():
        name = call.catalogs.text(lang, "kiosk.language_name")
        keyword = call.catalogs.profiles[lang].keywords[0]
        text = call.words(fallback).t("voice.by_text", language=name, keyword=keyword)
        speak(menu, call, fallback, text)


def _greeting_menu(
    call: Call,
    response: VoiceResponse,
    default_lang: str,
    lang: str,
    timeout: int,
    offers: Sequence[str] = (),
) -> Gather:
    """Add to the greeting a menu that listens in ``lang``, whose sentences offer the talk key
    in the languages ``offers`` names (besides ``lang``); its action says which language heard
    what was said."""
    return response.gather(
        input="dtmf speech",
        action=url_for("voice.language", d=default_lang, h=lang),
        method="POST",
        num_digits=1,
        finish_on_key="",  # "#" is a choice (the next language), not the end of input
        timeout=timeout,
        speech_timeout="auto",
        language=call.voices[lang].language,
        hints=", ".join(
            dict.fromkeys(h for h in _greeting_hints(call, lang, offers or [lang]) if h)
        ),
    )


def language_keys(languages: Sequence[str], first: str) -> dict[str, str]:
    """Return the keys that choose a language in the greeting: the site's language first, so a
    Spanish-speaking site's callers hear Spanish first."""
    ordered = [first, *(lang for lang in languages if lang != first)]
    return {str(n): lang for n, lang in enumerate(ordered, 1)}


def next_language(languages: Sequence[str], lang: str) -> str:
    """Return the language the pound key leads to from ``lang``: the next of those offered."""
    return languages[(languages.index(lang) + 1) % len(languages)]


def _greeting_hints(call: Call, lang: str, offers: Sequence[str]) -> list[str]:
    """Return what a menu of the greeting listening in ``lang`` is likely to hear: in ``lang``,
    the words of the keys it offers; every language's name (its switch words, such as
    "español"), which callers say in whatever language; and the words of talking to someone in
    each language whose offer of it the menu reads (``offers``)."""
    words = call.words(lang)
    digits = [digit.strip() for digit in words.t("voice.speech.digits").split(",")]
    keys = [*language_keys(call.languages, lang), call.flow.talk_key]
    names = [
        word.lower()
        for profile in call.catalogs.profiles.values()
        for word in profile.keywords
        if len(word) > 2
    ]
    talk = [
        phrase.strip()
        for other in offers
        for phrase in call.words(other).t("voice.speech.talk").split(",")
    ]
    return [*(digits[int(key)] for key in keys), *names, *talk][:MAX_HINTS]


def render_talk_at_once(call: Call, default_lang: str, screen: Screen) -> VoiceResponse:
    """The talk key pressed in the greeting, before any language was chosen: "connecting you"
    in every language, then the call to the 24/7 line (when it cannot be dialled, the talk
    screen in the site's language)."""
    state = State(call.flow.talk_node, lang=default_lang, chosen=False)
    service = screen.service
    if screen.kind != "connect" or service is None or not dialable(service):
        return render(call, state, screen)
    others = list(language_keys(call.languages, default_lang).values())[1:]
    return dial(call, state, service.phone or "", also=others)


def render_signal(call: Call, state: State) -> VoiceResponse:
    """After words that suggest danger: the calm line (the 24/7 line and 911, read digit by
    digit, no word of what was said) and the offer to be connected now by one key or "yes";
    silence goes back to the screen the caller was on."""
    lang, words = state.lang, call.words(state.lang)
    yes = [phrase.strip() for phrase in words.t("voice.speech.yes").split(",")]
    response, menu = listen(call, lang, state_url("voice.signal", state), yes)
    text = words.t("voice.notice.signal", number=NUMBER, emergency=number_mark("emergency"))
    numbers = {"number": call.setup.hotline_phone, "emergency": call.setup.emergency_phone}
    say(menu, call.voices[lang], text, numbers)
    speak(menu, call, lang, words.t("voice.signal.offer", key=KEY_CONNECT))
    return response


def render_offer(call: Call, lang: str) -> VoiceResponse:
    """After unanswered menus: the 24/7 line's number, and a key (or silence) to be connected."""
    response, menu = listen(call, lang, url_for("voice.offer", l=lang), [])
    text = call.words(lang).t(
        "voice.offer", number=NUMBER, key=KEY_CONNECT, home=call.flow.home_key
    )
    speak(menu, call, lang, text, call.setup.hotline_phone)
    return response
