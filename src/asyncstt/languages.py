"""Language codes: SpeechKit's BCP-47 spelling, its aliases, and the ISO 639-1 codes engines use."""

from __future__ import annotations

#: Language code SpeechKit uses -> ISO 639-1 code of the language.
SPEECHKIT_LANGUAGES: dict[str, str] = {
    "de-DE": "de",
    "en-US": "en",
    "es-ES": "es",
    "fi-FI": "fi",
    "fr-FR": "fr",
    "he-HE": "he",
    "it-IT": "it",
    "kk-KZ": "kk",
    "nl-NL": "nl",
    "pl-PL": "pl",
    "pt-PT": "pt",
    "pt-BR": "pt",
    "ru-RU": "ru",
    "sv-SE": "sv",
    "tr-TR": "tr",
    "uz-UZ": "uz",
}

#: Ask the engine to detect the language.
AUTO = "auto"

_ALIASES = {"kk-kk": "kk-KZ"}
_BY_LOWER = {code.lower(): code for code in SPEECHKIT_LANGUAGES}
#: ISO 639-1 -> the SpeechKit code reported for it (the first listed wins, e.g. `pt` -> `pt-PT`).
_BY_ISO: dict[str, str] = {}
for _code, _iso in SPEECHKIT_LANGUAGES.items():
    _BY_ISO.setdefault(_iso, _code)


def canonical(code: str) -> str | None:
    """The SpeechKit spelling of `code` (case-insensitive, aliases resolved), `auto`, or None when unknown."""
    lowered = code.strip().lower()
    if lowered == AUTO:
        return AUTO
    return _ALIASES.get(lowered) or _BY_LOWER.get(lowered)


def to_iso639(code: str) -> str:
    """ISO 639-1 code of a canonical SpeechKit code (`ru-RU` -> `ru`)."""
    return SPEECHKIT_LANGUAGES[code]


def from_iso639(iso: str) -> str:
    """The SpeechKit code for an ISO 639-1 code an engine reports; `xx-XX` style for languages not listed."""
    return _BY_ISO.get(iso, f"{iso}-{iso.upper()}")
