"""What `asyncstt batch` names each result, the idempotency key it submits each object under, where results
go, and its summary table."""

from __future__ import annotations

from pathlib import Path

import pytest

from asyncstt.cli.batch import KEY_PREFIX, audio_seconds, idempotency_key, result_names
from asyncstt.cli.bucket import AudioObject, S3Prefix, is_audio
from asyncstt.cli.main import build_parser
from asyncstt.cli.outputs import DirectoryOutputs
from asyncstt.cli.summary import FAILURE_COLUMNS, TOTALS_COLUMNS, Failure, Summary
from asyncstt.client import Recognition
from asyncstt.errors import InvalidArgument
from asyncstt.recognition import Transcript


def _object(key: str, etag: str = "e1", bucket: str = "audio") -> AudioObject:
    return AudioObject(bucket, key, etag, 100)


def _key(
    item: AudioObject, language: str = "en-US", deferred: bool = True, after: str | None = None
) -> str:
    return idempotency_key(item, language=language, deferred=deferred, after=after)


def test_a_prefix_is_a_bucket_and_the_start_of_keys() -> None:
    assert S3Prefix.parse("s3://audio/calls/2026/") == S3Prefix("audio", "calls/2026/")
    assert S3Prefix.parse("s3://audio") == S3Prefix("audio", "")
    assert str(S3Prefix("audio", "calls/")) == "s3://audio/calls/"


@pytest.mark.parametrize("text", ["audio/calls/", "https://host/audio/", "s3:///calls/"])
def test_other_links_are_refused(text: str) -> None:
    with pytest.raises(InvalidArgument, match="is not an s3://bucket/prefix/ link"):
        S3Prefix.parse(text)


def test_audio_is_told_by_the_name_s_ending() -> None:
    assert [is_audio(k) for k in ("a.wav", "b.MP3", "c.ogg", "d.flac", "e.opus")] == [True] * 5
    assert [is_audio(k) for k in ("a.json", "b.txt", "c.pcm", "calls/", ".wav")] == [False] * 5


def test_names_are_keys_below_the_prefix_without_their_ending() -> None:
    items = [_object("calls/a.wav"), _object("calls/2026/b.mp3")]
    assert result_names(items, "calls/") == {"a": items[0], "2026/b": items[1]}


def test_a_prefix_that_is_not_a_folder_names_from_its_folder() -> None:
    items = [_object("calls/jfk-1.wav")]
    assert result_names(items, "calls/jfk") == {"jfk-1": items[0]}


def test_names_that_would_collide_keep_their_ending() -> None:
    items = [_object("in/a.wav"), _object("in/a.mp3"), _object("in/b.wav")]
    assert result_names(items, "in/") == {"a.wav": items[0], "a.mp3": items[1], "b": items[2]}


def test_no_name_leads_out_of_the_output_folder() -> None:
    items = [_object("in/../../etc/x.wav"), _object("in//./y.wav")]
    assert list(result_names(items, "in/")) == ["etc/x", "y"]


def test_the_key_is_the_same_for_the_same_object_asked_the_same_way() -> None:
    key = _key(_object("in/a.wav"))
    assert key == _key(_object("in/a.wav"))
    assert key.startswith(KEY_PREFIX)
    assert len(key) <= 255


@pytest.mark.parametrize(
    "other",
    [
        _key(_object("in/a.wav", etag="e2")),
        _key(_object("in/b.wav")),
        _key(_object("in/a.wav", bucket="other")),
        _key(_object("in/a.wav"), language="ru-RU"),
        _key(_object("in/a.wav"), deferred=False),
        _key(_object("in/a.wav"), after="op-cancelled"),
    ],
)
def test_a_changed_object_or_request_gets_a_new_key(other: str) -> None:
    assert other != _key(_object("in/a.wav"))


def test_audio_hours_come_from_the_transcript_else_the_progress() -> None:
    assert audio_seconds(Recognition(Transcript(duration_seconds=11.0)), 22.0) == 11.0
    assert audio_seconds(Recognition(Transcript()), 22.0) == 22.0


def test_a_directory_output_counts_a_name_once_both_files_are_there(tmp_path: Path) -> None:
    outputs = DirectoryOutputs(tmp_path)
    assert not outputs.written("2026/a")
    outputs.write("2026/a", {".txt": "ask not\n", ".json": "{}\n"})
    assert outputs.written("2026/a")
    assert (tmp_path / "2026" / "a.txt").read_text() == "ask not\n"
    assert sorted(p.name for p in (tmp_path / "2026").iterdir()) == ["a.json", "a.txt"]
    (tmp_path / "2026" / "a.json").unlink()
    assert not outputs.written("2026/a")


def test_the_summary_counts_files_hours_and_failures(capsys: pytest.CaptureFixture[str]) -> None:
    summary = Summary(
        files=4,
        written={"a": 1800.0, "b": 1800.0},
        already_written=["c"],
        failures=[Failure("d", "op-d", "could not recognise the audio format")],
    )
    assert summary.totals_row() == ("4", "2", "1", "1", "1.000")
    summary.print()
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "\t".join(TOTALS_COLUMNS),
        "4\t2\t1\t1\t1.000",
        "\t".join(FAILURE_COLUMNS),
        "d\top-d\tcould not recognise the audio format",
    ]


def test_a_refused_submit_has_no_operation_in_the_summary() -> None:
    summary = Summary(files=1, failures=[Failure("a", "", "the bucket is not readable")])
    assert summary.failure_rows() == [("a", "-", "the bucket is not readable")]


def test_batch_is_deferred_unless_standard_is_asked_for() -> None:
    parser = build_parser()
    assert parser.parse_args(["batch", "s3://a/in/"]).deferred is True
    assert parser.parse_args(["batch", "s3://a/in/", "--standard"]).deferred is False
    args = parser.parse_args(
        ["batch", "s3://a/in/", "--out", "s3://a/out/", "--max-in-flight", "3"]
    )
    assert (args.out, args.max_in_flight) == ("s3://a/out/", 3)


def test_max_in_flight_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["batch", "s3://a/in/", "--max-in-flight", "0"])
    assert "'0' is not a positive whole number" in capsys.readouterr().err
