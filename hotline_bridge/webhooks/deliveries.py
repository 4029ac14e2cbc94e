"""Telling a Twilio retry from a new webhook, without keeping anything that names a message.

Twilio delivers a webhook again when our answer was slow or lost. The retry is answered like the
first delivery, but counted once. To know it again we keep, for the conversation window only, a
truncated HMAC of the delivery (its route, its signed fields with their Sid, and Twilio's
idempotency token) under a key made at start-up that never leaves this process's memory: nothing
kept could be matched to a message by anyone holding the database or the logs, nor by anyone at
all once the window has passed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict

# Bytes of the HMAC kept per delivery: collisions among a few thousand recent deliveries are
# vanishingly unlikely at 16, and fewer bytes mean less to hold.
DIGEST_BYTES = 16

# Deliveries remembered at most; older ones are forgotten first (a burst costs a few counts of
# precision at worst, never memory).
MAX_REMEMBERED = 100_000


class RecentDeliveries:
    """The keyed digests of this process's webhooks of the last ``window`` seconds."""

    def __init__(self, window_seconds: float) -> None:
        self.window = window_seconds
        self._key = secrets.token_bytes(32)
        self._seen: OrderedDict[bytes, float] = OrderedDict()
        self._lock = threading.Lock()

    def seen(self, *parts: str, now: float | None = None) -> bool:
        """Return whether a delivery made of ``parts`` came in the window, and remember it."""
        now = time.monotonic() if now is None else now
        material = "\0".join(parts).encode("utf-8", "surrogateescape")
        digest = hmac.new(self._key, material, hashlib.sha256).digest()[:DIGEST_BYTES]
        with self._lock:
            self._forget_older_than(now - self.window)
            if digest in self._seen:
                return True
            self._seen[digest] = now
            if len(self._seen) > MAX_REMEMBERED:
                self._seen.popitem(last=False)
        return False

    def _forget_older_than(self, cutoff: float) -> None:
        while self._seen:
            oldest = next(iter(self._seen.values()))
            if oldest >= cutoff:
                return
            self._seen.popitem(last=False)

    def __len__(self) -> int:
        return len(self._seen)
