"""The conformance statement (docs/conformance.md) says what the server does: every query key it
lists is accepted with its example value, at its level and below, every supported key is listed,
and every (resource, Accept) of its media type table is answered in the media type it names."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from pointcare.web.dicomweb.matching import Level, supported_keys
from tests.integration.dicomweb.conftest import Archive, StoredObject
from tests.support.tools import REPO_ROOT
from tests.unit.dicom.test_pdf import a_pdf

Client = TestClient[Litestar]
STATEMENT = REPO_ROOT / "docs" / "conformance.md"
LEVELS = {"study": Level.STUDY, "series": Level.SERIES, "instance": Level.INSTANCE}
SEARCHES = {Level.STUDY: "/dicomweb/studies", Level.SERIES: "/dicomweb/series"}
SEARCHES[Level.INSTANCE] = "/dicomweb/instances"


def table(heading: str) -> list[list[str]]:
    """The rows of the first Markdown table after ``heading`` (cells stripped, header dropped)."""
    text = Path(STATEMENT).read_text(encoding="utf-8")
    start = text.index(heading)
    rows = []
    for line in text[start:].splitlines()[1:]:
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif rows:
            break
    return [row for row in rows[1:] if not set("".join(row)) <= {"-"}]


def code(cell: str) -> str | None:
    """The first `backticked` text of a cell."""
    found = re.search(r"`([^`]*)`", cell)
    return found.group(1) if found else None


KEYS = table("#### Query keys")
MEDIA_TYPES = table("#### Media types")


def test_the_statement_lists_every_key_the_server_matches_on() -> None:
    listed = {row[0] for row in KEYS}
    assert listed == set(supported_keys(Level.INSTANCE))
    for keyword, tag, level, *_ in KEYS:
        assert level in LEVELS, keyword
        assert re.fullmatch(r"[0-9A-F]{8}", tag), keyword


@pytest.mark.parametrize("row", KEYS, ids=[row[0] for row in KEYS])
def test_every_listed_query_key_is_accepted(
    client: Client, reviewer: dict[str, str], archive: Archive, row: list[str]
) -> None:
    keyword, tag, level_name, _matching, example = row
    value = code(example)
    assert value is not None, keyword
    for level in Level:
        if level < LEVELS[level_name]:
            continue
        for name in (keyword, tag):
            response = client.get(SEARCHES[level], params={name: value}, headers=reviewer)
            assert response.status_code in {200, 204}, (level, name, response.text)


@pytest.fixture(scope="module")
def document(client: Client, bearer: Callable[[str], dict[str, str]], archive: Archive) -> str:
    """The path of an Encapsulated PDF of the archive's first patient."""
    answer = client.post(
        "/api/v1/documents",
        data={"patient_id": archive.first.mrn, "title": "Letter", "capture_id": str(uuid.uuid4())},
        files={"file": ("letter.pdf", a_pdf(), "application/pdf")},
        headers=bearer("clinician"),
    )
    assert answer.status_code == 201, answer.text
    study, sop = answer.json()["study_instance_uid"], answer.json()["sop_instance_uid"]
    [found] = client.get(
        "/dicomweb/instances", params={"SOPInstanceUID": sop}, headers=bearer("clinician")
    ).json()
    return f"/dicomweb/studies/{study}/series/{found['0020000E']['Value'][0]}/instances/{sop}"


def resource_path(
    resource: str, archive: Archive, document: str, clip: Callable[[], StoredObject]
) -> str:
    if resource.startswith("clip-"):
        return clip().path + {"clip-frames": "/frames/1", "clip-rendered": "/rendered"}[resource]
    photo = archive.first
    study = f"/dicomweb/studies/{photo.study}"
    series = f"{study}/series/{photo.series}"
    return {
        "study": study,
        "series": series,
        "instance": photo.path,
        "metadata": photo.path + "/metadata",
        "frames": photo.path + "/frames/1",
        "bulkdata": photo.path + "/bulkdata/7FE00010",
        "rendered": photo.path + "/rendered",
        "frame-rendered": photo.path + "/frames/1/rendered",
        "series-rendered": series + "/rendered",
        "study-rendered": study + "/rendered",
        "thumbnail": photo.path + "/thumbnail",
        "search": "/dicomweb/studies?PatientID=PC100001",
        "document-bulkdata": document + "/bulkdata/00420011",
        "document-rendered": document + "/rendered",
    }[resource]


@pytest.mark.parametrize("row", MEDIA_TYPES, ids=[f"{r[0]}: {r[1]}" for r in MEDIA_TYPES])
def test_every_listed_media_type_is_answered(
    client: Client,
    reviewer: dict[str, str],
    archive: Archive,
    document: str,
    request: pytest.FixtureRequest,
    row: list[str],
) -> None:
    resource, accept_cell, answer_cell = row
    accept = code(accept_cell)
    headers = reviewer if accept is None else {**reviewer, "Accept": accept}
    path = resource_path(resource, archive, document, lambda: request.getfixturevalue("clip"))
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    named = [text for text in re.findall(r"`([^`]*)`", answer_cell) if "/" in text]
    expected = named[0] if named else (accept or "").split(";")[0]
    assert response.headers["content-type"].startswith(expected), response.headers
