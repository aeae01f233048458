"""The `asyncstt` command: serve and transcribe here; the administration of folders, service accounts, roles,
keys, storage credentials and the audit log in `asyncstt.cli.admin`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from asyncstt import __version__
from asyncstt.cli.admin import add_admin_commands
from asyncstt.cli.arguments import add_store_options, store_overrides
from asyncstt.cli.failure import CommandFailed
from asyncstt.errors import AsyncSttError, InvalidArgument
from asyncstt.settings import GrpcSettings, Settings


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
    from asyncstt.cli.transcribe import Options, run

    paths = [Path(name) for name in args.files]
    missing = [path for path in paths if not path.is_file()]
    if missing:
        for path in missing:
            print(f"asyncstt: {path}: no such file", file=sys.stderr)
        return 2
    options = Options(
        format=args.format,
        language=args.language,
        deferred=args.model == "deferred-general",
        detach=args.detach,
    )
    return run(
        paths,
        options,
        _execution_overrides(args, _settings(args)),
        out=Path(args.out) if args.out else None,
        resume=args.resume,
        server=args.server,
        api_key=args.api_key,
    )


def cmd_batch(args: argparse.Namespace) -> int:
    from asyncstt.cli.batch import BatchOptions, run_batch

    options = BatchOptions(
        source=args.prefix,
        out=args.out,
        deferred=args.deferred,
        max_in_flight=args.max_in_flight,
        language=args.language,
        detach=args.detach,
    )
    return run_batch(
        options,
        _execution_overrides(args, _settings(args)),
        server=args.server,
        api_key=args.api_key,
    )


def _result_format(text: str) -> str:
    """`--format`, taking `text` (its name before subtitles came) for `txt`."""
    return "txt" if text == "text" else text


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return number


def _add_recognition_options(parser: argparse.ArgumentParser) -> None:
    """The language, and where to send requests: `--server` with its key, or an embedded server."""
    parser.add_argument(
        "--language", default="", help="e.g. en-US, ru-RU, auto (default: the server's default)"
    )
    parser.add_argument(
        "--server", help="URL of a running asyncstt; default: start one in this process"
    )
    parser.add_argument("--api-key", help="API key for --server")
    parser.add_argument(
        "--workers", type=int, help="local cluster worker processes when no --server is given"
    )


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
        "transcribe",
        help="recognise local files through the API, printing the text or writing a result per file",
        description="Submit every file at once (the server queues them), show each one's progress, and "
        "write each result as OUT/<file stem>.<format>; a lone file with neither --out nor --resume is "
        "printed instead. Ctrl-C cancels what was submitted (or, with --detach, leaves it running).",
    )
    add_store_options(tr)
    tr.add_argument("files", nargs="+", metavar="FILE")
    tr.add_argument(
        "--format",
        type=_result_format,
        choices=["txt", "json", "srt", "vtt"],
        default="txt",
        help="text, the transcript as JSON, or SubRip / WebVTT subtitles (default txt)",
    )
    tr.add_argument(
        "--out", metavar="DIR", help="where results are written (default: the current directory)"
    )
    tr.add_argument(
        "--resume", action="store_true", help="skip the files whose result file exists already"
    )
    tr.add_argument(
        "--detach",
        action="store_true",
        help="on Ctrl-C leave the submitted operations running instead of cancelling them",
    )
    _add_recognition_options(tr)
    tr.add_argument(
        "--model",
        default="general",
        choices=["general", "deferred-general"],
        help="deferred-general: cheaper, started when no standard work waits",
    )
    tr.set_defaults(handler=cmd_transcribe)

    batch = commands.add_parser(
        "batch",
        help="recognise every audio object under an S3 prefix, writing <name>.json and <name>.txt",
        description="List the audio objects under the prefix and submit each by its s3:// link with an "
        "idempotency key made from its bucket, key and ETag, at most --max-in-flight at once; a re-run "
        "submits nothing twice and writes what has finished since. Storage endpoint and credentials come "
        "from the ASYNCSTT_STORAGE__* settings.",
    )
    add_store_options(batch)
    batch.add_argument("prefix", metavar="s3://BUCKET/PREFIX/")
    batch.add_argument(
        "--out",
        metavar="s3://BUCKET/OUT/ | DIR",
        default=".",
        help="where results are written: a prefix in the storage or a directory (default: .)",
    )
    mode = batch.add_mutually_exclusive_group()
    mode.add_argument(
        "--deferred",
        dest="deferred",
        action="store_true",
        default=True,
        help="deferred recognition: cheaper, started when no standard work waits (default)",
    )
    mode.add_argument(
        "--standard", dest="deferred", action="store_false", help="standard recognition"
    )
    batch.add_argument(
        "--max-in-flight",
        type=_positive,
        default=8,
        metavar="N",
        help="operations submitted and not yet finished at most (default 8)",
    )
    batch.add_argument(
        "--detach",
        action="store_true",
        help="on Ctrl-C leave the operations in flight running (a re-run picks them up)",
    )
    _add_recognition_options(batch)
    batch.set_defaults(handler=cmd_batch)

    add_admin_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result: int = args.handler(args)
    except CommandFailed as error:
        print(f"asyncstt: {error}", file=sys.stderr)
        return 1
    except AsyncSttError as error:
        print(f"asyncstt: {error.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return result
