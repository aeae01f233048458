"""The web page: `/` is a small single-page client of the v3 API, its assets under `/static/`.

Only the files shipped in `asyncstt/http/static/` are served, each by its exact name, so no path a request sends
can reach anything else. The page needs no other server and no internet access: its Content-Security-Policy
lets it load only from this origin (audio previews of a local file play from `blob:` URLs).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.exceptions import HTTPException

router = APIRouter(tags=["page"], include_in_schema=False)

_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; media-src 'self' blob:; img-src 'self' data:; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # A new release's page is picked up at once; the files are small.
    "Cache-Control": "no-cache",
}


@cache
def _assets() -> dict[str, tuple[bytes, str]]:
    """The shipped files by name, with their content types; read once."""
    folder = resources.files("asyncstt.http") / "static"
    assets: dict[str, tuple[bytes, str]] = {}
    for entry in folder.iterdir():
        suffix = "." + entry.name.rpartition(".")[2]
        if entry.is_file() and suffix in _CONTENT_TYPES:
            assets[entry.name] = (entry.read_bytes(), _CONTENT_TYPES[suffix])
    return assets


def _serve(name: str) -> Response:
    asset = _assets().get(name)
    if asset is None:
        raise HTTPException(status_code=404)
    content, media_type = asset
    return Response(content, media_type=media_type, headers=_HEADERS)


@router.get("/")
def index() -> Response:
    """The page itself."""
    return _serve("index.html")


@router.get("/static/{name}")
def static(name: str) -> Response:
    """One of the page's assets, by its exact file name."""
    return _serve(name)
