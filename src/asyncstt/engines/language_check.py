"""Whether an engine serves the languages a request names, checked against its capabilities."""

from __future__ import annotations

from collections.abc import Sequence

from asyncstt.engines.base import EngineCapabilities
from asyncstt.errors import InvalidArgument
from asyncstt.languages import AUTO, canonical


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
