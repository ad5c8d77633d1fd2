"""The search benchmark's pieces that need no server: its objects, its URLs and its report."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import httpx
import pydicom

from tests.bench.search import (
    ALONE_KEY,
    KEY,
    Peer,
    Query,
    markdown,
    ratios,
    small_object,
    targets,
)


def test_orthanc_gets_the_index_row_as_a_dicom_object_in_local_time() -> None:
    captured = datetime(2024, 5, 3, 23, 30, tzinfo=UTC)  # 4 May, 00:30 at UTC+01:00
    row = (
        "SP0000001", "BENCH", "Abcson", "Anna", date(1950, 1, 2), "F",
        "2.25.1", captured, 60, "PC240504AB", "Clinical photography",
        "2.25.2", 1, "Bedside capture", "2.25.3", 4, captured, 60,
    )  # fmt: skip
    ds = pydicom.dcmread(io.BytesIO(small_object(row)))
    assert (ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID) == (
        "2.25.1",
        "2.25.2",
        "2.25.3",
    )
    assert (ds.PatientID, str(ds.PatientName), ds.PatientBirthDate) == (
        "SP0000001",
        "Abcson^Anna",
        "19500102",
    )
    assert (ds.StudyDate, ds.StudyTime, ds.Modality, ds.InstanceNumber) == (
        "20240504",
        "003000",
        "XC",
        4,
    )


def test_wildcards_and_name_separators_are_sent_as_typed() -> None:
    peer = Peer("orthanc", lambda: httpx.Client(), "/dicom-web")
    query = Query("names", "studies", lambda _i: {"PatientName": "ABC*^A*", "limit": "100"})
    assert peer.url(query, 0) == "/dicom-web/studies?PatientName=ABC*^A*&limit=100"


def _figures(p50: float, p95: float, errors: float = 0) -> dict[str, dict[str, float]]:
    def one(value: float) -> dict[str, float]:
        return {"median": value, "min": value, "max": value}

    return {
        "p50_ms": one(p50),
        "p95_ms": one(p95),
        "max_ms": one(p95),
        "count": one(40),
        "errors": one(errors),
    }


def _results() -> dict[str, object]:
    ratio = {"median": 0.5, "min": 0.4, "max": 0.6}
    worse = {"median": 1.3, "min": 1.1, "max": 1.5}
    return {
        KEY: {
            "instances": 100_000,
            "orthanc_instances": 100_000,
            "scale": "full",
            "seeding": {"ingested_photos": 100, "ingest_s": 30.0, "copy_s": 20.0},
            "orthanc_load_s": 900.0,
            "rounds": 5,
            "requests_per_round": 40,
            "answers_differ": [],
            "queries": {
                "studies_by_patient_id": {
                    "pointcare": _figures(10, 20),
                    "orthanc": _figures(20, 40),
                    "p95_ratio": ratio,
                },
                "studies_by_patient_name_prefix": {
                    "pointcare": _figures(10, 26),
                    "orthanc": _figures(10, 20),
                    "p95_ratio": worse,
                },
            },
        },
        ALONE_KEY: {
            "instances": 50_000,
            "scale": "quick",
            "copy_s": 9.0,
            "rounds": 3,
            "queries": {
                "studies_by_patient_id": {"pointcare": _figures(20, 40)},
                "review_page_big_patient": {"pointcare": _figures(150, 250)},
                "thumbnail": {"pointcare": _figures(8, 12)},
            },
        },
    }


def test_each_query_is_a_target_against_orthanc_and_each_figure_at_scale_against_its_limit() -> (
    None
):
    rows = {target: (figure, verdict) for target, figure, verdict in targets(_results())}
    by_id = rows["search: Pointcare p95 <= Orthanc (PostgreSQL) p95, studies_by_patient_id"]
    by_name = rows[
        "search: Pointcare p95 <= Orthanc (PostgreSQL) p95, studies_by_patient_name_prefix"
    ]
    assert by_id[1] == "met" and by_name[1] == "MISSED"
    assert "over 100000 instances, 0 errors" in by_id[0]
    assert rows["at scale: QIDO p95 < 50 ms, studies_by_patient_id"][1] == "met"
    assert rows["at scale: review page p95 < 200 ms"][1] == "MISSED"
    assert rows["at scale: thumbnail p50 < 10 ms"][1] == "met"
    assert "NOT the issue's 1,000,000" in rows["at scale: thumbnail p50 < 10 ms"][0]


def test_nothing_measured_is_said_so() -> None:
    rows = targets({})
    assert rows and all(verdict == "not measured" for _, _, verdict in rows)
    assert markdown({}) == []


def test_the_report_gives_both_peers_side_by_side_with_the_ratio() -> None:
    text = "\n".join(markdown(_results()))
    assert (
        "| studies_by_patient_id | 10.0 (10.0–10.0) | 20.0 (20.0–20.0) | 20.0 (20.0–20.0) " in text
    )
    assert "| 0.50 (0.40–0.60) | 0 |" in text
    assert "answers of the same size from both peers" in text
    assert "#### 9. Pointcare alone at 50000 instances" in text
    assert ratios(_results()) == {
        "search_p95_pointcare_over_orthanc_studies_by_patient_id": 0.5,
        "search_p95_pointcare_over_orthanc_studies_by_patient_name_prefix": 1.3,
    }
