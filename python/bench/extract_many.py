"""Times whosaid.Pipeline.extract_many the way a Python user would run it over a JSONL corpus:
read each line into a dict, stream them through the pipeline, write each record as a JSON line.

    python python/bench/extract_many.py IN.jsonl OUT.jsonl [--threads N] [--full]

Prints the documents per second of its own timer (after the models load), for scripts/bench.
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
    documents = 0
    with open(args.input, encoding="utf-8") as lines, open(args.output, "w", encoding="utf-8") as out:
        records = pipeline.extract_many(json.loads(line) for line in lines if line.strip())
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
            documents += 1
    seconds = time.perf_counter() - started
    print(f"python extract_many: {documents} documents in {seconds:.2f} s: "
          f"docs/s={documents / max(seconds, 1e-9):.1f} time={seconds:.3f}s ")


if __name__ == "__main__":
    main()
