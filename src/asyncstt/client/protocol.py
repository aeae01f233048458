"""What both clients share: the requests they send and how they read the answers, free of any I/O loop.

`Client` and `AsyncClient` only carry these `Call`s over httpx (and run the upload and the waits their own way),
so that the two can never disagree about a request or a result.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from yandex.cloud.ai.stt.v2 import stt_service_pb2
from yandex.cloud.ai.stt.v3 import stt_pb2

from asyncstt.audio.format import AudioFormat, sniff
from asyncstt.client.errors import ClientError, error_of_answer
from asyncstt.client.models import Api, Encoding, OperationStatus, Progress, Recognition
from asyncstt.client.results import transcript_from_v2, transcript_from_v3
from asyncstt.client.uploads import Uploader

V2_SUBMIT = "/speech/stt/v2/longRunningRecognize"
V3_SUBMIT = "/stt/v3/recognizeFileAsync"
V3_RESULT = "/stt/v3/getRecognition"
V3_DELETE = "/stt/v3/deleteRecognition"
#: The `description` of every v3 operation; v2 ones have none.
V3_DESCRIPTION = "STT v3 async recognition"
#: The `@type` of the progress the server puts in a running operation's `metadata`.
PROGRESS_TYPE = "type.googleapis.com/asyncstt.v1.RecognitionProgress"
STANDARD_MODEL = "general"
DEFERRED_MODEL = "deferred-general"
#: The server's cap on inline `content` (60 MB): bigger files must be sent by link.
INLINE_LIMIT = 60 * 1024**2
_SNIFF_BYTES = 4096
_BY_FORMAT: dict[AudioFormat, Encoding] = {
    AudioFormat.WAV: "WAV",
    AudioFormat.OGG: "OGG_OPUS",
    AudioFormat.MP3: "MP3",
}
_BY_SUFFIX: dict[str, Encoding] = {
    ".wav": "WAV",
    ".wave": "WAV",
    ".ogg": "OGG_OPUS",
    ".opus": "OGG_OPUS",
    ".oga": "OGG_OPUS",
    ".mp3": "MP3",
}
# v2 has no WAV: SpeechKit's own examples send WAV files as LINEAR16_PCM, and the bytes decide.
_V2_ENCODING: dict[Encoding, Any] = {
    "WAV": stt_service_pb2.RecognitionSpec.LINEAR16_PCM,
    "OGG_OPUS": stt_service_pb2.RecognitionSpec.OGG_OPUS,
    "MP3": stt_service_pb2.RecognitionSpec.MP3,
}
_V3_CONTAINER: dict[Encoding, Any] = {
    "WAV": stt_pb2.ContainerAudio.WAV,
    "OGG_OPUS": stt_pb2.ContainerAudio.OGG_OPUS,
    "MP3": stt_pb2.ContainerAudio.MP3,
}


@dataclass(frozen=True)
class Call:
    """One HTTP request, relative to the server's URL."""

    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Audio:
    """What a submit sends: exactly one of a link and the bytes, and the container they are in when known."""

    uri: str | None = None
    content: bytes | None = None
    encoding: Encoding | None = None


def base_headers(
    api_key: str | None, iam_token: str | None, folder_id: str | None
) -> dict[str, str]:
    """The headers of every request: the credentials and, when given, the folder."""
    if api_key and iam_token:
        raise ClientError(3, "give api_key or iam_token, not both")
    headers: dict[str, str] = {}
    if api_key:
        headers["Authorization"] = f"Api-Key {api_key}"
    elif iam_token:
        headers["Authorization"] = f"Bearer {iam_token}"
    if folder_id:
        headers["x-folder-id"] = folder_id
    return headers


def encoding_of(path: Path, head: bytes) -> Encoding | None:
    """The container the first bytes announce, else the one the suffix names; None leaves it to the server."""
    found = sniff(head)
    if found in _BY_FORMAT:
        return _BY_FORMAT[found]
    return _BY_SUFFIX.get(path.suffix.lower())


def local_audio(path: Path, inline_limit: int, uploader: Uploader | None) -> Audio:
    """A local file as a submit sends it: inline up to `inline_limit` bytes, else uploaded and linked.

    Blocking (it reads and may upload the file); the async client runs it in a thread.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as stream:
            head = stream.read(_SNIFF_BYTES)
    except OSError as error:
        raise ClientError(3, f"cannot read {path}: {error.strerror or error}") from None
    encoding = encoding_of(path, head)
    if size <= inline_limit:
        return Audio(content=path.read_bytes(), encoding=encoding)
    if uploader is None:
        raise ClientError(
            3,
            f"{path.name} is {size / 1024**2:.1f} MB, over the inline limit of "
            f"{inline_limit / 1024**2:.1f} MB; configure an upload bucket (Upload) or submit a link",
        )
    return Audio(uri=uploader.put(path), encoding=encoding)


def submit_call(
    audio: Audio,
    *,
    api: Api,
    language: str,
    deferred: bool,
    folder_id: str | None,
    idempotency_key: str | None,
) -> Call:
    """The recognizeFileAsync (v3) or longRunningRecognize (v2) request for `audio`."""
    model = DEFERRED_MODEL if deferred else STANDARD_MODEL
    if api == "v3":
        path, message = V3_SUBMIT, _v3_request(audio, model, language)
    elif api == "v2":
        path, message = V2_SUBMIT, _v2_request(audio, model, language, folder_id)
    else:
        raise ClientError(3, f"unknown api {api!r}; use v2 or v3")
    headers = {"Content-Type": "application/json"}
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    body = json.dumps(json_format.MessageToDict(message)).encode()
    return Call("POST", path, body=body, headers=headers)


def _v3_request(audio: Audio, model: str, language: str) -> Any:
    options = stt_pb2.RecognitionModelOptions(
        model=model,
        # Numbers as digits, as v2 gives them by default.
        text_normalization=stt_pb2.TextNormalizationOptions(
            text_normalization=stt_pb2.TextNormalizationOptions.TEXT_NORMALIZATION_ENABLED
        ),
    )
    if audio.encoding is not None:
        options.audio_format.container_audio.container_audio_type = _V3_CONTAINER[audio.encoding]
    if language:
        options.language_restriction.restriction_type = stt_pb2.LanguageRestrictionOptions.WHITELIST
        options.language_restriction.language_code.append(language)
    request = stt_pb2.RecognizeFileRequest(recognition_model=options)
    if audio.uri is not None:
        request.uri = audio.uri
    else:
        request.content = audio.content or b""
    return request


def _v2_request(audio: Audio, model: str, language: str, folder_id: str | None) -> Any:
    specification = stt_service_pb2.RecognitionSpec(model=model, language_code=language)
    if audio.encoding is not None:
        specification.audio_encoding = _V2_ENCODING[audio.encoding]
    request = stt_service_pb2.LongRunningRecognitionRequest()
    request.config.specification.CopyFrom(specification)
    if folder_id:
        request.config.folder_id = folder_id
    if audio.uri is not None:
        request.audio.uri = audio.uri
    else:
        request.audio.content = audio.content or b""
    return request


def get_call(operation_id: str) -> Call:
    return Call("GET", f"/operations/{_segment(operation_id)}")


def cancel_call(operation_id: str) -> Call:
    return Call("POST", f"/operations/{_segment(operation_id)}:cancel")


def delete_call(operation_id: str) -> Call:
    """deleteRecognition removes operations of both APIs."""
    return Call("DELETE", V3_DELETE, params={"operationId": operation_id})


def recognition_call(operation_id: str) -> Call:
    return Call("GET", V3_RESULT, params={"operationId": operation_id})


def _segment(operation_id: str) -> str:
    # Ids are base32; anything else cannot name an operation and must not change the path.
    if not operation_id or not operation_id.isalnum():
        raise ClientError(3, f"{operation_id!r} is not an operation id")
    return operation_id


def checked(http_status: int, body: bytes) -> bytes:
    """The body of a 2xx answer; any other answer raises its ClientError."""
    if 200 <= http_status < 300:
        return body
    raise error_of_answer(http_status, body)


def json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ClientError(15, "the server's answer is not a JSON object")
    return data


def operation_status(data: dict[str, Any]) -> OperationStatus:
    """An Operation's JSON as an OperationStatus."""
    identifier = data.get("id")
    if not isinstance(identifier, str):
        raise ClientError(15, "the server's operation has no id")
    error = data.get("error")
    return OperationStatus(
        id=identifier,
        done=data.get("done") is True,
        error=_operation_error(error) if isinstance(error, dict) else None,
        progress=_progress(data.get("metadata")),
        api="v3" if data.get("description") == V3_DESCRIPTION else "v2",
    )


def _operation_error(error: dict[str, Any]) -> ClientError:
    code = error.get("code")
    return ClientError(
        code if isinstance(code, int) else 2, str(error.get("message") or "the operation failed")
    )


def _progress(metadata: Any) -> Progress | None:
    if not isinstance(metadata, dict) or metadata.get("@type") != PROGRESS_TYPE:
        return None
    return Progress(
        processed_seconds=_number(metadata.get("processedSeconds")),
        total_seconds=_number(metadata.get("totalSeconds")),
        stage=str(metadata.get("stage") or ""),
        queue_position=_position(metadata.get("queuePosition")),
    )


def _position(value: Any) -> int | None:
    # int32 renders as a JSON number; a string is accepted as json_format accepts one.
    try:
        position = int(value)
    except (TypeError, ValueError):
        return None
    return position if position > 0 else None


def _number(value: Any) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


def finished_v2(data: dict[str, Any]) -> Recognition | None:
    """The recognition of a finished v2 operation's JSON; None for a v3 one, whose result is read with
    `recognition_call`. An operation not done yet, or one that failed, raises."""
    status = operation_status(data)
    if not status.done:
        raise ClientError(9, f"operation {status.id} is not done yet")
    if status.error is not None:
        raise status.error
    if status.api == "v3":
        return None
    response = data.get("response")
    return Recognition(transcript_from_v2(response if isinstance(response, dict) else {}))


def finished_v3(body: bytes) -> Recognition:
    """The recognition in a getRecognition body."""
    return Recognition(transcript_from_v3(body.splitlines()))


class Waiter:
    """The rules of `wait`: report each status, stop when done, give up at the deadline.

    The clients poll `get` and sleep what `after` says; it returns None once the operation is done.
    """

    def __init__(
        self,
        operation_id: str,
        on_progress: Callable[[OperationStatus], None] | None,
        poll_interval: float,
        timeout: float | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if poll_interval <= 0:
            raise ClientError(3, "poll_interval must be positive")
        self.operation_id = operation_id
        self.on_progress = on_progress
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.clock = clock
        self.deadline = None if timeout is None else clock() + timeout

    def after(self, status: OperationStatus) -> float | None:
        """Seconds to sleep before the next poll, or None when `status` is done."""
        if self.on_progress is not None:
            self.on_progress(status)
        if status.done:
            return None
        if self.deadline is None:
            return self.poll_interval
        left = self.deadline - self.clock()
        if left <= 0:
            raise ClientError(
                4, f"operation {self.operation_id} is not done after {self.timeout:g} s"
            )
        return min(self.poll_interval, left)
