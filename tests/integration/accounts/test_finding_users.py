"""The users page finds an account by part of its user name or name, in any case, and lists at
most ``SHOWN`` accounts, saying when there are more."""

from __future__ import annotations

import re

import pytest

from pointcare.db.models import User
from pointcare.runtime import Runtime
from pointcare.web.pages import users
from tests.integration.pages.conftest import SignIn

LISTED = re.compile(
    r'<a class="admin-link account-link[^"]*" href="/admin/users/\d+">\s*<strong>([^<]+)</strong>'
)
STATUS = re.compile(r'<p class="quiet" id="accounts-found" role="status">(.*?)</p>', re.S)


@pytest.fixture
def staff(runtime: Runtime, accounts: object) -> None:
    with runtime.db.write() as session:
        for username, name in (
            ("wanda", "Wanda Wound"),
            ("wwhite", "Walter White"),
            ("p100", "Percy 100% Sure"),
            ("under_score", "Una Underscore"),
        ):
            session.add(User(username=username, display_name=name, role="clinician", active=True))


def _find(browser: SignIn, query: str | None) -> tuple[list[str], str]:
    answer = browser("admin").get("/admin/users", params={"q": query} if query is not None else {})
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    status = STATUS.search(answer.text)
    assert status is not None
    return LISTED.findall(answer.text), " ".join(status.group(1).split())


@pytest.mark.parametrize(
    ("query", "listed"),
    [
        ("wa", ["Wanda Wound", "Walter White"]),  # by name; by user name too: "wanda", "wwhite"
        ("WOUND", ["Wanda Wound"]),  # any case
        ("  white ", ["Walter White"]),  # blanks around ignored
        ("%", ["Percy 100% Sure"]),  # a wildcard of SQL is a plain character here
        ("_", ["Una Underscore"]),
        ("doc", ["Doctor"]),
    ],
)
def test_an_account_is_found_by_part_of_its_user_name_or_name(
    browser: SignIn, staff: None, query: str, listed: list[str]
) -> None:
    found, status = _find(browser, query)
    assert sorted(found) == sorted(listed)
    matches = "account matches" if len(listed) == 1 else "accounts match"
    assert status.startswith(f"{len(listed)} {matches}")
    assert "All users" in status


def test_nothing_found_says_so(browser: SignIn, staff: None) -> None:
    found, status = _find(browser, "zebra")
    assert found == []
    assert status.startswith("No account matches “zebra”.")


def test_past_the_limit_the_page_lists_the_first_and_asks_for_more_of_the_name(
    browser: SignIn, staff: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    found, status = _find(browser, None)
    assert len(found) == 7  # the three accounts of the tests and the four above
    assert status == "7 accounts."
    monkeypatch.setattr(users, "SHOWN", 2)
    found, status = _find(browser, None)
    assert found == ["Admin", "Doctor"]  # by user name: admin, doctor, nurse, p100, ...
    assert status == "7 accounts: the first 2 by user name are listed; find the others by name."
    found, status = _find(browser, "n")  # admin, nurse, under_score, wanda
    assert found == ["Admin", "Nurse"]
    assert status.startswith("4 accounts match “n”: the first 2 by user name are listed")
