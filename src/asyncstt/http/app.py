"""The REST application factory. Nothing happens at import time; the server calls `create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from asyncstt import __version__
from asyncstt.http.errors import install_error_handling
from asyncstt.http.limits import install_limits
from asyncstt.http.openapi import install_openapi
from asyncstt.http.polls import PollShortcut
from asyncstt.http.routes import health, iam, operations, page, subtitles, v2, v3
from asyncstt.http.routes import metrics as metrics_route
from asyncstt.iam.auth import Authenticator
from asyncstt.iam.quota import QuotaLimiter
from asyncstt.observability.metrics import Metrics
from asyncstt.service.operations import OperationService


def create_app(
    service: OperationService,
    authenticator: Authenticator,
    metrics: Metrics | None = None,
    *,
    quota: QuotaLimiter | None = None,
) -> FastAPI:
    """A FastAPI app serving every REST path on one listener, whatever the Host header says.

    Without `quota` no request is counted. IAM tokens are issued by the token service the authenticator checks
    them with.
    """
    app = FastAPI(
        title="asyncstt",
        version=__version__,
        summary="Asynchronous speech recognition speaking the SpeechKit async API",
    )
    app.state.service = service
    app.state.authenticator = authenticator
    app.state.quota = quota
    app.state.tokens = authenticator.tokens
    app.state.metrics = metrics or Metrics()
    app.state.max_body_bytes = 2 * service.settings.limits.max_inline_bytes + 1024**2
    # Innermost of the layers: a poll still gets its request id and the limits' guard.
    app.add_middleware(PollShortcut)
    install_limits(app, service.settings.http)
    install_error_handling(app)
    app.include_router(v2.router)
    app.include_router(v3.router)
    app.include_router(operations.router)
    app.include_router(subtitles.router)
    app.include_router(iam.router)
    app.include_router(health.router)
    app.include_router(metrics_route.router)
    app.include_router(page.router)
    install_openapi(app)
    return app
