"""Times whosaid.Pipeline.extract_many the way a Python user would run it over a JSONL corpus:
read each line into a dict, run the dicts through the pipeline, write each record as a JSON line.

    python python/bench/extract_many.py IN.jsonl OUT.jsonl [--threads N] [--full]

The three parts are timed apart, after the models load, and printed on one line for
scripts/bench; `time=` is extract_many's own: from the first dict in to the last record out,
which is what the CLI's own timer covers (reading JSON, analysis, records). Reading the input
with `json.loads` and writing the records with `json.dumps` are the user's script's work, in
CPython, and are reported beside it.
"""

import argparse
import json
import time

import whosaid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--full", action="store_true", help="the default mode (fast mode otherwise)")
    args = parser.parse_args()
    pipeline = whosaid.Pipeline(fast=not args.full, threads=args.threads)

    started = time.perf_counter()
    with open(args.input, encoding="utf-8") as lines:
        documents = [json.loads(line) for line in lines if line.strip()]
    read = time.perf_counter()
    records = list(pipeline.extract_many(documents))
    extracted = time.perf_counter()
    with open(args.output, "w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
    written = time.perf_counter()

    count = len(records)
    own = extracted - read
    print(f"python extract_many: {count} documents in {own:.2f} s: docs/s={count / max(own, 1e-9):.1f} "
          f"time={own:.3f}s read={read - started:.3f}s write={written - extracted:.3f}s "
          f"script={written - started:.3f}s")


if __name__ == "__main__":
    main()
