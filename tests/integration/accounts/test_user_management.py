"""Admins manage accounts from the users pages: add (a temporary password to be changed at the
first sign-in), switch off and on, change a role, give a new temporary password; the last
active admin stays; every change is audited, and only admins with the form's CSRF token may."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from pointcare.auth.passwords import hash_password
from pointcare.auth.tokens import mint_api_token
from pointcare.db.models import User
from pointcare.runtime import Runtime
from tests.conftest import Account
from tests.integration.accounts.conftest import (
    Events,
    sign_in_refused,
    signed_in,
    temporary_password,
)
from tests.integration.pages.conftest import HTMX, SignIn
from tests.support import csrf

OBERG = "/patients/PC100001?issuer=PCDEMO"


def _user(runtime: Runtime, username: str) -> User:
    with runtime.db.session() as session:
        return session.scalars(select(User).where(User.username == username)).one()


def test_an_added_user_signs_in_with_the_temporary_password_and_must_change_it(
    app: Litestar, browser: SignIn, runtime: Runtime, events: Events
) -> None:
    admin = browser("admin")
    added = admin.post(
        "/admin/users",
        data={"username": "wanda", "display_name": "Wanda Wound", "role": "clinician"},
    )
    assert added.status_code == 201, added.text
    assert added.headers["cache-control"] == "no-store"
    password = temporary_password(added)
    wanda = _user(runtime, "wanda")
    assert (wanda.role, wanda.display_name, wanda.must_change_password) == (
        "clinician",
        "Wanda Wound",
        True,
    )
    assert password not in (wanda.password_hash or "")
    [event] = events("admin.user_add")
    assert event.objects == [f"user:{wanda.id}"]
    assert event.details == {"username": "wanda", "role": "clinician"}
    assert event.username == "admin"
    assert "Wanda Wound" in admin.get("/admin/users").text

    user = signed_in(app, "wanda", password)
    # Nothing opens but the change of password: pages, htmx, the API (with a token too).
    for path in ("/", OBERG, "/account", "/admin/users"):
        answer = user.get(path, follow_redirects=False)
        assert answer.status_code == 303, path
        assert answer.headers["location"] == "/account/password"
    assert user.get("/", headers=HTMX).headers["hx-redirect"] == "/account/password"
    api = user.get("/api/v1/patients?mrn=PC100001", headers={"Accept": "application/json"})
    assert api.status_code == 403
    assert "Choose your own password first" in api.json()["detail"]
    token = mint_api_token(secret_key=runtime.settings.secret_key, user_id=wanda.id, ttl_seconds=60)
    bearer = app_client(app).get(
        "/api/v1/patients?mrn=PC100001", headers={"Authorization": f"Bearer {token}"}
    )
    assert bearer.status_code == 403
    assert user.post("/logout", follow_redirects=False).status_code == 303  # still possible

    user = signed_in(app, "wanda", password)
    form = user.get("/account/password")
    assert "Choose your own password" in form.text
    changed = user.post(
        "/account/password",
        data={
            "current_password": password,
            "new_password": "a bandage and a blue pen",
            "repeat_password": "a bandage and a blue pen",
        },
        follow_redirects=False,
    )
    assert changed.status_code == 303, changed.text
    assert changed.headers["location"] == "/"
    assert user.get("/").status_code == 200
    assert not _user(runtime, "wanda").must_change_password
    assert sign_in_refused(app, "wanda", password)
    [change] = events("password.change")
    assert change.details["was_temporary"] is True


def app_client(app: Litestar) -> TestClient[Litestar]:
    return TestClient(app=app, raise_server_exceptions=False)


@pytest.mark.parametrize(
    ("form", "status", "shown"),
    [
        (
            {"username": "nurse", "display_name": "Another Nurse", "role": "photographer"},
            409,
            "nurse is taken: choose another user name.",
        ),
        (
            {"username": "NURSE", "display_name": "Another Nurse", "role": "photographer"},
            409,
            "NURSE is taken",
        ),
        ({"username": "", "display_name": "", "role": ""}, 422, "Type a user name."),
        ({"username": "x", "display_name": " ", "role": "admin"}, 422, "Type the name"),
        ({"username": "x", "display_name": "X", "role": "surgeon"}, 422, "Choose a role."),
    ],
)
def test_a_wrong_new_user_is_explained_on_the_form(
    browser: SignIn, runtime: Runtime, form: dict[str, str], status: int, shown: str
) -> None:
    admin = browser("admin")
    answer = admin.post("/admin/users", data=form)
    assert answer.status_code == status
    assert shown in answer.text
    assert f'value="{form["display_name"]}"' in answer.text  # what was typed stays
    with runtime.db.session() as session:
        assert session.scalar(select(User).where(User.display_name == "Another Nurse")) is None


def test_an_empty_form_names_every_missing_field(browser: SignIn) -> None:
    answer = browser("admin").post("/admin/users", data={})
    assert answer.status_code == 422
    for message in (
        "Type a user name.",
        "Type the name colleagues know them by.",
        "Choose a role.",
    ):
        assert message in answer.text


def test_switching_off_ends_the_users_sessions_and_tokens(
    app: Litestar,
    browser: SignIn,
    runtime: Runtime,
    accounts: dict[str, Account],
    events: Events,
) -> None:
    nurse = browser("photographer")
    nurse_id = accounts["photographer"].user_id
    token = mint_api_token(secret_key=runtime.settings.secret_key, user_id=nurse_id, ttl_seconds=60)
    api = app_client(app)
    assert api.get("/api/v1/body-sites", headers={"Authorization": f"Bearer {token}"}).is_success

    admin = browser("admin")
    off = admin.post(
        f"/admin/users/{nurse_id}/active", data={"active": "no"}, follow_redirects=False
    )
    assert off.status_code == 303
    assert "Account switched off" in admin.get(off.headers["location"]).text

    assert nurse.get("/", follow_redirects=False).headers["location"].startswith("/login")
    assert (
        api.get("/api/v1/body-sites", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )
    assert sign_in_refused(app, "nurse", accounts["photographer"].password)
    [event] = events("admin.user_change")
    assert event.details["change"] == "switched off"
    assert event.objects == [f"user:{nurse_id}"]

    on = admin.post(
        f"/admin/users/{nurse_id}/active", data={"active": "yes"}, follow_redirects=False
    )
    assert on.status_code == 303
    assert signed_in(app, "nurse", accounts["photographer"].password).get("/").status_code == 200
    assert [e.details["change"] for e in events("admin.user_change")] == [
        "switched off",
        "switched on",
    ]
    bad = admin.post(f"/admin/users/{nurse_id}/active", data={"active": "maybe"})
    assert bad.status_code == 422


def test_a_reset_ends_the_sessions_and_the_user_must_choose_a_password(
    app: Litestar,
    browser: SignIn,
    runtime: Runtime,
    accounts: dict[str, Account],
    events: Events,
) -> None:
    doctor = browser("clinician")
    doctor_id = accounts["clinician"].user_id
    admin = browser("admin")
    assert (
        f'action="/admin/users/{doctor_id}/password"' in admin.get(f"/admin/users/{doctor_id}").text
    )
    reset = admin.post(f"/admin/users/{doctor_id}/password")
    assert reset.status_code == 200
    assert reset.headers["cache-control"] == "no-store"
    password = temporary_password(reset)

    assert doctor.get("/", follow_redirects=False).headers["location"].startswith("/login")
    assert sign_in_refused(app, "doctor", accounts["clinician"].password)
    user = signed_in(app, "doctor", password)
    assert user.get(OBERG, follow_redirects=False).headers["location"] == "/account/password"
    [event] = events("admin.password_reset")
    assert event.objects == [f"user:{doctor_id}"]
    assert event.outcome == "success"
    assert password not in str(event.details)


def test_a_new_role_applies_at_once(
    browser: SignIn, accounts: dict[str, Account], events: Events, demo_patients: int
) -> None:
    doctor = browser("clinician")
    assert doctor.get(OBERG).status_code == 200
    doctor_id = accounts["clinician"].user_id
    admin = browser("admin")
    changed = admin.post(
        f"/admin/users/{doctor_id}/role", data={"role": "photographer"}, follow_redirects=False
    )
    assert changed.status_code == 303
    assert doctor.get(OBERG).status_code == 403
    [event] = events("admin.user_change")
    assert event.details == {
        "username": "doctor",
        "change": "role",
        "role_before": "clinician",
        "role": "photographer",
    }
    assert admin.post(f"/admin/users/{doctor_id}/role", data={"role": "boss"}).status_code == 422


def test_the_last_active_admin_can_be_neither_switched_off_nor_demoted(
    app: Litestar,
    browser: SignIn,
    runtime: Runtime,
    accounts: dict[str, Account],
    events: Events,
) -> None:
    admin = browser("admin")
    admin_id = accounts["admin"].user_id
    for path, form in (("active", {"active": "no"}), ("role", {"role": "clinician"})):
        refused = admin.post(f"/admin/users/{admin_id}/{path}", data=form)
        assert refused.status_code == 409
        assert "last active administrator" in refused.text
    assert [(e.outcome, e.objects) for e in events("admin.user_change")] == [
        ("refused", [f"user:{admin_id}"]),
        ("refused", [f"user:{admin_id}"]),
    ]
    me = _user(runtime, "admin")
    assert (me.active, me.role) == (True, "admin")

    # A second admin, switched off, does not count; switched on, it does.
    with runtime.db.write() as session:
        session.add(
            User(
                username="second",
                display_name="Second Admin",
                role="admin",
                password_hash=hash_password("second-admin-password"),
                active=False,
            )
        )
    assert (
        admin.post(f"/admin/users/{admin_id}/role", data={"role": "clinician"}).status_code == 409
    )
    second = _user(runtime, "second")
    admin.post(f"/admin/users/{second.id}/active", data={"active": "yes"})
    demoted = admin.post(
        f"/admin/users/{admin_id}/role", data={"role": "clinician"}, follow_redirects=False
    )
    assert demoted.status_code == 303
    assert admin.get("/admin/users").status_code == 403  # no longer an admin
    other = signed_in(app, "second", "second-admin-password")
    assert other.post(f"/admin/users/{second.id}/active", data={"active": "no"}).status_code == 409


def test_an_ehr_user_is_listed_but_has_no_password_to_reset(
    browser: SignIn, runtime: Runtime, events: Events
) -> None:
    with runtime.db.write() as session:
        ehr = User(
            username="ehr-4711",
            display_name="Eva Launch",
            role="clinician",
            password_hash=None,
            active=True,
            external_issuer="https://ehr.example.org",
            external_subject="4711",
        )
        session.add(ehr)
        session.flush()
        ehr_id = ehr.id
    admin = browser("admin")
    assert "from the EHR" in admin.get("/admin/users").text
    page = admin.get(f"/admin/users/{ehr_id}")
    assert "Give a temporary password" not in page.text
    assert "Change the role" not in page.text
    refused = admin.post(f"/admin/users/{ehr_id}/password")
    assert refused.status_code == 409
    assert "no Pointcare password" in refused.text
    assert admin.post(f"/admin/users/{ehr_id}/role", data={"role": "admin"}).status_code == 409
    assert [e.outcome for e in events("admin.password_reset")] == ["refused"]
    assert admin.post(f"/admin/users/{ehr_id}/active", data={"active": "no"}).status_code == 200


def test_a_nurse_is_refused_and_a_form_without_its_token_too(
    browser: SignIn, runtime: Runtime, accounts: dict[str, Account], events: Events
) -> None:
    nurse = browser("photographer")
    assert nurse.get("/admin/users").status_code == 403
    assert nurse.get(f"/admin/users/{accounts['admin'].user_id}").status_code == 403
    new = {"username": "mallory", "display_name": "Mallory", "role": "admin"}
    assert nurse.post("/admin/users", data=new).status_code == 403
    doctor_id = accounts["clinician"].user_id
    assert nurse.post(f"/admin/users/{doctor_id}/password").status_code == 403
    assert {e.details["path"] for e in events("access.refused")} >= {
        "/admin/users",
        f"/admin/users/{doctor_id}/password",
    }

    admin = browser("admin")
    del admin.headers[csrf.HEADER]
    forged = admin.post("/admin/users", data=new)
    assert forged.status_code == 403
    assert "did not come from Pointcare" in forged.text
    assert admin.post(f"/admin/users/{doctor_id}/active", data={"active": "no"}).status_code == 403
    assert _user(runtime, "doctor").active
    with runtime.db.session() as session:
        assert session.scalar(select(User).where(User.username == "mallory")) is None
    assert events("admin.user_add") == []


def test_an_unknown_account_is_not_found(browser: SignIn) -> None:
    admin = browser("admin")
    assert admin.get("/admin/users/999999").status_code == 404
    assert admin.post("/admin/users/999999/password").status_code == 404
