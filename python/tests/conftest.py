"""Shared fixtures: the repository, the CLI that the records are checked against, pipelines."""

import importlib
import json
import os
import subprocess
from pathlib import Path

import pytest

import whosaid

REPO = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).with_name("corpus.jsonl")
SAMPLE = REPO / "data" / "000_86905691883c5ace.txt"
SEED = REPO.parent / "shared" / "seeds" / "000_86905691883c5ace.txt"


def optional(module: str):
    """An optional extra's module: skipped where it is missing, unless scripts/test-python (which
    installs every extra) runs the tests, where missing is a failure."""
    if os.environ.get("WHOSAID_REQUIRE_EXTRAS"):
        return importlib.import_module(module)
    return pytest.importorskip(module)


def cli_binary() -> Path:
    return Path(os.environ.get("WHOSAID_BIN", REPO / "target" / "release" / "whosaid"))


def canonical(record) -> str:
    """One serialisation for records from either side, so that they compare byte for byte."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def run_cli(*args: str) -> list:
    binary = cli_binary()
    if not binary.exists():
        pytest.fail(f"{binary} is missing: build it with cargo build --release (scripts/test does)")
    done = subprocess.run([str(binary), "extract", "--format", "jsonl", *args],
                          capture_output=True, text=True, check=False)
    assert done.returncode in (0, 1), done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.fixture(scope="session")
def fast():
    return whosaid.Pipeline(fast=True)


@pytest.fixture(scope="session")
def full():
    return whosaid.Pipeline()
