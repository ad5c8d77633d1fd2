"""Content negotiation: the representation chosen for each Accept header (PS3.18 8.7)."""

from __future__ import annotations

import pytest

from pointcare.web.dicomweb.media import (
    NotAcceptable,
    Representation,
    choose_document,
    choose_frames,
    choose_objects,
    choose_rendered,
    choose_structured,
)

JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
UNCOMPRESSED = "1.2.840.10008.1.2.1"
DICOM_PARTS = 'multipart/related; type="application/dicom"'
OCTETS = 'multipart/related; type="application/octet-stream"'


@pytest.mark.parametrize(
    ("accept", "single", "expected"),
    [
        (None, False, Representation("application/dicom", True, UNCOMPRESSED)),
        ("*/*", False, Representation("application/dicom", True, UNCOMPRESSED)),
        ("multipart/*", False, Representation("application/dicom", True, UNCOMPRESSED)),
        (DICOM_PARTS, False, Representation("application/dicom", True, UNCOMPRESSED)),
        (DICOM_PARTS + "; transfer-syntax=*", False, Representation("application/dicom", True)),
        (DICOM_PARTS + '; transfer-syntax="*"', False, Representation("application/dicom", True)),
        (
            f"{DICOM_PARTS}; transfer-syntax={JPEG_BASELINE}",
            False,
            Representation("application/dicom", True),
        ),
        ("application/dicom", True, Representation("application/dicom", False, UNCOMPRESSED)),
        ("application/dicom; transfer-syntax=*", True, Representation("application/dicom", False)),
        # A lower quality wins when the better one cannot be made.
        (
            f"{DICOM_PARTS}; transfer-syntax=1.2.840.10008.1.2.4.90, "
            f"{DICOM_PARTS}; transfer-syntax=*; q=0.2",
            False,
            Representation("application/dicom", True),
        ),
    ],
)
def test_objects(accept: str | None, single: bool, expected: Representation) -> None:
    assert (
        choose_objects(accept, stored={JPEG_BASELINE}, convertible=True, single=single) == expected
    )


@pytest.mark.parametrize(
    "accept",
    [
        "application/dicom",  # single part, for a study
        OCTETS,
        "application/dicom+json",
        f"{DICOM_PARTS}; transfer-syntax=1.2.840.10008.1.2.4.90",
        f"{DICOM_PARTS}; q=0, {DICOM_PARTS}; transfer-syntax=1.2.840.10008.1.2.2",
    ],
)
def test_objects_not_acceptable(accept: str) -> None:
    with pytest.raises(NotAcceptable, match=r"transfer-syntax=\* \(as stored: 1\.2\.840"):
        choose_objects(accept, stored={JPEG_BASELINE}, convertible=True, single=False)


def test_objects_that_cannot_be_decoded_are_sent_only_as_stored() -> None:
    with pytest.raises(NotAcceptable, match="cannot be decoded"):
        choose_objects(None, stored={"1.2.840.10008.1.2.4.90"}, convertible=False, single=False)
    mixed = choose_objects(
        DICOM_PARTS + "; transfer-syntax=*",
        stored={JPEG_BASELINE, "1.2.840.10008.1.2.4.90"},
        convertible=False,
        single=False,
    )
    assert mixed == Representation("application/dicom", True)
    already = choose_objects(None, stored={UNCOMPRESSED}, convertible=True, single=False)
    assert already.transfer_syntax is None, "nothing to transcode"


@pytest.mark.parametrize(
    ("accept", "single", "expected"),
    [
        (None, True, Representation("application/octet-stream", True, UNCOMPRESSED)),
        (OCTETS, False, Representation("application/octet-stream", True, UNCOMPRESSED)),
        (OCTETS + "; transfer-syntax=*", True, Representation("application/octet-stream", True)),
        ('multipart/related; type="image/jpeg"', True, Representation("image/jpeg", True)),
        ('multipart/related; type="image/*"', True, Representation("image/jpeg", True)),
        ("image/jpeg", True, Representation("image/jpeg", False)),
        (
            "application/octet-stream",
            True,
            Representation("application/octet-stream", False, UNCOMPRESSED),
        ),
    ],
)
def test_frames(accept: str | None, single: bool, expected: Representation) -> None:
    found = choose_frames(
        accept, stored=JPEG_BASELINE, stored_media_type="image/jpeg", single=single
    )
    assert found == expected


@pytest.mark.parametrize(
    "accept",
    [
        "image/jpeg",  # single part for several frames
        'multipart/related; type="image/jp2"',
        f"{OCTETS}; transfer-syntax=1.2.840.10008.1.2.4.70",
    ],
)
def test_frames_not_acceptable(accept: str) -> None:
    with pytest.raises(NotAcceptable):
        choose_frames(accept, stored=JPEG_BASELINE, stored_media_type="image/jpeg", single=False)


@pytest.mark.parametrize(
    ("accept", "single", "expected"),
    [
        (None, True, Representation("image/jpeg", False)),
        ("image/png", True, Representation("image/png", False)),
        ("image/gif, image/png;q=0.5", True, Representation("image/png", False)),
        (None, False, Representation("image/jpeg", True)),
        ('multipart/related; type="image/png"', False, Representation("image/png", True)),
        ('multipart/related; type="image/jpeg"', True, Representation("image/jpeg", True)),
    ],
)
def test_rendered(accept: str | None, single: bool, expected: Representation) -> None:
    assert choose_rendered(accept, single=single) == expected


def test_a_study_is_not_rendered_as_one_image() -> None:
    with pytest.raises(NotAcceptable, match="one per image"):
        choose_rendered("image/jpeg", single=False)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, Representation("application/dicom+json", False)),
        ("application/json", Representation("application/json", False)),
        (
            'multipart/related; type="application/dicom+xml"',
            Representation("application/dicom+xml", True),
        ),
        (
            "application/dicom+xml, application/dicom+json;q=0.1",
            Representation("application/dicom+json", False),
        ),
    ],
)
def test_structured(accept: str | None, expected: Representation) -> None:
    assert choose_structured(accept) == expected


def test_documents() -> None:
    assert choose_document(None, "application/pdf") == Representation(
        "application/octet-stream", True
    )
    assert choose_document("application/pdf", "application/pdf") == Representation(
        "application/pdf", False
    )
    assert choose_document(
        'multipart/related; type="application/pdf"', "application/pdf"
    ) == Representation("application/pdf", True)
    with pytest.raises(NotAcceptable):
        choose_document("image/jpeg", "application/pdf")
