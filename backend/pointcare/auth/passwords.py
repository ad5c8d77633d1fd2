"""Salted, deliberately slow password hashing (Argon2id), the rules a chosen password must
follow, and the temporary passwords an admin gives out."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
"""Long pass phrases are welcome; beyond this a "password" is someone sending megabytes."""
_hasher = PasswordHasher()  # Argon2id, RFC 9106 low-memory profile; per-hash random salt

# Verifying against this keeps the time of a login for an unknown user equal to a known one.
_DUMMY_HASH = _hasher.hash("pointcare-timing-equaliser")

TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
"""Lower-case letters and digits without the look-alikes (0/o, 1/l/i): read out over a phone
or copied from a screen without mistakes."""
TEMPORARY_GROUPS = 4
TEMPORARY_GROUP_LENGTH = 4


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"password must have at most {MAX_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def temporary_password() -> str:
    """A random password to be changed at first use: four groups of four (``k7mq-...``), about
    79 bits, for an admin to hand over once."""
    return "-".join(
        "".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(TEMPORARY_GROUP_LENGTH))
        for _ in range(TEMPORARY_GROUPS)
    )


def new_password_problems(
    password: str, repeated: str, *, username: str, current: str | None = None
) -> dict[str, str]:
    """What is wrong with a password a user chose (field ``password`` or ``repeat``), in words
    for the form; empty when it may be used."""
    if not password:
        return {"password": "Type a new password."}
    if len(password) < MIN_PASSWORD_LENGTH:
        return {"password": f"Use at least {MIN_PASSWORD_LENGTH} characters."}
    if len(password) > MAX_PASSWORD_LENGTH:
        return {"password": f"Use at most {MAX_PASSWORD_LENGTH} characters."}
    if current is not None and password == current:
        return {"password": "Choose a password different from the one you have now."}
    if username.strip().lower() in password.lower():
        return {"password": "The password must not contain your user name."}
    if len(set(password)) < 4:
        return {"password": "The password repeats a few characters: choose a harder one."}
    if password != repeated:
        return {"repeat": "The two new passwords differ: type the same one twice."}
    return {}
