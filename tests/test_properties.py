"""Property-based tests: scoring, reading and writing arbitrary Unicode never go wrong."""

import codecs
import csv
import io
import json
import re
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stance import LABELS, textio
from stance.errors import InputError
from stance.formats import Writer
from stance.labels import check_labels
from stance.modelio import load_model
from stance.scoring import score_documents
from stance.textio import Document, read_stream
from stance.tokens import Tokens, normalise, stem

SURROGATES_REPLACED = {c: "\ufffd" for c in range(0xD800, 0xE000)}
SETTINGS = settings(max_examples=150, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])

# Registry surface forms, so that arbitrary text also holds mentions to score.
FRAGMENTS = ["Russia", "rebels", "Assad", "Damascus", "Hezbollah", "U.S.", "Turkish-backed",
             "HTS", "Security Council", "the regime", " ", ". ", "\n", "\r\n", "\n\n", "\t",
             "\u200f", "\u202e", "\u062f\u0645\u0634\u0642", "\u0631\u0648\u0633\u064a\u0627",
             "\x00", "\x1b[0m", "\ufeff", "\u0301", "\U0001f600"]
ANY_CHAR = st.characters(exclude_categories=())        # surrogates included
TEXT = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(ANY_CHAR, max_size=12)),
                max_size=30).map("".join)
VALID_TEXT = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)),
                      max_size=30).map("".join)


@pytest.fixture(scope="module")
def model(trained_model):
    return load_model(trained_model)[0]


def check_mention_records(text, records):
    for r in records:
        assert text[r["start"]:r["end"]] == r["mention"]
        assert r["stance"] in LABELS
        assert set(r["scores"]) == set(LABELS)
        assert abs(sum(r["scores"].values()) - 1) < 1e-3
        assert r["confidence"] == max(r["scores"].values()) == r["scores"][r["stance"]]


@SETTINGS
@given(text=TEXT)
def test_score_mentions_on_arbitrary_text(model, text):
    (source, records, error), = score_documents(model, [Document("t", text=text)],
                                               mentions=True)
    assert error is None
    check_mention_records(text, records)


@SETTINGS
@given(text=TEXT)
def test_score_actors_on_arbitrary_text(model, text):
    (source, records, error), = score_documents(model, [Document("t", text=text)])
    assert error is None
    assert len({r["actor"] for r in records}) == len(records)
    for r in records:
        assert r["stance"] in LABELS
        assert abs(sum(r["scores"].values()) - 1) < 1e-3
        assert r["mentions"] >= 1


@SETTINGS
@given(text=TEXT, size=st.integers(min_value=1, max_value=40))
def test_offsets_hold_across_chunks(model, text, size):
    with mock.patch.object(textio, "CHUNK_CHARS", size):
        (_, records, error), = score_documents(model, [Document("t", text=text)],
                                               mentions=True)
    assert error is None
    check_mention_records(text, records)


@SETTINGS
@given(text=TEXT, size=st.integers(min_value=1, max_value=40))
def test_in_memory_chunks_rejoin(text, size):
    chunks = list(Document("t", text=text).chunks(size=size))
    assert "".join(c for _, c in chunks) == text.replace("\x00", "\ufffd")
    assert all(0 < len(c) <= size for _, c in chunks)
    assert [o for o, _ in chunks] == [sum(len(c) for _, c in chunks[:i])
                                     for i in range(len(chunks))]


@SETTINGS
@given(text=VALID_TEXT, size=st.integers(min_value=1, max_value=40),
       block=st.integers(min_value=1, max_value=9),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32"]))
def test_file_chunks_rejoin_whatever_the_block_edges(text, size, block, encoding):
    data = text.encode(encoding)
    if encoding == "utf-8" and b"\x00" in data[:8192]:
        return  # a NUL byte without a BOM is, rightly, a binary file
    if encoding == "utf-16" and text.startswith("\x00"):
        return  # FF FE 00 00 is the UTF-32 BOM: the one ambiguity BOMs have
    with mock.patch.object(textio, "_BLOCK", block):
        chunks = list(read_stream(io.BytesIO(data), "t", size=size))
    expected = text[1:] if encoding == "utf-8" and text.startswith("\ufeff") else text
    assert "".join(c for _, c in chunks) == expected
    assert all(0 < len(c) <= size for _, c in chunks)


@SETTINGS
@given(text=TEXT)
def test_sentence_tokens_are_the_reference_tokens(text):
    tk = Tokens(text)
    # The reference: word runs and single punctuation marks, with their offsets.
    reference = [(m.start(), m.end(), m.group()) for m in re.finditer(r"\w+|[^\w\s]", text)]
    assert list(zip(tk.starts, tk.ends, tk.words, strict=True)) == reference
    assert tk.norm == [normalise(w) for w in tk.words]
    assert tk.stems == [stem(w) for w in tk.norm]


@SETTINGS
@given(data=st.binary(max_size=300), encoding=st.sampled_from([None, "latin-1", "utf-16-le",
                                                               "cp1256"]))
def test_arbitrary_bytes_decode_or_raise_input_error(data, encoding):
    try:
        chunks = list(read_stream(io.BytesIO(data), "t", encoding=encoding, size=16))
    except InputError as exc:
        assert exc.source == "t" and exc.problem
        return
    assert all(isinstance(c, str) for _, c in chunks)


RECORD = st.fixed_dictionaries({
    "source": TEXT, "sentence": TEXT, "start": st.integers(0, 10**6),
    "end": st.integers(0, 10**6), "mention": TEXT, "actor": TEXT,
    "stance": st.sampled_from(LABELS), "confidence": st.floats(0, 1),
    "scores": st.fixed_dictionaries({label: st.floats(0, 1) for label in LABELS}),
    "known": st.booleans(),
})


@SETTINGS
@given(records=st.lists(RECORD, max_size=4), fmt=st.sampled_from(["jsonl", "json", "csv",
                                                                  "table"]))
def test_writers_take_any_text_on_a_strict_utf8_stream(records, fmt):
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", newline="")
    writer = Writer(out, fmt, mentions=True)
    writer.write(records)
    writer.close()
    written = out.buffer.getvalue().decode("utf-8")
    if fmt == "jsonl":
        lines = written.split("\n")
        assert lines.pop() == ""
        assert [json.loads(line)["actor"] for line in lines] == [
            r["actor"].translate(SURROGATES_REPLACED) for r in records]
    elif fmt == "json":
        assert len(json.loads(written)) == len(records)
    elif fmt == "csv":
        rows = list(csv.reader(io.StringIO(written, newline="")))
        assert len(rows) == (len(records) + 1 if records else 0)
        for row in rows[1:]:
            assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)


@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(
    st.binary(max_size=400),
    st.lists(st.lists(st.one_of(st.sampled_from(["text", "actor", "stance", "Turkey",
                                                 "opposition", "NA", "", '"', "\n"]),
                                st.text(ANY_CHAR, max_size=8)), max_size=5),
             max_size=6).map(lambda rows: "\n".join(",".join(r) for r in rows)
                             .encode("utf-8", "surrogatepass")),
))
def test_label_reader_never_raises_on_any_file(tmp_path, data):
    path = tmp_path / "labels.csv"
    path.write_bytes(data)
    rows, problems = check_labels([path])
    assert all(p.startswith(str(path)) for p in problems)
    assert all(row.stance in LABELS and row.actor in row.text for row in rows)


def test_bom_and_wide_encodings_are_the_same_text():
    text = "Turkey backed the rebels \u062f\u0645\u0634\u0642.\r\n"
    for data in (codecs.BOM_UTF8 + text.encode(), text.encode("utf-16"),
                 text.encode("utf-32"), codecs.BOM_UTF16_BE + text.encode("utf-16-be")):
        assert "".join(c for _, c in read_stream(io.BytesIO(data), "t")) == text
