"""A private Orthanc (the stand-in for a hospital PACS), started through ``infra/orthanc.sh``.

    orthanc = Orthanc.create()      # a folder (tempfile.mkdtemp) and two free ports
    orthanc.start()                 # ~0.2 s; orthanc.stop() takes 2 to 4 s (SIGTERM)

Its folder comes from ``tempfile.mkdtemp()`` itself, as infra/README.md asks: pytest's
``tmp_path`` is not reachable by every user. ``count_instances`` and ``sop_uids`` ask Orthanc
over QIDO-RS with plain httpx, independently of the code under test.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.server import free_port
from tests.support.tools import REPO_ROOT, require_tool

SCRIPT = REPO_ROOT / "infra" / "orthanc.sh"
SOP_INSTANCE_UID = "00080018"


USER = "pointcare"


@dataclass
class Orthanc:
    directory: Path
    http_port: int
    dicom_port: int
    password: str
    user: str = USER

    @classmethod
    def create(cls) -> Orthanc:
        """An Orthanc not started yet (skips locally, fails in CI, when Orthanc is missing).

        Its password is chosen now (``orthanc.sh`` keeps the one in DIR/password), so that
        Pointcare can be configured for it before it runs.
        """
        require_tool("Orthanc")
        directory = Path(tempfile.mkdtemp(prefix="pointcare-orthanc-"))
        password = secrets.token_hex(16)
        (directory / "password").write_text(password)
        (directory / "password").chmod(0o600)
        return cls(directory, free_port(), free_port(), password)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def dicomweb_url(self) -> str:
        return f"{self.url}/dicom-web"

    def start(self) -> Orthanc:
        result = subprocess.run(
            [str(SCRIPT), "start", str(self.directory), str(self.http_port), str(self.dicom_port)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"infra/orthanc.sh start failed: {result.stderr.strip()}")
        values = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
        assert (values["ORTHANC_USER"], values["ORTHANC_PASSWORD"]) == (self.user, self.password)
        return self

    def stop(self) -> None:
        subprocess.run(
            [str(SCRIPT), "stop", str(self.directory)], capture_output=True, timeout=60, check=False
        )

    @property
    def pid(self) -> int | None:
        """The PID ``start`` recorded, or None before it ran."""
        pid_file = self.directory / "orthanc.pid"
        return int(pid_file.read_text().strip()) if pid_file.exists() else None

    def remove(self) -> None:
        """Kill it (SIGKILL, by the PID ``start`` recorded: its data is thrown away, so the
        3 s of a clean stop buy nothing) and delete its folder."""
        pid = self.pid
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            for _ in range(100):
                if not _alive(pid):
                    break
                time.sleep(0.02)
        shutil.rmtree(self.directory, ignore_errors=True)

    def env(self, url: str | None = None) -> dict[str, str]:
        """Pointcare settings that deliver to this Orthanc (or to ``url``, a proxy before it)."""
        return {
            "POINTCARE_ARCHIVE": "dicomweb",
            "POINTCARE_DICOMWEB_URL": url or self.dicomweb_url,
            "POINTCARE_DICOMWEB_USERNAME": self.user,
            "POINTCARE_DICOMWEB_PASSWORD": self.password,
        }

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.dicomweb_url,
            auth=(self.user, self.password),
            timeout=30,
            trust_env=False,
        )

    def sop_uids(self, study_instance_uid: str) -> list[str]:
        """SOP Instance UIDs of a study's instances, as QIDO-RS lists them (with repeats, if
        Orthanc ever held an instance twice)."""
        with self.client() as client:
            response = client.get(
                f"/studies/{study_instance_uid}/instances",
                headers={"Accept": "application/dicom+json"},
            )
        if response.status_code == 204 or (
            response.status_code == 200 and not response.content.strip()
        ):
            return []
        response.raise_for_status()
        return [item[SOP_INSTANCE_UID]["Value"][0] for item in response.json()]

    def count_patient_instances(self, patient_id: str) -> int:
        """Instances Orthanc holds for a Patient ID (QIDO-RS /instances?PatientID=)."""
        with self.client() as client:
            response = client.get(
                "/instances",
                params={"PatientID": patient_id},
                headers={"Accept": "application/dicom+json"},
            )
        response.raise_for_status()
        return len(response.json()) if response.content.strip() else 0


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped by its parent, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"
