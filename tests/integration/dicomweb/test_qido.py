"""QIDO-RS over the built-in archive: what a viewer sees when it searches."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from xml.etree import ElementTree

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from pydicom.datadict import keyword_for_tag
from sqlalchemy import event

from pointcare.dicom.json_model import xml_to_json
from pointcare.runtime import Runtime
from pointcare.web.dicomweb.matching import Level
from pointcare.web.dicomweb.qido import RETURNED
from tests.integration.dicomweb.conftest import FOREARM, Archive, multipart_parts

Client = TestClient[Litestar]
DicomJson = list[dict[str, Any]]

STUDY_UID = "0020000D"
SERIES_UID = "0020000E"
SOP_UID = "00080018"


def value(item: dict[str, Any], tag: str) -> Any:
    """The single value of ``tag`` in a DICOM JSON object (None when empty)."""
    values = item[tag].get("Value")
    return values[0] if values else None


def search(client: Client, headers: dict[str, str], path: str, **params: Any) -> DicomJson:
    """The matches of a search: 200 with DICOM JSON, or 204 and no body when there are none."""
    response = client.get(path, params=params, headers=headers)
    if response.status_code == 204:
        assert response.content == b""
        assert "content-type" not in response.headers
        return []
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/dicom+json")
    body: DicomJson = response.json()
    assert body, "an empty answer is 204, not 200 with []"
    return body


def study_uids(found: DicomJson) -> set[str]:
    return {value(item, STUDY_UID) for item in found}


# --- Studies ---------------------------------------------------------------------------------


def test_a_patients_study_is_found_by_patient_id_with_its_attributes(
    client: Client, reviewer: dict[str, str], archive: Archive
) -> None:
    [study] = search(client, reviewer, "/dicomweb/studies", PatientID="PC100001")
    assert value(study, STUDY_UID) == archive.first.study == archive.second.study
    assert study["00100010"] == {"vr": "PN", "Value": [{"Alphabetic": "Öberg^Åsa"}]}
    assert value(study, "00100020") == "PC100001"
    assert value(study, "00100021") == "PCDEMO"
    assert value(study, "00100030") == "19570314"
    assert value(study, "00100040") == "F"
    # Local date and time of the study (UTC+2), not UTC (20240503 222030).
    assert value(study, "00080020") == "20240504"
    assert value(study, "00080030") == "003000"
    assert study["00080061"] == {"vr": "CS", "Value": ["XC"]}
    assert study["00201206"] == {"vr": "IS", "Value": [1]}
    assert study["00201208"] == {"vr": "IS", "Value": [2]}
    assert study["00080050"] == {"vr": "SH"}  # no orders, no accession number: empty, present
    assert study["00080090"] == {"vr": "PN"}
    assert value(study, "00200010")
    assert value(study, "00081030") == "Clinical photography"
    assert value(study, "00080005") == "ISO_IR 192"
    assert value(study, "00080056") == "ONLINE"
    assert value(study, "00080201") == "+0200"
    assert (
        value(study, "00081190")
        == f"http://testserver.local/dicomweb/studies/{archive.first.study}"
    )
    assert list(study) == sorted(study), "attributes are ordered by tag"


def test_retrieve_urls_use_the_configured_public_url(
    client: Client, reviewer: dict[str, str], archive: Archive, runtime: Runtime
) -> None:
    original = runtime.settings
    runtime.settings = replace(original, public_url="https://photos.example.org/")
    try:
        [study] = search(client, reviewer, "/dicomweb/studies", PatientID="PC100001")
    finally:
        runtime.settings = original
    assert value(study, "00081190") == (
        f"https://photos.example.org/dicomweb/studies/{archive.first.study}"
    )


def test_keys_may_be_given_as_tags(
    client: Client, reviewer: dict[str, str], archive: Archive
) -> None:
    by_tag = search(client, reviewer, "/dicomweb/studies", **{"00100020": "PC100003"})
    assert study_uids(by_tag) == {archive.other_patient.study}


@pytest.mark.parametrize(
    ("study_date", "expected"),
    [
        ("20240504", {"first"}),
        ("20240503", set()),  # the UTC date of the first study: not its date
        ("20240501-20240531", {"first"}),
        ("20240601-", {"other"}),
        ("-20240601", {"first"}),
        ("20240504-20240610", {"first", "other"}),
        ("20250101-", set()),
    ],
)
def test_study_date_matches_single_dates_and_ranges_in_local_time(
    client: Client, reviewer: dict[str, str], archive: Archive, study_date: str, expected: set[str]
) -> None:
    names = {archive.first.study: "first", archive.other_patient.study: "other"}
    found = search(client, reviewer, "/dicomweb/studies", StudyDate=study_date)
    assert {names[uid] for uid in study_uids(found)} == expected


def test_modalities_in_study_and_study_uid_lists(
    client: Client, reviewer: dict[str, str], archive: Archive
) -> None:
    both = {archive.first.study, archive.other_patient.study}
    assert study_uids(search(client, reviewer, "/dicomweb/studies", ModalitiesInStudy="XC")) == both
    assert search(client, reviewer, "/dicomweb/studies", ModalitiesInStudy="CT") == []
    listed = ",".join(sorted(both))
    assert (
        study_uids(search(client, reviewer, "/dicomweb/studies", StudyInstanceUID=listed)) == both
    )
    one = search(client, reviewer, "/dicomweb/studies", StudyInstanceUID=archive.first.study)
    assert study_uids(one) == {archive.first.study}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("o'brien*", {"other"}),
        ("?berg^*", {"first"}),
        ("Öberg*", {"first"}),
        ("oberg*", {"first"}),  # accents ignored, as in the home page's name search
        ("OBERG^ASA", {"first"}),  # a single value matches the whole name, in any case
        ("Oberg^Åsa^^", {"first"}),  # empty middle name, prefix and suffix
        ("*^Sean", {"other"}),
        ("obrien^se*", {"other"}),  # punctuation ignored: O'Brien
        ("O'Brien", set()),  # a single value is the whole name: Seán is missing
        ("Öberg^Åsa^Maria", set()),  # no middle names are recorded
        ("*bert*", set()),
        ("Öberg^Åsa=Ideographic", {"first"}),  # only the alphabetic group is matched
    ],
)
def test_patient_names_match_as_clinicians_search(
    client: Client, reviewer: dict[str, str], archive: Archive, name: str, expected: set[str]
) -> None:
    names = {archive.first.study: "first", archive.other_patient.study: "other"}
    found = search(client, reviewer, "/dicomweb/studies", PatientName=name)
    assert {names[uid] for uid in study_uids(found)} == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("oberg", {"first"}),  # a family name prefix
        ("asa oberg", {"first"}),  # given name first
        ("ob^as", {"first"}),  # prefixes of both
        ("Sean O'Brien", {"other"}),
        ("bri", set()),  # prefixes, not substrings
    ],
)
def test_fuzzy_matching_reads_names_as_the_search_box_does(
    client: Client, reviewer: dict[str, str], archive: Archive, name: str, expected: set[str]
) -> None:
    names = {archive.first.study: "first", archive.other_patient.study: "other"}
    response = client.get(
        "/dicomweb/studies",
        params={"PatientName": name, "fuzzymatching": "true"},
        headers=reviewer,
    )
    assert response.status_code in {200, 204}
    assert "warning" not in response.headers, "fuzzy matching is supported: no warning"
    found = response.json() if response.status_code == 200 else []
    assert {names[uid] for uid in study_uids(found)} == expected


def test_no_match_is_204_no_content_as_ps3_18_says(
    client: Client, reviewer: dict[str, str], archive: Archive
) -> None:
    for accept in ("application/dicom+json", 'multipart/related; type="application/dicom+xml"'):
        response = client.get(
            "/dicomweb/studies",
            params={"PatientID": "PC999999"},
            headers={**reviewer, "Accept": accept},
        )
        assert response.status_code == 204
        assert response.content == b""


def test_paging_with_limit_and_offset_warns_of_more_results(
    client: Client, reviewer: dict[str, str], archive: Archive
) -> None:
    first_page = client.get("/dicomweb/studies", params={"limit": 1}, headers=reviewer)
    assert len(first_page.json()) == 1
    assert "There are additional results" in first_page.headers["warning"]
    second_page = client.get(
        "/dicomweb/studies", params={"limit": 1, "offset": 1}, headers=reviewer
    )
    assert "warning" not in second_page.headers
    # Newest study first.
    assert study_uids(first_page.json()) == {archive.other_patient.study}
    assert study_uids(second_page.json()) == {archive.first.study}


def test_includefield_takes_attributes_and_warns_of_those_not_returned(
    client: Client, reviewer: dict[str, str], archive: Archive
) -> None:
    response = client.get(
        "/dicomweb/studies",
        params={"PatientID": "PC100001", "includefield": ["all", "00081030,StudyDescription"]},
        headers=reviewer,
    )
    assert response.status_code == 200
    assert "warning" not in response.headers
    [study] = response.json()
    assert value(study, "00081030") == "Clinical photography"
    response = client.get(
        "/dicomweb/studies",
        params={"PatientID": "PC100001", "includefield": "BodyPartExamined,00180015"},
        headers=reviewer,
    )
    assert response.status_code == 200
    assert response.headers["warning"].startswith("299 http://testserver.local/dicomweb: ")
    assert "not returned: BodyPartExamined" in response.headers["warning"]
    # An instance attribute asked of a study search is not returned either.
    response = client.get(
        "/dicomweb/studies", params={"includefield": "ImageLaterality"}, headers=reviewer
    )
    assert "not returned: ImageLaterality" in response.headers["warning"]


def test_optional_matching_flags_are_answered_with_a_warning(
    client: Client, reviewer: dict[str, str], archive: Archive
) -> None:
    response = client.get(
        "/dicomweb/studies",
        params={"PatientID": "PC100001", "emptyvaluematching": "true"},
        headers=reviewer,
    )
    assert response.status_code == 200
    assert "emptyvaluematching parameter is not supported" in response.headers["warning"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"PatientId": "PC100001"}, "Unknown query parameter 'PatientId'"),
        ({"BodyPartExamined": "ARM"}, "Matching on BodyPartExamined is not supported"),
        ({"SOPInstanceUID": "1.2.3"}, "instance-level key"),
        ({"StudyDate": "2024-05-04"}, "StudyDate must be a date YYYYMMDD"),
        ({"StudyDate": "20240601-20240501"}, "ends before it starts"),
        ({"StudyInstanceUID": "1.2.*"}, "not a valid DICOM UID"),
        ({"limit": "-1"}, "limit must be a whole number"),
        ({"fuzzymatching": "maybe"}, "fuzzymatching must be true or false"),
        ({"includefield": "bogus"}, "includefield 'bogus' is not a DICOM attribute"),
        ({"includefield": "StudyDate,"}, "includefield '' is not a DICOM attribute"),
        ({"includefield": "99990010"}, "includefield '99990010' is not a DICOM attribute"),
        (
            {"PatientName": "--", "fuzzymatching": "true"},
            "PatientName: the name to search for has no letters or digits",
        ),
    ],
)
def test_bad_queries_are_refused_with_the_reason(
    client: Client, reviewer: dict[str, str], params: dict[str, str], message: str
) -> None:
    response = client.get("/dicomweb/studies", params=params, headers=reviewer)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert message in response.json()["detail"]


def test_a_key_given_twice_is_refused(client: Client, reviewer: dict[str, str]) -> None:
    response = client.get(
        "/dicomweb/studies?PatientID=PC100001&00100020=PC100003", headers=reviewer
    )
    assert response.status_code == 400
    assert "more than once" in response.json()["detail"]


def test_empty_values_of_any_attribute_match_everything(
    client: Client, reviewer: dict[str, str], archive: Archive
) -> None:
    found = search(client, reviewer, "/dicomweb/studies", AccessionNumber="", BodyPartExamined="")
    assert len(found) == 2
    assert search(client, reviewer, "/dicomweb/studies", AccessionNumber="A123") == []


def test_json_and_xml_are_offered(
    client: Client, reviewer: dict[str, str], archive: Archive
) -> None:
    response = client.get("/dicomweb/studies", headers={**reviewer, "Accept": "application/json"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    as_json = client.get("/dicomweb/studies", params={"PatientID": "PC100001"}, headers=reviewer)
    response = client.get(
        "/dicomweb/studies",
        params={"PatientID": "PC100001"},
        headers={**reviewer, "Accept": 'multipart/related; type="application/dicom+xml"'},
    )
    assert response.status_code == 200
    [(part_type, document)] = multipart_parts(response.headers["content-type"], response.content)
    assert part_type == "application/dicom+xml"
    # The XML model says what the JSON one says (read back by the reader of PACS answers).
    [json_study] = as_json.json()
    xml_study = xml_to_json(document)
    assert xml_study["0020000D"]["Value"] == json_study["0020000D"]["Value"]
    assert xml_study["00201208"]["Value"] == ["2"]
    name = ElementTree.fromstring(document).find(  # noqa: S314 - our own answer
        ".//{*}DicomAttribute[@tag='00100010']/{*}PersonName/{*}Alphabetic"
    )
    assert name is not None
    assert [(part.tag.split("}")[1], part.text) for part in name] == [
        ("FamilyName", "Öberg"),
        ("GivenName", "Åsa"),
    ]
    refused = client.get("/dicomweb/studies", headers={**reviewer, "Accept": "text/html"})
    assert refused.status_code == 406


# --- Series and instances ----------------------------------------------------------------------


def test_the_series_of_a_study(client: Client, reviewer: dict[str, str], archive: Archive) -> None:
    [series] = search(client, reviewer, f"/dicomweb/studies/{archive.first.study}/series")
    assert value(series, SERIES_UID) == archive.first.series
    assert value(series, STUDY_UID) == archive.first.study
    assert value(series, "00080060") == "XC"
    assert value(series, "00200011") == 1
    assert series["00201209"] == {"vr": "IS", "Value": [2]}
    assert value(series, "00081190").endswith(
        f"/dicomweb/studies/{archive.first.study}/series/{archive.first.series}"
    )
    assert "00100020" not in series, "study-scoped answers leave out study attributes"
    assert search(client, reviewer, "/dicomweb/studies/1.2.3/series") == []


def test_series_across_studies_carry_patient_and_study_attributes(
    client: Client, reviewer: dict[str, str], archive: Archive
) -> None:
    [series] = search(client, reviewer, "/dicomweb/series", PatientID="PC100003", Modality="XC")
    assert value(series, SERIES_UID) == archive.other_patient.series
    assert value(series, "00100020") == "PC100003"
    assert value(series, "00080020") == "20240610"
    assert search(client, reviewer, "/dicomweb/series", Modality="SM") == []
    assert len(search(client, reviewer, "/dicomweb/series", SeriesNumber="1")) == 2


def test_the_instances_of_a_series_in_order_with_their_image_attributes(
    client: Client, reviewer: dict[str, str], archive: Archive, indexed: Any
) -> None:
    path = f"/dicomweb/studies/{archive.first.study}/series/{archive.first.series}/instances"
    first, second = search(client, reviewer, path)
    assert [value(first, SOP_UID), value(second, SOP_UID)] == [
        archive.first.sop,
        archive.second.sop,
    ]
    assert [value(first, "00200013"), value(second, "00200013")] == [1, 2]
    row = indexed(archive.first.sop)
    assert value(first, "00280010") == row.rows
    assert value(first, "00280011") == row.columns
    assert value(first, "00080016") == "1.2.840.10008.5.1.4.1.1.77.1.4"
    assert value(first, "00200062") == "L"
    assert value(first, "00083002") == "1.2.840.10008.1.2.4.50"
    assert value(first, "00080023") == "20240504"
    assert value(first, "00080033") == "003000"
    [region] = first["00082218"]["Value"]
    assert value(region, "00080100") == FOREARM
    assert value(region, "00080102") == "SCT"
    assert value(region, "00080104") == "Forearm"
    assert value(first, "00081190").endswith(archive.first.path)
    # Portrait photo: rows and columns follow the upright image.
    assert value(second, "00280010") > value(second, "00280011")


def test_instances_across_the_archive(
    client: Client, reviewer: dict[str, str], archive: Archive
) -> None:
    [found] = search(client, reviewer, "/dicomweb/instances", SOPInstanceUID=archive.second.sop)
    assert value(found, "00100020") == "PC100001"
    assert value(found, SERIES_UID) == archive.second.series
    assert value(found, "00080060") == "XC"
    in_study = search(client, reviewer, f"/dicomweb/studies/{archive.first.study}/instances")
    assert len(in_study) == 2
    assert len(search(client, reviewer, "/dicomweb/instances", ImageLaterality="L")) == 2
    assert len(search(client, reviewer, "/dicomweb/instances", InstanceNumber="2")) == 1


def test_instances_of_several_series_each_carry_their_own_patient_study_and_series(
    client: Client, reviewer: dict[str, str], archive: Archive
) -> None:
    """The page builds each series' part once; every instance must still get its own."""
    found = {value(item, SOP_UID): item for item in search(client, reviewer, "/dicomweb/instances")}
    for photo in (archive.first, archive.second, archive.other_patient):
        item = found[photo.sop]
        assert value(item, "00100020") == photo.mrn
        assert value(item, STUDY_UID) == photo.study
        assert value(item, SERIES_UID) == photo.series
        assert value(item, "00081190").endswith(photo.path)
        assert list(item) == sorted(item), "attributes in tag order (PS3.18 F.2.1.1)"
    assert archive.other_patient.series != archive.first.series
    other = found[archive.other_patient.sop]
    assert value(other, "00200062") == "U"  # the face: unpaired
    assert value(found[archive.first.sop], "00200062") == "L"


# --- What each level answers ------------------------------------------------------------------

STUDY_DEFAULTS = (
    "SpecificCharacterSet", "StudyDate", "StudyTime", "AccessionNumber", "InstanceAvailability",
    "ModalitiesInStudy", "ReferringPhysicianName", "TimezoneOffsetFromUTC", "RetrieveURL",
    "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "StudyID",
    "NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances",
)  # fmt: skip
"""PS3.18 Table 10.6.3-3 (all known here)."""
SERIES_DEFAULTS = (
    "SpecificCharacterSet", "Modality", "TimezoneOffsetFromUTC", "SeriesDescription",
    "RetrieveURL", "SeriesInstanceUID", "SeriesNumber", "NumberOfSeriesRelatedInstances",
)  # fmt: skip
"""PS3.18 Table 10.6.3-4, less what is not known without orders or procedure steps
(Performed Procedure Step Start Date and Time, Request Attributes Sequence)."""
INSTANCE_DEFAULTS = (
    "SpecificCharacterSet", "SOPClassUID", "SOPInstanceUID", "InstanceAvailability",
    "TimezoneOffsetFromUTC", "RetrieveURL", "InstanceNumber", "Rows", "Columns",
    "BitsAllocated", "NumberOfFrames",
)  # fmt: skip
"""PS3.18 Table 10.6.3-5 (all known for a photo)."""
_STUDY_ONLY = {"ModalitiesInStudy", "NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances"}


@pytest.mark.parametrize(
    ("path", "level", "defaults"),
    [
        ("/dicomweb/studies", Level.STUDY, STUDY_DEFAULTS),
        (
            "/dicomweb/series",
            Level.SERIES,
            SERIES_DEFAULTS + tuple(set(STUDY_DEFAULTS) - _STUDY_ONLY),
        ),
        (
            "/dicomweb/instances",
            Level.INSTANCE,
            INSTANCE_DEFAULTS + tuple(set(SERIES_DEFAULTS) - {"NumberOfSeriesRelatedInstances"}),
        ),
    ],
)
def test_each_level_answers_the_default_attributes_of_ps3_18(
    client: Client,
    reviewer: dict[str, str],
    archive: Archive,
    path: str,
    level: Level,
    defaults: tuple[str, ...],
) -> None:
    found = search(client, reviewer, path)
    assert found
    for item in found:
        keywords = {keyword_for_tag(int(tag, 16)) for tag in item}
        assert set(defaults) <= keywords, set(defaults) - keywords
        assert keywords <= RETURNED[level], "RETURNED lists every attribute answered"
    [instance] = search(client, reviewer, "/dicomweb/instances", SOPInstanceUID=archive.first.sop)
    assert value(instance, "00080056") == "ONLINE"
    assert value(instance, "00280008") == 1
    assert value(instance, "00280100") == 8
    assert value(instance, "00080201") == "+0200"
    [other] = search(client, reviewer, "/dicomweb/series", PatientID="PC100003")
    assert value(other, "00080201") == "-0500"


# --- Cost --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/dicomweb/studies",
        "/dicomweb/series",
        "/dicomweb/instances",
        "/dicomweb/instances?PatientName=*&StudyDate=20240101-&ModalitiesInStudy=XC",
        "/dicomweb/instances?Modality=XC&SeriesNumber=1",
        "/dicomweb/series?ModalitiesInStudy=XC&Modality=XC",
    ],
)
def test_each_search_is_one_sql_statement(
    client: Client, reviewer: dict[str, str], archive: Archive, runtime: Runtime, path: str
) -> None:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(runtime.db.engine, "before_cursor_execute", record)
    try:
        response = client.get(path, headers=reviewer)
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", record)
    assert response.status_code == 200
    assert len(response.json()) >= 2
    audit = ("audit_events", "pg_advisory_xact_lock")  # the search's audit event, chained
    searches = [
        s
        for s in statements
        if "FROM users" not in s and not any(a in s for a in audit) and not s.startswith("BEGIN")
    ]
    assert len(searches) == 1, searches
