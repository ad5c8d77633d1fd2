"""POST /api/v1/wristbands/scan and /parse through HTTP, against the demo directory."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import replace

import httpx
import pytest
import zxingcpp
from litestar import Litestar
from litestar.testing import TestClient
from PIL import Image

from pointcare.app import create_app
from pointcare.domain.patients import PatientIdentity, Sex
from pointcare.identity.directory import upsert_patient
from pointcare.runtime import Runtime

Headers = Callable[[str], dict[str, str]]
SCAN = "/api/v1/wristbands/scan"
PARSE = "/api/v1/wristbands/parse"
GSRN = "123456789012345675"


def wristband_png(*codes: tuple[str, zxingcpp.BarcodeFormat], gs1: bool = False) -> bytes:
    """A white frame with one barcode per (content, format), side by side."""
    images = []
    for content, barcode_format in codes:
        barcode = zxingcpp.create_barcode(content, barcode_format, **({"gs1": True} if gs1 else {}))
        images.append(Image.fromarray(barcode.to_image(scale=3)).convert("L"))
    frame = Image.new("L", (sum(i.width for i in images) + 40 * len(images), 480), 255)
    left = 20
    for image in images:
        frame.paste(image, (left, 40))
        left += image.width + 40
    buffer = io.BytesIO()
    frame.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def scan(
    client: TestClient[Litestar], bearer: Headers, demo_patients: int
) -> Callable[..., httpx.Response]:
    def post(frame: bytes, *, role: str | None = "photographer") -> httpx.Response:
        headers = bearer(role) if role else {}
        return client.post(
            SCAN, files={"frame": ("frame.png", frame, "image/png")}, headers=headers
        )

    return post


def assert_problem(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    detail: str = response.json()["detail"]
    assert detail
    return detail


# --- Scan ---------------------------------------------------------------------------------------


def test_scan_a_wristband_names_the_patient(scan: Callable[..., httpx.Response]) -> None:
    response = scan(wristband_png(("PC100001", zxingcpp.BarcodeFormat.Code128)))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["found"] is True
    assert body["barcode"] == {"format": "code_128", "text": "PC100001"}
    assert body["rule"] == "plain"
    patient = body["patient"]
    assert (patient["mrn"], patient["family_name"], patient["given_name"]) == (
        "PC100001",
        "Öberg",
        "Åsa",
    )
    assert patient["birth_date"] == "1957-03-14"
    assert "Check the name and birth date" in body["message"]
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "barcode_format", [zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.DataMatrix]
)
def test_scan_an_hl7_wristband_with_issuer(
    scan: Callable[..., httpx.Response], barcode_format: zxingcpp.BarcodeFormat
) -> None:
    body = scan(wristband_png(("PID-3:PC100003^^^PCDEMO", barcode_format))).json()
    assert (body["rule"], body["patient"]["family_name"]) == ("hl7-cx", "O'Brien")


def test_any_role_may_scan(
    client: TestClient[Litestar], bearer: Headers, demo_patients: int
) -> None:
    frame = wristband_png(("PC100014", zxingcpp.BarcodeFormat.QRCode))
    for role in ("clinician", "admin"):
        response = client.post(SCAN, files={"frame": ("f.png", frame)}, headers=bearer(role))
        assert response.json()["patient"]["given_name"] == "Alex"


def test_frame_without_a_barcode_is_not_an_error(scan: Callable[..., httpx.Response]) -> None:
    buffer = io.BytesIO()
    Image.effect_noise((640, 480), 30).convert("RGB").save(buffer, format="JPEG")
    response = scan(buffer.getvalue())
    assert response.status_code == 200
    body = response.json()
    assert body["found"] is False
    assert body["barcode"] is None and body["patient"] is None and body["rule"] is None
    assert "No barcode" in body["message"]


@pytest.mark.parametrize(
    ("frame", "status"),
    [
        (b"this is not an image", 415),
        (b"", 415),
        (wristband_png(("PC100001", zxingcpp.BarcodeFormat.QRCode))[:200], 422),
    ],
)
def test_bad_frames_are_refused(
    scan: Callable[..., httpx.Response], frame: bytes, status: int
) -> None:
    detail = assert_problem(scan(frame), status)
    assert "camera frame" in detail


def test_frame_field_is_required(client: TestClient[Litestar], bearer: Headers) -> None:
    response = client.post(SCAN, files={"photo": ("f.png", b"x")}, headers=bearer("photographer"))
    assert "frame" in assert_problem(response, 422)


def test_too_many_pixels(runtime: Runtime, demo_patients: int, bearer: Headers) -> None:
    small = replace(runtime.settings, max_image_pixels=10_000)
    app = create_app(small, runtime=replace(runtime, settings=small))
    with TestClient(app=app, raise_server_exceptions=False) as client:
        frame = wristband_png(("PC100001", zxingcpp.BarcodeFormat.QRCode))
        response = client.post(
            SCAN, files={"frame": ("f.png", frame)}, headers=bearer("photographer")
        )
    assert "too large" in assert_problem(response, 413)


def test_unknown_mrn_is_404(scan: Callable[..., httpx.Response]) -> None:
    detail = assert_problem(scan(wristband_png(("PC999999", zxingcpp.BarcodeFormat.Code128))), 404)
    assert detail == "No patient with MRN PC999999 — check the wristband or search by name."


def test_unmatched_payload_is_422_naming_the_expected_formats(
    scan: Callable[..., httpx.Response],
) -> None:
    response = scan(wristband_png(("Room 12, bed 3!", zxingcpp.BarcodeFormat.QRCode)))
    detail = assert_problem(response, 422)
    assert "not a patient wristband" in detail
    assert "plain MRN" in detail and "MRN:, PID: or PID-3:" in detail and "(8018)" in detail
    assert "barcode" in response.json()["errors"]


def test_medication_gs1_code_is_not_a_wristband(scan: Callable[..., httpx.Response]) -> None:
    frame = wristband_png(
        ("(01)09506000134352(17)261231(10)LOT7", zxingcpp.BarcodeFormat.DataMatrix), gs1=True
    )
    assert "no patient GSRN" in assert_problem(scan(frame), 422)


def test_unauthenticated_scan_is_401(scan: Callable[..., httpx.Response]) -> None:
    response = scan(wristband_png(("PC100001", zxingcpp.BarcodeFormat.QRCode)), role=None)
    assert_problem(response, 401)


def test_two_patients_in_view_is_a_conflict(scan: Callable[..., httpx.Response]) -> None:
    frame = wristband_png(
        ("PC100004", zxingcpp.BarcodeFormat.QRCode), ("PC100005", zxingcpp.BarcodeFormat.DataMatrix)
    )
    assert "two different patients" in assert_problem(scan(frame), 409)


def test_one_wristband_with_two_codes_is_one_patient(scan: Callable[..., httpx.Response]) -> None:
    frame = wristband_png(
        ("PC100009", zxingcpp.BarcodeFormat.Code128),
        ("PID-3:PC100009^^^PCDEMO", zxingcpp.BarcodeFormat.DataMatrix),
        ("Ward 7", zxingcpp.BarcodeFormat.QRCode),
    )
    body = scan(frame).json()
    assert body["found"] is True and body["patient"]["family_name"] == "Lindqvist-Nilsson"


# --- GSRN wristbands ----------------------------------------------------------------------------


@pytest.fixture
def gsrn_patient(runtime: Runtime) -> None:
    with runtime.db.write() as session:
        upsert_patient(
            session,
            PatientIdentity(
                mrn=GSRN,
                issuer="GS1",
                family_name="Lindgren",
                given_name="Maria",
                birth_date=None,
                sex=Sex.FEMALE,
            ),
        )


@pytest.mark.parametrize(
    "barcode_format", [zxingcpp.BarcodeFormat.Code128, zxingcpp.BarcodeFormat.DataMatrix]
)
def test_scan_a_gs1_wristband(
    scan: Callable[..., httpx.Response], gsrn_patient: None, barcode_format: zxingcpp.BarcodeFormat
) -> None:
    frame = wristband_png((f"(8018){GSRN}(8019)42", barcode_format), gs1=True)
    body = scan(frame).json()
    assert body["rule"] == "gs1-gsrn"
    assert body["barcode"]["text"] == f"8018{GSRN}\x1d801942"
    assert body["patient"]["family_name"] == "Lindgren"


def test_gsrn_issuer_setting_narrows_the_lookup(
    runtime: Runtime, demo_patients: int, gsrn_patient: None, bearer: Headers
) -> None:
    for issuer, status in [("GS1", 200), ("OTHER", 404)]:
        changed = replace(runtime.settings, wristband_gsrn_issuer=issuer)
        app = create_app(changed, runtime=replace(runtime, settings=changed))
        with TestClient(app=app, raise_server_exceptions=False) as client:
            response = client.post(
                PARSE, json={"text": f"(8018){GSRN}"}, headers=bearer("photographer")
            )
        assert response.status_code == status, response.text
    assert response.json()["detail"] == (
        f"No patient with GSRN {GSRN} (issuer OTHER) — check the wristband or search by name."
    )


# --- Parse --------------------------------------------------------------------------------------


@pytest.fixture
def parse(
    client: TestClient[Litestar], bearer: Headers, demo_patients: int
) -> Callable[..., httpx.Response]:
    def post(body: object, *, role: str | None = "photographer") -> httpx.Response:
        return client.post(PARSE, json=body, headers=bearer(role) if role else {})

    return post


def test_parse_text_decoded_by_the_browser(parse: Callable[..., httpx.Response]) -> None:
    response = parse({"text": "MRN:PC100003", "format": "qr_code"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["barcode"] == {"format": "qr_code", "text": "MRN:PC100003"}
    assert (body["rule"], body["patient"]["mrn"]) == ("prefixed", "PC100003")


def test_parse_gs1_with_symbology_identifier(
    parse: Callable[..., httpx.Response], gsrn_patient: None
) -> None:
    body = parse({"text": f"8018{GSRN}", "symbology_identifier": "]C1"}).json()
    assert body["patient"]["family_name"] == "Lindgren"


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"text": "PC999999"}, 404, "No patient with MRN PC999999"),
        ({"text": "hello world"}, 422, "Expected one of"),
        ({"text": ""}, 422, "empty"),
        ({"text": f"(8018){GSRN[:-1]}0"}, 422, "check digit"),
        ({"nothing": "here"}, 400, "text"),
    ],
)
def test_parse_refusals(
    parse: Callable[..., httpx.Response], body: object, status: int, words: str
) -> None:
    assert words in assert_problem(parse(body), status)


def test_unauthenticated_parse_is_401(parse: Callable[..., httpx.Response]) -> None:
    assert_problem(parse({"text": "PC100001"}, role=None), 401)
