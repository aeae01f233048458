"""One webhook request: resolved and checked by the address guard, sent to a checked address itself.

As for audio links (`sources/http.py`), the connection goes to the address the guard passed, with the `Host`
header and the TLS server name keeping the URL's name, so a DNS answer that changes between the check and the
connect cannot steer the request elsewhere. Redirects are not followed: they count as a failed attempt.
"""

from __future__ import annotations

import httpx

from asyncstt.errors import AsyncSttError
from asyncstt.settings import WebhookSettings
from asyncstt.sources.guard import Resolver, system_resolver
from asyncstt.sources.http import describe, port_of
from asyncstt.webhooks.address import parse_webhook_url, webhook_guard

#: How much of a refusing receiver's answer is kept as the delivery's last error.
_ANSWER_EXCERPT = 200


class DeliveryFailed(Exception):
    """An attempt that did not end in a 2xx answer; the message says why, for the outbox's `last_error`."""


class Sender:
    """POSTs a body to a webhook URL behind the address guard."""

    def __init__(
        self,
        settings: WebhookSettings,
        *,
        resolver: Resolver = system_resolver,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._guard = webhook_guard(settings.allow_private_addresses, resolver)
        self._client = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(settings.timeout_seconds),
            follow_redirects=False,
            # Proxies from the environment would connect on our behalf and bypass the pinned address.
            trust_env=False,
        )

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """Send the request; returns the 2xx status. DeliveryFailed for anything else."""
        try:
            target = parse_webhook_url(url)
            addresses = self._guard.vet(target.host, port_of(target))
        except AsyncSttError as exc:
            raise DeliveryFailed(exc.message) from exc
        failure: httpx.TransportError | None = None
        for address in addresses:
            request = self._client.build_request(
                "POST",
                target.copy_with(host=str(address)),
                content=body,
                headers={**headers, "Host": target.netloc.decode("ascii")},
                extensions={"sni_hostname": target.host},
            )
            try:
                # Streamed: only the start of the answer is read, whatever size the receiver sends.
                response = self._client.send(request, stream=True)
                try:
                    status, reason = response.status_code, response.reason_phrase
                    answer = b"" if response.is_success else _excerpt(response)
                finally:
                    response.close()
            except httpx.ConnectError as exc:
                failure = exc
                continue
            except httpx.TimeoutException as exc:
                raise DeliveryFailed(f"{describe(target)}: no answer in time ({exc})") from exc
            except httpx.TransportError as exc:
                raise DeliveryFailed(f"{describe(target)}: {exc}") from exc
            if 200 <= status < 300:
                return status
            text = answer.decode("utf-8", "replace").strip()
            raise DeliveryFailed(
                f"{describe(target)} answered {status} {reason}" + (f": {text}" if text else "")
            )
        raise DeliveryFailed(f"cannot connect to {target.host} for {describe(target)}: {failure}")

    def close(self) -> None:
        self._client.close()


def _excerpt(response: httpx.Response) -> bytes:
    kept = b""
    for chunk in response.iter_bytes():
        kept += chunk
        if len(kept) >= _ANSWER_EXCERPT:
            break
    return kept[:_ANSWER_EXCERPT]
