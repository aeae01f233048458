"""scripts/speaker_encoder.py reads torch's legacy checkpoint format without torch, and runs none of its code.

The checkpoint is written here as torch writes one (five pickles, then the raw storages), its torch classes
stood in for by modules registered for the moment of pickling.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import struct
import sys
import types
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from scripts.speaker_encoder import read_checkpoint

MAGIC = 0x1950A86A20F9469CFC6C


class _Storage:
    def __init__(self, key: str, data: NDArray[np.float32]) -> None:
        self.key = key
        self.data = data


class _Tensor:
    def __init__(
        self, storage: _Storage, offset: int, shape: tuple[int, ...], stride: tuple[int, ...]
    ) -> None:
        self.args: tuple[Any, ...] = (storage, offset, shape, stride, False, {})

    def __reduce__(self) -> tuple[Any, ...]:
        return sys.modules["torch._utils"]._rebuild_tensor_v2, self.args


def legacy_checkpoint(monkeypatch: pytest.MonkeyPatch, obj: Any, storages: list[_Storage]) -> bytes:
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*args: Any) -> None:
        raise AssertionError("only pickled, never called")

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    float_storage = type("FloatStorage", (), {"__module__": "torch"})
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2  # type: ignore[attr-defined]
    torch.FloatStorage = float_storage  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "torch._utils", utils)

    class Pickler(pickle.Pickler):
        def persistent_id(self, item: Any) -> Any:
            if isinstance(item, _Storage):
                return ("storage", float_storage, item.key, "cpu", len(item.data), None)
            return None

    out = io.BytesIO()
    for header in (MAGIC, 1001, {"protocol_version": 1001, "little_endian": True}):
        pickle.dump(header, out, protocol=2)
    Pickler(out, protocol=2).dump(obj)
    pickle.dump([storage.key for storage in storages], out, protocol=2)
    for storage in storages:
        out.write(struct.pack("<q", len(storage.data)))
        out.write(storage.data.astype("<f4").tobytes())
    return out.getvalue()


def test_tensors_come_back_as_numpy_with_their_shapes_and_strides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    weights = np.arange(12, dtype=np.float32)
    bias = np.array([0.5, -1.5], np.float32)
    shared = _Storage("140001", weights)
    state = collections.OrderedDict(
        [
            ("lstm.weight_ih_l0", _Tensor(shared, 0, (3, 4), (4, 1))),
            # A transposed view of the same storage, as torch saves `.t()` without copying.
            ("linear.weight", _Tensor(shared, 0, (4, 3), (1, 4))),
            ("linear.bias", _Tensor(_Storage("140002", bias), 0, (2,), (1,))),
        ]
    )
    data = legacy_checkpoint(
        monkeypatch, {"step": 7, "model_state": state}, [shared, _Storage("140002", bias)]
    )
    monkeypatch.delitem(sys.modules, "torch")
    monkeypatch.delitem(sys.modules, "torch._utils")
    loaded = read_checkpoint(io.BytesIO(data))
    assert loaded["step"] == 7
    model = loaded["model_state"]
    assert np.array_equal(model["lstm.weight_ih_l0"], weights.reshape(3, 4))
    assert np.array_equal(model["linear.weight"], weights.reshape(3, 4).T)
    assert np.array_equal(model["linear.bias"], bias)


class _Shell:
    def __reduce__(self) -> tuple[Any, ...]:
        return os.system, ("echo owned",)


def test_a_checkpoint_naming_anything_but_tensors_is_refused() -> None:
    out = io.BytesIO()
    headers: tuple[Any, ...] = (MAGIC, 1001, {})
    for header in headers:
        pickle.dump(header, out, protocol=2)
    pickle.dump({"model_state": _Shell()}, out, protocol=2)
    with pytest.raises(pickle.UnpicklingError, match=r"names posix\.system|names nt\.system"):
        read_checkpoint(io.BytesIO(out.getvalue()))


def test_a_file_of_another_format_is_refused() -> None:
    with pytest.raises(ValueError, match="not a legacy torch checkpoint"):
        read_checkpoint(io.BytesIO(pickle.dumps(12345, protocol=2)))
