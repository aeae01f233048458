"""`AsyncClient`: the asyncio twin of `Client`, with the same methods as coroutines."""

from __future__ import annotations

import asyncio
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


class AsyncClient:
    """`Client` for asyncio: the same arguments (`http` is an `httpx.AsyncClient`), the same behaviour.

    Reading and uploading a file run in a worker thread, so the event loop never blocks on them.
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
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.folder_id = folder_id
        self.inline_limit = inline_limit
        self._headers = protocol.base_headers(api_key, iam_token, folder_id)
        self._uploader = Uploader(upload) if upload is not None else None
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(timeout=timeout)

    async def submit_file(
        self,
        path: str | Path,
        *,
        language: str = "",
        api: Api = "v3",
        deferred: bool = False,
        idempotency_key: str | None = None,
    ) -> OperationStatus:
        """Submit a local file: inline when it fits under `inline_limit`, else uploaded first."""
        audio = await asyncio.to_thread(
            protocol.local_audio, Path(path), self.inline_limit, self._uploader
        )
        return await self._submit(audio, api, language, deferred, idempotency_key)

    async def submit_link(
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
        audio = Audio(uri=uri, encoding=encoding)
        return await self._submit(audio, api, language, deferred, idempotency_key)

    async def _submit(
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
        return protocol.operation_status(protocol.json_object(await self._send(call)))

    async def get(self, operation_id: str) -> OperationStatus:
        """The operation as it is now."""
        return protocol.operation_status(await self._get_json(operation_id))

    async def wait(
        self,
        operation_id: str,
        *,
        on_progress: Callable[[OperationStatus], None] | None = None,
        poll_interval: float = 0.5,
        # The same signature as Client.wait; asyncio.timeout around it would also cancel a poll midway.
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> OperationStatus:
        """Poll until the operation is done, as `Client.wait` does."""
        waiter = protocol.Waiter(operation_id, on_progress, poll_interval, timeout)
        while True:
            status = await self.get(operation_id)
            delay = waiter.after(status)
            if delay is None:
                return status
            await asyncio.sleep(delay)

    async def result(self, operation_id: str) -> Recognition:
        """The recognition of a finished operation; a failed one raises its error, a running one code 9."""
        recognition = protocol.finished_v2(await self._get_json(operation_id))
        if recognition is not None:
            return recognition
        return protocol.finished_v3(await self._send(protocol.recognition_call(operation_id)))

    async def cancel(self, operation_id: str) -> OperationStatus:
        """Ask the server to stop the operation; it is returned as it now is."""
        call = protocol.cancel_call(operation_id)
        return protocol.operation_status(protocol.json_object(await self._send(call)))

    async def delete(self, operation_id: str) -> None:
        """Remove the operation with its result and audio; later calls about it raise code 5."""
        await self._send(protocol.delete_call(operation_id))

    async def close(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def _get_json(self, operation_id: str) -> dict[str, Any]:
        return protocol.json_object(await self._send(protocol.get_call(operation_id)))

    async def _send(self, call: Call) -> bytes:
        try:
            response = await self._http.request(
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
