"""Which languages a CTranslate2 Whisper model directory serves, read from its small files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from asyncstt.engines.base import EngineCapabilities
from asyncstt.engines.whisper_model import (
    MODEL_DIR_SETTING,
    ModelUnavailable,
    default_model_dir,
    describe,
)
from asyncstt.languages import SPEECHKIT_LANGUAGES
from asyncstt.settings import EngineSettings


def bundled_vocabulary() -> list[str]:
    return (default_model_dir() / "vocabulary.txt").read_text(encoding="utf-8").split("\n")[:-1]


def model_copy(directory: Path, vocabulary: list[str], *, as_json: bool = False) -> Path:
    """A model directory with the bundled small files and `vocabulary`; model.bin is an empty stand-in."""
    directory.mkdir()
    for name in ("config.json", "tokenizer.json"):
        shutil.copy(default_model_dir() / name, directory / name)
    (directory / "model.bin").touch()
    if as_json:
        (directory / "vocabulary.json").write_text(json.dumps(vocabulary), encoding="utf-8")
    else:
        (directory / "vocabulary.txt").write_text("\n".join(vocabulary) + "\n", encoding="utf-8")
    return directory


def multilingual(vocabulary: list[str]) -> list[str]:
    """The vocabulary as a multilingual Whisper has it: one more text token, empty, before <|endoftext|>."""
    end = vocabulary.index("<|endoftext|>")
    return [*vocabulary[:end], "", *vocabulary[end:]]


def test_bundled_model_is_english_only() -> None:
    capabilities = describe(EngineSettings())
    assert capabilities == EngineCapabilities(
        name="faster-whisper", languages=frozenset({"en-US"}), detects_language=False
    )
    assert (default_model_dir() / "model.bin").is_file()


@pytest.mark.parametrize("as_json", [False, True])
def test_multilingual_model_serves_every_language_it_has_a_token_for(
    tmp_path: Path, as_json: bool
) -> None:
    vocabulary = multilingual(bundled_vocabulary())
    directory = model_copy(tmp_path / "multi", vocabulary, as_json=as_json)
    capabilities = describe(EngineSettings(model_dir=directory))
    assert capabilities.detects_language
    # This vocabulary spells Hebrew <|iw|>, which faster-whisper cannot ask for, so he-HE is not served.
    assert capabilities.languages == frozenset(SPEECHKIT_LANGUAGES) - {"he-HE"}


def test_language_tokens_alone_do_not_make_a_model_multilingual(tmp_path: Path) -> None:
    vocabulary = bundled_vocabulary()
    assert "<|ru|>" in vocabulary
    directory = model_copy(tmp_path / "en", vocabulary)
    assert describe(EngineSettings(model_dir=directory)).languages == {"en-US"}


def test_missing_model_dir_names_the_path_and_the_setting(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(ModelUnavailable) as raised:
        describe(EngineSettings(model_dir=missing))
    assert str(missing) in raised.value.message
    assert MODEL_DIR_SETTING in raised.value.message


def test_model_dir_without_a_vocabulary_is_refused(tmp_path: Path) -> None:
    directory = model_copy(tmp_path / "broken", [])
    (directory / "vocabulary.txt").unlink()
    with pytest.raises(ModelUnavailable, match="no vocabulary"):
        describe(EngineSettings(model_dir=directory))


def test_unreadable_vocabulary_is_refused(tmp_path: Path) -> None:
    directory = model_copy(tmp_path / "broken", [], as_json=True)
    (directory / "vocabulary.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelUnavailable, match=MODEL_DIR_SETTING):
        describe(EngineSettings(model_dir=directory))
