"""Request-scoped dependencies shared by every controller."""

from __future__ import annotations

from collections.abc import Iterator

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide
from sqlalchemy.orm import Session

from pointcare.auth.principal import Principal
from pointcare.runtime import Runtime


def provide_runtime(state: State) -> Runtime:
    runtime: Runtime = state.runtime
    return runtime


def provide_db(state: State) -> Iterator[Session]:
    runtime: Runtime = state.runtime
    with runtime.db.session() as session:
        yield session


def provide_principal(request: Request[Principal, object, State]) -> Principal:
    return request.user


DEPENDENCIES = {
    "runtime": Provide(provide_runtime, sync_to_thread=False),
    "db": Provide(provide_db),
    "principal": Provide(provide_principal, sync_to_thread=False),
}
