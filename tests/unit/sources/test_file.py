from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

import pytest

from asyncstt.errors import InvalidArgument, NotFound
from asyncstt.settings import FileSourceSettings
from asyncstt.sources.file import FileSource


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "audio"
    folder.mkdir()
    (folder / "call.wav").write_bytes(b"RIFF" + b"\0" * 60)
    (tmp_path / "secret.txt").write_text("do not read")
    return folder


@pytest.fixture
def source(root: Path) -> FileSource:
    return FileSource(FileSourceSettings(root=root))


def test_file_links_are_off_without_a_root() -> None:
    source = FileSource(FileSourceSettings())
    with pytest.raises(InvalidArgument, match=r"file_sources\.root") as caught:
        source.validate("file:///tmp/call.wav")
    assert "ASYNCSTT_FILE_SOURCES__ROOT" in caught.value.message


def test_a_file_under_the_root_is_read(source: FileSource, root: Path, tmp_path: Path) -> None:
    uri = (root / "call.wav").as_uri()
    assert source.validate(uri) == (root / "call.wav").resolve().as_uri()
    target = tmp_path / "copy"
    assert source.fetch(uri, target, 1000) == 64
    assert target.read_bytes() == (root / "call.wav").read_bytes()


def test_percent_encoded_names_are_decoded(source: FileSource, root: Path, tmp_path: Path) -> None:
    (root / "my call+1.wav").write_bytes(b"abc")
    uri = "file://" + quote(str(root / "my call+1.wav"))
    assert "%20" in uri
    assert source.fetch(uri, tmp_path / "copy", 10) == 3


def test_localhost_is_the_only_host_allowed(source: FileSource, root: Path) -> None:
    assert source.validate("file://localhost" + quote(str(root / "call.wav")))
    with pytest.raises(InvalidArgument, match="local path"):
        source.validate("file://fileserver" + quote(str(root / "call.wav")))


@pytest.mark.parametrize("escape", ["/../secret.txt", "/%2E%2E/secret.txt", "/./../secret.txt"])
def test_dot_dot_cannot_leave_the_root(source: FileSource, root: Path, escape: str) -> None:
    with pytest.raises(InvalidArgument, match="outside the directory"):
        source.validate("file://" + quote(str(root)) + escape)


def test_a_symlink_pointing_out_of_the_root_is_refused(
    source: FileSource, root: Path, tmp_path: Path
) -> None:
    (root / "innocent.wav").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(InvalidArgument, match="outside the directory"):
        source.validate((root / "innocent.wav").as_uri())
    with pytest.raises(InvalidArgument, match="outside the directory"):
        source.fetch((root / "innocent.wav").as_uri(), tmp_path / "copy", 1000)
    assert not (tmp_path / "copy").exists()


def test_a_symlinked_directory_out_of_the_root_is_refused(
    source: FileSource, root: Path, tmp_path: Path
) -> None:
    (root / "elsewhere").symlink_to(tmp_path)
    with pytest.raises(InvalidArgument, match="outside the directory"):
        source.validate((root / "elsewhere" / "secret.txt").as_uri())


def test_a_symlink_inside_the_root_is_followed(
    source: FileSource, root: Path, tmp_path: Path
) -> None:
    (root / "latest.wav").symlink_to(root / "call.wav")
    assert source.validate((root / "latest.wav").as_uri()) == (root / "call.wav").resolve().as_uri()
    assert source.fetch((root / "latest.wav").as_uri(), tmp_path / "copy", 1000) == 64


def test_a_sibling_sharing_the_root_prefix_is_outside(source: FileSource, root: Path) -> None:
    sibling = root.parent / (root.name + "-other")
    sibling.mkdir()
    (sibling / "a.wav").write_bytes(b"x")
    with pytest.raises(InvalidArgument, match="outside the directory"):
        source.validate((sibling / "a.wav").as_uri())


def test_a_root_reached_through_a_symlink_still_works(root: Path, tmp_path: Path) -> None:
    link = tmp_path / "root-link"
    link.symlink_to(root)
    source = FileSource(FileSourceSettings(root=link))
    assert source.fetch((link / "call.wav").as_uri(), tmp_path / "copy", 1000) == 64


def test_relative_paths_are_refused(source: FileSource) -> None:
    with pytest.raises(InvalidArgument, match="absolute path"):
        source.validate("file:call.wav")


def test_a_missing_file_is_not_found(source: FileSource, root: Path, tmp_path: Path) -> None:
    uri = (root / "gone.wav").as_uri()
    assert source.validate(uri)
    with pytest.raises(NotFound, match=r"gone\.wav"):
        source.fetch(uri, tmp_path / "copy", 1000)


def test_directories_and_fifos_are_refused(source: FileSource, root: Path, tmp_path: Path) -> None:
    (root / "folder").mkdir()
    with pytest.raises(InvalidArgument, match="not a regular file"):
        source.fetch((root / "folder").as_uri(), tmp_path / "copy", 1000)
    os.mkfifo(root / "pipe")
    with pytest.raises(InvalidArgument, match="not a regular file"):
        source.fetch((root / "pipe").as_uri(), tmp_path / "copy", 1000)


def test_an_oversized_file_is_refused_before_copying(
    source: FileSource, root: Path, tmp_path: Path
) -> None:
    with pytest.raises(InvalidArgument, match="the file is 64 bytes; the limit is 63 bytes"):
        source.fetch((root / "call.wav").as_uri(), tmp_path / "copy", 63)
    assert not (tmp_path / "copy").exists()
