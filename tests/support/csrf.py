"""CSRF tokens for tests that act as a browser: read from a page, as a browser's script would."""

from __future__ import annotations

import re

import httpx

HEADER = "X-CSRF-Token"
_META = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


def page_token(html: str) -> str:
    found = _META.search(html)
    assert found and found.group(1), "the page carries no CSRF token"
    return found.group(1)


def fetch_token(client: httpx.Client, path: str = "/login") -> str:
    """The token the client's cookies earn: the one a page served to this browser carries."""
    response = client.get(path, headers={"Accept": "text/html"}, follow_redirects=True)
    return page_token(response.text)


def arm(client: httpx.Client, path: str = "/login") -> str:
    """Send the token with every later request of ``client`` (as csrf.js does for htmx).

    Call again after signing in: a new session brings a new token."""
    token = fetch_token(client, path)
    client.headers[HEADER] = token
    return token
