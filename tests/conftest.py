"""Fixtures shared by every test: settings on a temporary data dir, the app, users, tokens."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from pointcare.app import create_app
from pointcare.auth.passwords import hash_password
from pointcare.auth.tokens import mint_api_token
from pointcare.db.models import User
from pointcare.identity.demo import seed_demo
from pointcare.runtime import Runtime, build_runtime
from pointcare.settings import Settings

TEST_SECRET = "test-secret-key-that-is-long-enough-for-hs256-signing"


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    role: str
    user_id: int


ACCOUNTS = {
    "photographer": ("nurse", "nurse-test-password"),
    "clinician": ("doctor", "doctor-test-password"),
    "admin": ("admin", "admin-test-password"),
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", secret_key=TEST_SECRET, htmx_src="local")


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    runtime = build_runtime(settings)
    yield runtime
    runtime.close()


@pytest.fixture(scope="session")
def password_hashes() -> dict[str, str]:
    """Argon2 is slow on purpose: hash the test passwords once per run, not once per test."""
    return {role: hash_password(password) for role, (_user, password) in ACCOUNTS.items()}


@pytest.fixture
def accounts(runtime: Runtime, password_hashes: dict[str, str]) -> dict[str, Account]:
    made: dict[str, Account] = {}
    with runtime.db.write() as session:
        for role, (username, password) in ACCOUNTS.items():
            user = User(
                username=username,
                display_name=username.title(),
                role=role,
                password_hash=password_hashes[role],
                active=True,
            )
            session.add(user)
            session.flush()
            made[role] = Account(username, password, role, user.id)
    return made


@pytest.fixture
def demo_patients(runtime: Runtime) -> int:
    with runtime.db.write() as session:
        return seed_demo(session)


@pytest.fixture
def app(runtime: Runtime) -> Litestar:
    return create_app(runtime.settings, runtime=runtime)


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app=app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def bearer(runtime: Runtime, accounts: dict[str, Account]) -> Callable[[str], dict[str, str]]:
    """``bearer("clinician")`` gives the Authorization header of that role's account."""

    def headers(role: str) -> dict[str, str]:
        token = mint_api_token(
            secret_key=runtime.settings.secret_key, user_id=accounts[role].user_id, ttl_seconds=600
        )
        return {"Authorization": f"Bearer {token}"}

    return headers
