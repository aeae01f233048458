"""Language detection restricted to the languages a client named (v3 `language_restriction`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from asyncstt.errors import InvalidArgument


def choose_language(
    probabilities: Mapping[str, float], candidates: Sequence[str]
) -> tuple[str, float]:
    """The most probable of `candidates` and its probability renormalised among them.

    `probabilities` maps BCP-47 codes to what detection measured over every language the model knows. The
    probability is renormalised so that the candidates' add up to 1: the client ruled the other languages out,
    so `ru-RU` at 0.30 against `en-US` at 0.10 is reported as 0.75. When detection gave none of the candidates
    any probability, the first candidate wins at an even share. Ties go to the earlier candidate.
    """
    if not candidates:
        raise InvalidArgument("language detection among candidates needs at least one candidate")
    measured = [max(float(probabilities.get(code, 0.0)), 0.0) for code in candidates]
    total = sum(measured)
    if total <= 0.0:
        return candidates[0], 1.0 / len(candidates)
    best = max(range(len(candidates)), key=lambda i: (measured[i], -i))
    return candidates[best], measured[best] / total
