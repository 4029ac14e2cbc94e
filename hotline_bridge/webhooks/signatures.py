"""Twilio's request signatures, computed as the twilio library computes them, keyed once.

``RequestValidator.compute_signature`` keys a new HMAC with the auth token on every call, tries
three ways to read each field's values and compares the result in a Python loop. A webhook pays
that on every request, so here the keyed HMAC is made once per algorithm and copied for each
signature, and the comparison takes constant time in C. The signatures are the library's own
(the tests compare the two on arbitrary URLs and fields), and an algorithm the library does not
know is refused as it refuses it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence

from twilio.request_validator import HMAC_SHA1, HMAC_SHA256


class Signatures:
    """Computes and checks ``X-Twilio-Signature`` values for one auth token."""

    def __init__(self, token: str) -> None:
        key = token.encode("utf-8")
        self._keyed = {
            HMAC_SHA1: hmac.new(key, None, hashlib.sha1),
            HMAC_SHA256: hmac.new(key, None, hashlib.sha256),
        }

    def compute(
        self, url: str, fields: Mapping[str, Sequence[str]], algorithm: str | None = None
    ) -> str:
        """Return the signature of ``url`` and ``fields`` (each field with all its values).

        Raises ``ValueError`` for an algorithm the twilio library does not support, and
        ``UnicodeEncodeError`` for text that is not Unicode (a lone surrogate)."""
        keyed = self._keyed.get((algorithm or HMAC_SHA1).upper())
        if keyed is None:
            raise ValueError(f"unsupported webhook signature algorithm: {algorithm}")
        signed = [url]
        for name in sorted(fields):
            values = fields[name]
            for value in values if len(values) == 1 else sorted(set(values)):
                signed += (name, value)
        mac = keyed.copy()
        mac.update("".join(signed).encode("utf-8"))
        return base64.b64encode(mac.digest()).decode("ascii")

    def matches(
        self,
        signature: str,
        url: str,
        fields: Mapping[str, Sequence[str]],
        algorithm: str | None = None,
    ) -> bool:
        """Return whether ``signature`` is the one for ``url`` and ``fields``, compared in
        constant time."""
        expected = self.compute(url, fields, algorithm).encode("ascii")
        return hmac.compare_digest(expected, signature.encode("utf-8", "surrogateescape"))
