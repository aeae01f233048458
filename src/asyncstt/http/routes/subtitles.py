"""Our extension of the Operation API: a finished operation's transcript as SRT or WebVTT subtitles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from asyncstt.errors import InvalidArgument
from asyncstt.http.deps import CallerDep, FolderHeader, ServiceDep
from asyncstt.recognition import Transcript
from asyncstt.subtitles import render_srt, render_vtt

router = APIRouter(tags=["operations"])

#: Each format's renderer and content type.
FORMATS: dict[str, tuple[Callable[[Transcript], str], str]] = {
    "srt": (render_srt, "application/x-subrip; charset=utf-8"),
    "vtt": (render_vtt, "text/vtt; charset=utf-8"),
}


@router.get("/operations/{operation_id}/subtitles", operation_id="getSubtitles")
def get_subtitles(
    operation_id: str,
    caller: CallerDep,
    service: ServiceDep,
    requested: Annotated[str, Query(alias="format")] = "srt",
    folder_id: FolderHeader = None,
) -> Response:
    """The subtitles of a succeeded operation (`format`: `srt`, the default, or `vtt`).

    Found, checked and counted as `GET /operations/{id}` does; not done yet: FAILED_PRECONDITION; failed: its
    own error, as getRecognition answers.
    """
    chosen = FORMATS.get(requested.strip().lower())
    if chosen is None:
        raise InvalidArgument(f"subtitle format {requested[:16]} is not known; use srt or vtt")
    render, media_type = chosen
    _, operation = caller.find(service, operation_id, folder_id or "")
    return Response(render(service.recognition_of(operation)), media_type=media_type)
