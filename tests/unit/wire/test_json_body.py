from __future__ import annotations

from typing import Any

import pytest
from yandex.cloud.ai.stt.v2 import stt_service_pb2
from yandex.cloud.ai.stt.v3 import stt_pb2

from asyncstt.wire.json_body import is_enum_value

V2_ENCODING = stt_service_pb2.RecognitionSpec.DESCRIPTOR.enum_types_by_name["AudioEncoding"]
V3_CONTAINER = stt_pb2.ContainerAudio.DESCRIPTOR.enum_types_by_name["ContainerAudioType"]


@pytest.mark.parametrize(
    ("value", "known"),
    [
        ("OGG_OPUS", True),
        ("AUDIO_ENCODING_UNSPECIFIED", True),
        (2, True),
        (0, True),
        ("ogg_opus", False),
        ("WAV", False),
        ("2", False),
        (7, False),
        (-1, False),
        (True, False),
        (2.0, False),
        (None, False),
        (["MP3"], False),
    ],
)
def test_a_json_value_names_an_enum_value_by_name_or_number(value: Any, known: bool) -> None:
    assert is_enum_value(value, V2_ENCODING) is known


def test_each_enum_has_its_own_values() -> None:
    assert is_enum_value("WAV", V3_CONTAINER)
    assert not is_enum_value("WAV", V2_ENCODING)
    assert not is_enum_value("LINEAR16_PCM", V3_CONTAINER)
