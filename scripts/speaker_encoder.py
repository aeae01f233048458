"""Converts resemblyzer's GE2E speaker encoder (`resemblyzer/pretrained.pt`) into the weights file that
`asyncstt.speakers.encoder` reads, without torch.

    pip download resemblyzer==0.1.4 --no-deps -d /tmp/rz
    python3 -m scripts.speaker_encoder /tmp/rz/Resemblyzer-0.1.4-py3-none-any.whl

The checkpoint is torch's legacy serialisation: five pickles in a row (magic number, protocol version, system
info, the object, the storage keys), then each storage's raw little-endian bytes after its 8-byte element count.
A restricted unpickler admits only the few globals such a checkpoint names (OrderedDict, the tensor rebuilder and
the storage classes) and turns them into numpy, so no code of the file runs. The weights are kept as float16,
at half the size in the package: embeddings of jfk.wav's and the LibriVox recordings' 1.6 s windows from them
stay within 2e-6 in cosine of those from the float32 weights (measured when converting).
"""

from __future__ import annotations

import argparse
import collections
import io
import pickle
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

TARGET = Path(__file__).resolve().parent.parent / "src/asyncstt/speakers/encoder.npz"
WHEEL_MEMBER = "resemblyzer/pretrained.pt"
#: The tensors of the voice encoder; the checkpoint also holds the training-only similarity scale and bias.
KEPT = (
    *(f"lstm.{kind}_l{layer}" for layer in range(3) for kind in ("weight_ih", "weight_hh")),
    *(f"lstm.{kind}_l{layer}" for layer in range(3) for kind in ("bias_ih", "bias_hh")),
    "linear.weight",
    "linear.bias",
)
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_DTYPES: dict[str, type[np.generic]] = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
}


@dataclass(frozen=True)
class _Storage:
    """A storage named in the object pickle, filled once the raw bytes after the pickles are read."""

    key: str
    dtype: type[np.generic]


@dataclass(frozen=True)
class _TensorRef:
    """What `torch._utils._rebuild_tensor_v2` was asked to build: a strided view of one storage."""

    storage: _Storage
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor(
    storage: _Storage, offset: int, shape: tuple[int, ...], stride: tuple[int, ...], *_: Any
) -> _TensorRef:
    return _TensorRef(storage, offset, tuple(shape), tuple(stride))


class _StorageType:
    def __init__(self, name: str) -> None:
        self.name = name


class _CheckpointUnpickler(pickle.Unpickler):
    """Admits only what a checkpoint of plain tensors names; anything else is refused."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in _DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(f"the checkpoint names {module}.{name}, which is not a tensor")

    def persistent_load(self, pid: Any) -> _Storage:
        kind, storage_type, key, _location, _size = pid[:5]
        if kind != "storage" or not isinstance(storage_type, _StorageType):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        return _Storage(str(key), _DTYPES[storage_type.name])


def read_checkpoint(stream: IO[bytes]) -> dict[str, Any]:
    """The object of a legacy torch checkpoint, its tensors as float32/64 numpy arrays."""
    if _CheckpointUnpickler(stream).load() != _LEGACY_MAGIC:
        raise ValueError("not a legacy torch checkpoint")
    _CheckpointUnpickler(stream).load()  # protocol version
    _CheckpointUnpickler(stream).load()  # system info (little-endian, type sizes)
    obj: dict[str, Any] = _CheckpointUnpickler(stream).load()
    keys: list[str] = _CheckpointUnpickler(stream).load()
    storages: dict[str, NDArray[Any]] = {}
    dtypes = {ref.storage.key: ref.storage.dtype for ref in _tensor_refs(obj)}
    for key in keys:
        count = int.from_bytes(stream.read(8), "little")
        dtype = np.dtype(dtypes.get(key, np.float32)).newbyteorder("<")
        storages[key] = np.frombuffer(stream.read(count * dtype.itemsize), dtype)
    resolved: dict[str, Any] = _resolve(obj, storages)
    return resolved


def _tensor_refs(obj: Any) -> list[_TensorRef]:
    if isinstance(obj, _TensorRef):
        return [obj]
    if isinstance(obj, dict):
        return [ref for value in obj.values() for ref in _tensor_refs(value)]
    return []


def _resolve(obj: Any, storages: dict[str, NDArray[Any]]) -> Any:
    if isinstance(obj, _TensorRef):
        data = storages[obj.storage.key]
        strides = tuple(step * data.itemsize for step in obj.stride)
        view = np.lib.stride_tricks.as_strided(data[obj.offset :], obj.shape, strides)
        return np.array(view)
    if isinstance(obj, dict):
        return {key: _resolve(value, storages) for key, value in obj.items()}
    return obj


def encoder_weights(source: Path) -> dict[str, NDArray[np.float16]]:
    """The voice encoder's tensors from a resemblyzer wheel or its `pretrained.pt`, as float16."""
    if zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as wheel:
            stream: IO[bytes] = io.BytesIO(wheel.read(WHEEL_MEMBER))
    else:
        stream = io.BytesIO(source.read_bytes())
    state = read_checkpoint(stream)["model_state"]
    return {name.replace(".", "_"): state[name].astype(np.float16) for name in KEPT}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "source", type=Path, help="Resemblyzer-0.1.4-py3-none-any.whl or pretrained.pt"
    )
    parser.add_argument("--output", type=Path, default=TARGET)
    args = parser.parse_args(argv)
    weights = encoder_weights(args.source)
    np.savez_compressed(args.output, **weights)  # type: ignore[arg-type]
    size = args.output.stat().st_size
    print(f"{args.output}: {len(weights)} tensors, {size / 1e6:.1f} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
