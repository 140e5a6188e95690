"""Bad input: an Error naming the document from extract, an error record from extract_many."""

import subprocess
import sys

import pytest

import whosaid
from conftest import REPO


@pytest.mark.parametrize("bad", [None, 42, b"bytes", ["a list"]])
def test_extract_refuses_what_is_not_a_string(fast, bad):
    with pytest.raises(whosaid.Error, match="document doc-7 is a") as raised:
        fast.extract(bad, id="doc-7")
    assert raised.value.id == "doc-7"
    assert raised.value.kind == "missing_text"


def test_extract_refuses_text_that_utf8_cannot_hold(fast):
    with pytest.raises(whosaid.Error, match="document s1 .*lone surrogate") as raised:
        fast.extract("He said \ud800 nothing.", id="s1")
    assert raised.value.kind == "invalid_utf8"


def test_a_bad_document_yields_an_error_record_and_the_stream_goes_on(fast):
    documents = [
        "“Fine,” she said.",
        42,
        {"id": "no-text"},
        {"id": "not-json", "text": "ok", "when": object()},
        "Broken \udc80 text.",
        b"\xff\xfe not utf-8",
        {"id": "last", "text": "“Also fine,” he said."},
    ]
    records = list(fast.extract_many(documents))
    assert [record["id"] for record in records] == ["0", "1", "no-text", "not-json", "4", "5", "last"]
    kinds = [(record.get("error") or {}).get("kind") for record in records]
    assert kinds == [None, "missing_text", "missing_text", "invalid_json", "invalid_utf8", "invalid_utf8", None]
    for record in records:
        if "error" in record:
            assert record["id"] in record["error"]["message"]
            assert record["quotes"] == []
    assert records[0]["quotes"] and records[-1]["quotes"]


def test_a_mapping_error_record_matches_the_clis(fast, tmp_path):
    from conftest import run_cli

    line = '{"id": "x", "text": 5}\n'
    path = tmp_path / "bad.jsonl"
    path.write_text(line)
    (expected,) = run_cli("--fast", str(path))
    (got,) = fast.extract_many([{"id": "x", "text": 5}])
    assert got == expected


def test_arguments_are_checked():
    with pytest.raises(ValueError):
        whosaid.Pipeline(fast=True, threads=0)
    with pytest.raises(TypeError):
        list(whosaid.Pipeline(fast=True).extract_many("one text"))


def test_without_the_default_modes_module_the_error_says_what_to_do():
    # A machine without scripts/setup's libtorch cannot load whosaid._full; simulate it.
    script = """
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "whosaid._full":
            raise ImportError("libtorch_cpu.so: cannot open shared object file")
sys.meta_path.insert(0, Block())
import whosaid
assert whosaid.Pipeline(fast=True).extract("“Yes,” he said.")["quotes"]
try:
    whosaid.Pipeline()
except whosaid.Error as error:
    print(error)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert "scripts/setup" in done.stdout and "fast=True" in done.stdout


def test_a_missing_encoder_is_a_clear_error(tmp_path):
    script = "import whosaid\ntry:\n    whosaid.Pipeline()\nexcept whosaid.Error as error:\n    print(error)\n"
    environment = {"WHOSAID_ENCODER": str(tmp_path / "nowhere"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment)
    assert done.returncode == 0, done.stderr
    assert "cannot be built" in done.stdout and "nowhere" in done.stdout
