#!/usr/bin/env python3
"""DuckDB's time for the aggregations behind Pulso's panels, over the same rows: the anchor
`examples/bench.rs` compares the plugin with.

    python3 examples/duckdb_anchor.py --feedback F.csv --aspects A.csv --queries Q.json \
        --iterations 30 --threads 2

Loads both CSVs into in-memory tables (`feedback`: id, time, source_type, platform, region,
category, brand, product, language, label, score, confidence; `aspects`: time, aspect, label,
score), then runs each named SQL of the queries file, after 3 warm-up runs, and prints one
JSON object: {"load_seconds": s, "peak_rss_mib": m, "queries": {name: {"p50_ms": x,
"p95_ms": y, "rows": n}}}.
Needs the `duckdb` package from PyPI (pip install duckdb).
"""
import argparse
import json
import resource
import time

import duckdb


def percentile(sorted_ms, p):
    return sorted_ms[round((len(sorted_ms) - 1) * p)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feedback", required=True)
    parser.add_argument("--aspects", required=True)
    parser.add_argument("--queries", required=True, help="JSON object: name -> SQL")
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    db = duckdb.connect(":memory:")
    db.execute(f"SET threads = {args.threads}")
    started = time.perf_counter()
    db.execute(f"CREATE TABLE feedback AS SELECT * FROM read_csv('{args.feedback}', header = true)")
    db.execute(f"CREATE TABLE aspects AS SELECT * FROM read_csv('{args.aspects}', header = true)")
    load_seconds = time.perf_counter() - started
    rss_after_load_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    with open(args.queries, encoding="utf-8") as f:
        queries = json.load(f)
    results = {}
    for name, sql in queries.items():
        times = []
        rows = 0
        for i in range(args.iterations + 3):
            started = time.perf_counter()
            rows = len(db.execute(sql).fetchall())
            elapsed = (time.perf_counter() - started) * 1e3
            if i >= 3:
                times.append(elapsed)
        times.sort()
        results[name] = {
            "p50_ms": percentile(times, 0.5),
            "p95_ms": percentile(times, 0.95),
            "rows": rows,
        }
    print(json.dumps({
        "load_seconds": load_seconds,
        "duckdb": duckdb.__version__,
        "peak_rss_after_load_mib": rss_after_load_mib,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "queries": results,
    }))


if __name__ == "__main__":
    main()
