"""CSV, TSV and JSONL corpora: one document per row, streamed, bad rows reported by line."""

import json
import os
import pty
import subprocess
import sys
import tracemalloc

import pytest
from click.testing import CliRunner

from stance.cli import main
from stance.corpus import corpus_format, expand, read_corpus
from stance.errors import InputError
from stance.progress import Progress
from stance.textio import Document

TEXT_A = "Russia brokered a ceasefire between the rebels and Damascus."
TEXT_B = "Turkey backed rebel groups in the north."


def rows(items):
    """(source, text) for documents, the message for errors."""
    return [str(i) if isinstance(i, InputError) else (i.source, i.text) for i in items]


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def score(*args, input=None):
    result = CliRunner().invoke(main, ["score", "--format", "jsonl", *map(str, args)],
                                input=input)
    assert "Traceback" not in result.stderr
    return result


def records(result):
    return [json.loads(line) for line in result.stdout.splitlines()]


# --- recognising a corpus -------------------------------------------------------------


@pytest.mark.parametrize("name, fmt", [("a.csv", "csv"), ("A.CSV", "csv"), ("a.tsv", "tsv"),
                                       ("a.jsonl", "jsonl"), ("a.ndjson", "jsonl"),
                                       ("a.txt", None), ("a.json", None), ("csv", None)])
def test_corpus_is_recognised_by_suffix(name, fmt):
    assert corpus_format(name) == fmt


def test_text_files_and_corpora_mix_in_order(tmp_path):
    (tmp_path / "one.txt").write_text(TEXT_A, encoding="utf-8")
    write_jsonl(tmp_path / "rows.jsonl", [{"text": TEXT_B}, {"text": TEXT_A}])
    got = list(expand([tmp_path / "one.txt", tmp_path / "rows.jsonl", tmp_path / "none.csv"]))
    assert isinstance(got[0], Document) and got[0].path == tmp_path / "one.txt"
    jsonl = str(tmp_path / "rows.jsonl")
    assert rows(got[1:3]) == [(f"{jsonl}:1", TEXT_B), (f"{jsonl}:2", TEXT_A)]
    assert isinstance(got[3], InputError) and "no such file" in str(got[3])


def test_corpora_found_in_a_folder_by_glob_are_read_by_row(tmp_path):
    write_jsonl(tmp_path / "b.jsonl", [{"text": TEXT_B}])
    (tmp_path / "sub").mkdir()
    write_jsonl(tmp_path / "sub" / "a.jsonl", [{"text": TEXT_A}])
    (tmp_path / "notes.txt").write_text("not matched by the glob", encoding="utf-8")
    got = rows(expand([tmp_path], pattern="*.jsonl"))
    assert got == [(f"{tmp_path / 'b.jsonl'}:1", TEXT_B),
                   (f"{tmp_path / 'sub' / 'a.jsonl'}:1", TEXT_A)]


def test_encoding_reaches_text_files(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("Caf\xe9".encode("latin-1"))
    (doc,) = expand([path], encoding="latin-1")
    assert doc.encoding == "latin-1"
    assert "".join(t for _, t in doc.chunks()) == "Caf\xe9"


# --- CSV and TSV --------------------------------------------------------------------


def test_csv_rows_become_documents_with_id_or_line(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(f'id,text\n7,"{TEXT_A}"\nx9,"two\nlines"\n', encoding="utf-8")
    assert rows(read_corpus(path, id_column="id")) == [("7", TEXT_A), ("x9", "two\nlines")]
    # Without --id-column, the source is the line the row starts on.
    assert rows(read_corpus(path)) == [(f"{path}:2", TEXT_A), (f"{path}:3", "two\nlines")]


def test_tsv_and_another_text_column(tmp_path):
    path = tmp_path / "c.tsv"
    path.write_text(f"body\tid\n{TEXT_B}\tb\n", encoding="utf-8")
    assert rows(read_corpus(path, text_column="body", id_column="id")) == [("b", TEXT_B)]


def test_csv_bom_is_not_part_of_the_header(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbftext\nhello\n")
    assert rows(read_corpus(path)) == [(f"{path}:2", "hello")]


def test_csv_bad_rows_name_the_line_and_the_rest_goes_on(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b'id,text\n1,good\n2\n3,"caf\xe9"\n\n4,"a,b",extra\n5,also good\n')
    assert rows(read_corpus(path, id_column="id")) == [
        ("1", "good"),
        f"{path}:3: 1 fields, the header has 2",
        f"{path}:4: not valid utf-8 (byte 0xe9); try --encoding, e.g. --encoding latin-1",
        f"{path}:6: 3 fields, the header has 2",
        ("5", "also good"),
    ]


def test_csv_encoding_option(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("text\ncaf\xe9\n".encode("latin-1"))
    assert rows(read_corpus(path, encoding="latin-1")) == [(f"{path}:2", "caf\xe9")]


@pytest.mark.parametrize("header, missing", [("id,body", "text"), ("text,name", "id")])
def test_csv_missing_column_is_one_error_for_the_file(tmp_path, header, missing):
    path = tmp_path / "c.csv"
    path.write_text(f"{header}\n1,2\n3,4\n", encoding="utf-8")
    (error,) = read_corpus(path, id_column="id")
    assert str(error) == f"{path}: no column {missing!r} (columns: {header.replace(',', ', ')})"


def test_csv_empty_file_has_no_rows(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert list(read_corpus(path)) == []


def test_csv_fields_longer_than_the_csv_module_default(tmp_path):
    text = "Russia backed Assad. " * 20_000        # 420 000 characters
    path = tmp_path / "long.csv"
    path.write_text(f'text\n"{text}"\n', encoding="utf-8")
    assert rows(read_corpus(path)) == [(f"{path}:2", text)]


# --- JSON Lines ----------------------------------------------------------------------


def test_jsonl_rows_and_bad_lines(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"id": 1, "text": "one"}\n'
                     b'{"id": 2, "text": \n'
                     b'\n'
                     b'["not", "an", "object"]\n'
                     b'{"id": 4, "body": "no text"}\n'
                     b'{"id": 5, "text": 5}\n'
                     b'{"id": 6, "text": "caf\xe9"}\n'
                     b'{"text": "no id"}\n'
                     b'{"id": "seven", "text": "seven"}\n')
    got = rows(read_corpus(path, id_column="id"))
    assert got[0] == ("1", "one")
    assert got[1].startswith(f"{path}:2: invalid JSON (")
    assert got[2:] == [
        f"{path}:4: expected a JSON object, found list",
        f"{path}:5: no 'text' field",
        f"{path}:6: 'text' is not a string",
        f"{path}:7: not valid utf-8 (byte 0xe9); try --encoding, e.g. --encoding latin-1",
        f"{path}:8: no 'id' value",
        ("seven", "seven"),
    ]


def test_ndjson_without_id_uses_path_and_line(tmp_path):
    path = write_jsonl(tmp_path / "c.ndjson", [{"text": "a"}, {"text": "b"}])
    assert rows(read_corpus(path)) == [(f"{path}:1", "a"), (f"{path}:2", "b")]


def test_reading_a_corpus_streams_in_bounded_memory(tmp_path):
    path = tmp_path / "big.jsonl"
    line = json.dumps({"text": TEXT_A * 50}) + "\n"       # about 3 KB a row
    with open(path, "w", encoding="utf-8") as handle:
        for _ in range(5000):                               # about 15 MB
            handle.write(line)
    tracemalloc.start()
    try:
        count = sum(1 for _ in read_corpus(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 5000
    assert peak < 1_000_000


# --- through the CLI ---------------------------------------------------------------


def test_cli_scores_a_corpus_like_the_same_text_in_files(tmp_path, trained_model):
    write_jsonl(tmp_path / "c.jsonl", [{"url": "u1", "text": TEXT_A},
                                       {"url": "u2", "text": TEXT_B}])
    (tmp_path / "a.txt").write_text(TEXT_A, encoding="utf-8")
    (tmp_path / "b.txt").write_text(TEXT_B, encoding="utf-8")
    from_corpus = score("--model", trained_model, "--id-column", "url", tmp_path / "c.jsonl")
    from_files = score("--model", trained_model, tmp_path / "a.txt", tmp_path / "b.txt")
    assert from_corpus.exit_code == 0 and from_files.exit_code == 0
    names = {str(tmp_path / "a.txt"): "u1", str(tmp_path / "b.txt"): "u2"}
    expected = [{**r, "source": names[r["source"]]} for r in records(from_files)]
    assert records(from_corpus) == expected
    assert {r["source"] for r in expected} == {"u1", "u2"}


def test_cli_bad_rows_are_one_line_each_and_exit_1(tmp_path, trained_model):
    path = tmp_path / "c.csv"
    path.write_text(f'text\n"{TEXT_A}"\n"unclosed,extra",x\n"{TEXT_B}"\n', encoding="utf-8")
    result = score("--model", trained_model, path)
    assert result.exit_code == 1
    assert result.stderr == f"error: {path}:3: 2 fields, the header has 1\n"
    assert {r["source"] for r in records(result)} == {f"{path}:2", f"{path}:4"}


def test_cli_missing_text_column(tmp_path, trained_model):
    path = write_jsonl(tmp_path / "c.jsonl", [{"body": TEXT_A}])
    result = score("--model", trained_model, "--text-column", "content", path)
    assert result.exit_code == 1
    assert result.stderr == f"error: {path}:1: no 'content' field\n"
    assert result.stdout == ""


# --- progress ------------------------------------------------------------------------


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_progress_line_counts_documents_megabytes_and_rates(tmp_path):
    import io

    out, clock = io.StringIO(), Clock()
    progress = Progress(out, clock=clock)
    clock.now += 2.0
    progress(1, 3_000_000, 40)
    first = "1 documents, 3.0 MB, 40 mentions | 1.50 MB/s, 0.5 documents/s | 2 s"
    assert out.getvalue() == "\r" + first
    clock.now += 0.05                      # too soon to redraw
    progress(1, 1_000_000, 2)
    assert out.getvalue() == "\r" + first
    progress.clear()
    assert out.getvalue() == "\r" + first + "\r" + " " * len(first) + "\r"
    progress.close()
    assert out.getvalue().endswith("\r2 documents, 4.0 MB, 42 mentions | 1.95 MB/s, "
                                   "1.0 documents/s | 2 s\n")


def test_progress_with_nothing_done_prints_nothing():
    import io

    out = io.StringIO()
    progress = Progress(out)
    progress.close()
    assert out.getvalue() == ""


def _stderr_on_a_terminal(args):
    """Run `stance` with stderr on a pseudo-terminal; return (exit code, what stderr showed)."""
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "stance", *map(str, args)],
                              stdout=subprocess.PIPE, stderr=follower, stdin=subprocess.DEVNULL,
                              timeout=120)
        os.close(follower)
        follower = None
        shown = b""
        while True:
            try:
                block = os.read(leader, 65536)
            except OSError:
                break
            if not block:
                break
            shown += block
    finally:
        if follower is not None:
            os.close(follower)
        os.close(leader)
    return proc.returncode, shown.decode("utf-8", "replace")


def test_progress_shows_on_a_terminal_and_quiet_hides_it(tmp_path, trained_model):
    path = write_jsonl(tmp_path / "c.jsonl", [{"text": TEXT_A}] * 3)
    code, shown = _stderr_on_a_terminal(["score", "--model", trained_model, path])
    assert code == 0
    assert "3 documents" in shown and "MB/s" in shown and "documents/s" in shown
    code, shown = _stderr_on_a_terminal(["score", "--quiet", "--model", trained_model, path])
    assert code == 0 and shown == ""


def test_no_progress_when_stderr_is_not_a_terminal(tmp_path, trained_model):
    path = write_jsonl(tmp_path / "c.jsonl", [{"text": TEXT_A}] * 3)
    result = score("--model", trained_model, path)
    assert result.exit_code == 0 and result.stderr == ""
