#!/usr/bin/env python3
"""Writes the golden .npy and .safetensors files the dev.vertebra.core.io tests read.

Run from the repository root with a Python that has numpy and torch:

    python3 core/src/test/python/make_io_golden.py

The .npy files come from numpy itself (np.save / np.lib.format.write_array). The .safetensors files are
written here following the published format (8-byte little-endian header length, JSON header padded with
spaces to a multiple of 8, then the data buffer), with each tensor's bytes produced by torch.

Besides the binary files it writes expected.txt, one line per array in a plain text form the tests parse
without any of the code under test:

    <file>[:<tensor>] <TAB> <dtype> <TAB> <comma-separated shape> <TAB> <space-separated values>

Floating values are written with repr() of the exact double (float32 values widen exactly); FLOAT16 and
BFLOAT16 values are written as their raw 16-bit patterns, as unsigned integers.
"""
import io
import json
import os
import struct

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "io")

expected_lines = []


def values_text(array, dtype_name):
    flat = np.ascontiguousarray(array).reshape(-1)
    if dtype_name in ("float16", "bfloat16"):
        return " ".join(str(int(v)) for v in flat.view(np.uint16))
    if dtype_name in ("float32", "float64"):
        return " ".join(repr(float(v)) for v in flat)
    return " ".join(str(int(v)) for v in flat)


def expect(key, dtype_name, array, bits=None):
    shape = ",".join(str(d) for d in array.shape)
    text = values_text(array if bits is None else bits, dtype_name)
    expected_lines.append(f"{key}\t{dtype_name}\t{shape}\t{text}")


def signed_ramp(n, step):
    """-n/2*step ... : negative and positive values of a size the dtype must hold exactly."""
    return (np.arange(n, dtype=np.float64) - n // 2) * step


def save(name, array, expected_dtype, **kwargs):
    path = os.path.join(OUT, name)
    np.save(path, array, **kwargs)
    expect(name, expected_dtype, np.asarray(array))


def write_npy_version(name, array, version, expected_dtype):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, version=version)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(buffer.getvalue())
    expect(name, expected_dtype, array)


def make_npy():
    save("f4_2x3.npy", (signed_ramp(6, 0.375) + 0.125).astype("<f4").reshape(2, 3), "float32")
    save("f8_4.npy", np.array([-1.5e300, 2.0 ** -1070, 3.141592653589793, 0.1], dtype="<f8"), "float64")
    save("f2_5.npy", np.array([0.0, -2.5, 65504.0, 6.1e-5, 1.0 / 3.0], dtype="<f2"), "float16")
    save("i8_3x2.npy", ((np.arange(6, dtype="<i8") - 3) * 3_000_000_007).reshape(3, 2), "int64")
    save("i4_2x2x2.npy", ((np.arange(8, dtype="<i4") - 4) * 268_435_399).reshape(2, 2, 2), "int32")
    save("i2_7.npy", (np.arange(7, dtype="<i2") - 3) * 10_001, "int16")
    save("u1_4x4.npy", ((np.arange(16) * 17) % 256).astype("|u1").reshape(4, 4), "uint8")
    save("scalar_f8.npy", np.array(-42.25, dtype="<f8"), "float64")
    save("empty_f4_0x3.npy", np.zeros((0, 3), dtype="<f4"), "float32")
    # Big-endian files: the reader converts them to the machine's values.
    save("be_f4_2x3.npy", (signed_ramp(6, 1.25)).astype(">f4").reshape(2, 3), "float32")
    save("be_i8_3.npy", np.array([-2, 1 << 40, 7], dtype=">i8"), "int64")
    save("be_i2_4.npy", np.array([-300, 1, 256, 32767], dtype=">i2"), "int16")
    save("be_f8_2.npy", np.array([1e-300, -2.5], dtype=">f8"), "float64")
    write_npy_version("v2_f4_3.npy", np.array([1.5, -2.0, 4.25], dtype="<f4"), (2, 0), "float32")
    write_npy_version("v3_i4_2.npy", np.array([-7, 9], dtype="<i4"), (3, 0), "int32")
    # Files the reader must refuse with a clear message (no expected values).
    np.save(os.path.join(OUT, "fortran_f4_2x3.npy"), np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)))
    np.save(os.path.join(OUT, "object.npy"), np.array([1, "a"], dtype=object), allow_pickle=True)
    np.save(os.path.join(OUT, "structured.npy"), np.zeros(2, dtype=[("a", "<i4"), ("b", "<f4")]))
    np.save(os.path.join(OUT, "bool.npy"), np.array([True, False]))


SAFETENSORS_DTYPES = {
    torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.uint8: "U8", torch.bool: "BOOL",
    torch.int8: "I8",
}


def tensor_bytes(t):
    t = t.contiguous()
    if t.dtype in (torch.float16, torch.bfloat16):
        t = t.view(torch.int16)
    return t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()


def write_safetensors(name, tensors, metadata=None, data_order=None):
    """tensors: list of (name, tensor) in header order; data_order: tensor names in buffer order."""
    data_order = data_order or [n for n, _ in tensors]
    by_name = dict(tensors)
    offsets, buffer = {}, b""
    for n in data_order:
        raw = tensor_bytes(by_name[n])
        offsets[n] = [len(buffer), len(buffer) + len(raw)]
        buffer += raw
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    for n, t in tensors:
        header[n] = {"dtype": SAFETENSORS_DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": offsets[n]}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + buffer)


def expect_tensor(file, name, t):
    dtype_name = {torch.float32: "float32", torch.float64: "float64", torch.float16: "float16",
                  torch.bfloat16: "bfloat16", torch.int64: "int64", torch.int32: "int32",
                  torch.int16: "int16", torch.uint8: "uint8"}[t.dtype]
    if t.dtype in (torch.float16, torch.bfloat16):
        bits = t.contiguous().view(torch.int16).numpy().view(np.uint16).reshape(tuple(t.shape))
        expect(f"{file}:{name}", dtype_name, bits, bits=bits)
    else:
        expect(f"{file}:{name}", dtype_name, t.numpy())


def make_safetensors():
    tensors = [
        ("conv.weight", torch.arange(24, dtype=torch.float32).reshape(2, 3, 2, 2) * 0.25 - 3.0),
        ("bn.running_var", torch.tensor([1e-300, 2.5, -7.0], dtype=torch.float64)),
        ("half", torch.tensor([0.5, -65504.0, 1.0 / 3.0, 0.0], dtype=torch.float16)),
        ("brain", torch.tensor([[1.0, -2.0e30], [3.1415926, 1e-38]], dtype=torch.bfloat16)),
        ("steps", torch.tensor([-(1 << 40), 0, 123456789012], dtype=torch.int64)),
        ("labels", torch.tensor([[-5, 7], [2_000_000_000, -2_000_000_000]], dtype=torch.int32)),
        ("hu", torch.tensor([-1024, 0, 3071], dtype=torch.int16)),
        ("mask", torch.tensor([[0, 1, 255], [128, 64, 2]], dtype=torch.uint8)),
        ("scalar", torch.tensor(0.75, dtype=torch.float32)),
        ("empty", torch.zeros(0, 4, dtype=torch.float32)),
    ]
    names = [n for n, _ in tensors]
    # The buffer holds the tensors in another order than the header lists them, as the reference writer
    # does (it sorts by dtype size); the reader must follow the offsets and keep the header's order.
    data_order = sorted(names, key=lambda n: (-dict(tensors)[n].element_size(), n))
    write_safetensors("all_dtypes.safetensors", tensors,
                      metadata={"format": "pt", "note": "golden \"quoted\" \u00e9"}, data_order=data_order)
    for n, t in tensors:
        expect_tensor("all_dtypes.safetensors", n, t)
    write_safetensors("no_metadata.safetensors", [("w", torch.tensor([1.0, 2.0], dtype=torch.float32))])
    expect_tensor("no_metadata.safetensors", "w", torch.tensor([1.0, 2.0], dtype=torch.float32))
    # Tensors stored in header order with ASCII metadata: what Vertebra writes for these must match byte for byte.
    ordered = [("stem.weight", torch.tensor([[0.5, -1.0, 2.0]], dtype=torch.float32)),
               ("stem.bias", torch.tensor([7], dtype=torch.int16)),
               ("head.scale", torch.tensor([1.5, 2.5], dtype=torch.float64))]
    write_safetensors("ordered.safetensors", ordered, metadata={"format": "pt", "epoch": "3"})
    for n, t in ordered:
        expect_tensor("ordered.safetensors", n, t)
    write_safetensors("bool.safetensors", [("ok", torch.tensor([3], dtype=torch.int32)),
                                           ("flags", torch.tensor([True, False]))])
    write_safetensors("int8.safetensors", [("q", torch.tensor([-1, 2], dtype=torch.int8))])


def main():
    os.makedirs(OUT, exist_ok=True)
    make_npy()
    make_safetensors()
    with open(os.path.join(OUT, "expected.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(expected_lines) + "\n")


if __name__ == "__main__":
    main()
