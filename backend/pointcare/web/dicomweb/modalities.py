"""Modality (0008,0060) of what the archive holds, derived from each object's SOP Class.

The index keeps the SOP Class of every instance, not its modality: the modality is implied by
the IOD (PS3.3), so it is derived here, in one place, for both answers and matching.
"""

from __future__ import annotations

from pydicom import uid

MODALITY_OF_SOP_CLASS: dict[str, str] = {
    uid.VLPhotographicImageStorage: "XC",
    uid.VideoPhotographicImageStorage: "XC",
    uid.DermoscopicPhotographyImageStorage: "DMS",
    uid.EncapsulatedPDFStorage: "DOC",
    uid.KeyObjectSelectionDocumentStorage: "KO",
}
OTHER_MODALITY = "OT"

SINGLE_FRAME_SOP_CLASSES = frozenset(
    {uid.VLPhotographicImageStorage, uid.DermoscopicPhotographyImageStorage}
)
"""Image objects that always hold exactly one frame (their IODs have no Multi-frame module)."""


def modality_of(sop_class_uid: str) -> str:
    return MODALITY_OF_SOP_CLASS.get(sop_class_uid, OTHER_MODALITY)


def sop_classes_of(modality: str) -> list[str]:
    """SOP Classes whose objects have ``modality`` (empty for a modality we never store)."""
    return [sop_class for sop_class, value in MODALITY_OF_SOP_CLASS.items() if value == modality]


def modalities_of(sop_class_uids: list[str]) -> list[str]:
    """Distinct modalities of these SOP Classes, sorted (ModalitiesInStudy)."""
    return sorted({modality_of(sop_class) for sop_class in sop_class_uids})
