from __future__ import annotations

import pytest
from pydicom.uid import UID

from pointcare.dicom.uids import new_uid


def test_without_a_root_uids_are_uuid_derived() -> None:
    first, second = new_uid(), new_uid()
    assert first.startswith("2.25.")
    assert first != second
    assert UID(first).is_valid


def test_with_an_organisation_root_uids_are_long_and_distinct() -> None:
    uids = {new_uid("1.2.826.0.1.3680043.10.543") for _ in range(200)}
    assert len(uids) == 200
    for uid in uids:
        assert uid.startswith("1.2.826.0.1.3680043.10.543.")
        # Random digits fill the UID to 64 characters; a leading zero is dropped, never kept.
        assert 60 <= len(uid) <= 64
        assert UID(uid).is_valid


@pytest.mark.parametrize("root", ["1.2.03", "1..2", "1.2.", "abc", "1." + "2" * 45])
def test_bad_roots_are_refused(root: str) -> None:
    with pytest.raises(ValueError, match="UID root"):
        new_uid(root)
