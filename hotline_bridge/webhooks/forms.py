"""Reading a webhook's form: werkzeug's result, without werkzeug's general-purpose machinery.

Every Twilio webhook is a URL-encoded form of about twenty fields. Werkzeug reads it through a
form-data parser built for any content type (limits, stream wrappers, a second empty dict for
files) and ``urllib``'s ``parse_qsl``; on the SMS webhook that was a tenth of the request. Here a
URL-encoded body is read once and split directly, giving exactly what werkzeug gives (the
tests compare the two on arbitrary bytes), and the raw body stays available to
``request.get_data()``. Every other content type goes to werkzeug unchanged.
"""

from __future__ import annotations

from urllib.parse import unquote

import werkzeug.urls  # noqa: F401 - registers the "werkzeug.url_quote" error handler
from flask import Request

URLENCODED = "application/x-www-form-urlencoded"
# Werkzeug's handler for %-escapes that are not UTF-8: they are kept escaped, not dropped.
_ESCAPES_KEPT = "werkzeug.url_quote"


def parse_urlencoded(data: bytes) -> list[tuple[str, str]]:
    """Return the fields of a URL-encoded body as werkzeug reads them: blank values kept, ``+``
    a space, bad %-escapes kept as written. Raises ``ValueError`` when the body is not UTF-8
    (werkzeug then reads it as an empty form)."""
    text = data.decode()
    fields = []
    for field in text.split("&"):
        if field:
            name, _, value = field.partition("=")
            fields.append((_unquote(name), _unquote(value)))
    return fields


def _unquote(text: str) -> str:
    if "+" in text:
        text = text.replace("+", " ")
    if "%" in text:
        text = unquote(text, errors=_ESCAPES_KEPT)
    return text


class WebhookRequest(Request):
    """Flask's request, reading URL-encoded forms with ``parse_urlencoded``."""

    def _load_form_data(self) -> None:
        if "form" in self.__dict__:
            return
        if not self.want_form_data_parsed or self.mimetype != URLENCODED:
            super()._load_form_data()
            return
        stream = self._get_stream_for_parsing()  # limited to MAX_CONTENT_LENGTH, as werkzeug's
        data = stream.read()
        try:
            fields = parse_urlencoded(data)
        except ValueError:  # not UTF-8: werkzeug's parser gives an empty form too
            fields = []
        self._cached_data = data
        storage = self.parameter_storage_class
        self.__dict__.update(stream=stream, form=storage(fields), files=storage())
