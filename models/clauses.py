#!/usr/bin/env python3
"""Does scoring a mixed review clause by clause help? Measured on the dev splits only.

    python3 models/build.py && python3 models/clauses.py    # writes models/adapter/clauses.json

A text is cut into clauses at sentence ends (. ! ? ; and line breaks) and before contrastive
connectors (pero, aunque, sin embargo, but, however, although, though). Texts of one clause
keep their whole-text score under every rule. For texts of two or more clauses, the rules,
fixed before measuring, are:
  * whole: the shipped behaviour, the whole text scored at once;
  * clause_mean: the mean of the clauses' probabilities;
  * whole_and_clauses: the mean of the whole text's probabilities and clause_mean;
  * after_contrast: when a contrastive connector splits the text, the mean of the whole text's
    probabilities and those of the clause after the last connector (what follows "pero" usually
    carries the verdict); otherwise whole.
Each is measured with the shipped fine-tuned encoder and head (models/adapter/head.json, at its
temperature) on the authored dev split and the real-text dev split, with the number of texts
each rule changed. Clause-level scoring would ship only where it measurably helps both.
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import evaluate  # noqa: E402  (sets up the sites; finds the built encoders)
import finetune  # noqa: E402
import train_head as th  # noqa: E402

from collections import OrderedDict  # noqa: E402

import numpy as np  # noqa: E402

OUT = os.path.join(HERE, "adapter", "clauses.json")
CONNECTORS = ["sin embargo", "pero", "aunque", "but", "however", "although", "though"]
SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n+")
CONTRAST = re.compile(r"(?i)(?:^|(?<=[\s,]))(?=(?:" + "|".join(CONNECTORS) + r")\b)")
MIN_CLAUSE_CHARS = 3
RULES = ["whole", "clause_mean", "whole_and_clauses", "after_contrast"]


def clauses(text):
    """(clauses, index of the first clause after the last contrastive connector or None)."""
    out, after = [], None
    for sentence in SENTENCE_END.split(text):
        parts = [p for p in CONTRAST.split(sentence)]
        for i, part in enumerate(parts):
            part = part.strip(" ,")
            if len(part) < MIN_CLAUSE_CHARS:
                continue
            if i > 0:
                after = len(out)
            out.append(part)
    return out, after


def combine(whole, parts, after, rule):
    if rule == "whole" or len(parts) < 2:
        return whole
    mean = parts.mean(0)
    if rule == "clause_mean":
        return mean
    if rule == "whole_and_clauses":
        return (whole + mean) / 2
    if rule == "after_contrast":
        return whole if after is None else (whole + parts[after]) / 2
    raise ValueError(rule)


def main():
    _, a_dev, real_dev = finetune.training_data()
    (tuned_path,) = evaluate.encoders(need=("finetuned",))
    W, b, T, _ = evaluate.load_head(os.path.join(HERE, "adapter", "head.json"))
    embed = th.Embedder(tuned_path)

    def probs(texts):
        return th.softmax(th.logits_of(W, b, embed(texts)) / T)

    result = OrderedDict(note="A text is cut" + __doc__.split("A text is cut")[1].rstrip())
    for name, data in (("authored_dev", a_dev), ("real_text_dev", real_dev)):
        texts = [r["text"] for r in data]
        y = np.array([r["y"] for r in data])
        split = [clauses(t) for t in texts]
        flat = [c for parts, _ in split for c in parts]
        p_whole = probs(texts)
        p_flat = probs(flat) if flat else np.zeros((0, 3))
        per_text, at = [], 0
        for parts, after in split:
            per_text.append((p_flat[at:at + len(parts)], after))
            at += len(parts)
        out = OrderedDict(texts=len(texts), multi_clause=sum(len(p) >= 2 for p, _ in split),
                          with_contrast=sum(a is not None for _, a in split))
        base = p_whole.argmax(1)
        for rule in RULES:
            p = np.stack([combine(p_whole[i], parts, after, rule)
                          for i, (parts, after) in enumerate(per_text)])
            pred = p.argmax(1)
            out[rule] = OrderedDict(macro_f1=round(th.macro_f1(y, pred), 4),
                                    changed=int((pred != base).sum()),
                                    ece=evaluate.ece(p, y))
        result[name] = out
        th.log(f"{name}: " + ", ".join(f"{r} {out[r]['macro_f1']:.4f}" for r in RULES))
    helps = [r for r in RULES[1:]
             if all(result[s][r]["macro_f1"] > result[s]["whole"]["macro_f1"]
                    for s in ("authored_dev", "real_text_dev"))]
    result["helps_both"] = helps
    th.write_json(OUT, result)
    th.log(f"wrote {OUT}")


if __name__ == "__main__":
    main()
