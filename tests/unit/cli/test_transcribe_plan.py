"""Where `asyncstt transcribe` writes each file's result, what `--resume` skips, and how results are rendered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from asyncstt.cli.main import build_parser
from asyncstt.cli.transcribe import Job, Outcome, already_done, plan, render
from asyncstt.client import Recognition
from asyncstt.errors import InvalidArgument
from asyncstt.recognition import Transcript, Utterance, Word


def _recognition() -> Recognition:
    words = (Word("ask", 0.0, 0.4), Word("not", 0.5, 0.9))
    utterance = Utterance(
        channel=0, start=0.0, end=0.9, words=words, raw_text="ask not", text="Ask not."
    )
    return Recognition(Transcript(utterances=(utterance,), duration_seconds=1.0))


def test_a_lone_file_without_out_or_resume_is_printed() -> None:
    assert plan([Path("in/a.wav")], None, "txt", resume=False) == [Job(Path("in/a.wav"), None)]


def test_results_are_named_by_the_file_stem_and_the_format_in_out() -> None:
    jobs = plan([Path("in/a.wav"), Path("other/b.mp3")], Path("out"), "srt", resume=False)
    assert [(job.name, job.target) for job in jobs] == [
        ("a.wav", Path("out/a.srt")),
        ("b.mp3", Path("out/b.srt")),
    ]


def test_several_files_without_out_go_to_the_current_directory() -> None:
    jobs = plan([Path("in/a.wav"), Path("in/b.wav")], None, "vtt", resume=False)
    assert [job.target for job in jobs] == [Path("a.vtt"), Path("b.vtt")]


def test_resume_needs_a_file_even_for_a_lone_input() -> None:
    assert plan([Path("in/a.wav")], None, "json", resume=True) == [
        Job(Path("in/a.wav"), Path("a.json"))
    ]


def test_two_files_with_one_result_name_are_refused_before_anything_is_sent() -> None:
    with pytest.raises(InvalidArgument, match=r"in/a.wav and x/a.ogg would both be written to"):
        plan([Path("in/a.wav"), Path("x/a.ogg")], Path("out"), "txt", resume=False)


def test_a_file_given_twice_is_recognised_once() -> None:
    jobs = plan([Path("in/a.wav"), Path("in/a.wav")], Path("out"), "txt", resume=False)
    assert jobs == [Job(Path("in/a.wav"), Path("out/a.txt"))]


def test_resume_skips_the_jobs_whose_result_file_exists(tmp_path: Path) -> None:
    (tmp_path / "a.srt").write_text("1\n")
    jobs = plan([Path("a.wav"), Path("b.wav")], tmp_path, "srt", resume=True)
    run, skip = already_done(jobs, resume=True)
    assert [job.name for job in run] == ["b.wav"]
    assert [job.name for job in skip] == ["a.wav"]


def test_without_resume_existing_results_are_written_again(tmp_path: Path) -> None:
    (tmp_path / "a.srt").write_text("1\n")
    jobs = plan([Path("a.wav"), Path("b.wav")], tmp_path, "srt", resume=False)
    assert already_done(jobs, resume=False) == (jobs, [])


def test_each_format_renders_the_recognition() -> None:
    recognition = _recognition()
    assert render(recognition, "txt") == "Ask not.\n"
    assert json.loads(render(recognition, "json")) == recognition.to_json()
    assert render(recognition, "srt") == recognition.srt()
    assert render(recognition, "vtt") == recognition.vtt()
    assert render(recognition, "vtt").startswith("WEBVTT")


def test_the_exit_code_says_interrupted_then_failed_then_fine() -> None:
    assert Outcome({}).exit_code == 0
    assert Outcome({"a.wav": "bad audio"}).exit_code == 1
    assert Outcome({"a.wav": "bad audio"}, interrupted=True).exit_code == 130


def test_the_parser_takes_many_files_and_text_for_txt() -> None:
    args = build_parser().parse_args(
        ["transcribe", "a.wav", "b.wav", "--format", "text", "--out", "o", "--resume", "--detach"]
    )
    assert (args.files, args.format, args.out, args.resume, args.detach) == (
        ["a.wav", "b.wav"],
        "txt",
        "o",
        True,
        True,
    )


def test_the_parser_refuses_an_unknown_format(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["transcribe", "a.wav", "--format", "docx"])
    assert "invalid choice: 'docx'" in capsys.readouterr().err
