"""The web page's route: `/` and the shipped assets under `/static/`, by exact name only."""

from __future__ import annotations

import re
from importlib import resources

import pytest
from starlette.exceptions import HTTPException

from asyncstt.http.routes import page
from tests.unit.http.conftest import Harness

STATIC = resources.files("asyncstt.http") / "static"


def shipped(name: str) -> bytes:
    return (STATIC / name).read_bytes()


def test_the_root_serves_the_page_without_credentials(harness: Harness) -> None:
    response = harness.client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.content == shipped("index.html")
    assert "<title>asyncstt" in response.text


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("index.html", "text/html; charset=utf-8"),
        ("app.js", "text/javascript; charset=utf-8"),
        ("app.css", "text/css; charset=utf-8"),
    ],
)
def test_each_asset_is_served_with_its_content_type(
    harness: Harness, name: str, content_type: str
) -> None:
    response = harness.client.get(f"/static/{name}")

    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.content == shipped(name)


def test_the_page_may_load_from_its_own_origin_only(harness: Harness) -> None:
    policy = harness.client.get("/").headers["content-security-policy"]

    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["media-src"] == "'self' blob:"


def test_everything_the_page_loads_is_served_here(harness: Harness) -> None:
    html = harness.client.get("/").text

    linked = re.findall(r'(?:src|href)="([^"]+)"', html)
    # The empty icon keeps the browser from asking for /favicon.ico.
    assert sorted(linked) == ["/static/app.css", "/static/app.js", "data:,"]
    for path in (link for link in linked if link.startswith("/")):
        assert harness.client.get(path).status_code == 200
    for name in ("index.html", "app.js", "app.css"):
        assert not re.search(rb"(?:src|href|url\()\s*=?\s*[\"']?(?:https?:)?//", shipped(name)), (
            name
        )


@pytest.mark.parametrize(
    "path",
    [
        "/static/..%2Fpage.py",
        "/static/..%2F..%2Fapp.py",
        "/static/%2e%2e%2f%2e%2e%2fapp.py",
        "/static/..%5C..%5Capp.py",
        "/static/%2Fetc%2Fpasswd",
        "/static/.",
        "/static/",
        "/static/app.js%00.css",
        "/static/APP.JS",
        "/static/nothing.js",
        "/static/routes/page.py",
    ],
)
def test_anything_but_a_shipped_file_is_refused(harness: Harness, path: str) -> None:
    response = harness.client.get(path)

    assert response.status_code == 404
    assert response.json()["code"] == 5
    assert "x-content-type-options" not in response.headers


@pytest.mark.parametrize(
    "name",
    ["..", ".", "", "../app.py", "../routes/page.py", "/etc/passwd", "__init__.py", "./app.js"],
)
def test_the_route_looks_names_up_as_they_are(name: str) -> None:
    """HTTP clients collapse literal dots before sending; the route refuses them anyway."""
    with pytest.raises(HTTPException) as refused:
        page.static(name)

    assert refused.value.status_code == 404
