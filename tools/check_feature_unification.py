#!/usr/bin/env python3
"""Fails when building or testing one workspace crate would compile a dependency with other
features than the whole workspace does (Cargo's resolver 2 resolves features per selection).

Each such dependency, and everything that depends on it, DataFusion included, would be compiled
a second time by `cargo test -p <crate>`. crates/pulso-workspace-hack pins the features;
`cargo hakari generate && cargo hakari manage-deps` (cargo install cargo-hakari) refreshes it
after a dependency change. See docs/adr/0002-build-and-test.md.
"""
import json
import subprocess
import sys

TARGET = "x86_64-unknown-linux-gnu"


def features(selection):
    """package -> enabled features, for a `cargo tree` selection."""
    out = subprocess.run(
        ["cargo", "tree", "-e", "normal,build,dev", "--target", TARGET, "-f", "{p}|{f}",
         "--prefix", "none", *selection],
        capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        package, _, enabled = line.replace(" (*)", "").strip().partition("|")
        if not package or " (/" in package:  # workspace members
            continue
        name = " ".join(package.split()[:2])
        found.setdefault(name, set()).update(f for f in enabled.split(",") if f)
    return found


def main():
    meta = json.loads(subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"],
                                     capture_output=True, text=True, check=True).stdout)
    members = [p["name"] for p in meta["packages"]]
    whole = features(["--workspace"])
    problems = []
    for member in members:
        for package, enabled in features(["-p", member]).items():
            if enabled != whole.get(package, set()):
                missing = sorted(whole.get(package, set()) - enabled)
                problems.append(f"{member}: {package} without {', '.join(missing) or '(other features)'}")
    if problems:
        print("building one crate would recompile dependencies with other features:", file=sys.stderr)
        print("\n".join("  " + p for p in problems), file=sys.stderr)
        print("run `cargo hakari generate && cargo hakari manage-deps` (cargo install cargo-hakari)",
              file=sys.stderr)
        return 1
    print(f"features unified: {len(members)} crates build their dependencies as the workspace does")
    return 0


if __name__ == "__main__":
    sys.exit(main())
