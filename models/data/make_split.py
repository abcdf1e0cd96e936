#!/usr/bin/env python3
"""Assemble the authored Peruvian food-feedback set and split it.

Reads models/data/src/*.txt (one row per line: label|voice|language|text|notes,
with short codes, '#' lines are comments) and writes
models/data/peru_food_authored.csv with columns
text,label,voice,language,notes,split,group (`group` is shared by an English
row and the Spanish row it closely mirrors; use it for grouped CV folds).

The split is deterministic and stratified by (label, voice): inside each
stratum rows are ordered by sha256(SEED + text) and the first round(30%) go to
`dev`, the rest to `train`. Adding rows later does not move existing rows
between splits unless their stratum's dev quota changes.

Usage: python3 models/data/make_split.py [--check]
  --check: validate src/ and print the counts without writing the CSV.
"""
import csv
import glob
import hashlib
import os
import sys
from collections import Counter, defaultdict

SEED = "pulso-authored-v1"
DEV_FRACTION = 0.30
HERE = os.path.dirname(os.path.abspath(__file__))
LABELS = {"n": "negative", "u": "neutral", "p": "positive"}
VOICES = {"r": "review", "d": "delivery", "s": "social", "v": "survey"}
LANGS = {"es", "en"}


def norm(t):
    return " ".join(t.lower().split())


def main():
    rows, seen, errors = [], {}, []
    for path in sorted(glob.glob(os.path.join(HERE, "src", "*.txt"))):
        with open(path, encoding="utf-8") as f:
            for ln, line in enumerate(f, 1):
                line = line.rstrip("\n")
                if not line.strip() or line.startswith("#"):
                    continue
                parts = line.split("|")
                if len(parts) != 5:
                    errors.append(f"{path}:{ln}: expected 5 fields, got {len(parts)}")
                    continue
                lab, voice, lang, text, notes = (p.strip() for p in parts)
                if lab not in LABELS or voice not in VOICES or lang not in LANGS or not text:
                    errors.append(f"{path}:{ln}: bad code {lab!r} {voice!r} {lang!r}")
                    continue
                key = norm(text)
                if key in seen:
                    errors.append(f"{path}:{ln}: duplicate of {seen[key]}: {text!r}")
                    continue
                seen[key] = f"{os.path.basename(path)}:{ln}"
                rows.append({"text": text, "label": LABELS[lab], "voice": VOICES[voice],
                             "language": lang, "notes": notes})
    if errors:
        print("\n".join(errors), file=sys.stderr)
        sys.exit(1)

    # Translation pairs (src/pairs.tsv) are kept in the same split.
    group = {id(r): i for i, r in enumerate(rows)}
    def find_one(prefix):
        hits = [r for r in rows if norm(r["text"]).startswith(norm(prefix))]
        if len(hits) != 1:
            errors.append(f"pairs.tsv: {prefix!r} matches {len(hits)} rows")
            return None
        return hits[0]
    with open(os.path.join(HERE, "src", "pairs.tsv"), encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            en, es = line.rstrip("\n").split("\t")
            a, b = find_one(en), find_one(es)
            if a is not None and b is not None:
                if a["label"] != b["label"]:
                    errors.append(f"pairs.tsv: label mismatch {en!r} / {es!r}")
                group[id(a)] = group[id(b)]
    if errors:
        print("\n".join(errors), file=sys.stderr)
        sys.exit(1)
    members_of = defaultdict(list)
    for r in rows:
        members_of[group[id(r)]].append(r)

    def h(text):
        return hashlib.sha256((SEED + text).encode()).hexdigest()

    # A group's stratum is that of its Spanish (first-listed) member.
    strata = defaultdict(list)
    for g, members in members_of.items():
        members.sort(key=lambda r: (r["language"] != "es", r["text"]))
        anchor = members[0]
        strata[(anchor["label"], anchor["voice"])].append((h(anchor["text"]), members))
    for key, groups in strata.items():
        groups.sort(key=lambda t: t[0])
        quota = round(sum(len(m) for _, m in groups) * DEV_FRACTION)
        taken = 0
        for _, members in groups:
            split = "dev" if taken < quota else "train"
            if split == "dev":
                taken += len(members)
            for r in members:
                r["split"] = split
                r["group"] = h(members[0]["text"])[:10]
    n_pairs = sum(1 for m in members_of.values() if len(m) > 1)
    print(f"{n_pairs} translation groups kept within one split")

    # Stable output order: by split, label, voice, then hash order.
    order = {"train": 0, "dev": 1}
    rows.sort(key=lambda r: (order[r["split"]], r["label"], r["voice"],
                             hashlib.sha256((SEED + r["text"]).encode()).hexdigest()))
    out = os.path.join(HERE, "peru_food_authored.csv")
    if "--check" in sys.argv[1:]:
        out = os.devnull
    with open(out, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["text", "label", "voice", "language", "notes", "split", "group"],
                           lineterminator="\n")
        w.writeheader()
        w.writerows(rows)

    print(f"wrote {out}: {len(rows)} rows")
    for col in ("label", "voice", "language", "split"):
        print(col, dict(sorted(Counter(r[col] for r in rows).items())))
    print("label x split", dict(sorted(Counter((r["label"], r["split"]) for r in rows).items())))
    print("label x voice", dict(sorted(Counter((r["label"], r["voice"]) for r in rows).items())))
    print("label x language", dict(sorted(Counter((r["label"], r["language"]) for r in rows).items())))


if __name__ == "__main__":
    main()
