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
_DIGIT_RUN = r"\+?\d(?:[\s().\-]{0,2}\d){4,}"
REDACTED = "[redacted]"

# The server's own facts, which no person sends and which operators need to read. Each is
# recognised by its context, so a bare number stays hidden: an IPv4 address and the port after
# it or after a host name ("Listening at: http://127.0.0.1:18000 (4242)"), a process id
# ("pid: 4242", "[4242]"), the status code and size that close an access-log line
# ('" 200 48213'), a byte count ("65536 bytes"), and a timestamp ("2026-12-01 22:07:36",
# gunicorn's "01/Dec/2026:22:07:36 +0000", werkzeug's "01/Dec/2026 22:07:36").
_KEEP = (
    r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?!\.?\d)(?::\d{1,5}(?: \(\d{1,7}\))?)?",
    r"(?<![\w.-])(?:localhost|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}):\d{1,5}(?: \(\d{1,7}\))?",
    r"\bpids?\b[:=]?\s*\d{1,7}\b",
    r"\[\d{1,7}\]",
    r'"\s\d{3}\s(?:\d+|-)',
    r"\b\d+\s+bytes\b",
    r"\b\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?",
    r"\b\d{2}/[A-Z][a-z]{2}/\d{4}[: ]\d{2}:\d{2}:\d{2}(?:\s[+-]\d{4})?",
)
_PATTERN = re.compile(
    "|".join(f"(?P<keep{i}>{k})" for i, k in enumerate(_KEEP)) + "|" + _DIGIT_RUN, re.I
)

_installed = False


def redact(text: str) -> str:
    """Return ``text`` with every run of digits that could be a person's phone number or ZIP
    code replaced, keeping the server's own addresses, ports, process ids, status codes, byte
    counts and timestamps readable."""
    return _PATTERN.sub(_replace, text)


def _replace(match: re.Match[str]) -> str:
    return match[0] if match.lastgroup else REDACTED


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
