#!/usr/bin/env python3
"""Python reference for the speed of all-MiniLM-L6-v2 (sentence-transformers on CPU torch).

Run with the venv that scripts/setup-reference makes:
    ~/.cache/whosaid/reference-venv/bin/python scripts/bench-reference.py TEXTS.txt --threads N \
        [--batch-size 32] [--embeddings-out FILE.json] [--model DIR]
TEXTS.txt holds one text per line (UTF-8; empty lines are skipped). Loads the model, warms up on
the first 64 texts, then times model.encode(texts, batch_size=...) over all texts with
torch.set_num_threads(N), and prints one JSON line:
    {"texts":..,"threads":N,"batch_size":..,"seconds":..,"texts_per_second":..,"peak_rss_mib":..}
With --embeddings-out, also writes {"texts": [...], "embeddings": [[float]*384, ...]} for the first
5 texts (normalized, as the model's Normalize module leaves them).
"""
import argparse
import json
import os
import resource
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main():
    cache = os.environ.get("WHOSAID_CACHE", os.path.expanduser("~/.cache/whosaid"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("texts", help="file with one text per line")
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--embeddings-out", help="write the first 5 texts' embeddings to this JSON file")
    parser.add_argument("--model", default=os.path.join(cache, "reference-model"),
                        help="sentence-transformers model folder (default: %(default)s)")
    args = parser.parse_args()

    with open(args.texts, encoding="utf-8") as f:
        texts = [line.rstrip("\r\n") for line in f]
    texts = [t for t in texts if t.strip()]
    if not texts:
        sys.exit("bench-reference: no texts")

    import torch
    from sentence_transformers import SentenceTransformer, models

    torch.set_num_threads(args.threads)
    if os.path.exists(os.path.join(args.model, "modules.json")):
        model = SentenceTransformer(args.model, device="cpu")
    else:  # a bare transformers folder (config.json, model.safetensors, tokenizer files)
        transformer = models.Transformer(args.model, max_seq_length=256)
        pooling = models.Pooling(transformer.get_word_embedding_dimension(), "mean")
        model = SentenceTransformer(modules=[transformer, pooling, models.Normalize()], device="cpu")
    model.eval()

    with torch.inference_mode():
        model.encode(texts[:64], batch_size=args.batch_size)
        start = time.perf_counter()
        embeddings = model.encode(texts, batch_size=args.batch_size)
        seconds = time.perf_counter() - start

    print(json.dumps({
        "texts": len(texts),
        "threads": args.threads,
        "batch_size": args.batch_size,
        "max_seq_length": model.max_seq_length,
        "seconds": round(seconds, 4),
        "texts_per_second": round(len(texts) / seconds, 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "torch": torch.__version__,
    }), flush=True)

    if args.embeddings_out:
        with open(args.embeddings_out, "w", encoding="utf-8") as f:
            json.dump({"texts": texts[:5],
                       "embeddings": [[float(x) for x in row] for row in embeddings[:5]]}, f)
            f.write("\n")


if __name__ == "__main__":
    main()
