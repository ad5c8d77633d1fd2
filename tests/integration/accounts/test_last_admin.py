"""The last active admin is kept by the account rules themselves, inside the writing
transaction: two admins demoting (or switching off) each other at the same moment cannot leave
Pointcare without one."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pointcare.auth import management
from pointcare.auth.passwords import hash_password
from pointcare.db.models import User
from pointcare.errors import Conflict
from pointcare.runtime import Runtime

Change = Callable[[Session, int], object]
CHANGES: dict[str, Change] = {
    "demoted": lambda session, user_id: management.change_role(session, user_id, "clinician"),
    "switched off": lambda session, user_id: management.set_active(session, user_id, active=False),
}


def _admins(runtime: Runtime, count: int) -> list[int]:
    hashed = hash_password("an-admin-password")
    with runtime.db.write() as session:
        users = [
            User(
                username=f"admin{n}",
                display_name=f"Admin {n}",
                role="admin",
                password_hash=hashed,
                active=True,
            )
            for n in range(count)
        ]
        session.add_all(users)
        session.flush()
        return [user.id for user in users]


def _active_admins(runtime: Runtime) -> int:
    with runtime.db.session() as session:
        return (
            session.scalar(
                select(func.count(User.id)).where(User.role == "admin", User.active.is_(True))
            )
            or 0
        )


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_two_admins_removing_each_other_at_once_leave_one(runtime: Runtime, change: str) -> None:
    """The first change holds its transaction open while the second starts: the second must
    wait for it and then see that it would remove the last admin."""
    first, second = _admins(runtime, 2)
    act = CHANGES[change]
    first_done = threading.Event()
    outcomes: dict[str, object] = {}

    def one() -> None:
        with runtime.db.write() as session:
            act(session, second)
            first_done.set()
            time.sleep(0.5)  # the other change starts meanwhile
        outcomes["one"] = "changed"

    def other() -> None:
        first_done.wait(10)
        try:
            with runtime.db.write() as session:
                act(session, first)
            outcomes["other"] = "changed"
        except Conflict as exc:
            outcomes["other"] = exc.detail

    threads = [threading.Thread(target=one), threading.Thread(target=other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert outcomes["one"] == "changed"
    assert "last active administrator" in str(outcomes["other"])
    assert _active_admins(runtime) == 1


def test_many_admins_removing_each_other_leave_one(runtime: Runtime) -> None:
    """Six admins each remove the next, all at once: one stays, whatever the order."""
    ids = _admins(runtime, 6)
    start = threading.Barrier(len(ids))
    refused: list[int] = []

    def remove(user_id: int) -> None:
        start.wait(10)
        try:
            with runtime.db.write() as session:
                management.change_role(session, user_id, "photographer")
        except Conflict:
            refused.append(user_id)

    threads = [threading.Thread(target=remove, args=(user_id,)) for user_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(refused) == 1
    assert _active_admins(runtime) == 1
