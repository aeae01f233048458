"""Languages and candidate languages checked against what an engine serves, at submit and at recognition."""

from __future__ import annotations

import pytest

from asyncstt.engines.base import EngineCapabilities
from asyncstt.engines.language_check import (
    detection_candidates,
    installed,
    languages_except,
    recognition_language,
    require_candidates,
    require_language,
)
from asyncstt.errors import InvalidArgument
from asyncstt.languages import SPEECHKIT_LANGUAGES

ENGLISH = EngineCapabilities("x", frozenset({"en-US"}), detects_language=False)
MANY = EngineCapabilities("x", frozenset({"en-US", "ru-RU"}), detects_language=True)
TWO_NO_DETECTION = EngineCapabilities("x", frozenset({"en-US", "ru-RU"}), detects_language=False)
NOTHING = EngineCapabilities("x", frozenset(), detects_language=False)


def test_installed_languages_are_listed_sorted() -> None:
    assert installed(MANY) == "en-US, ru-RU"
    assert installed(NOTHING) == "none"


def test_require_language_is_canonical_and_installed() -> None:
    assert require_language(MANY, " RU-ru ") == "ru-RU"
    assert require_language(MANY, "AUTO") == "auto"
    with pytest.raises(
        InvalidArgument, match=r"^language ru-RU is not installed; installed: en-US$"
    ):
        require_language(ENGLISH, "ru-ru")
    with pytest.raises(
        InvalidArgument, match=r"^language xx-YY is not known; installed: en-US, ru-RU$"
    ):
        require_language(MANY, " xx-YY")


def test_auto_needs_a_detecting_model_even_with_one_language() -> None:
    message = (
        r"^language auto is not available: the installed model \(x\) cannot detect languages; "
        r"name one of: en-US$"
    )
    with pytest.raises(InvalidArgument, match=message):
        require_language(ENGLISH, "auto")


def test_recognition_language() -> None:
    assert recognition_language(MANY, "RU-ru") == "ru-RU"
    assert recognition_language(MANY, None) is None
    assert recognition_language(MANY, "auto") is None
    # A one-language model needs no detection: it can only hear its language.
    assert recognition_language(ENGLISH, None) == "en-US"
    assert recognition_language(ENGLISH, "auto") == "en-US"
    with pytest.raises(
        InvalidArgument, match=r"^language ru-RU is not installed; installed: en-US$"
    ):
        recognition_language(ENGLISH, "ru-RU")
    with pytest.raises(
        InvalidArgument, match=r"^language xx-YY is not known; installed: en-US, ru-RU$"
    ):
        recognition_language(MANY, "xx-YY")
    with pytest.raises(
        InvalidArgument, match=r"\(x\) cannot detect languages; name one of: en-US, ru-RU$"
    ):
        recognition_language(TWO_NO_DETECTION, None)


def test_candidates_are_canonical_unique_and_auto_means_any() -> None:
    capabilities = EngineCapabilities("fake", frozenset(SPEECHKIT_LANGUAGES), detects_language=True)
    assert require_candidates(capabilities, ["RU-ru", "auto", "en-US", "ru-RU"]) == (
        "ru-RU",
        "en-US",
    )
    assert require_candidates(capabilities, ["auto"]) == ()
    # `auto` among candidates is any language, so a model that cannot detect is not refused for it.
    assert require_candidates(ENGLISH, ["auto", "en-us"]) == ("en-US",)


def test_unserved_candidate_is_refused_with_what_is_served() -> None:
    with pytest.raises(
        InvalidArgument, match=r"^language ru-RU is not installed; installed: en-US$"
    ):
        require_candidates(ENGLISH, ["en-US", "ru-RU"])
    with pytest.raises(InvalidArgument, match=r"^language xx-XX is not known; installed: en-US$"):
        require_candidates(ENGLISH, ["xx-XX"])


def test_candidates_count_only_when_detecting() -> None:
    assert detection_candidates(MANY, None, ["ru-ru"]) == ("ru-RU",)
    assert detection_candidates(MANY, "auto", ["ru-ru", "en-US"]) == ("ru-RU", "en-US")
    assert detection_candidates(MANY, "en-US", ["ru-RU", "xx-YY"]) == ()
    # Checked even where `auto` is the one language, so an unserved candidate is not silently ignored.
    with pytest.raises(
        InvalidArgument, match=r"^language ru-RU is not installed; installed: en-US$"
    ):
        detection_candidates(ENGLISH, None, ["ru-RU"])


def test_a_blacklist_leaves_the_other_installed_languages() -> None:
    three = EngineCapabilities("x", frozenset({"en-US", "de-DE", "ru-RU"}), detects_language=True)
    assert languages_except(three, ["RU-ru"]) == ("de-DE", "en-US")
    assert languages_except(three, []) == ("de-DE", "en-US", "ru-RU")
    with pytest.raises(
        InvalidArgument, match=r"^language zz-ZZ is not known; installed: de-DE, en-US, ru-RU$"
    ):
        languages_except(three, ["zz-ZZ"])
    with pytest.raises(
        InvalidArgument, match=r"^language auto is not known; installed: de-DE, en-US, ru-RU$"
    ):
        languages_except(three, ["auto"])
    with pytest.raises(
        InvalidArgument,
        match=r"^the language blacklist leaves no installed language; installed: de-DE, en-US, ru-RU$",
    ):
        languages_except(three, ["ru-RU", "de-DE", "en-US"])
