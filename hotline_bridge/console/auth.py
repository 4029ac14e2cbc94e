"""Who is signed in: passwords (argon2), one-time codes (TOTP), throttled sign-in, and the
console's server-side sessions that end after inactivity.

The console cookie holds only a random session token; the row it names (stored as a hash, so a
copy of the database signs nobody in) says who it is, how far sign-in got and when it was last
used. Disabling an account or signing out ends its sessions at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import pyotp
import segno
import sqlite_utils
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hotline_bridge.console import store
from hotline_bridge.console.store import Staff, stamp

# argon2id with the library's defaults (RFC 9106's second recommended profile).
_HASHER = PasswordHasher()

# Sign-in failures counted per account and per address over this window.
FAILURE_WINDOW = dt.timedelta(minutes=15)
# Failures within the window after which further tries are refused until it passes: of one
# email (any address), and of real accounts from one address. Failures with emails that are no
# account's are not counted against the address, so a stranger typing made-up emails behind a
# clinic's shared address cannot lock its staff out.
ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20
# Consecutive failures after which an account locks until `hotline-bridge staff unlock`.
LOCK_AFTER = 10
# A number change needs a one-time code entered at most this long ago.
REAUTH_WINDOW = dt.timedelta(minutes=5)
# The issuer authenticator apps show beside the account.
ISSUER = "hotline-bridge console"

# How far a session has come: password checked, then the one-time code too.
PASSWORD, SIGNED_IN = "password", "signed-in"


def hash_password(password: str) -> str:
    """Return the argon2id hash of ``password``."""
    return _HASHER.hash(password)


def password_matches(stored: str, password: str) -> bool:
    """Return whether ``password`` matches the stored hash."""
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def check_password(db: sqlite_utils.Database, staff: Staff | None, password: str) -> bool:
    """Return whether ``password`` signs ``staff`` in, spending the same time when it is None."""
    if staff is None:
        _HASHER.hash(password)  # as long as a check takes, so no answer tells who has an account
        return False
    return password_matches(store.password_hash(db, staff.id), password)


# --- One-time codes --------------------------------------------------------------------------


def new_totp_secret() -> str:
    """Return a fresh base32 TOTP secret."""
    return pyotp.random_base32()


def enrolment_uri(secret: str, email: str) -> str:
    """Return the otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def enrolment_svg(secret: str, email: str) -> str:
    """Return the enrolment QR code as inline SVG, drawn here so it never leaves our origin."""
    qr = segno.make(enrolment_uri(secret, email), error="m")
    return qr.svg_inline(scale=5, dark="#000", light="#fff", title=ISSUER)


def code_step(secret: str, code: str, now: dt.datetime) -> int | None:
    """Return the time step ``code`` belongs to (this one or either neighbour), or None."""
    totp = pyotp.TOTP(secret)
    cleaned = "".join(ch for ch in code if ch.isdigit())
    if len(cleaned) != totp.digits:
        return None
    step = totp.timecode(now)
    for candidate in (step, step - 1, step + 1):
        if hmac.compare_digest(totp.generate_otp(candidate), cleaned):
            return candidate
    return None


def use_code(db: sqlite_utils.Database, staff: Staff, code: str, now: dt.datetime) -> bool:
    """Accept ``code`` for ``staff`` once: a code already used (or an older one) is refused, so
    a code seen over a shoulder cannot be replayed."""
    if not staff.totp_secret:
        return False
    step = code_step(staff.totp_secret, code, now)
    if step is None:
        return False
    # One statement that checks and moves the last step, so the same code sent twice at the
    # same instant is accepted once.
    with db.conn:
        cursor = db.execute(
            "update staff set totp_last_step = ? where id = ? and totp_secret = ? "
            "and (totp_last_step is null or totp_last_step < ?)",
            [step, staff.id, staff.totp_secret, step],
        )
    return cursor.rowcount == 1


# --- Throttling ------------------------------------------------------------------------------


def address_key(address: str | None, secret_key: str) -> str:
    """Return the key failures from an address are counted under (a keyed hash, not the
    address itself: the console keeps no more about anyone than it needs)."""
    digest = hmac.new(secret_key.encode(), (address or "").encode(), hashlib.sha256)
    return "address:" + digest.hexdigest()[:32]


def account_key(email: str) -> str:
    """Return the key failures for an account are counted under."""
    return "account:" + email.strip().lower()


def _begin_immediate(db: sqlite_utils.Database) -> None:
    """Start a write transaction at once, so no other worker counts between our count and our
    insert (SQLite lets one writer in at a time; the others wait for the busy timeout)."""
    if db.conn.in_transaction:
        db.conn.commit()
    db.execute("begin immediate")


def reserve(
    db: sqlite_utils.Database, limits: dict[str, int], counted: list[str], now: dt.datetime
) -> list[int] | None:
    """Count a sign-in attempt before it is checked: None if any key of ``limits`` has reached
    its limit in the window; else the attempt is written down at once as a failure of each key
    of ``counted``, and the rows are returned so that ``forgive`` can take them back when it
    succeeds. Counting and checking in one transaction means that guesses sent at the same
    instant cannot slip past the limit together."""
    since = stamp(now - FAILURE_WINDOW)
    _begin_immediate(db)
    try:
        for key, limit in limits.items():
            sql = "select count(*) from signin_failures where key = ? and at > ?"
            if db.execute(sql, [key, since]).fetchone()[0] >= limit:
                db.conn.rollback()
                return None
        rows = []
        for key in counted:
            sql = "insert into signin_failures (key, at) values (?, ?)"
            rows.append(int(db.execute(sql, [key, stamp(now)]).lastrowid or 0))
        db.execute("delete from signin_failures where at < ?", [stamp(now - FAILURE_WINDOW * 4)])
        db.conn.commit()
    except BaseException:
        db.conn.rollback()
        raise
    return rows


def forgive(db: sqlite_utils.Database, rows: list[int]) -> None:
    """Take back the failures ``reserve`` wrote for an attempt that succeeded."""
    with db.conn:
        db.conn.executemany("delete from signin_failures where rowid = ?", [(r,) for r in rows])


def note_failure(db: sqlite_utils.Database, staff: Staff | None) -> None:
    """Count a wrong password or code against the account, and lock it after too many."""
    if staff is not None:
        with db.conn:
            db.execute(
                "update staff set failures = failures + 1, "
                "locked = max(locked, failures + 1 >= ?) where id = ?",
                [LOCK_AFTER, staff.id],
            )


# --- Sessions --------------------------------------------------------------------------------


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    """A console session row."""

    token_hash: str
    staff: Staff
    stage: str
    last_seen: dt.datetime
    verified: dt.datetime | None


def start_session(db: sqlite_utils.Database, staff: Staff, stage: str, now: dt.datetime) -> str:
    """Open a session for ``staff`` at ``stage``; return the token for the cookie."""
    token = secrets.token_urlsafe(32)
    db.table("console_sessions").insert(
        {
            "token_hash": _hash_token(token),
            "staff_id": staff.id,
            "stage": stage,
            "created": stamp(now),
            "last_seen": stamp(now),
            "verified": stamp(now) if stage == SIGNED_IN else None,
        }
    )
    return token


def load_session(
    db: sqlite_utils.Database, token: str | None, now: dt.datetime, idle: dt.timedelta
) -> Session | None:
    """Return the live session for ``token`` and mark it used; None if it is unknown, idle too
    long, or its account can no longer sign in (an idle session is deleted)."""
    if not token:
        return None
    token_hash = _hash_token(token)
    rows = list(db.query("select * from console_sessions where token_hash = ?", [token_hash]))
    if not rows:
        return None
    row = rows[0]
    staff = store.staff_by_id(db, row["staff_id"])
    idle_since = store.parse_stamp(row["last_seen"])
    if staff is None or staff.disabled or staff.locked or idle_since + idle < now:
        end_session(db, token)
        return None
    db.table("console_sessions").update(token_hash, {"last_seen": stamp(now)})
    verified = store.parse_stamp(row["verified"]) if row["verified"] else None
    return Session(token_hash, staff, row["stage"], now, verified)


def end_session(db: sqlite_utils.Database, token: str | None) -> None:
    """Delete the session ``token`` names."""
    if token:
        db.execute("delete from console_sessions where token_hash = ?", [_hash_token(token)])


def end_sessions_of(db: sqlite_utils.Database, staff_id: int) -> None:
    """Delete every session of an account (disabled, locked, or signed in again)."""
    db.execute("delete from console_sessions where staff_id = ?", [staff_id])


def mark_verified(db: sqlite_utils.Database, session: Session, now: dt.datetime) -> None:
    """Note that the session's second factor was entered just now."""
    db.table("console_sessions").update(session.token_hash, {"verified": stamp(now)})


def recently_verified(session: Session, now: dt.datetime) -> bool:
    """Return whether the session entered a one-time code within the re-check window."""
    return session.verified is not None and now - session.verified <= REAUTH_WINDOW
