"""The admin's home leads to every admin page and says which settings are not set safely;
nobody else's home shows either."""

from __future__ import annotations

from pointcare.runtime import Runtime
from tests.integration.pages.conftest import SignIn

ADMIN_PAGES = ("/admin/users", "/admin/deliveries", "/admin/rejected", "/admin/audit")


def test_the_admin_home_links_every_admin_page_and_reviews_the_settings(
    browser: SignIn, runtime: Runtime
) -> None:
    home = browser("admin").get("/")
    assert home.status_code == 200
    for path in ADMIN_PAGES:
        assert f'href="{path}"' in home.text
    assert "4 settings are not set safely." in home.text  # plain HTTP, no public address...
    assert "Not safe: </span>Audit trail anchor key" in home.text
    assert "Safe: </span>Demo mode" in home.text
    assert runtime.settings.secret_key not in home.text


def test_other_homes_show_neither(browser: SignIn) -> None:
    for role in ("photographer", "clinician"):
        home = browser(role).get("/")
        assert home.status_code == 200
        assert 'href="/admin/users"' not in home.text
        assert "not set safely" not in home.text
