"""Per-route body limits, a bound on form fields and on JSON nesting (``pointcare.web.limits``).

The stall itself, against a real server, is in ``test_stalls.py``; here each rule is checked on
every kind of route, and the checkers on hostile byte streams split anywhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.enums import RequestEncodingType
from litestar.testing import TestClient

from pointcare.errors import BadRequest
from pointcare.web.limits import (
    FORM_BYTES,
    MAX_JSON_DEPTH,
    PUBLIC_BYTES,
    STOW_ROUTE,
    UPLOAD,
    JsonDepth,
)

URL_ENCODED = {"Content-Type": "application/x-www-form-urlencoded"}


def test_the_sign_in_form_refuses_a_body_over_a_few_kilobytes_before_reading_it(
    client: TestClient[Litestar],
) -> None:
    answer = client.post("/login", content=b"a=b&" * (PUBLIC_BYTES // 4 + 1), headers=URL_ENCODED)
    assert answer.status_code == 413
    assert "8 KB" in answer.text
    small = client.post("/login", content=b"username=x&password=y", headers=URL_ENCODED)
    assert small.status_code == 403  # read, then refused for its missing CSRF token


def test_a_body_sent_without_a_length_is_counted_as_it_arrives(
    client: TestClient[Litestar],
) -> None:
    def chunks() -> object:
        for _ in range(64):
            yield b"a=b&" * 64  # 16 KB in all, no Content-Length

    answer = client.post("/login", content=chunks(), headers=URL_ENCODED)  # type: ignore[arg-type]
    assert answer.status_code == 413


def test_signed_in_forms_take_more_but_not_an_upload(
    client: TestClient[Litestar], bearer: Callable[[str], dict[str, str]], demo_patients: int
) -> None:
    headers = {**bearer("clinician"), **URL_ENCODED}
    within = client.post("/patients/PC100001/consent", content=b"x=1", headers=headers)
    assert within.status_code != 413
    over = client.post(
        "/patients/PC100001/consent", content=b"x" * (FORM_BYTES + 1), headers=headers
    )
    assert over.status_code == 413


def test_an_upload_route_takes_a_photo_sized_body(
    client: TestClient[Litestar], bearer: Callable[[str], dict[str, str]], demo_patients: int
) -> None:
    junk = b"--b\r\nContent-Disposition: form-data; name=x\r\n\r\n" + b"x" * 200_000 + b"\r\n--b--"
    answer = client.post(
        "/api/v1/photos",
        content=junk,
        headers={**bearer("photographer"), "Content-Type": "multipart/form-data; boundary=b"},
    )
    assert answer.status_code == 422  # read whole, and refused for what it is, not its size


def test_an_upload_route_takes_a_large_body_as_multipart_only(
    client: TestClient[Litestar], bearer: Callable[[str], dict[str, str]], demo_patients: int
) -> None:
    answer = client.post(
        "/api/v1/photos",
        content=b"x=" + b"a" * (FORM_BYTES + 1),
        headers={**bearer("photographer"), **URL_ENCODED},
    )
    assert answer.status_code == 413


def test_a_form_with_too_many_fields_is_refused(
    client: TestClient[Litestar], bearer: Callable[[str], dict[str, str]], demo_patients: int
) -> None:
    answer = client.post(
        "/patients/PC100001/consent",
        content=b"&" * 2000,
        headers={**bearer("clinician"), **URL_ENCODED},
    )
    assert answer.status_code == 400
    assert "more than 1000 fields" in answer.json()["detail"]


def test_deeply_nested_json_is_a_400_not_a_500(
    client: TestClient[Litestar], bearer: Callable[[str], dict[str, str]]
) -> None:
    headers = {**bearer("photographer"), "Content-Type": "application/json"}
    answer = client.post("/api/v1/wristbands/parse", content=b"[" * 1000, headers=headers)
    assert answer.status_code == 400
    assert answer.json()["detail"] == "The JSON is nested deeper than 32 levels."
    fine = client.post(
        "/api/v1/wristbands/parse", json={"text": "PC100001", "format": "code_128"}, headers=headers
    )
    assert fine.status_code in (200, 404)


def depth_of(document: bytes, chunk: int) -> int | None:
    """The depth the checker reached feeding ``document`` in pieces; None when refused."""
    check = JsonDepth()
    try:
        for start in range(0, len(document), chunk):
            check.feed(document[start : start + chunk])
    except BadRequest:
        return None
    return check.depth


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1000])
def test_the_json_depth_check_follows_strings_and_escapes_across_chunks(chunk: int) -> None:
    tricky = {"a": '[[[[{"\\"[{', "b": ["\\", "]]]]", {"c": '\\\\"['}], "d": "\u00e9["}
    nested: object = tricky
    for _ in range(MAX_JSON_DEPTH - 3):
        nested = [nested]
    text = json.dumps(nested).encode()
    assert depth_of(text, chunk) == 0
    assert depth_of(b"[" * (MAX_JSON_DEPTH + 1), chunk) is None
    assert depth_of(json.dumps([nested]).encode(), chunk) is None


def test_every_route_that_takes_a_file_is_an_upload_route(app: Litestar) -> None:
    """A multipart body is a file: its route must say so, or it is held to the form limit."""
    multipart, marked = set(), set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            data = handler.parsed_fn_signature.parameters.get("data")
            body = getattr(data, "kwarg_definition", None) if data is not None else None
            if getattr(body, "media_type", None) == RequestEncodingType.MULTI_PART:
                multipart.add(route.path)
            if handler.opt.get(UPLOAD) and handler.opt != STOW_ROUTE:
                marked.add(route.path)
    assert "/api/v1/photos/inspect" in multipart
    assert multipart == marked


@pytest.mark.parametrize(
    ("content_type", "size", "too_large"),
    [
        ('multipart/related; type="application/dicom"; boundary=b', 200_000, False),
        ("application/dicom", FORM_BYTES + 1, True),
        ("multipart/form-data; boundary=b", FORM_BYTES + 1, True),
    ],
)
def test_stow_rs_takes_a_photo_sized_body_as_multipart_related_only(
    client: TestClient[Litestar],
    bearer: Callable[[str], dict[str, str]],
    demo_patients: int,
    content_type: str,
    size: int,
    too_large: bool,
) -> None:
    """STOW-RS takes DICOM objects as multipart/related, up to the upload limit."""
    junk = b"--b\r\nContent-Type: application/dicom\r\n\r\n" + b"x" * size + b"\r\n--b--"
    answer = client.post(
        "/dicomweb/studies",
        content=junk,
        headers={**bearer("photographer"), "Content-Type": content_type},
    )
    assert (answer.status_code == 413) is too_large, answer.text
    if not too_large:  # read whole, and refused for what it is, not its size
        assert answer.status_code == 409
