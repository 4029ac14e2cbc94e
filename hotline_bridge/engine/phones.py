"""How the line writes and dials a stored number, in every channel."""

from __future__ import annotations

import functools
from collections.abc import Callable

import phonenumbers


# A line's few numbers are written in every reply that offers them.
@functools.lru_cache(maxsize=1024)
def display_number(number: str | None) -> str:
    """Write a stored number the way a US reader dials it: ``1-888-373-7888``, ``988``, ``233733``.

    Numbers are stored as E.164 (or as short codes and three-digit service numbers); this is the
    one place that turns them into text.
    """
    if not number:
        return ""
    if not number.startswith("+"):
        return number
    parsed = phonenumbers.parse(number, None)
    if parsed.country_code == 1:
        national = str(parsed.national_number)
        return f"1-{national[:3]}-{national[3:6]}-{national[6:]}"
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# The catalog entry that writes a number with its extension ("%(number)s ext. %(extension)s").
EXTENSION_KEY = "directory.phone_extension"


def display_phone(number: str | None, extension: str | None, t: Callable[..., str]) -> str:
    """Write a number as ``display_number`` does, with its extension in the reader's words
    (``t`` is a bound catalog's ``Words.t``): "1-617-555-0123 ext. 100"."""
    shown = display_number(number)
    if not (shown and extension):
        return shown
    return t(EXTENSION_KEY, number=shown, extension=extension)


def send_digits(extension: str | None) -> str | None:
    """Return what a phone sends once a call to a number with ``extension`` connects: a few
    half-second waits for the switchboard to answer, then the extension (Twilio's
    ``sendDigits``); None without one."""
    return f"wwww{extension}" if extension else None


def dial_string(number: str | None) -> str:
    """Return what a phone dials for a stored number (E.164 as is, short codes as they are)."""
    return number or ""


def call_uri(number: str | None, extension: str | None = None) -> str:
    """Return the ``tel:`` address a phone's camera or browser hands its dialer to call a
    stored number, and then its extension: ``tel:+16175550123,100``.

    RFC 3966 writes an extension as ``;ext=100``, but Android's dialer reads the letters of
    ``ext`` as keypad digits (dialling 398100) and iOS offers it only as a button after the
    call connects. A comma is the pause both dialers honour in a ``tel:`` link: the phone
    waits about two seconds after the call connects, then sends the digits, as
    ``send_digits`` has Twilio do on the voice line."""
    dialled = dial_string(number)
    return f"tel:{dialled},{extension}" if dialled and extension else f"tel:{dialled}"
