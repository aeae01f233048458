"""The `asyncstt` command: serve and transcribe here; the administration of folders, service accounts, roles,
keys, storage credentials and the audit log in `asyncstt.cli.admin`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from asyncstt import __version__
from asyncstt.cli.admin import add_admin_commands
from asyncstt.cli.arguments import add_store_options, store_overrides
from asyncstt.errors import AsyncSttError, InvalidArgument
from asyncstt.settings import GrpcSettings, Settings

ENCODING_BY_SUFFIX = {
    ".wav": "LINEAR16_PCM",
    ".pcm": "LINEAR16_PCM",
    ".raw": "LINEAR16_PCM",
    ".ogg": "OGG_OPUS",
    ".opus": "OGG_OPUS",
    ".oga": "OGG_OPUS",
    ".mp3": "MP3",
}


def _settings(args: argparse.Namespace, **overrides: object) -> Settings:
    """Settings from the environment, with what was given on the command line on top."""
    return Settings().model_copy(update={**store_overrides(args), **overrides})


def _execution_overrides(args: argparse.Namespace, settings: Settings) -> Settings:
    changes: dict[str, object] = {}
    if getattr(args, "dask", None):
        changes["dask_address"] = args.dask
    if getattr(args, "workers", None):
        changes["local_workers"] = args.workers
    if not changes:
        return settings
    return settings.model_copy(update={"execution": settings.execution.model_copy(update=changes)})


def _grpc_overrides(args: argparse.Namespace, settings: Settings) -> Settings:
    changes: dict[str, object] = {}
    if args.grpc_port is not None:
        changes["port"] = args.grpc_port
    if args.grpc_tls_cert:
        changes["tls_cert"] = Path(args.grpc_tls_cert)
    if args.grpc_tls_key:
        changes["tls_key"] = Path(args.grpc_tls_key)
    if args.grpc_public_address:
        changes["public_address"] = args.grpc_public_address
    if not changes:
        return settings
    try:
        grpc = GrpcSettings.model_validate(settings.grpc.model_dump() | changes)
    except ValueError as error:
        raise InvalidArgument(_validation_message(error)) from error
    return settings.model_copy(update={"grpc": grpc})


def _validation_message(error: ValueError) -> str:
    errors = getattr(error, "errors", None)
    if errors is None:
        return str(error)
    return "; ".join(str(problem["msg"]).removeprefix("Value error, ") for problem in errors())


def cmd_serve(args: argparse.Namespace) -> int:
    from asyncstt.grpc.server import GrpcServerError
    from asyncstt.observability.logs import configure_logging
    from asyncstt.server.process import Server

    overrides: dict[str, object] = {}
    if args.host:
        overrides["host"] = args.host
    if args.port is not None:
        overrides["port"] = args.port
    settings = _grpc_overrides(args, _execution_overrides(args, _settings(args, **overrides)))
    if args.file_root:
        settings = settings.model_copy(
            update={
                "file_sources": settings.file_sources.model_copy(
                    update={"root": Path(args.file_root)}
                )
            }
        )
    configure_logging()
    try:
        server = Server(settings)
    except GrpcServerError as error:
        print(f"asyncstt: {error}", file=sys.stderr)
        return 2
    grpc = (
        "no gRPC"
        if server.grpc is None
        else f"gRPC on {server.grpc.address}, {'TLS' if server.grpc.tls else 'plaintext'}"
    )
    print(
        f"asyncstt {__version__} listening on {server.url} and {grpc} "
        f"(data dir: {settings.data_dir.resolve()})",
        flush=True,
    )
    server.run()
    return 0


def cmd_transcribe(args: argparse.Namespace) -> int:
    from asyncstt.cli.transcribe import TranscribeRequest, transcribe

    path = Path(args.file)
    if not path.is_file():
        print(f"asyncstt: {path}: no such file", file=sys.stderr)
        return 2
    encoding = args.encoding or ENCODING_BY_SUFFIX.get(path.suffix.lower(), "OGG_OPUS")
    request = TranscribeRequest(
        path=path,
        language=args.language,
        model=args.model,
        encoding=encoding,
        sample_rate=args.sample_rate,
        channels=args.channels,
        literature_text=args.literature,
        raw_results=args.raw_results,
        profanity_filter=args.profanity_filter,
    )
    settings = _execution_overrides(args, _settings(args))
    operation = transcribe(request, settings, server=args.server, api_key=args.api_key)
    if args.format == "json":
        print(json.dumps(operation, ensure_ascii=False, indent=2))
    else:
        from asyncstt.cli.transcribe import operation_text

        print(operation_text(operation))
    return 0 if "error" not in operation else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="asyncstt",
        description="Asynchronous speech recognition with the SpeechKit API, on your own hardware: run "
        "the server, transcribe a file, administer folders, service accounts, roles, keys, storage "
        "credentials and the audit log.",
    )
    parser.add_argument("--version", action="version", version=f"asyncstt {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve", help="run the REST and gRPC APIs, the dispatcher and a local Dask cluster"
    )
    add_store_options(serve)
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8000)")
    serve.add_argument(
        "--grpc-port", type=int, help="gRPC port to listen on (default 50051; 0: no gRPC)"
    )
    serve.add_argument(
        "--grpc-tls-cert", metavar="FILE", help="PEM certificate for gRPC TLS (default: plaintext)"
    )
    serve.add_argument("--grpc-tls-key", metavar="FILE", help="PEM private key of --grpc-tls-cert")
    serve.add_argument(
        "--grpc-public-address",
        metavar="HOST:PORT",
        help="address gRPC endpoint discovery hands out (default: the listening address)",
    )
    serve.add_argument("--dask", help="address of a Dask scheduler; default: start a local cluster")
    serve.add_argument(
        "--workers", type=int, help="local cluster worker processes (default: one per core)"
    )
    serve.add_argument(
        "--file-root", help="directory that file:// links may point into (default: none)"
    )
    serve.set_defaults(handler=cmd_serve)

    tr = commands.add_parser(
        "transcribe", help="recognise a file through the API and print the result"
    )
    add_store_options(tr)
    tr.add_argument("file")
    tr.add_argument(
        "--language", default="", help="e.g. en-US, ru-RU, auto (default: the server's default)"
    )
    tr.add_argument("--model", default="general", help="general or deferred-general")
    tr.add_argument("--format", choices=["text", "json"], default="text")
    tr.add_argument(
        "--encoding",
        choices=["LINEAR16_PCM", "OGG_OPUS", "MP3"],
        help="default: from the file name",
    )
    tr.add_argument("--sample-rate", type=int, default=16000, help="for headerless LINEAR16_PCM")
    tr.add_argument("--channels", type=int, default=1, help="for headerless LINEAR16_PCM")
    tr.add_argument("--literature", action="store_true", help="punctuated, capitalised text")
    tr.add_argument("--raw-results", action="store_true", help="numbers spelled out in text")
    tr.add_argument("--profanity-filter", action="store_true", help="mask profanities")
    tr.add_argument(
        "--server", help="URL of a running asyncstt; default: start one in this process"
    )
    tr.add_argument("--api-key", help="API key for --server")
    tr.add_argument(
        "--workers", type=int, help="local cluster worker processes when no --server is given"
    )
    tr.set_defaults(handler=cmd_transcribe)

    add_admin_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from asyncstt.cli.transcribe import TranscribeError

    args = build_parser().parse_args(argv)
    try:
        result: int = args.handler(args)
    except TranscribeError as error:
        print(f"asyncstt: {error}", file=sys.stderr)
        return 1
    except AsyncSttError as error:
        print(f"asyncstt: {error.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return result
