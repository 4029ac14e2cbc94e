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
        """Return whether a delivery made of ``parts`` came recently, and remember it."""
        now = time.monotonic() if now is None else now
        material = "\0".join(parts).encode("utf-8", "surrogateescape")
        digest = hashlib.blake2b(material, key=self._key, digest_size=DIGEST_BYTES).digest()
        start = int.from_bytes(digest[:4], "big") % self.slots
        epoch = int(now // self.half)
        with self._lock:
            current = self._table(epoch)
            previous = self._previous(epoch)
            if previous is not None and self._find(previous, digest, start)[0]:
                return True
            found, slot = self._find(current, digest, start)
            if not found:
                self._store(current, slot, digest)
        return found

    def _table(self, epoch: int) -> int:
        """Return the offset of the table for ``epoch``, wiping the stale one it replaces."""
        offset = (epoch % 2) * self._size
        if not self._holds(offset, epoch):
            self._memory[offset : offset + self._size] = bytes(self._size)
            _HEADER.pack_into(self._memory, offset, epoch)
        return offset

    def _previous(self, epoch: int) -> int | None:
        """Return the offset of the table of the half window before ``epoch``, if it is that."""
        offset = ((epoch - 1) % 2) * self._size
        return offset if self._holds(offset, epoch - 1) else None

    def _holds(self, offset: int, epoch: int) -> bool:
        return bool(_HEADER.unpack_from(self._memory, offset)[0] == epoch)

    def _find(self, table: int, digest: bytes, start: int) -> tuple[bool, int]:
        """Return whether ``digest`` is in the table, and the slot where it is or may go."""
        for i in range(PROBES):
            slot = (start + i) % self.slots
            held = self._digest(table, slot)
            if held == digest:
                return True, slot
            if held == _EMPTY:
                return False, slot
        return False, start

    def _digest(self, table: int, slot: int) -> bytes:
        at = table + _HEADER.size + slot * DIGEST_BYTES
        return self._memory[at : at + DIGEST_BYTES]

    def _store(self, table: int, slot: int, digest: bytes) -> None:
        at = table + _HEADER.size + slot * DIGEST_BYTES
        self._memory[at : at + DIGEST_BYTES] = digest

    def held(self) -> bytes:
        """Return everything kept, for tests that prove it names no message."""
        return bytes(self._memory)
