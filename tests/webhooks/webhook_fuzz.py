"""Hypothesis strategies for hostile webhook requests, shared by the test suite and ``make fuzz``.

A ``Probe`` is one request as Twilio or anyone else might send it: a route (with a tampered
action-URL query), fields of any text, a body encoded as a form, as multipart or as raw bytes,
near or over the size limit, with a missing, wrong or valid signature and a cookie that is
absent, garbage, or validly signed around junk state. ``expected`` says what the answer must be.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode
from xml.etree import ElementTree

from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

ROUTES = (
    "/sms",
    "/sms/fallback",
    "/sms/status",
    "/voice",
    "/voice/language",
    "/voice/menu",
    "/voice/offer",
    "/voice/signal",
    "/voice/dialed",
    "/voice/forget",
    "/voice/fallback",
    "/voice/status",
    "/voice/callback/answer",
    "/voice/callback/status",
)

# The body size over which every answer must be a refusal (the app's MAX_BODY_BYTES).
LIMIT = 64 * 1024

FIELDS = (
    "Body",
    "From",
    "To",
    "MessageSid",
    "SmsSid",
    "CallSid",
    "AccountSid",
    "Digits",
    "SpeechResult",
    "Confidence",
    "MessageStatus",
    "CallStatus",
    "DialCallStatus",
    "NumMedia",
    "OptOutType",
    "AnsweredBy",
)
# The keys of the voice line's action URLs, and of the SMS cookie's state.
QUERY_KEYS = ("n", "i", "g", "l", "r", "v", "d", "z", "k")
COOKIE_KEYS = ("l", "p", "x", "s", "k", "c", "o")

# What people and Twilio plausibly send, mixed into the random text so that the fuzzing also
# walks real menus rather than only "not understood".
WORDS = (
    *("1", "2", "3", "4", "8", "9", "0", "*", "#", "00", "12", "1#", "*1"),
    *("ES", "EN", "es", "STOP", "HELP", "START", "AYUDA", "PARAR", "hola", "hello", "MENU"),
    *("02139", "10001", "99999", "00000", "9021", "²", "①", "٣", "\uff11"),
    *("\x0b", "\x00", "\ud7ff"),
    *("main", "talk", "legal", "housing", "zip", "en", "es", "delivered", "completed", "busy"),
    *("+15558675309", "+15550100999", "whatsapp:+15558675309", "-1", "1e9", "NaN", "<b>", "&"),
    *("CALL", "CALL 20", "LLAMAR 99", "YES", "SÍ", "human", "machine_start"),
)

texts = st.one_of(
    st.sampled_from(WORDS),
    st.text(max_size=30),
    st.text(st.characters(codec="utf-8"), max_size=120),
    st.from_regex(r"[0-9*#]{1,12}", fullmatch=True),
)


@dataclass(frozen=True)
class Probe:
    """One hostile request and what it must get."""

    path: str
    query: str
    encoding: str  # "form", "multipart" or "raw"
    fields: dict[str, str]
    raw: bytes = b""
    content_type: str = "application/x-www-form-urlencoded"
    signature: str = "valid"  # "valid", "wrong" or "none"
    cookie: str | None = None
    signed_cookie: dict[str, str] | None = None
    padding: int = 0
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def url_path(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path

    def params(self) -> dict[str, str]:
        """Return the fields as posted, with any padding that brings the body near the limit."""
        if not self.padding:
            return self.fields
        return {**self.fields, "Body": self.fields.get("Body", "") + "x" * self.padding}

    def body(self) -> tuple[bytes, str]:
        """Return the body bytes and their content type."""
        if self.encoding == "raw":
            return self.raw, self.content_type
        if self.encoding == "multipart":
            return _multipart(self.params())
        return urlencode(self.params()).encode("utf-8"), "application/x-www-form-urlencoded"

    def signed_headers(self, base_url: str, token: str) -> dict[str, str]:
        """Return the request's headers, with the signature it is meant to carry."""
        headers = dict(self.headers)
        if self.signature == "valid":
            headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(
                base_url + self.url_path, self.params()
            )
        elif self.signature == "wrong":
            headers["X-Twilio-Signature"] = "bm90IGEgc2lnbmF0dXJl"
        return headers

    def expected(self) -> set[int]:
        """Return the statuses this probe may get: 413 over the limit, else 200 when signed,
        else 403."""
        body, _ = self.body()
        if len(body) > LIMIT:
            return {413}
        if self.signature != "valid":
            return {403}
        # Raw bytes were signed as the fields they were drawn with; they may parse as those.
        return {200, 403} if self.encoding == "raw" else {200}


def _multipart(params: dict[str, str]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    chunks = []
    for name, value in params.items():
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        )
    chunks.append(f"--{boundary}--\r\n")
    return "".join(chunks).encode("utf-8"), f"multipart/form-data; boundary={boundary}"


def edge_fields(padding: int) -> dict[str, str]:
    """Return the fields of a real-looking webhook with a padding field of ``padding`` bytes."""
    return {
        "From": "+15558675309",
        "To": "+15550100999",
        "Body": "hello",
        "MessageSid": "SM" + "0" * 32,
        "CallSid": "CA" + "0" * 32,
        "AccountSid": "AC" + "0" * 32,
        "Padding": "x" * padding,
    }


def multipart_of_exactly(size: int) -> tuple[dict[str, str], bytes, str]:
    """Return fields to sign, their multipart body of exactly ``size`` bytes, and its type."""
    body, _ = _multipart(edge_fields(0))
    params = edge_fields(size - len(body))
    body, kind = _multipart(params)
    assert len(body) == size
    return params, body, kind


# What a Cookie header can carry at all: printable ASCII.
COOKIE_CHARACTERS = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
ENCODINGS = ("form", "form", "form", "multipart", "raw")
SIGNATURES = ("valid", "valid", "valid", "wrong", "none")
PADDINGS = (0,) * 12 + (LIMIT - 200, LIMIT + 1, 3 * LIMIT)


@st.composite
def probes(
    draw: st.DrawFn,
    routes: tuple[str, ...] = ROUTES,
    signatures: tuple[str, ...] = SIGNATURES,
    paddings: tuple[int, ...] = PADDINGS,
    encodings: tuple[str, ...] = ENCODINGS,
) -> Probe:
    """Draw one hostile request to one of ``routes``."""
    names = st.one_of(st.sampled_from(FIELDS), st.text(min_size=1, max_size=12))
    fields = draw(st.dictionaries(names, texts, max_size=8))
    if draw(st.booleans()):
        fields.setdefault(draw(st.sampled_from(("MessageSid", "CallSid"))), _sid(draw))
    query = urlencode(draw(st.dictionaries(st.sampled_from(QUERY_KEYS), texts, max_size=5)))
    encoding = draw(st.sampled_from(encodings))
    if encoding == "multipart":  # names a multipart header can carry as they are
        fields = {k: v for k, v in fields.items() if not set(k) & set('"\\\r\n%')}
    raw, content_type = b"", "application/x-www-form-urlencoded"
    if encoding == "raw":
        raw = draw(st.binary(max_size=600))
        content_type = draw(
            st.sampled_from(
                (
                    "application/x-www-form-urlencoded",
                    "application/x-www-form-urlencoded; charset=utf-16",
                    "multipart/form-data; boundary=b",
                    "multipart/form-data",
                    "application/json",
                    "text/plain; charset=latin-1",
                    "",
                )
            )
        )
        if draw(st.booleans()):
            raw = b"--b\r\nContent-Disposition: form-data\r\n\r\n" + raw + b"\r\n--b--\r\n"
    return Probe(
        path=draw(st.sampled_from(routes)),
        query=query,
        encoding=encoding,
        fields=fields,
        raw=raw,
        content_type=content_type,
        signature=draw(st.sampled_from(signatures)),
        cookie=draw(st.one_of(st.none(), st.text(COOKIE_CHARACTERS, max_size=80))),
        signed_cookie=draw(
            st.one_of(st.none(), st.dictionaries(st.sampled_from(COOKIE_KEYS), texts, max_size=4))
        ),
        padding=draw(st.sampled_from(paddings)),
    )


def _sid(draw: st.DrawFn) -> str:
    return draw(st.sampled_from(("SM", "CA", "MM"))) + uuid.uuid4().hex


def cookie_value(probe: Probe, dumps: object) -> str | None:
    """Return the session cookie to send: junk, or junk state signed with the app's key."""
    if probe.signed_cookie is not None and callable(dumps):
        return str(dumps(probe.signed_cookie))
    return probe.cookie


def twiml_problem(status: int, mimetype: str, body: bytes) -> str | None:
    """Return what is wrong with an answer's TwiML, or None when it is a valid document."""
    if mimetype not in {"application/xml", "text/xml"}:
        return f"not TwiML: {mimetype}"
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        return f"invalid XML: {exc}"
    if root.tag != "Response":
        return f"root is {root.tag}"
    return None


def describe(probe: Probe) -> str:
    """Return a short account of a probe, for a failure message (it holds no real person)."""
    body, content_type = probe.body()
    return json.dumps(
        {
            "path": probe.url_path,
            "encoding": probe.encoding,
            "content_type": content_type,
            "signature": probe.signature,
            "size": len(body),
            "fields": {k: v[:40] for k, v in probe.fields.items()},
        },
        ensure_ascii=True,
    )
