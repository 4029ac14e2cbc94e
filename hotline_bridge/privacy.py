"""Keep phone numbers and ZIP codes out of every log record, whoever logs it.

A redacting log-record factory is installed once per process, so records from Flask, Werkzeug,
gunicorn, Twilio's client and our own code are all cleaned before any handler sees them.
"""

from __future__ import annotations

import logging
import re
import traceback

# Any run of five or more digits, allowing the separators people and libraries put in phone
# numbers: this catches E.164 numbers, formatted US numbers, short codes and ZIP codes alike.
# Over-redacting a harmless count in a log line is the price of never logging a person.
_DIGIT_RUN = re.compile(r"\+?\d(?:[\s().\-]{0,2}\d){4,}")
REDACTED = "[redacted]"
# An IPv4 address is not a phone number; keeping it keeps server logs readable.
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")

_installed = False


def redact(text: str) -> str:
    """Return ``text`` with every phone-number-like or ZIP-like run of digits replaced."""
    return _DIGIT_RUN.sub(_replace, text)


def _replace(match: re.Match[str]) -> str:
    return match[0] if _IPV4.fullmatch(match[0]) else REDACTED


def _clean_record(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # a bad format string must not cost us the record
        message = str(record.msg)
    record.msg, record.args = redact(message), ()
    if record.exc_info and not record.exc_text:
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


def install_log_redaction() -> None:
    """Make every log record created from now on in this process redacted (idempotent)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        return _clean_record(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = True
