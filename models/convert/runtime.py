"""Run a built model from Python: tokenisation + ONNX Runtime session.

``embed(texts)`` is what the head trainer calls.  It needs no head: any model
built by build.py has the ``embedding`` output, and the head is folded in after
the encoder, so embeddings from an encoder-only build equal those of the
shipped model.
"""
import json
import os

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from . import LATEST_FILE

INPUT_PREFIX = "query: "   # e5 models expect a role prefix; "query: " suits classification
MAX_LENGTH = 512           # e5-small has 512 position embeddings
PAD_ID = 1                 # XLM-R <pad>


def load_tokenizer(path) -> Tokenizer:
    """tokenizer.json with e5's truncation and padding switched on."""
    tok = Tokenizer.from_file(str(path))
    tok.enable_truncation(MAX_LENGTH)
    tok.enable_padding(pad_id=PAD_ID, pad_token="<pad>")
    return tok


def latest() -> dict:
    """Contents of models/dist/latest.json, written by the last successful build."""
    if not os.path.exists(LATEST_FILE):
        raise FileNotFoundError(f"{LATEST_FILE} is missing: run `python3 models/build.py` first")
    with open(LATEST_FILE, encoding="utf-8") as f:
        return json.load(f)


def encoder_path(precision=None) -> str:
    """Head-less encoder of the last build: "fp32", "int8", or None = what ships."""
    info = latest()
    return info["encoders"][precision or info["precision"]]


def make_session(model_path, threads=None) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])


class Encoder:
    """Tokeniser + session; call it with texts to get every model output.

    ``model_path`` is a dist model directory, an .onnx file, or None for the
    last build's dist model.  The tokenizer defaults to the one of the last build.
    """

    def __init__(self, model_path=None, threads=None, tokenizer_path=None):
        model_path = str(model_path or latest()["model_dir"])
        if os.path.isdir(model_path):
            tokenizer_path = tokenizer_path or os.path.join(model_path, "tokenizer.json")
            model_path = os.path.join(model_path, "model.onnx")
        if tokenizer_path is None:   # a bare .onnx file, e.g. encoder_path("fp32")
            tokenizer_path = os.path.join(latest()["model_dir"], "tokenizer.json")
        self.tokenizer = load_tokenizer(tokenizer_path)
        self.session = make_session(model_path, threads)
        self.output_names = [o.name for o in self.session.get_outputs()]

    def tokenize(self, texts):
        """int64 ``input_ids`` and ``attention_mask`` [n, longest] for the texts."""
        enc = self.tokenizer.encode_batch([INPUT_PREFIX + t for t in texts])
        ids = np.array([e.ids for e in enc], dtype=np.int64).reshape(len(texts), -1)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64).reshape(len(texts), -1)
        return ids, mask

    def run_tokens(self, ids, mask) -> dict:
        outs = self.session.run(None, {"input_ids": ids, "attention_mask": mask})
        return dict(zip(self.output_names, outs))

    def __call__(self, texts, batch_size=1) -> dict:
        """All outputs for ``texts`` in input order, batched by similar length.

        The default of one text per run gives each text the same outputs
        whatever its neighbours: int8 dynamic quantisation picks activation
        scales per run, so batching shifts int8 results slightly (cosine
        >= ~0.985 measured).  On ~20-token texts batch 1 was as fast as 32.
        """
        texts = list(texts)
        if not texts:
            return {}
        # Sorting by length keeps padding (wasted compute) low; outputs do not
        # depend on padding, so the order is restored afterwards.
        lengths = [len(e.ids) for e in self.tokenizer.encode_batch([INPUT_PREFIX + t for t in texts])]
        order = np.argsort(lengths, kind="stable")
        chunks = []
        for start in range(0, len(texts), batch_size):
            idx = order[start:start + batch_size]
            chunks.append(self.run_tokens(*self.tokenize([texts[i] for i in idx])))
        result = {}
        for name in self.output_names:
            merged = np.concatenate([c[name] for c in chunks])
            result[name] = np.empty_like(merged)
            result[name][order] = merged
        return result


def embed(texts, model_path=None, batch_size=1, threads=None) -> np.ndarray:
    """float32 [len(texts), 384] L2-normalised e5 embeddings ("query: " prefix added here).

    ``model_path``: dist model dir or .onnx file; None = last build's model
    (int8 unless the build fell back to fp32).  ``encoder_path("fp32")`` gives
    the fp32 encoder.  ``threads``: ONNX Runtime intra-op threads (None = all cores).
    ``batch_size`` > 1 is fine for fp32; see ``Encoder.__call__`` for int8.
    """
    texts = list(texts)
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    return Encoder(model_path, threads=threads)(texts, batch_size=batch_size)["embedding"]
