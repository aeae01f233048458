"""Whether an engine serves the languages a request names: checked by the service when a request is submitted
and by the engines when they recognise, with the same rules and the same messages."""

from __future__ import annotations

from collections.abc import Iterable

from asyncstt.engines.base import EngineCapabilities
from asyncstt.errors import InvalidArgument
from asyncstt.languages import AUTO, canonical


def installed(capabilities: EngineCapabilities) -> str:
    """The served languages as the messages list them: sorted, comma-separated, `none` for none."""
    return ", ".join(sorted(capabilities.languages)) or "none"


def require_language(capabilities: EngineCapabilities, code: str) -> str:
    """The canonical spelling of `code` (any case, aliases resolved) if the engine can serve it: a language it
    serves, or `auto` when it detects the language."""
    resolved = canonical(code)
    if resolved == AUTO:
        if not capabilities.detects_language:
            raise InvalidArgument(
                f"language auto is not available: the installed model ({capabilities.name}) "
                f"cannot detect languages; name one of: {installed(capabilities)}"
            )
        return AUTO
    if resolved is None:
        raise _unknown(capabilities, code)
    if resolved not in capabilities.languages:
        raise InvalidArgument(
            f"language {resolved} is not installed; installed: {installed(capabilities)}"
        )
    return resolved


def require_candidates(
    capabilities: EngineCapabilities, candidates: Iterable[str]
) -> tuple[str, ...]:
    """The canonical codes of the candidate languages, in order, without repeats and `auto` (any language).

    A candidate the engine does not serve is refused like an unserved language: detection could never pick it.
    """
    codes: list[str] = []
    for candidate in candidates:
        if canonical(candidate) == AUTO:
            continue
        code = require_language(capabilities, candidate)
        if code not in codes:
            codes.append(code)
    return tuple(codes)


def languages_except(capabilities: EngineCapabilities, excluded: Iterable[str]) -> tuple[str, ...]:
    """The served languages other than `excluded` (a v3 BLACKLIST), sorted, as detection candidates."""
    dropped: set[str] = set()
    for code in excluded:
        resolved = canonical(code)
        if resolved is None or resolved == AUTO:
            raise _unknown(capabilities, code)
        dropped.add(resolved)
    remaining = tuple(sorted(capabilities.languages - dropped))
    if not remaining:
        raise InvalidArgument(
            f"the language blacklist leaves no installed language; installed: {installed(capabilities)}"
        )
    return remaining


def recognition_language(capabilities: EngineCapabilities, language: str | None) -> str | None:
    """The checked language an engine recognises `language` in; None to detect it (for None or `auto`).

    A model that serves one language and cannot detect takes `auto` as that language: it hears no other.
    """
    if language is None or canonical(language) == AUTO:
        if not capabilities.detects_language and len(capabilities.languages) == 1:
            return next(iter(capabilities.languages))
        language = AUTO
    code = require_language(capabilities, language)
    return None if code == AUTO else code


def detection_candidates(
    capabilities: EngineCapabilities, language: str | None, candidates: Iterable[str]
) -> tuple[str, ...]:
    """The checked candidates (see `require_candidates`) when `language` asks to detect, else none.

    They are checked even on a one-language model, which recognises `auto` in its language: a client that
    named only languages it does not serve gets told so instead of a transcript in another language.
    """
    if language is not None and canonical(language) != AUTO:
        return ()
    return require_candidates(capabilities, candidates)


def _unknown(capabilities: EngineCapabilities, code: str) -> InvalidArgument:
    return InvalidArgument(
        f"language {code.strip()} is not known; installed: {installed(capabilities)}"
    )
