"""What a new password must be, as NIST SP 800-63B (5.1.1.2) asks: long enough, not one of the
passwords attackers try first, and not the person's own email or a part of it.

The common passwords are zxcvbn's list (the 30,000 most frequent passwords of a public corpus of
leaked ones, ranked); it ships with the package, so the check needs no network and no file of
ours to keep current. ``password1234`` is on it, past the 10,000th place.
"""

from __future__ import annotations

import functools

MIN_LENGTH = 12
# Long enough for any passphrase; argon2 hashes whatever it is given, so a bound stops a
# megabyte-long "password" from costing the server.
MAX_LENGTH = 256


@functools.cache
def common_passwords() -> frozenset[str]:
    """Return the common passwords, in lower case (loaded once, when first needed)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]

    return frozenset(word.lower() for word in FREQUENCY_LISTS["passwords"])


def _folded(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def problem(password: str, email: str) -> str | None:
    """Return the catalog key that says why ``password`` cannot be used, or None if it can."""
    if len(password) < MIN_LENGTH:
        return "console.password.too_short"
    if len(password) > MAX_LENGTH:
        return "console.password.too_long"
    lowered = password.lower()
    folded = _folded(password)
    if lowered in common_passwords() or folded in common_passwords() or len(set(folded)) <= 2:
        return "console.password.common"
    # The whole email, or its name part when it is long enough to be more than a syllable.
    name = _folded(email.split("@")[0])
    if _folded(email) in folded or (len(name) >= 4 and name in folded):
        return "console.password.email"
    return None


def english(key: str) -> str:
    """Return what the command line prints for a problem (it speaks English only)."""
    return {
        "console.password.too_short": f"the password needs at least {MIN_LENGTH} characters",
        "console.password.too_long": f"the password may have at most {MAX_LENGTH} characters",
        "console.password.common": "that password is on a list of common passwords; choose "
        "another (a few unrelated words make a good one)",
        "console.password.email": "the password must not contain your email address",
    }[key]
