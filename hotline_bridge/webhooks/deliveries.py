"""Telling a Twilio retry from a new webhook, without keeping anything that names a message.

Twilio delivers a webhook again when our answer was slow or lost. The retry is answered like the
first delivery, but counted once. To know it again we keep a keyed digest (BLAKE2b in its keyed
mode, a MAC like an HMAC at a third of the cost) of the delivery (its route, its signed fields
with their Sid, and Twilio's idempotency token) under a key made at start-up that never leaves
memory. Nothing kept could be matched to a message by anyone holding
the database or the logs, and every digest is wiped within the conversation window.

The digests live in anonymous shared memory made before gunicorn forks its workers (the app is
preloaded), so a retry that reaches another worker is known there too. Two tables take turns,
each holding the digests of half a window: a lookup reads both, and the older one is wiped
before it is reused, so a digest is kept for between half a window and a whole one. Twilio's
retries come within seconds. The look-up and the remembering are one step under a lock that
the workers share too (a semaphore made before the fork): a delivery and its duplicate that
reach two workers at the same instant are told apart, and counted once.
"""

from __future__ import annotations

import hashlib
import mmap
import multiprocessing
import secrets
import struct
import time

# Bytes of the HMAC kept per delivery: collisions among the deliveries of one window are
# vanishingly unlikely at 16, and fewer bytes mean less to hold.
DIGEST_BYTES = 16

# Deliveries each table can hold, and the slots a lookup tries; when all are taken the first is
# overwritten (a burst costs a count of precision at worst, never memory).
SLOTS = 1 << 15
PROBES = 8

_HEADER = struct.Struct("q")  # the half-window a table holds
_EMPTY = bytes(DIGEST_BYTES)


class RecentDeliveries:
    """The keyed digests of the webhooks of the last half window to whole window."""

    def __init__(self, window_seconds: float, slots: int = SLOTS) -> None:
        self.half = window_seconds / 2
        self.slots = slots
        self._key = secrets.token_bytes(32)
        self._size = _HEADER.size + slots * DIGEST_BYTES
        self._memory = mmap.mmap(-1, 2 * self._size)  # MAP_SHARED: seen by forked workers
        # A process-shared semaphore: it excludes the threads of one worker and the other
        # workers alike (a threading lock would leave two workers reading the same empty slot).
        self._lock = multiprocessing.Lock()

    def seen(self, *parts: str, now: float | None = None) -> bool:
        """Return whether a delivery made of ``parts`` came recently, and remember it.

        The digest is looked for in the table of the half window before, when it holds that
        one, then in the current table (wiped first when it still holds an older half window),
        at up to ``PROBES`` slots from the one the digest names; when it is in neither, it is
        kept in the first empty one of those slots (or, all taken, the first)."""
        now = time.monotonic() if now is None else now
        material = "\0".join(parts).encode("utf-8", "surrogateescape")
        digest = hashlib.blake2b(material, key=self._key, digest_size=DIGEST_BYTES).digest()
        first = int.from_bytes(digest[:4], "big") % self.slots
        epoch = int(now // self.half)
        memory, size = self._memory, self._size
        current, previous = (epoch % 2) * size, ((epoch - 1) % 2) * size
        with self._lock:
            if _HEADER.unpack_from(memory, current)[0] != epoch:
                memory[current : current + size] = bytes(size)
                _HEADER.pack_into(memory, current, epoch)
            tables = [current]
            if _HEADER.unpack_from(memory, previous)[0] == epoch - 1:
                tables.insert(0, previous)
            for table in tables:
                free = table + _HEADER.size + first * DIGEST_BYTES
                for probe in range(PROBES):
                    at = table + _HEADER.size + (first + probe) % self.slots * DIGEST_BYTES
                    held = memory[at : at + DIGEST_BYTES]
                    if held == digest:
                        return True
                    if held == _EMPTY:
                        free = at
                        break
            memory[free : free + DIGEST_BYTES] = digest  # ``free`` is the current table's
        return False

    def held(self) -> bytes:
        """Return everything kept, for tests that prove it names no message."""
        return bytes(self._memory)
