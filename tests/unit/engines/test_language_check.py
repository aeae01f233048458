"""Languages and candidate languages checked against what an engine serves."""

from __future__ import annotations

import pytest

from asyncstt.engines.base import EngineCapabilities
from asyncstt.engines.language_check import require_candidates, require_language
from asyncstt.errors import InvalidArgument
from asyncstt.languages import SPEECHKIT_LANGUAGES

ENGLISH = EngineCapabilities("x", frozenset({"en-US"}), detects_language=False)
MANY = EngineCapabilities("x", frozenset({"en-US", "ru-RU"}), detects_language=True)
TWO_NO_DETECTION = EngineCapabilities("x", frozenset({"en-US", "ru-RU"}), detects_language=False)


def test_require_language() -> None:
    assert require_language(MANY, "RU-ru") == "ru-RU"
    assert require_language(MANY, None) is None
    assert require_language(MANY, "auto") is None
    # A one-language model needs no detection: it can only hear its language.
    assert require_language(ENGLISH, None) == "en-US"
    with pytest.raises(InvalidArgument, match=r"ru-RU is not served .* en-US"):
        require_language(ENGLISH, "ru-RU")
    with pytest.raises(InvalidArgument, match="not served"):
        require_language(MANY, "xx-YY")
    with pytest.raises(InvalidArgument, match="cannot detect"):
        require_language(TWO_NO_DETECTION, "auto")


def test_candidates_are_canonical_unique_and_auto_means_any() -> None:
    capabilities = EngineCapabilities("fake", frozenset(SPEECHKIT_LANGUAGES), detects_language=True)
    assert require_candidates(capabilities, ["RU-ru", "auto", "en-US", "ru-RU"]) == (
        "ru-RU",
        "en-US",
    )
    assert require_candidates(capabilities, ["auto"]) == ()


def test_unserved_candidate_is_refused_with_what_is_served() -> None:
    with pytest.raises(InvalidArgument, match=r"ru-RU is not served.*en-US"):
        require_candidates(ENGLISH, ["en-US", "ru-RU"])
    with pytest.raises(InvalidArgument, match="xx-XX"):
        require_candidates(ENGLISH, ["xx-XX"])
