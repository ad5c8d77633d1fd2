"""The modules every object Pointcare writes shares: SOP Common, Patient, General Study, the
series, General Equipment, and the Part 10 file meta that names Pointcare as the writer.

Each ``set_*`` function fills one module of a data set from typed inputs, checking each value
with ``pointcare.dicom.values`` (a ``ValueError`` names the attribute). An IOD builder calls
them in module order, then adds the modules of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import UID

from pointcare.dicom import values as v
from pointcare.dicom.part10 import FILE_META_VERSION, encode_part10
from pointcare.domain.codes import LOCAL_SCHEME
from pointcare.domain.patients import PatientIdentity

CHARACTER_SET = "ISO_IR 192"
"""UTF-8, always: names such as Öberg or Seán need it, and it costs nothing for ASCII."""
IMPLEMENTATION_CLASS_UID = "2.25.72796903965023744495306475241363237455"
"""Identifies Pointcare as the writer of the file meta information (a UUID-derived UID)."""
IMPLEMENTATION_VERSION_NAME = "POINTCARE_0_1"
LOCAL_SCHEME_NAME = "Pointcare local codes"


@dataclass(frozen=True, slots=True, kw_only=True)
class StudyContext:
    study_instance_uid: str
    study_datetime: datetime
    """When the study (the encounter's photography) started; timezone-aware."""
    study_id: str
    accession_number: str = ""
    admission_id: str | None = None
    description: str = "Clinical photography"
    referring_physician: str = ""
    """DICOM PN; usually empty (Type 2) for encounter-based capture."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SeriesContext:
    series_instance_uid: str
    series_number: int
    description: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Equipment:
    manufacturer: str = "Pointcare"
    model_name: str = ""
    software_versions: str
    device_serial: str = ""
    institution_name: str = ""


def set_sop_common(ds: Dataset, *, sop_class_uid: str, sop_instance_uid: str, at: datetime) -> None:
    """SOP Common Module (C.12.1). ``at`` (aware) gives the one Timezone Offset From UTC that
    covers every date and time in the object."""
    ds.SpecificCharacterSet = CHARACTER_SET
    ds.SOPClassUID = sop_class_uid
    ds.SOPInstanceUID = v.uid(sop_instance_uid, "SOPInstanceUID")
    ds.TimezoneOffsetFromUTC = v.utc_offset(v.aware(at, "TimezoneOffsetFromUTC"))


def set_patient_module(ds: Dataset, patient: PatientIdentity) -> None:
    """Patient Module (C.7.1.1): the same in every object Pointcare writes of a patient."""
    ds.PatientName = patient.dicom_name
    ds.PatientID = patient.mrn
    ds.IssuerOfPatientID = patient.issuer
    ds.PatientBirthDate = v.da(patient.birth_date) if patient.birth_date else ""
    ds.PatientSex = patient.sex.dicom_value


def set_general_study(ds: Dataset, study: StudyContext, *, at: datetime) -> None:
    """General Study (C.7.2.1) and Patient Study (C.7.2.2) Modules. The study's moment is
    written at the offset of ``at``, the object's own moment, as the one Timezone Offset From
    UTC requires."""
    study_at = v.aware(study.study_datetime, "study_datetime").astimezone(
        v.aware(at, "TimezoneOffsetFromUTC").tzinfo
    )
    ds.StudyInstanceUID = v.uid(study.study_instance_uid, "StudyInstanceUID")
    ds.StudyDate = v.da(study_at)
    ds.StudyTime = v.tm(study_at)
    ds.ReferringPhysicianName = v.person_name(study.referring_physician, "ReferringPhysicianName")
    ds.StudyID = v.text(study.study_id, "StudyID", "SH")
    ds.AccessionNumber = v.text(study.accession_number, "AccessionNumber", "SH")
    if study.description:
        ds.StudyDescription = v.text(study.description, "StudyDescription", "LO")
    if study.admission_id:
        ds.AdmissionID = v.text(study.admission_id, "AdmissionID", "LO")


def set_series(ds: Dataset, series: SeriesContext, *, modality: str) -> None:
    """The series module every IOD has (General Series, or its document/KO/SR counterpart)."""
    ds.Modality = modality
    ds.SeriesInstanceUID = v.uid(series.series_instance_uid, "SeriesInstanceUID")
    ds.SeriesNumber = positive(series.series_number, "SeriesNumber")
    if series.description:
        ds.SeriesDescription = v.text(series.description, "SeriesDescription", "LO")


def set_equipment(ds: Dataset, equipment: Equipment) -> None:
    """General Equipment Module (C.7.5.1)."""
    ds.Manufacturer = v.text(equipment.manufacturer, "Manufacturer", "LO")
    optional_lo(ds, "InstitutionName", equipment.institution_name)
    optional_lo(ds, "ManufacturerModelName", equipment.model_name)
    optional_lo(ds, "DeviceSerialNumber", equipment.device_serial)
    ds.SoftwareVersions = v.text(equipment.software_versions, "SoftwareVersions", "LO")


def local_scheme_identification() -> Sequence:
    """Coding Scheme Identification Sequence naming our local scheme, for objects using it."""
    item = Dataset()
    item.CodingSchemeDesignator = LOCAL_SCHEME
    item.CodingSchemeName = LOCAL_SCHEME_NAME
    item.CodingSchemeResponsibleOrganization = "Pointcare"
    return Sequence([item])


def positive(value: int, keyword: str) -> int:
    if value < 1:
        raise ValueError(f"{keyword} must be 1 or more, got {value}")
    return value


def optional_lo(ds: Dataset, keyword: str, value: str) -> None:
    if value:
        setattr(ds, keyword, v.text(value, keyword, "LO"))


def with_file_meta(ds: Dataset, transfer_syntax: str) -> FileDataset:
    """``ds`` as a Part 10 file data set, its file meta naming Pointcare as the writer."""
    meta = FileMetaDataset()
    meta.FileMetaInformationVersion = FILE_META_VERSION
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = UID(transfer_syntax)
    meta.ImplementationClassUID = UID(IMPLEMENTATION_CLASS_UID)
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    return FileDataset("", ds, file_meta=meta, preamble=b"\x00" * 128)


def to_part10(ds: FileDataset) -> bytes:
    """The object as a DICOM Part 10 file: preamble, file meta, then the data set encoded as
    its transfer syntax says (explicit VR little endian, for every syntax we write). A writer
    that takes pieces calls :func:`encode_part10`, which never copies the photo."""
    return b"".join(encode_part10(ds))
