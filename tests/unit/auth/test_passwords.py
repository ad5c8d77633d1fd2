"""The temporary passwords an admin gives out, and the rules for a password a user chooses."""

from __future__ import annotations

import re

import pytest

from pointcare.auth.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    hash_password,
    new_password_problems,
    temporary_password,
    verify_password,
)


def test_temporary_passwords_are_readable_random_and_usable() -> None:
    made = {temporary_password() for _ in range(200)}
    assert len(made) == 200
    for password in made:
        assert re.fullmatch(r"[a-hjkmnp-z2-9]{4}(-[a-hjkmnp-z2-9]{4}){3}", password), password
    one = next(iter(made))
    assert new_password_problems(one, one, username="nurse") == {}
    assert verify_password(hash_password(one), one)


@pytest.mark.parametrize(
    ("password", "repeated", "current", "field", "words"),
    [
        ("", "", None, "password", "Type a new password"),
        ("x" * (MIN_PASSWORD_LENGTH - 1), "", None, "password", f"at least {MIN_PASSWORD_LENGTH}"),
        ("ab1" * MAX_PASSWORD_LENGTH, "", None, "password", f"at most {MAX_PASSWORD_LENGTH}"),
        ("my-Nurse-password", "my-Nurse-password", None, "password", "user name"),
        ("abababababab", "abababababab", None, "password", "repeats a few characters"),
        ("old password here", "old password here", "old password here", "password", "different"),
        ("a good long phrase", "a good long phrase!", None, "repeat", "differ"),
    ],
)
def test_a_chosen_password_is_refused_with_a_reason(
    password: str, repeated: str, current: str | None, field: str, words: str
) -> None:
    problems = new_password_problems(password, repeated, username="nurse", current=current)
    assert list(problems) == [field]
    assert words in problems[field]


def test_a_good_password_passes() -> None:
    assert new_password_problems("a good long phrase", "a good long phrase", username="nurse") == {}
