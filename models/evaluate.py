#!/usr/bin/env python3
"""Measure the fine-tuned model against the frozen-head model and TF-IDF + RandomForest.

    python3 models/build.py && python3 models/evaluate.py    # writes models/adapter/evaluation.json

Systems, each on the same evaluation data:
  * fine-tuned: the encoder with models/adapter/ folded in (the build's head-less int8 encoder,
    as shipped) and models/adapter/head.json;
  * frozen head: the encoder without the adapter (int8) and models/head/head.json, trained by
    models/train_head.py on the same authored and public data minus the same dev splits;
  * TF-IDF + RandomForest (train_head.TfidfRF) on the fine-tuning's training rows and weights;
  * the majority class of those rows.

Data:
  * authored dev: models/data's dev split, never trained on (the fine-tuned head's temperature
    is fitted on it, which changes no label but makes its ECE there optimistic);
  * real-text dev: the 300 EvoMSA tweets of train_head.split_real_dev, which no system trained
    on or was tuned on;
  * EvoMSA 5-fold over the other 700 tweets: a logistic head (train_head.fit_head, the frozen
    head's C) trained on everything but the fold, on each encoder's embeddings. The fine-tuned
    encoder saw all 700 tweets while it was fine-tuned, so its figure is optimistic; the
    real-text dev split is the clean comparison.
Calibration: expected calibration error (15 equal-width bins of the top probability) at
temperature 1 and at each model's fitted temperature.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import finetune  # noqa: E402  (sets up the sites; its data selection is the one evaluated)
import train_head as th  # noqa: E402

import json  # noqa: E402
from collections import Counter, OrderedDict  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

from convert import CACHE_DIR  # noqa: E402

ECE_BINS = 15
OUT = os.path.join(HERE, "adapter", "evaluation.json")


def encoders(need=("frozen", "finetuned")):
    """The int8 encoders named in `need` ("frozen", "finetuned"), in that order, from the
    build's encoder cache."""
    with open(os.path.join(HERE, "adapter", "adapter.json"), encoding="utf-8") as f:
        adapter_sha = json.load(f)["adapter_sha256"]
    found = {}
    root = os.path.join(CACHE_DIR, "encoder")
    for d in sorted(os.listdir(root)) if os.path.isdir(root) else []:
        summary = os.path.join(root, d, "encoder.json")
        if not os.path.exists(summary):
            continue
        with open(summary, encoding="utf-8") as f:
            adapter = json.load(f)["verification"].get("adapter")
        kind = "frozen" if adapter is None else (
            "finetuned" if adapter["adapter_sha256"] == adapter_sha else None)
        if kind:
            found[kind] = os.path.join(root, d, "encoder-int8.onnx")
    missing = [k for k in need if k not in found]
    if missing:
        raise SystemExit(f"no {' or '.join(missing)} encoder in {root}: run `python3 models/build.py "
                         "--no-adapter` and `python3 models/build.py`")
    return tuple(found[k] for k in need)


def load_head(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    return np.array(doc["weights"]), np.array(doc["bias"]), float(doc["temperature"]), doc


def ece(probs, y, bins=ECE_BINS):
    conf = probs.max(1)
    correct = probs.argmax(1) == y
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            total += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return round(float(total), 4)


def with_calibration(metrics, logits, y, temperature):
    metrics["ece_temperature_1"] = ece(th.softmax(logits), y)
    metrics["ece_fitted_temperature"] = ece(th.softmax(logits / temperature), y)
    metrics["temperature"] = round(temperature, 4)
    return metrics


def main():
    rows, a_dev, real_dev = finetune.training_data()
    weights = finetune.row_weights(rows)
    y_pool = np.array([r["y"] for r in rows])
    texts = [r["text"] for r in rows]
    frozen_path, tuned_path = encoders()
    W0, b0, T0, head0 = load_head(os.path.join(HERE, "head", "head.json"))
    W1, b1, T1, _ = load_head(os.path.join(HERE, "adapter", "head.json"))
    frozen = th.Embedder(frozen_path)
    tuned = th.Embedder(tuned_path)

    sets = OrderedDict(authored_dev=a_dev, real_text_dev=real_dev)
    result = OrderedDict()
    result["note"] = __doc__.split("Systems,")[1].strip()
    result["training_rows"] = dict(Counter(r["source"] for r in rows))
    th.log("training TF-IDF + RandomForest on the fine-tuning's rows")
    rf = th.TfidfRF().fit(texts, y_pool, weights)
    majority = Counter(y_pool.tolist()).most_common(1)[0][0]
    for name, data in sets.items():
        y = np.array([r["y"] for r in data])
        t = [r["text"] for r in data]
        lg_frozen = th.logits_of(W0, b0, frozen(t))
        lg_tuned = th.logits_of(W1, b1, tuned(t))
        p_rf = rf.predict_proba(t)
        out = OrderedDict()
        out["finetuned"] = with_calibration(
            th.metrics(y, lg_tuned.argmax(1), th.softmax(lg_tuned / T1)), lg_tuned, y, T1)
        out["frozen_head"] = with_calibration(
            th.metrics(y, lg_frozen.argmax(1), th.softmax(lg_frozen / T0)), lg_frozen, y, T0)
        out["tfidf_rf"] = th.metrics(y, p_rf.argmax(1), p_rf)
        out["tfidf_rf"]["ece"] = ece(p_rf, y)
        out["majority"] = th.metrics(y, np.full(len(y), majority))
        out["majority"]["predicts"] = th.LABELS[majority]
        result[name] = out
        th.log(f"{name}: " + ", ".join(f"{k} {v['macro_f1']:.4f}" for k, v in out.items()))

    # EvoMSA 5-fold over the tweets in the training rows
    C = head0["selection"]["C"]
    tw = np.flatnonzero(np.array([r["source"] == "evomsa_tweets" for r in rows]))
    folds = list(StratifiedKFold(n_splits=5, shuffle=True, random_state=th.SEED).split(tw, y_pool[tw]))
    X = {"frozen_encoder_head": frozen(texts), "finetuned_encoder_head": tuned(texts)}
    preds = {k: np.zeros((len(tw), 3)) for k in list(X) + ["tfidf_rf"]}
    for k, (_, te) in enumerate(folds):
        th.log(f"EvoMSA fold {k + 1}/5")
        keep = np.ones(len(rows), dtype=bool)
        keep[tw[te]] = False
        idx = np.flatnonzero(keep)
        w = th.sample_weights(np.array([rows[i]["source"] for i in idx]), y_pool[idx], finetune.R_PUB,
                              sum(rows[i]["source"] == "authored" for i in idx))
        for name, feats in X.items():
            Wk, bk = th.fit_head(feats[idx], y_pool[idx], w, C)
            preds[name][te] = th.softmax(th.logits_of(Wk, bk, feats[tw[te]]))
        rfk = th.TfidfRF().fit([texts[i] for i in idx], y_pool[idx], w)
        preds["tfidf_rf"][te] = rfk.predict_proba([texts[i] for i in tw[te]])
    result["evomsa_5fold"] = OrderedDict(
        (name, th.metrics(y_pool[tw], p.argmax(1), p)) for name, p in preds.items())
    result["evomsa_5fold"]["note"] = ("the fine-tuned encoder saw these 700 tweets while it was "
                                      "fine-tuned: optimistic")
    result["encoders"] = {"frozen_int8_sha256": frozen.sha, "finetuned_int8_sha256": tuned.sha}
    th.write_json(OUT, result)
    th.log(f"wrote {OUT}")


if __name__ == "__main__":
    main()
