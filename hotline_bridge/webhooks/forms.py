"""Reading a webhook's form: werkzeug's result, without werkzeug's general-purpose machinery.

Every Twilio webhook is a URL-encoded form of about twenty fields with a ``Content-Length``.
Werkzeug reads it through a form-data parser built for any content type (limits, stream
wrappers, a second empty dict for files) and ``urllib``'s ``parse_qsl``; on the SMS webhook
that was a tenth of the request. Here such a body is read in one call and split directly,
giving exactly what werkzeug gives (the tests compare the two on arbitrary bytes), and the raw
body stays available to ``request.get_data()``. Every other body (another content type, no
declared length) goes to werkzeug unchanged.
"""

from __future__ import annotations

import io
from urllib.parse import unquote, unquote_to_bytes

import werkzeug.urls  # noqa: F401 - registers the "werkzeug.url_quote" error handler
from flask import Request
from werkzeug.exceptions import ClientDisconnected, HTTPException, RequestEntityTooLarge
from werkzeug.utils import cached_property
from werkzeug.wsgi import get_content_length

URLENCODED = "application/x-www-form-urlencoded"
# Werkzeug's handler for %-escapes that are not UTF-8: they are kept escaped, not dropped.
_ESCAPES_KEPT = "werkzeug.url_quote"


def parse_urlencoded(data: bytes) -> list[tuple[str, str]]:
    """Return the fields of a URL-encoded body as werkzeug reads them: blank values kept, ``+``
    a space, bad %-escapes kept as written. Raises ``ValueError`` when the body is not UTF-8
    (werkzeug then reads it as an empty form)."""
    # "+" is a space wherever it stands (an escaped "%2B" is a plus, unescaped after this).
    text = data.decode().replace("+", " ")
    if not text.isascii():
        return [
            (unquote(name, errors=_ESCAPES_KEPT), unquote(value, errors=_ESCAPES_KEPT))
            for name, _, value in (field.partition("=") for field in text.split("&") if field)
        ]
    # Twilio's bodies are ASCII; for ASCII text ``unquote`` is exactly this, at half the cost.
    fields = []
    for field in text.split("&"):
        if field:
            name, _, value = field.partition("=")
            if "%" in name:
                name = unquote_to_bytes(name).decode("utf-8", _ESCAPES_KEPT)
            if "%" in value:
                value = unquote_to_bytes(value).decode("utf-8", _ESCAPES_KEPT)
            fields.append((name, value))
    return fields


class WebhookRequest(Request):
    """Flask's request, reading URL-encoded forms with ``parse_urlencoded``.

    A webhook reads its fields as ``pairs``, ``fields`` and ``grouped``, made in one pass over the
    body; werkzeug's ``form`` is built from the same pairs only when something asks for it.
    """

    def _load_form_data(self) -> None:
        if "form" in self.__dict__:
            return
        pairs = self.__dict__.get("pairs")
        if pairs is None:
            pairs = self._urlencoded_pairs()
        if pairs is None:
            super()._load_form_data()
            return
        storage = self.parameter_storage_class
        self.__dict__.update(form=storage(pairs), files=storage())

    def _urlencoded_pairs(self) -> list[tuple[str, str]] | None:
        """Return the fields of a URL-encoded body of declared length, read as werkzeug would
        (413 over the limit, ``ClientDisconnected`` when it ends early), keeping the raw body
        for ``get_data``; None for any other body, which werkzeug reads."""
        environ = self.environ
        kind = environ.get("CONTENT_TYPE")
        if not kind or (kind != URLENCODED and self.mimetype != URLENCODED):
            return None
        data: bytes | None = getattr(self, "_cached_data", None)
        if data is None:
            length = get_content_length(environ)  # what ``content_length`` reads, directly
            if length is None:
                return None
            limit = self.max_content_length
            if limit is not None and length > limit:
                raise RequestEntityTooLarge()
            data = environ["wsgi.input"].read(length) if length else b""
            if len(data) < length and "wsgi.input_terminated" not in environ:
                raise ClientDisconnected()
            self._cached_data = data
            self.__dict__["stream"] = io.BytesIO()  # read: what is left of it is nothing
        try:
            return parse_urlencoded(data)
        except ValueError:  # not UTF-8: werkzeug's parser gives an empty form too
            return []

    @cached_property
    def pairs(self) -> list[tuple[str, str]]:
        """Every field of the form in the order sent (a repeated field once per value); none
        when the body is not a form that can be read."""
        try:
            if "form" not in self.__dict__:
                pairs = self._urlencoded_pairs()
                if pairs is not None:
                    return pairs
            return list(self.form.items(multi=True))
        except HTTPException:  # too large, cut short, or not a form at all
            return []

    @cached_property
    def fields(self) -> dict[str, str]:
        """The form's fields, the first value of each, as ``form.to_dict()`` gives them (made
        with ``grouped``)."""
        self.grouped  # noqa: B018 - which keeps ``fields`` too
        return self.__dict__["fields"]

    @cached_property
    def grouped(self) -> dict[str, list[str]]:
        """Each field with all its values, in the order sent."""
        first: dict[str, str] = {}
        grouped: dict[str, list[str]] = {}
        for name, value in self.pairs:
            values = grouped.get(name)
            if values is None:
                first[name], grouped[name] = value, [value]
            else:
                values.append(value)
        self.__dict__["fields"] = first
        return grouped
