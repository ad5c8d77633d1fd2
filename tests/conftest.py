"""Fixtures shared by every test: settings on a temporary data dir, the app, users, tokens.

Database backends: every test that reaches a database (through ``database_url``, ``settings``,
``runtime``, ``app``, ``client``...) runs once per selected backend, with the backend in its id
(``test_x[sqlite]``, ``test_x[postgresql]``). ``POINTCARE_TEST_DATABASES`` picks them
(comma-separated); by default both when PostgreSQL is installed or under ``CI=true`` (where a
missing PostgreSQL then fails those tests), SQLite alone otherwise. Tests without a database are
not repeated. See ``tests/support/postgres.py`` for the cluster.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from pointcare.app import create_app
from pointcare.auth.passwords import hash_password
from pointcare.auth.tokens import mint_api_token
from pointcare.db.engine import Database
from pointcare.db.migrate import upgrade
from pointcare.db.models import User
from pointcare.identity.demo import seed_demo
from pointcare.runtime import Runtime, build_runtime
from pointcare.settings import Settings
from pointcare.video.clip import ClipNormaliser
from pointcare.video.tools import VideoTools
from tests.support.clips import CLIP_LIMITS, ClipFactory
from tests.support.postgres import PostgresCluster, postgres_installed
from tests.support.tools import in_ci, missing, require_tool

TEST_SECRET = "test-secret-key-that-is-long-enough-for-hs256-signing"
TEST_AUDIT_KEY = Settings(secret_key=TEST_SECRET).effective_audit_key
"""The audit key of every test database (the one derived from the test secret)."""


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


# --- Database backends ------------------------------------------------------------------------

DATABASES_VARIABLE = "POINTCARE_TEST_DATABASES"
BACKENDS = ("sqlite", "postgresql")
_SELECTED = pytest.StashKey[list[str]]()


def selected_backends() -> list[str]:
    """The backends named by ``POINTCARE_TEST_DATABASES``, or the default (see the module doc)."""
    raw = os.environ.get(DATABASES_VARIABLE, "").strip()
    if not raw:
        return list(BACKENDS) if postgres_installed() or in_ci() else ["sqlite"]
    names = list(dict.fromkeys(name.strip().lower() for name in raw.split(",") if name.strip()))
    unknown = [name for name in names if name not in BACKENDS]
    if unknown or not names:
        raise pytest.UsageError(
            f"{DATABASES_VARIABLE}={raw!r}: expected a comma-separated list of "
            + ", ".join(BACKENDS)
        )
    return names


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_SELECTED] = selected_backends()


def pytest_report_header(config: pytest.Config) -> str:
    return f"databases: {', '.join(config.stash[_SELECTED])} ({DATABASES_VARIABLE})"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_backend" in metafunc.fixturenames:
        backends = metafunc.config.stash[_SELECTED]
        # Session scope: pytest then runs all the tests of one backend before the other's, and
        # module-scoped fixtures (tests/integration/dicomweb) are built once per backend.
        metafunc.parametrize("database_backend", backends, indirect=True, scope="session")


@pytest.fixture(scope="session")
def database_backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` or ``postgresql``: the backend this test runs on (parametrized above)."""
    backend: str = request.param
    return backend


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A private PostgreSQL cluster for this pytest process (each xdist worker has its own)."""
    if not postgres_installed():
        missing("PostgreSQL (infra/install-system-packages.sh installs it)")
    try:
        cluster = PostgresCluster.start()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file with the migrated schema, copied for each test (as the PostgreSQL
    template database is): the migrations run on SQLite once per session (and per xdist worker)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "pointcare.db"
    database = Database(f"sqlite:///{path}")
    try:
        upgrade(database.engine)
    finally:
        database.dispose()  # the last connection out checkpoints the WAL into the file
    return path


@contextlib.contextmanager
def provide_database(
    backend: str, request: pytest.FixtureRequest, folder: Path, *, migrated: bool = True
) -> Iterator[str]:
    """The URL of a database for one test (or module), gone afterwards.

    SQLite: a file in ``folder``, where ``Settings`` would put it by default. PostgreSQL: a
    database of its own in the session's cluster. Either a copy of the schema migrated once per
    session (copying takes milliseconds, migrating a fresh database some 300 ms), or empty when
    ``migrated`` is False.
    """
    if backend == "sqlite":
        path = folder / "pointcare.db"
        if migrated:
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path.resolve()}"
        return
    # Asked for here, not as a parameter: a run on SQLite alone never starts PostgreSQL.
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    with cluster.database(migrated=migrated) as url:
        yield url


@pytest.fixture
def database_url(
    database_backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[str]:
    """A database of this test's own on the backend under test (see ``provide_database``)."""
    with provide_database(database_backend, request, tmp_path / "var") as url:
        yield url


@pytest.fixture
def empty_database_url(
    database_backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[str]:
    """A database without any table, for tests of the migrations themselves."""
    with provide_database(database_backend, request, tmp_path / "empty", migrated=False) as url:
        yield url


@pytest.fixture(scope="module")
def module_database_url(
    database_backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """As ``database_url``, shared by the tests of a module (for module-scoped fixtures)."""
    folder = tmp_path_factory.mktemp("db") / "var"
    with provide_database(database_backend, request, folder) as url:
        yield url


# --- The application -----------------------------------------------------------------------------


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        secret_key=TEST_SECRET,
        htmx_src="local",
    )


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


# --- Video clips --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> ClipFactory:
    """Real clips (phone-like, made by ffmpeg), each made once per session and worker."""
    return ClipFactory(tmp_path_factory.mktemp("clips"))


@pytest.fixture(scope="session")
def clip_normaliser() -> ClipNormaliser:
    """The clip conversion a server runs, with its default limits."""
    require_tool("ffmpeg")
    return ClipNormaliser(VideoTools.find(), CLIP_LIMITS)
