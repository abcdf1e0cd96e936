#!/usr/bin/env python3
"""Train the emotion head: joy, anger, sadness, fear, surprise, disgust on the shipped embedding.

    python3 models/build.py && python3 models/train_emotions.py   # writes models/emotions/
    python3 models/build.py                                       # folds it in as `emotions`

A second linear head on the same L2-normalised embedding as the sentiment head: one logistic
regression per emotion (multi-label: a text can carry several, or none), so each emotion gets
its own confidence, sigmoid(w . embedding + b). Trained on XED (Öhman et al., COLING 2020,
CC BY 4.0): the English annotated lines and the Spanish projected ones in
/work/shared/data/xed_{en,es}_sentiment.csv, whose `emotions` column keeps XED's Plutchik
labels (anticipation and trust are not among the six and count as absent).

Measured by 5-fold cross-validation over XED (KFold, seeded): per-emotion F1 at the 0.5
threshold, their macro average, against the majority baseline (each emotion's most frequent
value: absent for all six) and a stronger trivial baseline (every emotion predicted present).
The Spanish lines are projections of subtitle lines that also appear in English, so a fold
may hold the translation of a training line; a cross-lingual figure (trained on English,
tested on Spanish) has no such overlap and is reported too.

Outputs: models/emotions/head.json (labels, weights [6 x 384], bias [6], provenance) and
models/emotions/evaluation.json.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import train_head as th  # noqa: E402  (pinned sites, Embedder, logging)

import csv  # noqa: E402
from collections import OrderedDict  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402
from sklearn.model_selection import KFold  # noqa: E402

EMOTIONS = ["joy", "anger", "sadness", "fear", "surprise", "disgust"]
SEED = 20261207
C = 1.0
OUT = os.path.join(HERE, "emotions")


def load_xed():
    rows = []
    for lang in ("en", "es"):
        with open(os.path.join(th.SHARED_DATA, f"xed_{lang}_sentiment.csv"), encoding="utf-8") as f:
            for r in csv.DictReader(f):
                text = r["text"].strip()
                if th._letters(text) < 3:
                    continue
                present = set(r["emotions"].split("|"))
                rows.append({"text": text, "language": lang,
                             "y": [int(e in present) for e in EMOTIONS]})
    # a text that appears twice with different emotions keeps its first labels
    seen, unique = set(), []
    for r in rows:
        if (r["language"], r["text"]) not in seen:
            seen.add((r["language"], r["text"]))
            unique.append(r)
    return unique


def fit(X, Y):
    """One class-balanced logistic regression per emotion on the standardised embedding,
    folded back so the head applies to the raw embedding."""
    mu, sd = X.mean(0), X.std(0) + 1e-6
    Z = (X - mu) / sd
    W, b = np.zeros((len(EMOTIONS), X.shape[1])), np.zeros(len(EMOTIONS))
    for k in range(len(EMOTIONS)):
        clf = LogisticRegression(C=C, class_weight="balanced", max_iter=3000, random_state=SEED)
        clf.fit(Z, Y[:, k])
        W[k] = clf.coef_[0] / sd
        b[k] = clf.intercept_[0] - W[k] @ mu
    return W, b


def predict(W, b, X):
    return 1 / (1 + np.exp(-(X @ W.T + b)))


def scores(Y, P):
    per = [float(f1_score(Y[:, k], P[:, k], zero_division=0)) for k in range(len(EMOTIONS))]
    return OrderedDict(macro_f1=round(float(np.mean(per)), 4),
                       f1=OrderedDict((e, round(v, 4)) for e, v in zip(EMOTIONS, per)))


def main():
    rows = load_xed()
    Y = np.array([r["y"] for r in rows])
    th.log(f"{len(rows)} XED lines; emotions present: "
           + ", ".join(f"{e} {int(Y[:, k].sum())}" for k, e in enumerate(EMOTIONS)))
    emb = th.Embedder()
    X = emb([r["text"] for r in rows])

    P = np.zeros(Y.shape, dtype=int)
    for k, (tr, te) in enumerate(KFold(5, shuffle=True, random_state=SEED).split(X)):
        W, b = fit(X[tr], Y[tr])
        P[te] = predict(W, b, X[te]) >= 0.5
        th.log(f"fold {k + 1}/5: macro-F1 {scores(Y[te], P[te])['macro_f1']}")
    is_en = np.array([r["language"] == "en" for r in rows])
    W, b = fit(X[is_en], Y[is_en])
    P_cross = (predict(W, b, X[~is_en]) >= 0.5).astype(int)

    ev = OrderedDict()
    ev["note"] = __doc__.split("Measured by")[1].split("Outputs:")[0].strip()
    ev["rows"] = len(rows)
    ev["present"] = OrderedDict((e, int(Y[:, k].sum())) for k, e in enumerate(EMOTIONS))
    ev["xed_5fold"] = OrderedDict(
        emotion_head=scores(Y, P),
        majority=scores(Y, np.zeros_like(Y)),
        all_present=scores(Y, np.ones_like(Y)))
    ev["cross_lingual_en_to_es"] = OrderedDict(
        emotion_head=scores(Y[~is_en], P_cross),
        all_present=scores(Y[~is_en], np.ones_like(Y[~is_en])))
    ev["embedding_encoder_sha256"] = emb.sha

    W, b = fit(X, Y)
    head = OrderedDict()
    head["labels"] = EMOTIONS
    head["weights"] = [[th.r7(x) for x in row] for row in W]
    head["bias"] = [th.r7(x) for x in b]
    head["formula"] = "confidence = sigmoid(W @ embedding + bias), one per emotion"
    head["seed"] = SEED
    head["embedding_model"] = emb.describe()
    head["training_data"] = [OrderedDict(
        source="xed", rows=len(rows), licence="CC-BY-4.0",
        citation="XED en (annotated) and es (projected) lines: Öhman, Pàmies, Kajava, Tiedemann, "
                 "XED, COLING 2020")]
    head["library"] = "scikit-learn LogisticRegression(lbfgs, L2, C=1, class_weight=balanced), one per emotion"
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "head.json"), "w", encoding="utf-8") as f:
        f.write(th.dumps_head(head))
    th.write_json(os.path.join(OUT, "evaluation.json"), ev)
    th.log(f"wrote {OUT}: 5-fold macro-F1 {ev['xed_5fold']['emotion_head']['macro_f1']} "
           f"(majority {ev['xed_5fold']['majority']['macro_f1']}, all present "
           f"{ev['xed_5fold']['all_present']['macro_f1']}); en->es "
           f"{ev['cross_lingual_en_to_es']['emotion_head']['macro_f1']}")


if __name__ == "__main__":
    main()
