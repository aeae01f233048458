from __future__ import annotations

from asyncstt.analysis.classifier import profanity
from asyncstt.recognition import Utterance, Word


def utterance(*words: tuple[str, float]) -> Utterance:
    timed = tuple(Word(text, i, i + 0.5, confidence) for i, (text, confidence) in enumerate(words))
    return Utterance(0, 0.0, len(words) - 0.5, timed, "", "")


def test_profane_words_are_found_with_the_surest_recognition_confidence_among_them() -> None:
    verdict = profanity(
        utterance(("oh", 0.9), ("shit", 0.6), ("fucking", 0.8), ("hell", 1.0)), "en-US"
    )

    assert [word.text for word in verdict.words] == ["shit", "fucking"]
    assert verdict.confidence == 0.8


def test_words_the_profanity_filter_masked_are_profane() -> None:
    verdict = profanity(utterance(("what", 1.0), ("the", 1.0), ("f******", 0.7)), "en-US")

    assert [word.text for word in verdict.words] == ["f******"]
    assert verdict.confidence == 0.7


def test_the_russian_list_applies_to_russian_and_the_english_one_everywhere() -> None:
    verdict = profanity(utterance(("блядь", 0.9), ("fuck", 0.5), ("привет", 1.0)), "ru-RU")

    assert [word.text for word in verdict.words] == ["блядь", "fuck"]


def test_a_clean_utterance_has_no_profanity_and_no_confidence() -> None:
    verdict = profanity(utterance(("good", 1.0), ("morning", 1.0)), "en-US")

    assert (verdict.words, verdict.confidence) == ((), 0.0)
