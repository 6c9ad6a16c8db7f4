"""Bad input to `score`: each bad file gets one error line, the good ones are still scored."""

import codecs
import errno
import io
import json
import os
import sys
import tracemalloc

import pytest
from click.testing import CliRunner

from stance import LABELS, textio
from stance.cli import main
from stance.errors import InputError
from stance.formats import Writer, csv_safe
from stance.scoring import score_documents
from stance.textio import Document, expand_inputs, read_stream

GOOD = "Russia brokered a ceasefire between the rebels and Damascus.\n"


def run_score(model, *args, input=None):
    result = CliRunner().invoke(main, ["score", "--model", str(model), "--format", "jsonl",
                                       *map(str, args)], input=input)
    assert "Traceback" not in result.stderr
    return result


def records(result):
    return [json.loads(line) for line in result.stdout.splitlines()]


def sources(result):
    return {r["source"] for r in records(result)}


def _latin1(path):
    path.write_bytes("Caf\xe9 talks: Turkey backed the rebels.\n".encode("latin-1"))


def _binary(path):
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))


def _utf16_without_bom(path):
    path.write_bytes("Turkey backed the rebels.\n".encode("utf-16-le"))


def _truncated_utf8(path):
    path.write_bytes("Turkey backed the rebels in Idlib \u2014".encode()[:-1])


def _broken_link(path):
    path.symlink_to(path.parent / "gone.txt")


def _damaged_utf16(path):
    path.write_bytes(codecs.BOM_UTF16_LE + "Turkey".encode("utf-16-le") + b"\x00\xdc")


BAD_INPUTS = [
    # id, how to make it, the problem reported after "error: <file>: "
    ("latin-1", _latin1, "not valid utf-8 (byte 0xe9 at offset 3); "
                         "try --encoding, e.g. --encoding latin-1"),
    ("binary", _binary, "binary file (NUL bytes), not text"),
    ("utf-16 without BOM", _utf16_without_bom,
     "binary file (NUL bytes), not text; if it is UTF-16 without a byte-order mark, "
     "try --encoding utf-16-le"),
    ("truncated utf-8", _truncated_utf8,
     "not valid utf-8 (incomplete character at the end, offset 34); "
     "try --encoding, e.g. --encoding latin-1"),
    ("damaged utf-16", _damaged_utf16,
     "not valid utf-16-le (byte 0x00 at offset 14); "
     "the file starts with a byte-order mark but is damaged"),
    ("missing", None, "no such file or directory"),
    ("broken symlink", _broken_link, "broken symbolic link"),
]


@pytest.mark.parametrize("make, problem", [case[1:] for case in BAD_INPUTS],
                         ids=[case[0] for case in BAD_INPUTS])
def test_bad_input_is_reported_and_good_inputs_beside_it_are_scored(
        tmp_path, trained_model, make, problem):
    before = tmp_path / "a-good.txt"
    after = tmp_path / "c-good.txt"
    bad = tmp_path / "b-bad.txt"
    before.write_text(GOOD, encoding="utf-8")
    after.write_text("Turkey backed rebel groups in the north.\n", encoding="utf-8")
    if make is not None:
        make(bad)
    result = run_score(trained_model, before, bad, after)
    assert result.exit_code == 1
    assert result.stderr == f"error: {bad}: {problem}\n"
    assert sources(result) == {str(before), str(after)}


@pytest.mark.parametrize("make, problem", [case[1:] for case in BAD_INPUTS if case[1]],
                         ids=[case[0] for case in BAD_INPUTS if case[1]])
def test_bad_file_inside_a_folder_is_reported_and_the_rest_scored(
        tmp_path, trained_model, make, problem):
    folder = tmp_path / "corpus"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text(GOOD, encoding="utf-8")
    (folder / "sub" / "z.txt").write_text(GOOD, encoding="utf-8")
    bad = folder / "m.txt"
    make(bad)
    result = run_score(trained_model, folder)
    assert result.exit_code == 1
    assert result.stderr == f"error: {bad}: {problem}\n"
    assert sources(result) == {str(folder / "a.txt"), str(folder / "sub" / "z.txt")}


def test_strict_stops_at_the_first_bad_input(tmp_path, trained_model):
    first, bad, last = (tmp_path / n for n in ("a.txt", "b.txt", "c.txt"))
    first.write_text(GOOD, encoding="utf-8")
    _latin1(bad)
    last.write_text(GOOD, encoding="utf-8")
    result = run_score(trained_model, "--strict", tmp_path)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: {bad}: not valid utf-8 (byte 0xe9 at offset 3); "
        "try --encoding, e.g. --encoding latin-1"]
    assert sources(result) == {str(first)}
    lenient = run_score(trained_model, tmp_path)
    assert lenient.exit_code == 1
    assert sources(lenient) == {str(first), str(last)}


def test_every_input_bad_still_exits_1_with_one_line_each(tmp_path, trained_model):
    _binary(tmp_path / "a.bin")
    result = run_score(trained_model, tmp_path / "a.bin", tmp_path / "nope.txt")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: {tmp_path / 'a.bin'}: binary file (NUL bytes), not text",
        f"error: {tmp_path / 'nope.txt'}: no such file or directory"]


GOOD_INPUTS = [
    ("utf-8 BOM", codecs.BOM_UTF8 + GOOD.encode()),
    ("utf-16 LE BOM", codecs.BOM_UTF16_LE + GOOD.encode("utf-16-le")),
    ("utf-16 BE BOM", codecs.BOM_UTF16_BE + GOOD.encode("utf-16-be")),
    ("utf-32 BOM", codecs.BOM_UTF32_LE + GOOD.encode("utf-32-le")),
    ("CRLF", GOOD.replace("\n", "\r\n").encode()),
    ("control characters", ("\x01\x07\x1b[31m " + GOOD + "\x7f\x0c").encode()),
    ("right-to-left marks", ("\u200f\u202e" + GOOD + "\u202c\u200e").encode()),
    ("arabic and english", ("\u0642\u0627\u0644\u062a \u0631\u0648\u0633\u064a\u0627: "
                            + GOOD + " \u062f\u0645\u0634\u0642").encode()),
    ("one very long sentence", ("Russia " + "and the rebels " * 20000 + "met.").encode()),
]


@pytest.mark.parametrize("data", [case[1] for case in GOOD_INPUTS],
                         ids=[case[0] for case in GOOD_INPUTS])
def test_awkward_but_valid_text_is_scored(tmp_path, trained_model, data):
    path = tmp_path / "doc.txt"
    path.write_bytes(data)
    result = run_score(trained_model, "--mentions", path)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    found = records(result)
    assert {"Russia", "Syrian opposition"} <= {r["actor"] for r in found}
    text = textio.read_stream(io.BytesIO(data), "doc")
    text = "".join(chunk for _, chunk in text)
    for r in found:
        assert text[r["start"]:r["end"]] == r["mention"]
        assert r["stance"] in LABELS


def test_empty_file_gives_no_records_and_no_error(tmp_path, trained_model):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    good = tmp_path / "good.txt"
    good.write_text(GOOD, encoding="utf-8")
    result = run_score(trained_model, empty, good)
    assert result.exit_code == 0
    assert result.stderr == ""
    assert sources(result) == {str(good)}


def test_encoding_option_reads_latin1(tmp_path, trained_model):
    path = tmp_path / "latin.txt"
    _latin1(path)
    result = run_score(trained_model, "--encoding", "latin-1", path)
    assert result.exit_code == 0, result.stderr
    assert any("Caf\xe9" in r["evidence"] for r in records(result))


def test_encoding_option_reads_utf16_without_bom(tmp_path, trained_model):
    path = tmp_path / "wide.txt"
    _utf16_without_bom(path)
    result = run_score(trained_model, "--encoding", "utf-16-le", path)
    assert result.exit_code == 0, result.stderr
    assert "Turkey" in {r["actor"] for r in records(result)}


def test_unknown_encoding_is_a_usage_error(tmp_path, trained_model):
    path = tmp_path / "a.txt"
    path.write_text(GOOD, encoding="utf-8")
    result = run_score(trained_model, "--encoding", "klingon-8", path)
    assert result.exit_code == 2
    assert "unknown encoding 'klingon-8'" in result.stderr


def test_stdin_is_scored_with_bom(trained_model):
    result = run_score(trained_model, "-", input=codecs.BOM_UTF8 + GOOD.encode())
    assert result.exit_code == 0, result.stderr
    assert sources(result) == {"-"}


def test_bad_stdin_is_reported_and_files_beside_it_scored(tmp_path, trained_model):
    good = tmp_path / "good.txt"
    good.write_text(GOOD, encoding="utf-8")
    result = run_score(trained_model, "-", good, input=b"\x00\x01\x02binary")
    assert result.exit_code == 1
    assert result.stderr == "error: -: binary file (NUL bytes), not text\n"
    assert sources(result) == {str(good)}


def test_stdin_chunks_from_closed_and_text_only_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", None)
    with pytest.raises(InputError, match="^-: no standard input$"):
        list(Document("-").chunks())
    monkeypatch.setattr(sys, "stdin", io.StringIO("para one\n\npara two\n" * 5))
    chunks = list(Document("-").chunks(size=20))
    assert "".join(text for _, text in chunks) == "para one\n\npara two\n" * 5
    assert all(len(text) <= 20 for _, text in chunks)


def test_unreadable_folder_is_reported_and_the_rest_scored(tmp_path, trained_model,
                                                           monkeypatch):
    # Tests may run as root, whom chmod 000 does not stop: make os.walk report the error.
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_text(GOOD, encoding="utf-8")
    locked = folder / "locked"
    real_walk = os.walk

    def walk(top, onerror=None, followlinks=False):
        onerror(PermissionError(errno.EACCES, "Permission denied", str(locked)))
        yield from real_walk(top, onerror=onerror, followlinks=followlinks)

    monkeypatch.setattr(textio.os, "walk", walk)
    result = run_score(trained_model, folder)
    assert result.exit_code == 1
    assert result.stderr == f"error: {locked}: permission denied\n"
    assert sources(result) == {str(folder / "a.txt")}


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_unreadable_file_and_folder_for_real(tmp_path, trained_model):
    folder = tmp_path / "corpus"
    (folder / "locked").mkdir(parents=True)
    (folder / "locked" / "x.txt").write_text(GOOD, encoding="utf-8")
    (folder / "secret.txt").write_text(GOOD, encoding="utf-8")
    (folder / "a.txt").write_text(GOOD, encoding="utf-8")
    os.chmod(folder / "locked", 0)
    os.chmod(folder / "secret.txt", 0)
    try:
        result = run_score(trained_model, folder)
    finally:
        os.chmod(folder / "locked", 0o755)
        os.chmod(folder / "secret.txt", 0o644)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: {folder / 'locked'}: permission denied",
        f"error: {folder / 'secret.txt'}: permission denied"]
    assert sources(result) == {str(folder / "a.txt")}


def test_glob_picks_the_files_of_a_folder(tmp_path, trained_model):
    (tmp_path / "notes.md").write_text(GOOD, encoding="utf-8")
    (tmp_path / "a.txt").write_text(GOOD, encoding="utf-8")
    result = run_score(trained_model, "--glob", "*.md", tmp_path)
    assert result.exit_code == 0
    assert sources(result) == {str(tmp_path / "notes.md")}


# --- reading in bounded memory -------------------------------------------------------


def _doc_text(data):
    return "".join(text for _, text in read_stream(io.BytesIO(data), "x"))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-32"])
def test_chunks_rejoin_exactly_across_blocks(monkeypatch, encoding):
    # Tiny blocks make every CRLF and multi-byte character straddle a block edge.
    monkeypatch.setattr(textio, "_BLOCK", 7)
    text = ("Ruß\u0644\u0629 \U0001f600 rebels.\r\n" * 40
            + "\r\n\r\nDamascus \u062f\u0645\u0634\u0642" * 30)
    data = text.encode(encoding)
    chunks = list(read_stream(io.BytesIO(data), "x", size=50))
    assert "".join(c for _, c in chunks) == text
    offset = 0
    for start, chunk in chunks:
        assert start == offset
        assert 0 < len(chunk) <= 50
        assert not chunk.endswith("\r") or start + len(chunk) == len(text)
        offset += len(chunk)


def test_decode_error_offset_counts_bytes_held_over_a_block_edge(monkeypatch):
    monkeypatch.setattr(textio, "_BLOCK", 4)
    data = b"abcdefg\xe2\x82" + b"x" * 20
    with pytest.raises(InputError) as caught:
        _doc_text(data)
    assert caught.value.problem.startswith("not valid utf-8 (byte 0xe2 at offset 7)")


def test_one_huge_line_is_read_in_bounded_memory(tmp_path):
    path = tmp_path / "huge.txt"
    line = "Turkey backed the rebels and Russia backed Damascus; " * 600_000   # ~32 MB
    path.write_text(line, encoding="utf-8")
    del line
    tracemalloc.start()
    try:
        total, biggest = 0, 0
        for _, chunk in Document(str(path), path).chunks():
            total += len(chunk)
            biggest = max(biggest, len(chunk))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    size = path.stat().st_size
    assert total == size
    assert biggest <= textio.CHUNK_CHARS
    assert peak < size / 4


def test_multi_chunk_document_offsets_point_into_the_whole_text(tmp_path, trained_model,
                                                                monkeypatch):
    monkeypatch.setattr(textio, "CHUNK_CHARS", 64)
    monkeypatch.setattr(textio, "_BLOCK", 5)
    text = "".join(f"Para {i}: Turkey backed the rebels \u00e9\u062f.\r\n\r\n"
                   f"Russia and Iran sided with Damascus; Hezbollah too.\n" for i in range(25))
    text += "x" * 300 + " Putin pledged support for Assad."
    path = tmp_path / "long.txt"
    path.write_bytes(text.encode("utf-8"))
    result = run_score(trained_model, "--mentions", path)
    assert result.exit_code == 0, result.stderr
    found = records(result)
    assert max(r["start"] for r in found) > 10 * 64
    assert {"Turkey", "Russia", "Iran", "Hezbollah", "Vladimir Putin"} <= {r["actor"]
                                                                          for r in found}
    for r in found:
        assert text[r["start"]:r["end"]] == r["mention"]


def test_expand_inputs_reports_problems_in_order(tmp_path):
    (tmp_path / "a.txt").write_text("x", encoding="utf-8")
    (tmp_path / "dead.txt").symlink_to(tmp_path / "nowhere")
    got = list(expand_inputs([str(tmp_path / "a.txt"), str(tmp_path / "none"), str(tmp_path)]))
    assert isinstance(got[0], Document)
    assert isinstance(got[1], InputError) and got[1].problem == "no such file or directory"
    assert [g.source for g in got[2:]] == [str(tmp_path / "a.txt"), str(tmp_path / "dead.txt")]
    assert isinstance(got[3], InputError) and got[3].problem == "broken symbolic link"


# --- writing what was read -----------------------------------------------------------


def _strict_utf8():
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", newline="")


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "table"])
def test_lone_surrogates_never_crash_a_writer(trained_model, fmt):
    from stance.modelio import load_model

    model, _ = load_model(trained_model)
    text = "\ud800Turkey backed the rebels \udfff near Damascus.\udcff"
    results = list(score_documents(model, [Document("in\udce9.txt", text=text)],
                                   mentions=True))
    (_, recs, error), = results
    assert error is None and recs
    for r in recs:
        assert text[r["start"]:r["end"]] == r["mention"]
    out = _strict_utf8()
    writer = Writer(out, fmt, mentions=True)
    writer.write(recs)
    writer.close()
    written = out.buffer.getvalue().decode("utf-8")
    assert "\ufffd" in written
    assert "Turkey" in written


def test_undecodable_file_name_is_written_not_crashed(tmp_path, trained_model):
    folder = os.fsencode(tmp_path / "corpus")
    os.mkdir(folder)
    with open(os.path.join(folder, b"caf\xe9.txt"), "wb") as handle:
        handle.write(GOOD.encode())
    result = run_score(trained_model, tmp_path / "corpus")
    assert result.exit_code == 0, result.stderr
    assert sources(result) == {str(tmp_path / "corpus" / "caf\ufffd.txt")}


def test_writer_falls_back_to_escapes_on_a_narrow_stream():
    out = io.TextIOWrapper(io.BytesIO(), encoding="ascii", errors="strict")
    writer = Writer(out, "jsonl")
    writer.write([{"source": "\u062f\u0645\u0634\u0642", "actor": "x"}])
    writer.close()
    assert json.loads(out.buffer.getvalue().decode("ascii")) == {
        "source": "\u062f\u0645\u0634\u0642", "actor": "x"}


@pytest.mark.parametrize("value", ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx",
                                   "=HYPERLINK(\"http://x\")"])
def test_csv_safe_neutralises_formulas(value):
    assert csv_safe(value) == "'" + value


@pytest.mark.parametrize("value", ["Turkey", "'quoted", " =not at start", "", 1.5, -2])
def test_csv_safe_leaves_other_cells(value):
    assert csv_safe(value) == value


def test_csv_output_has_no_formula_cells(tmp_path, trained_model):
    import csv

    path = tmp_path / "evil.txt"
    path.write_text("=cmd|' /C calc'!A0 Turkey backed the rebels.\n\n"
                    "@SUM(1) Russia brokered a ceasefire.\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(main, ["score", "--model", str(trained_model), "--format",
                                       "csv", "--mentions", "-o", str(out), str(path)])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    sentences = {r["sentence"] for r in rows}
    assert "'=cmd|' /C calc'!A0 Turkey backed the rebels." in sentences
    assert "'@SUM(1) Russia brokered a ceasefire." in sentences
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_table_output_shows_no_terminal_controls():
    out = io.StringIO()
    writer = Writer(out, "table", mentions=True)
    writer.write([{"source": "a\x1b[2J.txt", "mention": "Tur\u202ekey\n", "actor": "Turkey",
                   "stance": "opposition", "confidence": 0.9}])
    writer.close()
    text = out.getvalue()
    assert "\x1b" not in text and "\u202e" not in text
    assert text.splitlines()[1].startswith("a\ufffd[2J.txt")


def test_unwritable_output_is_one_line_error(tmp_path, trained_model):
    good = tmp_path / "good.txt"
    good.write_text(GOOD, encoding="utf-8")
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    result = CliRunner().invoke(main, ["score", "--model", str(trained_model), "-o",
                                       str(blocker / "out.csv"), str(good)])
    assert result.exit_code == 1
    assert result.stderr == (f"error: {blocker / 'out.csv'}: cannot write "
                             f"({blocker}: Not a directory)\n")


def test_nul_bytes_past_the_sniffed_head_do_not_break_scoring(tmp_path, trained_model):
    text = "Turkey backed the rebels. " * 400 + "\x00\x00 Russia brokered a ceasefire.\x00\n"
    path = tmp_path / "padded.txt"
    path.write_text(text, encoding="utf-8")
    assert text.index("\x00") > 8192
    result = run_score(trained_model, "--mentions", path)
    assert result.exit_code == 0, result.stderr
    found = records(result)
    assert "Russia" in {r["actor"] for r in found}
    for r in found:
        assert text[r["start"]:r["end"]] == r["mention"]


@pytest.mark.parametrize("encoding, problem", [
    ("utf-16", "no byte-order mark, so the byte order is unknown; say it, e.g. "
               "--encoding utf-16-le"),
    ("utf-32", "not valid utf-32 (byte 0x54 at offset 0); try --encoding, e.g. "
               "--encoding latin-1"),
])
def test_wide_encoding_without_bom_is_reported(tmp_path, trained_model, encoding, problem):
    path = tmp_path / "wide.txt"
    _utf16_without_bom(path)
    result = run_score(trained_model, "--encoding", encoding, path)
    assert result.exit_code == 1
    assert result.stderr == f"error: {path}: {problem}\n"


@pytest.mark.parametrize("encoding", ["hex", "base64", "rot13"])
def test_non_text_codec_is_a_usage_error(tmp_path, trained_model, encoding):
    path = tmp_path / "a.txt"
    path.write_text(GOOD, encoding="utf-8")
    result = run_score(trained_model, "--encoding", encoding, path)
    assert result.exit_code == 2
    assert f"'{encoding}' is not a text encoding" in result.stderr
    with pytest.raises(InputError, match="is not a text encoding"):
        list(Document(str(path), path, encoding=encoding).chunks())


def test_csv_cell_with_a_bare_carriage_return_stays_in_its_row():
    import csv

    out = io.StringIO(newline="")
    writer = Writer(out, "csv", mentions=True)
    writer.write([{"source": "old-mac.txt", "sentence": "Turkey backed\rthe rebels.",
                   "start": 0, "end": 6, "mention": "Turkey", "actor": "Turkey",
                   "stance": "opposition", "confidence": 0.9,
                   "scores": dict.fromkeys(LABELS, 1 / 3), "known": True},
                  {"source": "b.txt", "sentence": "x", "start": 0, "end": 1, "mention": "x",
                   "actor": "x", "stance": "mediator", "confidence": 0.5,
                   "scores": dict.fromkeys(LABELS, 1 / 3), "known": False}])
    writer.close()
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert [r["sentence"] for r in rows] == ["Turkey backed\rthe rebels.", "x"]


def test_jsonl_record_is_one_line_whatever_separators_the_text_holds():
    out = io.StringIO()
    writer = Writer(out, "jsonl")
    evidence = "Turkey\u2028backed\u2029the\x85rebels\nhere."
    writer.write([{"source": "a", "evidence": evidence}])
    writer.close()
    (line,) = out.getvalue().splitlines()
    assert json.loads(line)["evidence"] == evidence
