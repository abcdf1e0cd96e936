#!/usr/bin/env python3
"""CI's check of the built sentiment model (run after `python3 models/build.py`).

    python3 models/check_model.py

1. The committed adapter is the one the model card describes: the sha256 of
   models/adapter/adapter.bin equals adapter.json's and appears in models/README.md, and the
   built model's manifest says that adapter was folded in.
2. The built model (models/dist/<latest>, as the plugin loads it) scores the authored dev
   split, which nothing trains on, at or above DEV_MACRO_F1_FLOOR macro-F1.
Needs only the build's pinned site (numpy, onnxruntime, tokenizers); no training packages.
"""
import csv
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import convert  # noqa: E402

convert.activate()
import numpy as np  # noqa: E402
from convert import runtime, sha256_file  # noqa: E402

# The fine-tuned int8 model measured 0.851 on this split (models/adapter/evaluation.json; the
# frozen-encoder head 0.774); the floor leaves room for ONNX Runtime's batch-dependent int8
# rounding, not for a worse model.
DEV_MACRO_F1_FLOOR = 0.83
LABELS = ["negative", "neutral", "positive"]


def fail(msg):
    print(f"check_model: FAILED: {msg}", file=sys.stderr)
    sys.exit(1)


def macro_f1(y, pred):
    scores = []
    for c in range(len(LABELS)):
        tp = int(((pred == c) & (y == c)).sum())
        fp = int(((pred == c) & (y != c)).sum())
        fn = int(((pred != c) & (y == c)).sum())
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores))


def main():
    adapter_dir = os.path.join(HERE, "adapter")
    with open(os.path.join(adapter_dir, "adapter.json"), encoding="utf-8") as f:
        recorded = json.load(f)["adapter_sha256"]
    actual = sha256_file(os.path.join(adapter_dir, "adapter.bin"))
    if actual != recorded:
        fail(f"models/adapter/adapter.bin has sha256 {actual}, adapter.json records {recorded}")
    with open(os.path.join(HERE, "README.md"), encoding="utf-8") as f:
        if recorded not in f.read():
            fail(f"models/README.md (the model card) does not give the adapter's sha256 {recorded}")
    info = runtime.latest()
    with open(os.path.join(info["model_dir"], "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    folded = (manifest.get("verification") or {}).get("adapter") or {}
    if folded.get("adapter_sha256") != recorded:
        fail(f"{info['model_id']} was built without this adapter: run `python3 models/build.py`")
    print(f"adapter sha256 {recorded}: matches adapter.json, the model card and {info['model_id']}")

    with open(os.path.join(HERE, "data", "peru_food_authored.csv"), encoding="utf-8") as f:
        dev = [r for r in csv.DictReader(f) if r["split"] == "dev"]
    started = time.time()
    probs = runtime.Encoder(info["model_dir"], threads=2)([r["text"] for r in dev],
                                                         batch_size=32)["probabilities"]
    y = np.array([LABELS.index(r["label"]) for r in dev])
    score = macro_f1(y, probs.argmax(1))
    print(f"authored dev split: macro-F1 {score:.4f} on {len(dev)} texts "
          f"({time.time() - started:.1f} s), floor {DEV_MACRO_F1_FLOOR}")
    if score < DEV_MACRO_F1_FLOOR:
        fail(f"dev macro-F1 {score:.4f} is below the floor {DEV_MACRO_F1_FLOOR}")


if __name__ == "__main__":
    main()
