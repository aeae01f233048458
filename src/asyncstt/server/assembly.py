"""The components of one server process, wired together from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from asyncstt.audio.probe import probe
from asyncstt.dispatch.dispatcher import Dispatcher
from asyncstt.dispatch.slice_pipeline import SlicePipeline
from asyncstt.engines.catalog import describe_engine
from asyncstt.executor.base import Executor
from asyncstt.executor.dask import DaskExecutor
from asyncstt.grpc.context import Door
from asyncstt.grpc.server import GrpcServer
from asyncstt.iam.audit import Auditor
from asyncstt.iam.auth import Authenticator
from asyncstt.iam.quota import QuotaLimiter
from asyncstt.iam.server_key import ServerKey
from asyncstt.iam.sql import SqlIdentityStore
from asyncstt.iam.sql_counter import SqlQuotaCounter
from asyncstt.iam.storage_credentials import StoredStorageCredentials
from asyncstt.iam.tokens import TokenService
from asyncstt.observability.metrics import Metrics
from asyncstt.pipeline.planner import plan
from asyncstt.pipeline.task import recognise_slice
from asyncstt.service.operations import OperationService
from asyncstt.settings import Settings
from asyncstt.sources.fetcher import AudioFetcher
from asyncstt.sources.registry import SourceRegistry
from asyncstt.store.base import OperationStore
from asyncstt.store.sql import SqlStore
from asyncstt.webhooks.deliverer import WebhookDeliverer


@dataclass
class Components:
    """The long-lived parts of one server process."""

    store: OperationStore
    service: OperationService
    authenticator: Authenticator
    dispatcher: Dispatcher
    executor: Executor
    metrics: Metrics
    identity: SqlIdentityStore
    server_key: ServerKey
    auditor: Auditor
    quota: QuotaLimiter
    #: None when this process does not deliver webhooks (`webhooks.enabled` off).
    deliverer: WebhookDeliverer | None = None


def open_store(settings: Settings) -> SqlStore:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqlStore(settings.store_url)


def build(settings: Settings, executor: Executor | None = None) -> Components:
    """Wire the components together; the executor defaults to Dask as the settings describe it."""
    store = open_store(settings)
    identity = SqlIdentityStore(store)
    server_key = ServerKey.load(settings)
    sources = SourceRegistry(settings, StoredStorageCredentials(identity, server_key))
    capabilities = describe_engine(settings.engine)
    auditor = Auditor(identity, retention_days=settings.iam.audit_retention_days)
    tokens = TokenService(identity, server_key, settings.iam)
    authenticator = Authenticator(
        identity, tokens, settings.iam, auditor, required=settings.auth_required
    )
    quota = QuotaLimiter(SqlQuotaCounter(store), settings.iam.quotas)
    executor = executor or DaskExecutor(settings.execution, settings.engine)
    fetcher = AudioFetcher(store.inline_audio, sources.fetch, settings.limits.max_file_bytes)
    metrics = Metrics(state_counts=store.state_counts)
    pipeline = SlicePipeline(probe, plan, recognise_slice)
    dispatcher = Dispatcher(store, executor, fetcher, settings, metrics=metrics, pipeline=pipeline)
    service = OperationService(store, sources, capabilities, settings, on_submit=dispatcher.wake)
    deliverer = WebhookDeliverer(store, server_key, settings) if settings.webhooks.enabled else None
    return Components(
        store,
        service,
        authenticator,
        dispatcher,
        executor,
        metrics,
        identity,
        server_key,
        auditor,
        quota,
        deliverer,
    )


def build_grpc(components: Components, settings: Settings) -> GrpcServer | None:
    """The gRPC front door over the same components as REST, its port bound; None when its port is 0."""
    if settings.grpc.port == 0:
        return None
    door = Door(
        components.service,
        components.authenticator,
        components.quota,
        components.metrics,
        settings,
        public_address=settings.grpc.public_address,
    )
    return GrpcServer(door, settings.grpc)
