"""Read the AttentiveNorm plugin fields back out of a serialized TensorRT-RTX engine, without deserializing it.

A plan is opaque, but TensorRT-RTX 1.7 stores each IPluginV3 layer's ``getFieldsToSerialize()`` as tagged
records (observed, not documented)::

    <u64 len> name  07 80 01 00 <u32 length>  <tag> <u64 len> type-name  01 80 03 80 01 00 <u64 nbytes> data

with type names ``INT32`` / ``FP32``. Reading them proves the fields went through our plugin's serialization
into the plan with the values the ONNX node carried. Only the spec's field names are looked for.
"""

from __future__ import annotations

import re
import struct

from an_deploy import spec

_NAMES = "|".join(re.escape(n) for n in sorted(spec.ATTRIBUTE_NAMES, key=len, reverse=True))
_RECORD = re.compile(
    rb"\x01\x80\x0c\x80\x01\x00.{8}(?P<name>" + _NAMES.encode() + rb")\x07\x80\x01\x00(?P<count>.{4})"
    rb"\x13\x80\x01\x00.{8}\x01\x80\x0c\x80\x01\x00.{8}(?P<type>INT32|FP32)\x01\x80\x03\x80\x01\x00(?P<nbytes>.{8})",
    re.S,
)


def plugin_field_sets(plan: bytes) -> list[dict[str, int | float]]:
    """One dict per serialized plugin layer (a new dict starts at each repeated field name), in plan order."""
    layers: list[dict[str, int | float]] = []
    current: dict[str, int | float] = {}
    for m in _RECORD.finditer(plan):
        name = m["name"].decode()
        nbytes = struct.unpack("<Q", m["nbytes"])[0]
        count = struct.unpack("<I", m["count"])[0]
        if count != 1 or nbytes != 4:
            raise ValueError(f"field {name}: expected one 4-byte value, got {count} values in {nbytes} bytes")
        data = plan[m.end():m.end() + 4]
        value = struct.unpack("<i" if m["type"] == b"INT32" else "<f", data)[0]
        if name in current:
            layers.append(current)
            current = {}
        current[name] = value
    if current:
        layers.append(current)
    return layers
