"""What the client hands back: an operation's status with its progress, and a finished recognition."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from asyncstt.client.errors import ClientError
from asyncstt.recognition import Transcript, Utterance
from asyncstt.subtitles import render_srt, render_vtt

#: The API an operation was submitted through; it decides the request's shape and where its result is read.
Api = Literal["v2", "v3"]
#: A container format to declare for a link; the server checks it against the bytes, which win.
Encoding = Literal["WAV", "OGG_OPUS", "MP3"]


@dataclass(frozen=True)
class Progress:
    """How far a running operation is: seconds of audio (summed over channels) recognised so far, and its
    stage (`queued`, `fetching`, `probing`, `recognising`, `assembling`)."""

    processed_seconds: float
    total_seconds: float
    stage: str
    #: While queued, as `get` and `wait` see it: 1 for the next operation the server starts; else None.
    queue_position: int | None = None

    @property
    def fraction(self) -> float | None:
        """The processed share in [0, 1]; None while the length is not known yet."""
        if self.total_seconds <= 0:
            return None
        return min(1.0, max(0.0, self.processed_seconds / self.total_seconds))


@dataclass(frozen=True)
class OperationStatus:
    """One look at an operation. `error` is set when it finished without a result (cancelled included);
    `progress` while it is not done."""

    id: str
    done: bool
    error: ClientError | None
    progress: Progress | None
    api: Api


@dataclass(frozen=True)
class Upload:
    """The bucket that files over the inline cap are uploaded to before they are submitted by link.

    The server must be able to read the bucket (its storage settings, or the folder's storage credentials).
    Objects are named `prefix + <sha256 of the bytes> + <the file's suffix>`, so the same file is uploaded once.
    """

    endpoint_url: str
    bucket: str
    access_key_id: str
    secret_access_key: str
    prefix: str = ""
    region: str = "ru-central1"
    #: `path` (`endpoint/bucket/key`) works with every S3 server; `virtual` puts the bucket in the host name.
    addressing_style: Literal["path", "virtual", "auto"] = "path"


@dataclass(frozen=True)
class Recognition:
    """The result of a finished operation, read from either API into the domain's transcript."""

    transcript: Transcript

    @property
    def channels(self) -> dict[int, list[Utterance]]:
        """Utterances by 0-based channel, each list in order of time."""
        grouped: dict[int, list[Utterance]] = {}
        for utterance in self.transcript.utterances:
            grouped.setdefault(utterance.channel, []).append(utterance)
        return dict(sorted(grouped.items()))

    @property
    def text(self) -> str:
        """One line per utterance in order of time; with more than one channel each line starts with its
        1-based label (`[1] …`), as the subtitles label them."""
        labelled = self.transcript.channels > 1
        lines = [
            f"[{u.channel + 1}] {u.text}" if labelled else u.text
            for u in self.transcript.utterances
            if u.text.strip()
        ]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """The transcript as JSON-ready data: `utterances` (channel, start, end, text, raw_text, confidence,
        words with start, end and confidence), `channels`, `duration_seconds`."""
        data: dict[str, Any] = json.loads(self.transcript.to_json())
        return data

    def srt(self) -> str:
        """The transcript as SubRip subtitles."""
        return render_srt(self.transcript)

    def vtt(self) -> str:
        """The transcript as WebVTT subtitles."""
        return render_vtt(self.transcript)
