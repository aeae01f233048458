"""`Client`: the blocking client of an asyncstt (or SpeechKit) server's REST API."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from asyncstt.client import protocol
from asyncstt.client.errors import ClientError
from asyncstt.client.models import Api, Encoding, OperationStatus, Recognition, Upload
from asyncstt.client.protocol import Audio, Call
from asyncstt.client.uploads import Uploader


class Client:
    """Submits recognitions, waits for them and reads their results; every failure raises ClientError.

    `url` is the server's base URL (`http://127.0.0.1:8000`). Give `api_key` or `iam_token` (none for a server
    without authentication); `folder_id` names the folder to act in (else the key's own). Files over
    `inline_limit` bytes are uploaded to `upload`'s bucket and submitted by link. `http` sends through an
    httpx client of the caller's (its transport, timeout and settings as they are;
    it is not closed here).
    """

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        iam_token: str | None = None,
        folder_id: str | None = None,
        upload: Upload | None = None,
        timeout: float = 30.0,
        inline_limit: int = protocol.INLINE_LIMIT,
        http: httpx.Client | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.folder_id = folder_id
        self.inline_limit = inline_limit
        self._headers = protocol.base_headers(api_key, iam_token, folder_id)
        self._uploader = Uploader(upload) if upload is not None else None
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client(timeout=timeout)

    def submit_file(
        self,
        path: str | Path,
        *,
        language: str = "",
        api: Api = "v3",
        deferred: bool = False,
        idempotency_key: str | None = None,
    ) -> OperationStatus:
        """Submit a local file: inline when it fits under `inline_limit`, else uploaded first."""
        audio = protocol.local_audio(Path(path), self.inline_limit, self._uploader)
        return self._submit(audio, api, language, deferred, idempotency_key)

    def submit_link(
        self,
        uri: str,
        *,
        language: str = "",
        api: Api = "v3",
        deferred: bool = False,
        idempotency_key: str | None = None,
        encoding: Encoding | None = None,
    ) -> OperationStatus:
        """Submit audio the server reads itself (`s3://bucket/key` or an http(s) link)."""
        return self._submit(
            Audio(uri=uri, encoding=encoding), api, language, deferred, idempotency_key
        )

    def _submit(
        self,
        audio: Audio,
        api: Api,
        language: str,
        deferred: bool,
        idempotency_key: str | None,
    ) -> OperationStatus:
        call = protocol.submit_call(
            audio,
            api=api,
            language=language,
            deferred=deferred,
            folder_id=self.folder_id,
            idempotency_key=idempotency_key,
        )
        return protocol.operation_status(protocol.json_object(self._send(call)))

    def get(self, operation_id: str) -> OperationStatus:
        """The operation as it is now."""
        return protocol.operation_status(self._get_json(operation_id))

    def wait(
        self,
        operation_id: str,
        *,
        on_progress: Callable[[OperationStatus], None] | None = None,
        poll_interval: float = 0.5,
        timeout: float | None = None,
    ) -> OperationStatus:
        """Poll until the operation is done, calling `on_progress` with each status (the last, done, too).

        A failed operation is returned like any other (see its `error`); past `timeout` seconds ClientError
        code 4 (DEADLINE_EXCEEDED) is raised and the operation goes on.
        """
        waiter = protocol.Waiter(operation_id, on_progress, poll_interval, timeout)
        while True:
            status = self.get(operation_id)
            delay = waiter.after(status)
            if delay is None:
                return status
            time.sleep(delay)

    def result(self, operation_id: str) -> Recognition:
        """The recognition of a finished operation; a failed one raises its error, a running one code 9."""
        recognition = protocol.finished_v2(self._get_json(operation_id))
        if recognition is not None:
            return recognition
        return protocol.finished_v3(self._send(protocol.recognition_call(operation_id)))

    def cancel(self, operation_id: str) -> OperationStatus:
        """Ask the server to stop the operation; it is returned as it now is."""
        call = protocol.cancel_call(operation_id)
        return protocol.operation_status(protocol.json_object(self._send(call)))

    def delete(self, operation_id: str) -> None:
        """Remove the operation with its result and audio; later calls about it raise code 5."""
        self._send(protocol.delete_call(operation_id))

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _get_json(self, operation_id: str) -> dict[str, Any]:
        return protocol.json_object(self._send(protocol.get_call(operation_id)))

    def _send(self, call: Call) -> bytes:
        try:
            response = self._http.request(
                call.method,
                self.url + call.path,
                params=call.params,
                content=call.body,
                headers={**self._headers, **call.headers},
            )
        except httpx.TimeoutException as error:
            raise ClientError(4, f"{call.method} {call.path} timed out: {error}") from None
        except httpx.HTTPError as error:
            raise ClientError(14, f"cannot reach {self.url}: {error}") from None
        return protocol.checked(response.status_code, response.content)
