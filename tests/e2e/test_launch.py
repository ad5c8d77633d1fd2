"""EHR launch in a real Chromium: a link from `pointcare launch-url` opens a fresh browser signed
in, on the patient's page; the same link a second time shows a clear refusal. The links are
made with the command ``serve --demo`` prints, which names the server's own address and port."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from playwright.sync_api import expect

from tests.e2e.conftest import Visit
from tests.support.server import LiveServer
from tests.support.tools import REPO_ROOT

HINT = re.compile(r"pointcare launch-url --user nurse --patient PC100001 --base-url (\S+)")


def printed_base_url(server: LiveServer) -> str:
    """The address in the launch hint the server printed at start."""
    match = HINT.search(server.stdout)
    assert match is not None, server.stdout
    return match.group(1)


def test_the_launch_hint_names_the_port_served(live_server: LiveServer) -> None:
    # The test server listens on a free port, never 8000.
    assert printed_base_url(live_server) == live_server.url


def launch_link(server: LiveServer, *args: str) -> str:
    backend = str(REPO_ROOT / "backend")
    path = os.pathsep.join(p for p in (backend, str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pointcare", "launch-url", *args),
            *("--base-url", printed_base_url(server)),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "POINTCARE_DATA_DIR": str(server.data_dir), "PYTHONPATH": path},
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_doctor_opens_the_patient_from_the_ehr(screen: Visit, live_server: LiveServer) -> None:
    page = screen.page
    link = launch_link(live_server, "--user", "doctor", "--patient", "PC100002", "--view", "review")
    page.goto(link)
    expect(page).to_have_url(re.compile(r"/patients/PC100002\?issuer=PCDEMO$"))
    expect(page.locator(".who")).to_contain_text("Dr Dan Doctor")
    expect(page.get_by_text("ÅNGSTRÖM").first).to_be_visible()
    screen.check("launch-review")

    # The same link again: used once already.
    page.goto(link)
    expect(
        page.get_by_role("heading", name="Could not open Pointcare from the EHR")
    ).to_be_visible()
    expect(page.get_by_text("already used")).to_be_visible()
    assert "token=" not in page.content()
    token = link.split("token=", 1)[1]
    assert token.split(".")[1] not in live_server.stdout + live_server.stderr
    assert "/launch?token=[redacted]" in live_server.stdout + live_server.stderr
    screen.check("launch-refused")
    screen.assert_no_console_errors()


def test_a_nurse_lands_on_the_bedside_confirmation(phone: Visit, live_server: LiveServer) -> None:
    page = phone.page
    page.goto(launch_link(live_server, "--user", "nurse", "--patient", "PC100001"))
    expect(page).to_have_url(re.compile(r"/bedside/confirm\?mrn=PC100001&issuer=PCDEMO$"))
    expect(page.get_by_text("ÖBERG").first).to_be_visible()
    phone.check("launch-confirm")
    phone.assert_no_console_errors()
