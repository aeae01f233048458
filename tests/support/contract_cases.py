"""Requests and the answers the contract promises, written once for both doors: REST sends each body as JSON,
gRPC as the official message (`json_format.ParseDict`). A case added to a shared table is tested at both doors;
a case only one door can send (a JSON syntax error, an enum number) stays in that door's test."""

from __future__ import annotations

from typing import Any

from asyncstt.iam.auth import Principal
from tests.support.twins import FOLDER, SERVICE_ACCOUNT

URI = "s3://acme-calls/call-0002.wav"
CALLER = Principal(FOLDER, SERVICE_ACCOUNT)
EN_ONLY = {"restrictionType": "WHITELIST", "languageCode": ["en-US"]}


def v3_body(**fields: Any) -> dict[str, Any]:
    """A v3 request by link asking for en-US, the one installed language, unless `fields` say otherwise."""
    return {"uri": URI, "recognitionModel": {"languageRestriction": EN_ONLY}} | fields


#: v3 bodies each door refuses as an invalid argument, with the message both give.
V3_REFUSALS: list[tuple[dict[str, Any], str]] = [
    (
        v3_body(
            speakerLabeling={"speakerLabeling": "SPEAKER_LABELING_ENABLED"},
            recognitionModel={
                "audioFormat": {"rawAudio": {"audioChannelCount": 2}},
                "languageRestriction": EN_ONLY,
            },
        ),
        "speakerLabeling works on mono audio only; this audio has 2 channels "
        "(each channel is reported with its own channelTag without it)",
    ),
    (
        v3_body(recognitionClassifier={"classifiers": [{"classifier": "insult"}]}),
        'recognitionClassifier: classifier "insult" is not available on this server; '
        "the one it serves is profanity",
    ),
    (
        v3_body(speechAnalysis={"descriptiveStatisticsQuantiles": [2]}),
        "speechAnalysis.descriptiveStatisticsQuantiles: 2 is not a level from 0 to 1",
    ),
    (
        v3_body(summarization={"modelUri": "gpt://b1g/yandexgpt"}),
        "summarization is not available on this server; leave it out",
    ),
    (
        v3_body(recognitionModel={"model": "general-v9", "languageRestriction": EN_ONLY}),
        "model general-v9 is not known; use one of: general, general:rc, general:deprecated, "
        "deferred-general, deferred-general:rc, deferred-general:deprecated",
    ),
    (
        v3_body(
            recognitionModel={
                "audioFormat": {"rawAudio": {"sampleRateHertz": 44100}},
                "languageRestriction": EN_ONLY,
            }
        ),
        "sample rate 44100 Hz is not allowed for LINEAR16_PCM; use 8000, 16000, 48000",
    ),
    (
        v3_body(
            recognitionModel={
                "audioFormat": {"rawAudio": {"audioChannelCount": 3}},
                "languageRestriction": EN_ONLY,
            }
        ),
        "audio channel count 3 is not allowed; use 1 to 2",
    ),
    (
        v3_body(recognitionModel={"languageRestriction": {"languageCode": ["ru-RU"]}}),
        "language ru-RU is not installed; installed: en-US",
    ),
    (
        v3_body(recognitionModel={"languageRestriction": {"languageCode": ["auto"]}}),
        "language auto is not available: the installed model (fake) cannot detect languages; "
        "name one of: en-US",
    ),
]
#: A v3 body with neither a link nor content, and the message both doors refuse it with.
V3_WITHOUT_AUDIO = (
    {"recognitionModel": {"languageRestriction": EN_ONLY}},
    "the request needs uri (a link to the audio) or content",
)
#: A v3 body whose link's scheme the stub link checker does not support.
V3_FTP_LINK = (
    v3_body(uri="ftp://acme/call.wav"),
    "links like ftp://acme/call.wav are not supported",
)

#: Over the MULTILINGUAL engine of tests/support/twins.py: a v3 language restriction allowing languages (or none
#: at all), and the language and candidates the operation is stored with.
V3_DETECTION_ALLOWED: list[tuple[dict[str, Any] | None, str, tuple[str, ...]]] = [
    (None, "ru-RU", ()),
    ({"restrictionType": "WHITELIST", "languageCode": ["auto"]}, "auto", ()),
    (
        {"restrictionType": "WHITELIST", "languageCode": ["de-de", "EN-US"]},
        "auto",
        ("de-DE", "en-US"),
    ),
]
#: The same for restrictions that block languages.
V3_DETECTION_BLOCKED: list[tuple[dict[str, Any] | None, str, tuple[str, ...]]] = [
    ({"restrictionType": "BLACKLIST", "languageCode": ["ru-RU"]}, "auto", ("de-DE", "en-US")),
    ({"restrictionType": "BLACKLIST", "languageCode": ["ru-RU", "de-DE"]}, "en-US", ()),
    ({"restrictionType": "BLACKLIST", "languageCode": []}, "auto", ()),
]
#: Over the same engine: a v3 language restriction each door refuses, with the message.
V3_RESTRICTION_REFUSALS: list[tuple[dict[str, Any], str]] = [
    (
        {"restrictionType": "WHITELIST", "languageCode": ["en-US", "xx-YY"]},
        "language xx-YY is not known; installed: de-DE, en-US, ru-RU",
    ),
    (
        {"restrictionType": "WHITELIST", "languageCode": ["en-US", "fr-FR"]},
        "language fr-FR is not installed; installed: de-DE, en-US, ru-RU",
    ),
    (
        {"restrictionType": "BLACKLIST", "languageCode": ["zz-ZZ"]},
        "language zz-ZZ is not known; installed: de-DE, en-US, ru-RU",
    ),
    (
        {"restrictionType": "BLACKLIST", "languageCode": ["ru-RU", "de-DE", "en-US"]},
        "the language blacklist leaves no installed language; installed: de-DE, en-US, ru-RU",
    ),
]
