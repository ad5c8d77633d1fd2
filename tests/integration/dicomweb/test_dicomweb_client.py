"""A real server process, searched, read and written by the PyPI ``dicomweb-client`` as a viewer
or a capture app would: every search, retrieve and store call the client offers."""

from __future__ import annotations

from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import httpx
import numpy as np
import pydicom
import pytest
from dicomweb_client import DICOMwebClient
from requests import HTTPError

from tests.integration.dicomweb.conftest import multipart_parts
from tests.integration.dicomweb.live import (
    JPEG_BASELINE,
    MRN,
    UNCOMPRESSED,
    Live,
    image_size,
    live_archive,
    stored_pixels,
)
from tests.integration.dicomweb.test_stow import device_photo
from tests.support.consent import CLINICAL_ONLY


@pytest.fixture(scope="module")
def live(module_database_url: str) -> Iterator[Live]:
    with live_archive(module_database_url) as found:
        yield found


def test_search_studies_series_and_instances(live: Live) -> None:
    client = live.client()
    [study] = client.search_for_studies(search_filters={"PatientID": MRN})
    assert study["0020000D"]["Value"] == [live.study]
    assert study["00080020"]["Value"] == ["20250203"]
    assert study["00201208"]["Value"] == [2]
    assert client.search_for_studies(search_filters={"PatientID": "PC999999"}) == [], "204"
    [series] = client.search_for_series(study_instance_uid=live.study)
    assert series["0020000E"]["Value"] == [live.series]
    assert series["00080060"]["Value"] == ["XC"]
    [same] = client.search_for_series(search_filters={"PatientID": MRN}, fields=["all"])
    assert same["0020000E"] == series["0020000E"]
    instances = client.search_for_instances(
        study_instance_uid=live.study, series_instance_uid=live.series
    )
    assert [item["00080018"]["Value"][0] for item in instances] == live.sops
    assert len(client.search_for_instances(study_instance_uid=live.study)) == 2
    by_date = client.search_for_studies(
        search_filters={"StudyDate": "20250201-20250228", "ModalitiesInStudy": "XC"}
    )
    assert [item["0020000D"]["Value"][0] for item in by_date] == [live.study]


def test_names_are_found_as_clinicians_type_them(live: Live) -> None:
    """PC100002 is Ångström, Zoë: found without accents, in any case."""
    client = live.client()
    for name, fuzzy in (("angstrom*", None), ("ANGSTROM^zoe", None), ("zoe ang", True)):
        found = client.search_for_studies(fuzzymatching=fuzzy, search_filters={"PatientName": name})
        assert [item["0020000D"]["Value"][0] for item in found] == [live.study], name


def test_the_client_pages_through_results(live: Live) -> None:
    client = live.client()
    # The patient's own instances: the demo server also holds the demo's photo histories.
    everything = client.search_for_instances(
        search_filters={"PatientID": MRN}, limit=1, get_remaining=True
    )
    assert sorted(item["00080018"]["Value"][0] for item in everything) == sorted(live.sops)


def test_retrieve_instance_as_stored_is_the_archived_file(live: Live) -> None:
    sop = live.sops[0]
    archived = live.archived(sop)
    dataset = live.client().retrieve_instance(
        live.study, live.series, sop, media_types=(("application/dicom", "*"),)
    )
    # The client hands back a parsed data set; written out again it is the archived file,
    # preamble, file meta and encapsulated JPEG included.
    rewritten = BytesIO()
    dataset.save_as(rewritten, enforce_file_format=True)
    assert rewritten.getvalue() == archived
    assert dataset.file_meta.TransferSyntaxUID == JPEG_BASELINE
    assert dataset.PixelData == pydicom.dcmread(BytesIO(archived)).PixelData


def test_retrieve_instance_in_explicit_vr_little_endian(live: Live) -> None:
    client = live.client()
    sop = live.sops[0]
    # The client asks for transfer-syntax=* by default; this asks for the uncompressed one.
    dataset = client.retrieve_instance(
        live.study, live.series, sop, media_types=(("application/dicom", UNCOMPRESSED),)
    )
    assert dataset.file_meta.TransferSyntaxUID == UNCOMPRESSED
    assert dataset.SOPInstanceUID == sop
    assert np.array_equal(dataset.pixel_array, stored_pixels(live.archived(sop)))


def test_the_raw_multipart_answer_holds_the_archived_bytes(live: Live) -> None:
    sop = live.sops[1]
    url = f"{live.server.url}/dicomweb/studies/{live.study}/series/{live.series}/instances/{sop}"
    response = httpx.get(
        url,
        headers={
            "Authorization": f"Bearer {live.doctor}",
            "Accept": 'multipart/related; type="application/dicom"; transfer-syntax=*',
        },
        trust_env=False,
    )
    assert response.status_code == 200
    [(_type, payload)] = multipart_parts(response.headers["content-type"], response.content)
    assert payload == live.archived(sop)


def test_retrieve_studies_and_series_whole_or_one_by_one(live: Live) -> None:
    client = live.client()
    as_stored = (("application/dicom", "*"),)
    for datasets in (
        client.retrieve_study(live.study),
        list(client.iter_study(live.study)),
        client.retrieve_series(live.study, live.series, media_types=as_stored),
        list(client.iter_series(live.study, live.series)),
    ):
        assert [ds.SOPInstanceUID for ds in datasets] == live.sops


def test_retrieve_metadata_at_every_level(live: Live) -> None:
    client = live.client()
    for metadata in (
        client.retrieve_study_metadata(live.study),
        client.retrieve_series_metadata(live.study, live.series),
        [client.retrieve_instance_metadata(live.study, live.series, sop) for sop in live.sops],
    ):
        assert [item["00080018"]["Value"][0] for item in metadata] == live.sops
        header = pydicom.Dataset.from_json(
            {k: v for k, v in metadata[0].items() if k != "7FE00010"}
        )
        assert header.PatientID == MRN
        assert header.ImageLaterality == "R"


def test_bulk_data_is_retrieved_at_the_link_the_metadata_gives(live: Live) -> None:
    """The link names the address the server serves on, port included (dicomweb-client sends
    "Host: 127.0.0.1" without the port, which once produced links to port 80)."""
    client = live.client()
    sop = live.sops[0]
    metadata = client.retrieve_instance_metadata(live.study, live.series, sop)
    link = metadata["7FE00010"]["BulkDataURI"]
    assert link == f"{live.server.url}{live.path(sop)}/bulkdata/7FE00010"
    [pixels] = client.retrieve_bulkdata(link)
    assert pixels == stored_pixels(live.archived(sop)).tobytes()
    assert list(client.iter_bulkdata(link)) == [pixels]
    [jpeg] = client.retrieve_bulkdata(link, media_types=(("image/jpeg", JPEG_BASELINE),))
    assert jpeg.startswith(b"\xff\xd8")


def test_frames_in_both_syntaxes(live: Live) -> None:
    client = live.client()
    sop = live.sops[1]
    uncompressed = client.retrieve_instance_frames(live.study, live.series, sop, frame_numbers=[1])
    assert uncompressed == [stored_pixels(live.archived(sop)).tobytes()]
    as_octets = client.retrieve_instance_frames(
        live.study,
        live.series,
        sop,
        frame_numbers=[1],
        media_types=(("application/octet-stream", UNCOMPRESSED),),
    )
    assert as_octets == uncompressed
    [jpeg] = client.retrieve_instance_frames(
        live.study,
        live.series,
        sop,
        frame_numbers=[1],
        media_types=(("image/jpeg", JPEG_BASELINE),),
    )
    assert jpeg.startswith(b"\xff\xd8") and jpeg.endswith(b"\xff\xd9")
    assert list(client.iter_instance_frames(live.study, live.series, sop, frame_numbers=[1])) == (
        uncompressed
    )


def test_rendered_at_every_level_the_client_offers(live: Live) -> None:
    client = live.client()
    sop = live.sops[0]
    full = client.retrieve_instance_rendered(live.study, live.series, sop)
    assert image_size(full, "JPEG") == (640, 480)
    small = client.retrieve_instance_rendered(
        live.study, live.series, sop, params={"viewport": "160,160"}
    )
    assert image_size(small, "JPEG") == (160, 120)
    png = client.retrieve_instance_rendered(
        live.study, live.series, sop, media_types=("image/png",)
    )
    assert image_size(png, "PNG") == (640, 480)
    frame = client.retrieve_instance_frames_rendered(
        live.study, live.series, sop, frame_numbers=[1], media_types=("image/jpeg",)
    )
    assert image_size(frame, "JPEG") == (640, 480)
    # A series is rendered as multipart/related, one image per photo (PS3.18 10.4.4): the
    # client hands back the body as it came.
    body = client.retrieve_series_rendered(live.study, live.series, params={"viewport": "64,64"})
    boundary = body.split(b"\r\n", 1)[0].removeprefix(b"--").decode("ascii")
    parts = multipart_parts(f'multipart/related; type="image/jpeg"; boundary={boundary}', body)
    assert [image_size(data, "JPEG") for _type, data in parts] == [(64, 48), (64, 48)]


def test_absolute_urls_never_come_from_the_host_header(live: Live) -> None:
    response = httpx.get(
        f"{live.server.url}/dicomweb/studies",
        params={"PatientID": MRN},
        headers={"Authorization": f"Bearer {live.doctor}", "Host": "pacs.example:8201"},
        trust_env=False,
    )
    assert response.status_code == 200
    [study] = response.json()
    assert study["00081190"]["Value"] == [f"{live.server.url}/dicomweb/studies/{live.study}"]


def test_a_photographer_token_is_refused(live: Live) -> None:
    with pytest.raises(HTTPError) as refused:
        live.client(live.nurse).search_for_studies()
    assert refused.value.response is not None
    assert refused.value.response.status_code == 403


def test_files_are_where_the_test_expects_them(live: Live) -> None:
    # Guards the archived() helper: a wrong path would make the byte comparisons vacuous.
    archive_dir = Path(live.server.data_dir) / "archive" / "objects"
    assert set(live.sops) <= {p.stem for p in archive_dir.rglob("*.dcm")}


def test_store_instances(live: Live) -> None:
    """STOW-RS from the client, as a capture app would: the consent answered in headers."""
    consent = {
        f"Pointcare-{name.replace('_', '-')}": value for name, value in CLINICAL_ONLY.items()
    }
    client = DICOMwebClient(
        url=live.server.url + "/dicomweb",
        headers={"Authorization": f"Bearer {live.nurse}", **consent},
    )
    sent = device_photo()
    answer = client.store_instances([pydicom.dcmread(BytesIO(sent))])
    [stored] = answer.ReferencedSOPSequence
    assert stored.ReferencedSOPInstanceUID == pydicom.dcmread(BytesIO(sent)).SOPInstanceUID
    assert "FailedSOPSequence" not in answer
    found = live.client().search_for_instances(
        search_filters={"SOPInstanceUID": stored.ReferencedSOPInstanceUID}
    )
    assert len(found) == 1
