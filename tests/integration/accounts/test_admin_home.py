"""The admin's home says which settings are not set safely (and what to set), never showing a
secret; nobody else's home shows it. (Its links to the admin pages: ``test_find_patient.py``.)"""

from __future__ import annotations

from pointcare.runtime import Runtime
from tests.integration.pages.conftest import SignIn


def test_the_admin_home_reviews_the_settings(browser: SignIn, runtime: Runtime) -> None:
    home = browser("admin").get("/")
    assert home.status_code == 200
    assert "4 settings are not set safely." in home.text  # plain HTTP, no public address...
    assert "Not safe: </span>Audit trail anchor key" in home.text
    assert "Safe: </span>Demo mode" in home.text
    assert "Set POINTCARE_AUDIT_KEY" in home.text
    assert runtime.settings.secret_key not in home.text


def test_other_homes_do_not(browser: SignIn) -> None:
    for role in ("photographer", "clinician"):
        home = browser(role).get("/")
        assert home.status_code == 200
        assert "not set safely" not in home.text
