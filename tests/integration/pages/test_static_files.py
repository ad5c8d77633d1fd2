"""The PWA's own files reach a phone quickly: gzipped (pages and patient data never are), and
a page's modules asked for all at once."""

from __future__ import annotations

import gzip

import httpx
from litestar import Litestar
from litestar.testing import TestClient

from pointcare.web.assets import module_imports, pwa_dir
from pointcare.web.templating import module_script
from tests.integration.pages.conftest import HTML

GZIP = {"Accept-Encoding": "gzip"}


def raw(
    client: TestClient[Litestar], path: str, headers: dict[str, str]
) -> tuple[httpx.Response, bytes]:
    """The answer and its body as it travelled (the client's own decoding left out)."""
    with client.stream("GET", path, headers=headers) as answer:
        return answer, b"".join(answer.iter_raw())


def test_styles_and_scripts_arrive_gzipped_and_unchanged(client: TestClient[Litestar]) -> None:
    for path in ("/static/css/app.css", "/static/js/bedside/main.js"):
        answer, body = raw(client, path, GZIP)
        on_disk = (pwa_dir() / path.removeprefix("/")).read_bytes()

        assert answer.status_code == 200, path
        assert answer.headers["content-encoding"] == "gzip", path
        assert "accept-encoding" in answer.headers["vary"].lower(), path
        assert len(body) < len(on_disk) / 2, path  # the bytes on the wire
        assert gzip.decompress(body) == on_disk, path
        assert answer.headers["cache-control"] == "max-age=3600", path


def test_a_browser_that_does_not_accept_gzip_gets_the_file_as_it_is(
    client: TestClient[Litestar],
) -> None:
    answer, body = raw(client, "/static/css/app.css", {"Accept-Encoding": "identity"})

    assert "content-encoding" not in answer.headers
    assert body == (pwa_dir() / "static" / "css" / "app.css").read_bytes()


def test_pages_and_answers_about_patients_are_not_compressed(
    client: TestClient[Litestar],
) -> None:
    # A page carries the CSRF token beside what the request named: compressing it would let a
    # watcher of the sizes guess the token (BREACH). Nor is anything outside /static/ compressed.
    for path, headers in (
        ("/login", {**HTML, **GZIP}),
        ("/healthz", GZIP),
        ("/api/v1/patients?mrn=X", GZIP),
    ):
        answer, _ = raw(client, path, headers)
        assert "content-encoding" not in answer.headers, path


def test_the_camera_screen_asks_for_all_its_modules_at_once() -> None:
    # Every module of the bedside screen, however deep it is imported, is announced by the page:
    # the browser fetches them together instead of one level of imports per round trip.
    static = pwa_dir() / "static"
    bedside = {f"js/bedside/{p.name}" for p in (static / "js" / "bedside").glob("*.js")}
    imported = set(module_imports("js/bedside/main.js"))

    assert bedside - {"js/bedside/main.js"} <= imported
    assert {"js/lib/request.js", "js/lib/uuid.js"} <= imported
    assert all((static / module).is_file() for module in imported)

    page = str(module_script("js/bedside/main.js"))
    assert page.count('<link rel="modulepreload"') == len(imported)
    assert page.endswith('<script type="module" src="/static/js/bedside/main.js"></script>')
