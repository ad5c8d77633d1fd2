"""Search at hospital scale: QIDO-RS against Orthanc on PostgreSQL, then Pointcare at a million.

Part one: Orthanc with its PostgreSQL index plugin (``orthanc-postgresql``) and Pointcare on
PostgreSQL hold the same instances (100,000; ``--quick`` 5,000): the same patients, names,
studies, dates and UIDs. The same QIDO-RS queries go to each, in alternation, round after round
(one client): studies and instances by PatientID, studies by a week of StudyDate, studies by a
PatientName prefix (``PatientName=ABC*``), and the study list with ``ModalitiesInStudy=XC`` and
``includefield=ModalitiesInStudy``. Their p50/p95, and our p95 over Orthanc's, per round.

Part two: Pointcare alone, its index grown to a million instances (``--quick``: 50,000): the same
queries, the review page of a patient with 1,000 photos, and that patient's thumbnails.

How the archives are filled (the time it takes is reported):

* Pointcare: one patient's photos (the one whose review page and thumbnails are measured) go
  through the real ingest (``tests.bench.seed``: validation, DICOM object, thumbnail, index row,
  consent, audit). Every other patient's index rows are written by COPY, shaped as the ingest
  writes them (``day:`` study and series keys, one consent record per series, the storage and
  thumbnail paths the file store would choose), but without the object and thumbnail files and
  the ingest's audit events, which no search reads.
* Orthanc: a small DICOM object (8 x 8 pixels) per index row of Pointcare's (the same UIDs,
  patient, study date and numbers), sent by ``POST /instances`` from several threads.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import re
import secrets
import shutil
import subprocess
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from tests.bench.harness import Request, Run, drive, fmt
from tests.bench.report import NOT_MEASURED, summary, verdict

if TYPE_CHECKING:
    from tests.bench.harness import Bench
    from tests.support.orthanc import Orthanc
    from tests.support.postgres import PostgresCluster

KEY = "8_search"
ALONE_KEY = "9_search_at_scale"
SCENARIOS = ("search", "search_at_scale")
"""The names ``--only`` knows this module's scenarios by: both parts, or part two alone (no
Orthanc, whose loading takes most of part one's half hour)."""

ISSUER = "BENCH"
VL_PHOTO = "1.2.840.10008.5.1.4.1.1.77.1.4"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
OFFSET_MINUTES = 60
"""The bulk patients' photos are taken in a hospital at UTC+01:00 (the ingested ones at the
machine's own offset)."""
DAYS = 730
"""Studies are spread over the last two years."""
QIDO_LIMIT = 100
"""A study list's page (OHIF asks for 101)."""
ORTHANC_PLUGINS = Path("/usr/share/orthanc/plugins")
POSTGRESQL_INDEX_PLUGIN = ORTHANC_PLUGINS / "libOrthancPostgreSQLIndex.so"
SUFFIXES = ("son", "berg", "strom", "ez", "ini", "ova", "ley", "ton", "sen", "ard")
GIVEN = ("Anna", "Lars", "Maria", "Omar", "Ines", "Karl", "Sofia", "Yusuf", "Elin", "Jonas")
BODY_SITES = ("14975008", "818981001", "77568009", "816094009")


@dataclass(frozen=True)
class SearchScale:
    instances: int
    big_patient_photos: int
    """The photos of the patient whose review page is measured (of ``instances``)..."""
    ingested_photos: int
    """... of which these go through the real ingest (their thumbnails are measured)."""
    photos_per_study: int = 5
    studies_per_patient: int = 4

    @property
    def bulk_patients(self) -> int:
        per_patient = self.photos_per_study * self.studies_per_patient
        return (self.instances - self.big_patient_photos) // per_patient


COMPARED = SearchScale(instances=100_000, big_patient_photos=1_000, ingested_photos=100)
COMPARED_QUICK = SearchScale(instances=5_000, big_patient_photos=200, ingested_photos=20)
ALONE = SearchScale(instances=1_000_000, big_patient_photos=1_000, ingested_photos=100)
ALONE_QUICK = SearchScale(instances=50_000, big_patient_photos=200, ingested_photos=20)


# -- Pointcare's index, written as the ingest writes it ------------------------------------------


def psycopg_conninfo(sqlalchemy_url: str) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(sqlalchemy_url)
    return (
        f"host={url.host} port={url.port} dbname={url.database} user={url.username} "
        f"password={url.password}"
    )


def _uid() -> str:
    return f"2.25.{uuid.uuid4().int}"


def family_name(rng: random.Random) -> str:
    letters = "".join(rng.choice("ABCDEFGHIJKLMNOPRSTUVW") for _ in range(3))
    return letters.capitalize() + rng.choice(SUFFIXES)


@dataclass
class _Ids:
    """The next free id of each table, and the ids the bulk rows need from the ingested ones."""

    patient: int
    study: int
    series: int
    instance: int
    consent: int
    operator: int


def _next_ids(connection: Any) -> _Ids:
    def next_id(table: str) -> int:
        from psycopg import sql

        query = sql.SQL("SELECT coalesce(max(id), 0) + 1 FROM {}").format(sql.Identifier(table))
        return int(connection.execute(query).fetchone()[0])

    operator = connection.execute("SELECT id FROM users WHERE username = 'nurse'").fetchone()
    return _Ids(
        next_id("patients"),
        next_id("studies"),
        next_id("series"),
        next_id("instances"),
        next_id("consent_records"),
        int(operator[0]),
    )


PATIENT_COLUMNS = (
    "id, mrn, issuer, family_name, given_name, name_key, birth_date, sex, created_at, updated_at"
)
STUDY_COLUMNS = (
    "id, study_instance_uid, study_key, patient_id, study_id, study_datetime, "
    "study_tz_offset_minutes, study_date, description, created_at"
)
SERIES_COLUMNS = (
    "id, series_instance_uid, series_key, study_id, series_number, description, instance_count, "
    "created_at"
)
CONSENT_COLUMNS = (
    "id, patient_id, clinical_record, teaching, publication, method, session_key, "
    "recorded_by_id, recorded_at"
)
INSTANCE_COLUMNS = (
    "id, sop_instance_uid, sop_class_uid, kind, capture_id, patient_id, study_id, series_id, "
    "instance_number, description, captured_at, captured_tz_offset_minutes, captured_at_source, "
    "operator_id, storage_path, size_bytes, sha256, content_sha256, transfer_syntax_uid, "
    "created_at, body_site_code, laterality, sensitive, recognizable, consent_id, "
    "thumbnail_path, rows, columns, source_format, reencoded"
)


def _copy_statement(table: str, columns: str) -> Any:
    from psycopg import sql

    names = sql.SQL(", ").join(sql.Identifier(name) for name in columns.split(", "))
    return sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), names)


@dataclass
class _Rows:
    """Index rows for one COPY, as the ingest would write them, numbered from ``ids``."""

    ids: _Ids
    now: datetime
    people: list[tuple[Any, ...]] = field(default_factory=list)
    studies: list[tuple[Any, ...]] = field(default_factory=list)
    series: list[tuple[Any, ...]] = field(default_factory=list)
    consents: list[tuple[Any, ...]] = field(default_factory=list)
    instances: list[tuple[Any, ...]] = field(default_factory=list)

    def patient(self, mrn: str, family: str, given: str, birth: date, sex: str) -> int:
        from pointcare.identity.names import name_key

        patient_id = self.ids.patient
        self.ids.patient += 1
        self.people.append(
            (patient_id, mrn, ISSUER, family, given, name_key(family, given), birth, sex,
             self.now, self.now)
        )  # fmt: skip
        return patient_id

    def study(self, patient_id: int, local: datetime, photos: int) -> None:
        """A day's study (``day:`` keys, as ``capture.filing`` makes them) of ``photos``."""
        from pointcare.capture.filing import STUDY_DESCRIPTION, SeriesPurpose

        ids, now = self.ids, self.now
        taken = local.astimezone(UTC)
        offset = int((local.utcoffset() or timedelta()).total_seconds() // 60)
        series_key = f"day:{patient_id}:{ids.operator}:{local.date().isoformat()}"
        study_uid, series_uid = _uid(), _uid()
        self.studies.append(
            (ids.study, study_uid, f"day:{patient_id}:{local.date().isoformat()}", patient_id,
             f"PC{local:%y%m%d}{secrets.token_hex(3).upper()}", taken, offset, local.date(),
             STUDY_DESCRIPTION, now)
        )  # fmt: skip
        self.series.append(
            (ids.series, series_uid, series_key, ids.study, 1, SeriesPurpose.PHOTOS.value,
             photos, now)
        )  # fmt: skip
        self.consents.append(
            (ids.consent, patient_id, True, False, False, "verbal", series_key, ids.operator,
             taken)
        )  # fmt: skip
        for index in range(photos):
            sop = _uid()
            self.instances.append(
                (ids.instance, sop, VL_PHOTO, "photo", str(uuid.uuid4()), patient_id, ids.study,
                 ids.series, index + 1, f"bench photo {index}", taken + timedelta(minutes=index),
                 offset, "device", ids.operator, f"objects/{study_uid}/{series_uid}/{sop}.dcm",
                 326_000, secrets.token_hex(32), secrets.token_hex(32), JPEG_BASELINE, now,
                 BODY_SITES[index % len(BODY_SITES)], "L", False, False, ids.consent,
                 f"thumbnails/{sop[-2:]}/{sop}.jpg", 1200, 1600, "JPEG", False)
            )  # fmt: skip
            ids.instance += 1
        ids.study += 1
        ids.series += 1
        ids.consent += 1

    def copy(self, cursor: Any) -> None:
        for table, columns, rows in (
            ("patients", PATIENT_COLUMNS, self.people),
            ("studies", STUDY_COLUMNS, self.studies),
            ("series", SERIES_COLUMNS, self.series),
            ("consent_records", CONSENT_COLUMNS, self.consents),
            ("instances", INSTANCE_COLUMNS, self.instances),
        ):
            with cursor.copy(_copy_statement(table, columns)) as copy:
                for row in rows:
                    copy.write_row(row)
            rows.clear()


@contextlib.contextmanager
def _bulk(url: str) -> Iterator[tuple[Any, _Rows]]:
    """A connection and a ``_Rows`` numbered after the rows there; sequences and planner
    statistics brought up to date at the end."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(psycopg_conninfo(url)) as connection:
        rows = _Rows(_next_ids(connection), datetime.now(UTC))
        connection.commit()
        yield connection, rows
        for table in ("patients", "studies", "series", "instances", "consent_records"):
            connection.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence({}, 'id'), (SELECT max(id) FROM {}))"
                ).format(sql.Literal(table), sql.Identifier(table))
            )
        connection.commit()
        connection.autocommit = True
        connection.execute("ANALYZE")


def _local_day(rng: random.Random, days_ago: int) -> datetime:
    """A moment of the working day ``days_ago`` days back, in the hospital's time zone."""
    zone = timezone(timedelta(minutes=OFFSET_MINUTES))
    today = datetime.now(UTC).astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days_ago) + timedelta(minutes=420 + rng.randrange(600))


def seed_bulk(
    url: str,
    scale: SearchScale,
    *,
    first_patient: int,
    patients: int,
    seed: int,
    log: Callable[[str], None],
) -> None:
    """COPY ``patients`` patients (MRN ``SP`` + number from ``first_patient``), each with
    ``scale.studies_per_patient`` day studies of ``scale.photos_per_study`` photos."""
    rng = random.Random(seed)
    chunk = 2_000
    with _bulk(url) as (connection, rows):
        for start in range(0, patients, chunk):
            with connection.transaction(), connection.cursor() as cursor:
                for number in range(
                    first_patient + start, first_patient + min(patients, start + chunk)
                ):
                    patient_id = rows.patient(
                        f"SP{number:07d}",
                        family_name(rng),
                        rng.choice(GIVEN),
                        date(1930, 1, 1) + timedelta(days=rng.randrange(30_000)),
                        rng.choice("MF"),
                    )
                    for day in sorted(rng.sample(range(1, DAYS), scale.studies_per_patient)):
                        rows.study(patient_id, _local_day(rng, day), scale.photos_per_study)
                rows.copy(cursor)
            log(f"  copied {min(patients, start + chunk)}/{patients} patients")


def seed_older_photos(url: str, mrn: str, photos: int, *, after_days: int, per_day: int) -> None:
    """COPY ``photos`` more photos of patient ``mrn``, ``per_day`` a day, on the days before
    the last ``after_days`` (those the ingest filled)."""
    rng = random.Random(mrn)
    with _bulk(url) as (connection, rows):
        found = connection.execute(
            "SELECT id FROM patients WHERE mrn = %s AND issuer = %s", (mrn, ISSUER)
        ).fetchone()
        assert found is not None, mrn
        with connection.transaction(), connection.cursor() as cursor:
            for day in range(-(-photos // per_day)):
                count = min(per_day, photos - day * per_day)
                rows.study(int(found[0]), _local_day(rng, after_days + 1 + day), count)
            rows.copy(cursor)


def seed_pointcare(bench: Bench, url: str, data_dir: Path, scale: SearchScale) -> dict[str, Any]:
    """The big patient's newest photos through the real ingest (10 a day), their older ones and
    every other patient's by COPY."""
    from tests.bench.seed import BIG_PATIENT, ReadSideScale, seed_read_side

    started = time.monotonic()
    ingested = scale.ingested_photos
    with _environment(POINTCARE_DATABASE_URL=url):
        seed_read_side(
            data_dir,
            ReadSideScale(patients=1, instances=ingested, big_patient_photos=ingested),
            bench.photos.upright,
            log=bench.log,
        )
    ingest_s = time.monotonic() - started
    seed_older_photos(
        url,
        BIG_PATIENT,
        scale.big_patient_photos - ingested,
        after_days=-(-ingested // 10) + 2,  # the ingest's last day starts up to 10 h earlier
        per_day=10,
    )
    seed_bulk(url, scale, first_patient=1, patients=scale.bulk_patients, seed=26, log=bench.log)
    return {
        "ingested_photos": ingested,
        "ingest_s": round(ingest_s, 1),
        "copy_s": round(time.monotonic() - started - ingest_s, 1),
    }


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def count_instances(url: str) -> int:
    import psycopg

    with psycopg.connect(psycopg_conninfo(url)) as connection:
        row = connection.execute("SELECT count(*) FROM instances").fetchone()
    return int(row[0]) if row else 0


# -- Orthanc on PostgreSQL, holding the same instances -------------------------------------------


CATALOGUE = """
SELECT p.mrn, p.issuer, p.family_name, p.given_name, p.birth_date, p.sex,
       st.study_instance_uid, st.study_datetime, st.study_tz_offset_minutes, st.study_id,
       st.description, se.series_instance_uid, se.series_number, se.description,
       i.sop_instance_uid, i.instance_number, i.captured_at, i.captured_tz_offset_minutes
FROM instances i
JOIN series se ON se.id = i.series_id
JOIN studies st ON st.id = i.study_id
JOIN patients p ON p.id = i.patient_id
WHERE i.rejected_at IS NULL
"""


def small_object(row: Sequence[Any]) -> bytes:
    """An 8 x 8 VL photographic object with the index row's identifiers, names and dates."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    (mrn, issuer, family, given, birth, sex, study_uid, study_at, study_offset, study_id,
     study_description, series_uid, series_number, series_description, sop_uid,
     instance_number, captured_at, captured_offset) = row  # fmt: skip
    study_local = study_at.astimezone(timezone(timedelta(minutes=study_offset)))
    content_local = captured_at.astimezone(timezone(timedelta(minutes=captured_offset)))
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = VL_PHOTO
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = VL_PHOTO
    ds.SOPInstanceUID = sop_uid
    ds.PatientName = f"{family}^{given}"
    ds.PatientID = mrn
    ds.IssuerOfPatientID = issuer
    ds.PatientBirthDate = f"{birth:%Y%m%d}" if birth else ""
    ds.PatientSex = sex
    ds.StudyInstanceUID = study_uid
    ds.StudyDate = f"{study_local:%Y%m%d}"
    ds.StudyTime = f"{study_local:%H%M%S}"
    ds.StudyID = study_id
    ds.StudyDescription = study_description
    ds.AccessionNumber = ""
    ds.ReferringPhysicianName = ""
    ds.SeriesInstanceUID = series_uid
    ds.SeriesNumber = series_number
    ds.SeriesDescription = series_description
    ds.Modality = "XC"
    ds.InstanceNumber = instance_number
    ds.ContentDate = f"{content_local:%Y%m%d}"
    ds.ContentTime = f"{content_local:%H%M%S}"
    ds.Rows = ds.Columns = 8
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = "RGB"
    ds.PlanarConfiguration = 0
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PixelData = bytes(8 * 8 * 3)
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def start_orthanc_on_postgresql(database_url: str) -> Orthanc:
    """An Orthanc (``infra/orthanc.json.template``'s settings) whose index is PostgreSQL's
    database ``database_url``, with the DICOMweb plugin; stop it with ``remove()``."""
    from sqlalchemy.engine import make_url

    from tests.support.orthanc import Orthanc
    from tests.support.tools import REPO_ROOT

    orthanc = Orthanc.create()
    template = (REPO_ROOT / "infra" / "orthanc.json.template").read_text()
    text = re.sub(r"(?m)^\s*//.*$", "", template)
    for name, value in (
        ("@DIR@", str(orthanc.directory)),
        ("@HTTP_PORT@", str(orthanc.http_port)),
        ("@DICOM_PORT@", str(orthanc.dicom_port)),
        ("@USER@", orthanc.user),
        ("@PASSWORD@", orthanc.password),
    ):
        text = text.replace(name, value)
    config = json.loads(text)
    db = make_url(database_url)
    config["Plugins"] = [*config["Plugins"], str(POSTGRESQL_INDEX_PLUGIN)]
    config["PostgreSQL"] = {
        "EnableIndex": True,
        "EnableStorage": False,
        "Host": db.host,
        "Port": db.port,
        "Database": db.database,
        "Username": db.username,
        "Password": db.password,
        "Lock": False,
    }
    path = orthanc.directory / "orthanc.json"
    path.write_text(json.dumps(config, indent=2))
    path.chmod(0o600)
    (orthanc.directory / "log").mkdir()
    process = subprocess.Popen(
        [shutil.which("Orthanc") or "Orthanc", f"--logdir={orthanc.directory / 'log'}", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    (orthanc.directory / "orthanc.pid").write_text(str(process.pid))
    deadline = time.monotonic() + 60
    with httpx.Client(
        base_url=orthanc.url, auth=(orthanc.user, orthanc.password), trust_env=False
    ) as client:
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if client.get("/system").status_code == 200:
                    return orthanc
            if process.poll() is not None or time.monotonic() > deadline:
                orthanc.remove()
                raise RuntimeError("Orthanc with the PostgreSQL index did not start")
            time.sleep(0.2)


def load_orthanc(
    orthanc: Orthanc, pointcare_url: str, *, threads: int, log: Callable[[str], None]
) -> int:
    """Send Orthanc a small object for each of Pointcare's index rows; returns how many."""
    import psycopg

    def batches() -> Iterator[list[tuple[Any, ...]]]:
        with (
            psycopg.connect(psycopg_conninfo(pointcare_url)) as connection,
            connection.cursor(name="catalogue") as cursor,
        ):
            cursor.execute(CATALOGUE)
            while rows := cursor.fetchmany(500):
                yield rows

    clients: dict[int, httpx.Client] = {}

    def send(rows: list[tuple[Any, ...]]) -> int:
        import threading

        client = clients.get(threading.get_ident())
        if client is None:
            client = clients[threading.get_ident()] = httpx.Client(
                base_url=orthanc.url,
                auth=(orthanc.user, orthanc.password),
                timeout=120,
                trust_env=False,
            )
        for row in rows:
            answer = client.post(
                "/instances",
                content=small_object(row),
                headers={"Content-Type": "application/dicom"},
            )
            if answer.status_code != 200:
                raise RuntimeError(f"Orthanc refused an object: {answer.status_code}")
        return len(rows)

    sent = 0
    try:
        with ThreadPoolExecutor(threads) as pool:
            for count in pool.map(send, batches()):
                sent += count
                if sent % 10_000 < count:
                    log(f"  Orthanc holds {sent} objects")
    finally:
        for client in clients.values():
            client.close()
    return sent


# -- the queries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    name: str
    level: str
    parameters: Callable[[int], dict[str, str]]


def queries(mrns: Sequence[str], prefixes: Sequence[str], days: Sequence[date]) -> list[Query]:
    """The searches both peers answer; request ``i`` asks for the ``i``-th patient, name prefix
    or week (spread by a prime stride)."""

    def pick(values: Sequence[Any], index: int) -> Any:
        return values[(index * 7919) % len(values)]

    def week(index: int) -> str:
        first = pick(days, index)
        return f"{first:%Y%m%d}-{first + timedelta(days=6):%Y%m%d}"

    page = {"limit": str(QIDO_LIMIT)}
    return [
        Query("studies_by_patient_id", "studies", lambda i: {"PatientID": pick(mrns, i)}),
        Query("instances_by_patient_id", "instances", lambda i: {"PatientID": pick(mrns, i)}),
        Query("studies_by_study_date_week", "studies", lambda i: {"StudyDate": week(i), **page}),
        Query(
            "studies_by_patient_name_prefix",
            "studies",
            lambda i: {"PatientName": pick(prefixes, i) + "*", **page},
        ),
        Query(
            "studies_with_modalities_in_study",
            "studies",
            lambda i: {
                "ModalitiesInStudy": "XC",
                "includefield": "ModalitiesInStudy",
                **page,
            },
        ),
    ]


def search_material(url: str, seed: int = 8) -> tuple[list[str], list[str], list[date]]:
    """Patients, name prefixes and first days of weeks to ask for, drawn from the index."""
    import psycopg

    rng = random.Random(seed)
    with psycopg.connect(psycopg_conninfo(url)) as connection:
        people = connection.execute(
            "SELECT mrn, family_name FROM patients WHERE issuer = %s AND mrn LIKE 'SP%%'",
            (ISSUER,),
        ).fetchall()
    chosen = rng.sample(people, min(200, len(people)))
    today = datetime.now(UTC).date()
    days = [today - timedelta(days=rng.randrange(7, DAYS)) for _ in range(200)]
    return [m for m, _ in chosen], [f[:3].upper() for _, f in chosen], days


@dataclass
class Peer:
    name: str
    make_client: Callable[[], httpx.Client]
    root: str
    """The QIDO-RS root path: ``/dicomweb`` (ours) or ``/dicom-web`` (Orthanc's)."""

    def url(self, query: Query, index: int) -> str:
        # Wildcards and the PN separator as typed: Orthanc 1.10 does not decode %2A or %5E in a
        # query string, and would match a literal "%2A" (nothing) for ABC%2A.
        parameters = urllib.parse.urlencode(query.parameters(index), safe="*^,")
        return f"{self.root}/{query.level}?{parameters}"

    def get(self, client: httpx.Client, query: Query, index: int) -> httpx.Response:
        answer = client.get(self.url(query, index), headers={"Accept": "application/dicom+json"})
        if answer.status_code not in (200, 204):
            raise RuntimeError(f"HTTP {answer.status_code}: {answer.text[:200]}")
        return answer

    def request(self, query: Query) -> Request:
        def send(client: httpx.Client, index: int) -> int:
            self.get(client, query, index)
            return 0

        return send

    def matches(self, query: Query, index: int) -> int:
        with self.make_client() as client:
            answer = self.get(client, query, index)
        return len(answer.json()) if answer.status_code == 200 and answer.content.strip() else 0


def compare_answers(peers: Sequence[Peer], kinds: Sequence[Query], samples: int = 5) -> list[str]:
    """Requests whose answers differ in size between the peers (none, if they hold the same)."""
    differences = []
    for query in kinds:
        for index in range(samples):
            counts = {peer.name: peer.matches(query, index) for peer in peers}
            if len(set(counts.values())) > 1:
                differences.append(f"{query.name} #{index}: {counts}")
    return differences


def measure(
    peers: Sequence[Peer], kinds: Sequence[Query], *, rounds: int, count: int, time_cap: float
) -> dict[str, Any]:
    """Each query ``count`` times by one client, to each peer in turn, ``rounds`` times."""
    from tests.bench.harness import combine

    runs: dict[tuple[str, str], list[Run]] = {}
    for query in kinds:
        for peer in peers:
            drive(peer.make_client, peer.request(query), clients=1, count=3, time_cap=30)
    for _ in range(rounds):
        for query in kinds:
            for peer in peers:
                run = drive(
                    peer.make_client, peer.request(query), clients=1, count=count, time_cap=time_cap
                )
                runs.setdefault((query.name, peer.name), []).append(run)
    out: dict[str, Any] = {}
    for query in kinds:
        block: dict[str, Any] = {}
        for peer in peers:
            figures = combine(runs[(query.name, peer.name)])
            block[peer.name] = {
                key: figures[key] for key in ("p50_ms", "p95_ms", "max_ms", "count", "errors")
            }
            if "first_errors" in figures:
                block[peer.name]["first_errors"] = figures["first_errors"]
        if len(peers) == 2:
            ours, theirs = (runs[(query.name, peer.name)] for peer in peers)
            block["p95_ratio"] = summary(
                [
                    a.figures()["p95_ms"] / b.figures()["p95_ms"]
                    for a, b in zip(ours, theirs, strict=True)
                ]
            )
        out[query.name] = block
    return out


# -- the scenario ------------------------------------------------------------------------------


def run(bench: Bench, *, against_orthanc: bool = True) -> None:
    """Both parts, or part two alone; their blocks go into ``bench.results`` (``8_search``,
    ``9_search_at_scale``)."""
    import sys

    from tests.bench.harness import BACKEND
    from tests.support.postgres import postgres_installed

    why = None
    if not postgres_installed():
        why = "PostgreSQL is not installed"
    elif against_orthanc and (
        not POSTGRESQL_INDEX_PLUGIN.exists() or shutil.which("Orthanc") is None
    ):
        why = "Orthanc or its PostgreSQL index plugin (orthanc-postgresql) is not installed"
    if why:
        for key in (KEY, ALONE_KEY):
            bench.results[key] = {"status": NOT_MEASURED, "why": why}
        return
    sys.path.insert(0, str(BACKEND))
    from tests.support.postgres import PostgresCluster

    cluster = PostgresCluster.start()
    try:
        _run_on(bench, cluster, against_orthanc=against_orthanc)
    finally:
        cluster.stop()


def _run_on(bench: Bench, cluster: PostgresCluster, *, against_orthanc: bool) -> None:
    from tests.bench.harness import bearer_token, pointcare_client, subprocess_env
    from tests.support.server import LiveServer

    quick = bench.config.quick
    compared, alone = (COMPARED_QUICK, ALONE_QUICK) if quick else (COMPARED, ALONE)
    rounds = bench.config.repeat
    count = 15 if quick else 40
    data_dir = bench.work / "search-data"
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(cluster.database())
        bench.log(
            f"scenario 8: seeding Pointcare on PostgreSQL with {compared.instances} instances"
        )
        seeding = seed_pointcare(bench, url, data_dir, compared)
        instances = count_instances(url)
        bench.log(f"  seeded {instances} instances: {seeding}")
        orthanc = _loaded_orthanc(bench, stack, cluster, url) if against_orthanc else None
        server = stack.enter_context(
            LiveServer(
                demo=False,  # no demo patients: both peers hold the same instances, no more
                data_dir=data_dir,
                env={
                    **subprocess_env(),
                    "POINTCARE_DATABASE_URL": url,
                    # The copied rows have no files: the reconciler checks at start only, not
                    # again an hour later amid the measurements (it would find 2 million
                    # files missing).
                    "POINTCARE_RECONCILE_INTERVAL_MINUTES": "0",
                },
            )
        )
        with _environment(POINTCARE_DATABASE_URL=url):
            token = bearer_token(data_dir, "doctor")
        ours = Peer("pointcare", pointcare_client(server.url, token), "/dicomweb")
        if orthanc is not None:
            _compare_with_orthanc(bench, orthanc, url, ours, seeding, instances)
        bench.log(f"scenario 9: growing Pointcare's index to {alone.instances} instances")
        started = time.monotonic()
        seed_bulk(
            url,
            alone,
            first_patient=compared.bulk_patients + 1,
            patients=alone.bulk_patients - compared.bulk_patients,
            seed=27,
            log=bench.log,
        )
        grown_s = time.monotonic() - started
        instances = count_instances(url)
        bench.log(f"  {instances} instances; copied in {grown_s:.0f} s")
        kinds = queries(*search_material(url))
        alone_figures = measure(
            (ours,), kinds, rounds=rounds, count=count, time_cap=bench.config.time_cap
        )
        alone_figures |= measure_pages(
            ours, compared, rounds=rounds, quick=quick, time_cap=bench.config.time_cap
        )
        bench.results[ALONE_KEY] = {
            "instances": instances,
            "scale": "quick" if quick else "full",
            "copy_s": round(grown_s, 1),
            "rounds": rounds,
            "queries": alone_figures,
        }


@dataclass
class LoadedOrthanc:
    orthanc: Orthanc
    instances: int
    seconds: float


def _loaded_orthanc(
    bench: Bench, stack: contextlib.ExitStack, cluster: PostgresCluster, url: str
) -> LoadedOrthanc:
    """Orthanc on PostgreSQL, loaded with the instances of Pointcare's index at ``url``."""
    orthanc_db = stack.enter_context(cluster.database(migrated=False))
    orthanc = start_orthanc_on_postgresql(orthanc_db)
    stack.callback(orthanc.remove)
    bench.log("scenario 8: loading the same instances into Orthanc (PostgreSQL index)")
    started = time.monotonic()
    loaded = load_orthanc(orthanc, url, threads=4, log=bench.log)
    seconds = time.monotonic() - started
    bench.log(f"  Orthanc loaded {loaded} objects in {seconds:.0f} s")
    return LoadedOrthanc(orthanc, loaded, seconds)


def _compare_with_orthanc(
    bench: Bench,
    loaded: LoadedOrthanc,
    url: str,
    ours: Peer,
    seeding: dict[str, Any],
    instances: int,
) -> None:
    """Part one: the same queries to each peer in turn; Orthanc is removed after."""
    quick = bench.config.quick
    rounds = bench.config.repeat
    count = 15 if quick else 40
    orthanc = loaded.orthanc
    theirs = Peer("orthanc", bench.orthanc_client(orthanc), "/dicom-web")
    kinds = queries(*search_material(url))
    differences = compare_answers((ours, theirs), kinds)
    bench.log("scenario 8: the same QIDO-RS queries to each peer in turn")
    figures = measure(
        (ours, theirs), kinds, rounds=rounds, count=count, time_cap=bench.config.time_cap
    )
    for name, block in figures.items():
        bench.log(
            f"  {name}: p95 ours {block['pointcare']['p95_ms']['median']:.1f} ms, Orthanc "
            f"{block['orthanc']['p95_ms']['median']:.1f} ms, "
            f"ratio {block['p95_ratio']['median']:.2f}"
        )
    bench.results[KEY] = {
        "instances": instances,
        "orthanc_instances": loaded.instances,
        "scale": "quick" if quick else "full",
        "seeding": seeding,
        "orthanc_load_s": round(loaded.seconds, 1),
        "rounds": rounds,
        "requests_per_round": count,
        "answers_differ": differences,
        "queries": figures,
    }
    orthanc.remove()


def measure_pages(
    ours: Peer, scale: SearchScale, *, rounds: int, quick: bool, time_cap: float
) -> dict[str, Any]:
    """The review page of the patient with the ingested photos, and those photos' thumbnails
    (the newest: the older ones are index rows without files)."""
    from tests.bench.harness import combine, review_request, thumbnail_paths, thumbnail_request
    from tests.bench.seed import BIG_PATIENT, SEED_ISSUER

    with ours.make_client() as client:
        thumbs = thumbnail_paths(client, BIG_PATIENT, SEED_ISSUER)
    thumbs = thumbs[: scale.ingested_photos]
    review, thumbnail = review_request(BIG_PATIENT, SEED_ISSUER), thumbnail_request(thumbs)

    out: dict[str, Any] = {}
    for name, request, count in (
        ("review_page_big_patient", review, 15 if quick else 40),
        ("thumbnail", thumbnail, 30 if quick else 100),
    ):
        drive(ours.make_client, request, clients=1, count=3, time_cap=30)
        runs = [
            drive(ours.make_client, request, clients=1, count=count, time_cap=time_cap)
            for _ in range(rounds)
        ]
        figures = combine(runs)
        out[name] = {
            "pointcare": {
                key: figures[key] for key in ("p50_ms", "p95_ms", "max_ms", "count", "errors")
            }
        }
    out["review_page_big_patient"]["photos"] = len(thumbs)
    return out


# -- the report --------------------------------------------------------------------------------

TARGETS_ALONE = (
    ("review_page_big_patient", "p95_ms", 200.0, "review page p95 < 200 ms"),
    ("thumbnail", "p50_ms", 10.0, "thumbnail p50 < 10 ms"),
)
QIDO_LIMIT_MS = 50.0


def ratios(results: dict[str, Any]) -> dict[str, float]:
    """Our p95 over Orthanc's, per query (median over the rounds)."""
    queries_ = results.get(KEY, {}).get("queries", {})
    return {
        f"search_p95_pointcare_over_orthanc_{name}": block["p95_ratio"]["median"]
        for name, block in queries_.items()
        if "p95_ratio" in block
    }


def targets(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    compared = results.get(KEY, {})
    scale = f"{compared.get('instances', '?')} instances"
    if compared.get("scale") != "full":
        scale += " (NOT the issue's 100,000)"
    for name, block in compared.get("queries", {}).items():
        ours, theirs = block["pointcare"], block["orthanc"]
        errors = ours["errors"]["max"] + theirs["errors"]["max"]
        rows.append(
            (
                f"search: Pointcare p95 <= Orthanc (PostgreSQL) p95, {name}",
                f"{fmt(ours['p95_ms'])} ms vs {fmt(theirs['p95_ms'])} ms, ratio "
                f"{fmt(block['p95_ratio'], 2)} over {scale}, {errors:.0f} errors",
                verdict(block["p95_ratio"]["median"] <= 1.0 and errors == 0),
            )
        )
    if not compared.get("queries"):
        rows.append(("search: Pointcare p95 <= Orthanc (PostgreSQL) p95", "-", NOT_MEASURED))
    alone = results.get(ALONE_KEY, {})
    scale = f"{alone.get('instances', '?')} instances"
    if alone.get("scale") != "full":
        scale += " (NOT the issue's 1,000,000)"
    figures = alone.get("queries", {})
    limits = {name: ("p95_ms", QIDO_LIMIT_MS, f"QIDO p95 < 50 ms, {name}") for name in figures}
    limits |= {name: (stat, limit, text) for name, stat, limit, text in TARGETS_ALONE}
    for name, (stat, limit, text) in limits.items():
        if name not in figures:
            rows.append((f"at scale: {text}", "-", NOT_MEASURED))
            continue
        ours = figures[name]["pointcare"]
        value = ours[stat]["median"]
        rows.append(
            (
                f"at scale: {text}",
                f"{fmt(ours[stat])} ms over {scale}, {ours['errors']['max']:.0f} errors",
                verdict(value < limit and ours["errors"]["max"] == 0),
            )
        )
    return rows


def markdown(results: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    compared = results.get(KEY, {})
    if compared.get("status") == NOT_MEASURED:
        return ["#### 8. Search against Orthanc", "", f"{NOT_MEASURED}: {compared['why']}", ""]
    if "queries" in compared:
        seeding = compared["seeding"]
        lines += [
            f"#### 8. Search against Orthanc on PostgreSQL ({compared['instances']} instances "
            f"each; {compared['rounds']} rounds of {compared['requests_per_round']} requests "
            "per query and peer, in turn; 1 client)",
            "",
            f"Pointcare seeded in {seeding['ingest_s'] + seeding['copy_s']:.0f} s "
            f"({seeding['ingested_photos']} photos through the ingest in {seeding['ingest_s']} s, "
            f"the other index rows by COPY in {seeding['copy_s']} s); Orthanc loaded "
            f"{compared['orthanc_instances']} objects by POST /instances (4 threads) in "
            f"{compared['orthanc_load_s']} s.",
            "",
            "| query | Pointcare p50 ms | Pointcare p95 ms | Orthanc p50 ms | Orthanc p95 ms "
            "| p95 ratio | errors |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, block in compared["queries"].items():
            ours, theirs = block["pointcare"], block["orthanc"]
            errors = ours["errors"]["max"] + theirs["errors"]["max"]
            lines.append(
                f"| {name} | {fmt(ours['p50_ms'])} | {fmt(ours['p95_ms'])} "
                f"| {fmt(theirs['p50_ms'])} | {fmt(theirs['p95_ms'])} "
                f"| {fmt(block['p95_ratio'], 2)} | {errors:.0f} |"
            )
        differ = compared.get("answers_differ") or []
        lines += [
            "",
            "- answers of the same size from both peers"
            if not differ
            else f"- answers that differ in size: {'; '.join(differ[:5])}",
            "",
        ]
    alone = results.get(ALONE_KEY, {})
    if "queries" in alone:
        lines += [
            f"#### 9. Pointcare alone at {alone['instances']} instances (index grown by COPY "
            f"in {alone['copy_s']} s; {alone['rounds']} rounds; 1 client)",
            "",
            "| request | p50 ms | p95 ms | max ms | errors |",
            "|---|---|---|---|---|",
        ]
        for name, block in alone["queries"].items():
            f = block["pointcare"]
            lines.append(
                f"| {name} | {fmt(f['p50_ms'])} | {fmt(f['p95_ms'])} | {fmt(f['max_ms'])} "
                f"| {f['errors']['max']:.0f} |"
            )
        lines.append("")
    return lines
