"""Python onnxruntime throughput on the same model file and texts as examples/nlp_bench.rs.

    python3 models/bench_python.py --threads 2

Run the Rust example first: it writes target/nlp-bench/texts.json.
"""
import argparse
import json
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
import convert  # noqa: E402

convert.activate()
import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--texts", default="target/nlp-bench/texts.json")
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    latest = json.loads((ROOT / "dist" / "latest.json").read_text())
    model_dir = pathlib.Path(args.model or latest["model_dir"])
    config = json.loads((model_dir / "config.json").read_text())
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(model_dir / "model.onnx"), options, providers=["CPUExecutionProvider"])
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(config["max_length"])
    texts = json.loads(pathlib.Path(args.texts).read_text())

    def predict(batch):
        # Same work as the Rust engine: tokenise, sort by length, pad to the batch's longest, run.
        encodings = sorted((tokenizer.encode(config["input_prefix"] + t) for t in batch), key=lambda e: len(e.ids))
        width = max(len(e.ids) for e in encodings)
        ids = np.full((len(batch), width), config["pad_id"], dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, e in enumerate(encodings):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1
        return session.run(None, {"input_ids": ids, "attention_mask": mask})

    results = []
    print("| texts | batch | Python onnxruntime texts/s |")
    print("| --- | ---: | ---: |")
    for name, key in [("short (~20 tokens)", "short"), ("long (~120 tokens)", "long")]:
        items = texts[key]
        for batch in (1, 32, 256):
            predict(items[:batch])
            started = time.perf_counter()
            for start in range(0, len(items), batch):
                predict(items[start : start + batch])
            rate = len(items) / (time.perf_counter() - started)
            print(f"| {name} | {batch} | {rate:.1f} |")
            results.append({"texts": name, "batch": batch, "texts_per_second": rate})
    out = pathlib.Path(args.texts).with_name("python.json")
    out.write_text(json.dumps({"threads": args.threads, "results": results}, indent=2))


if __name__ == "__main__":
    main()
