"""Reading corpora: CSV, TSV and JSON Lines files holding one document per row.

A file is read as a corpus when its name ends in ``.csv``, ``.tsv``,
``.jsonl`` or ``.ndjson``; any other file is one text document. Rows are read
one at a time, so memory does not grow with the size of the corpus. Each row
becomes a :class:`~stance.textio.Document` whose ``source`` is the row's id
column, or ``<path>:<line>`` (the line the row starts on). A bad row (no text,
invalid JSON, wrong number of fields) becomes an
:class:`~stance.errors.InputError` naming the file and line, and the rows
after it are read as usual.
"""

import codecs
import csv
import io
import json
import re
import sys
from pathlib import Path

from stance.errors import InputError
from stance.textio import Document, expand_inputs

#: File name suffix -> corpus format.
FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
TEXT_COLUMN = "text"

# Articles are longer than the csv module's default field limit (128 KiB).
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def corpus_format(path):
    """``"csv"``, ``"tsv"`` or ``"jsonl"`` if ``path`` names a corpus file, else None."""
    return FORMATS.get(Path(path).suffix.lower())


def expand(paths, pattern="*.txt", text_column=TEXT_COLUMN, id_column=None, encoding=None):
    """Yield a Document, or an InputError, per document in ``paths``, in order.

    Like :func:`stance.textio.expand_inputs`, and corpus files (given as a
    path or found in a folder) yield one document per row. ``encoding``
    applies to text files and corpora alike.
    """
    for item in expand_inputs(paths, pattern):
        if isinstance(item, Document) and item.path is not None and corpus_format(item.path):
            yield from read_corpus(item.path, text_column, id_column, encoding,
                                   source=item.source)
        elif isinstance(item, Document) and encoding:
            yield Document(item.source, item.path, item.text, encoding)
        else:
            yield item


def read_corpus(path, text_column=TEXT_COLUMN, id_column=None, encoding=None, source=None):
    """Yield a Document or an InputError per row of a CSV, TSV or JSONL corpus."""
    source = source or str(path)
    fmt = corpus_format(path)
    if fmt is None:
        raise ValueError(f"{path}: not a corpus file ({', '.join(FORMATS)})")
    try:
        handle = open(path, "rb")
    except OSError as exc:
        yield InputError(source, exc.strerror or str(exc))
        return
    with handle:
        if fmt == "jsonl":
            yield from _jsonl_rows(handle, source, text_column, id_column, encoding)
        else:
            yield from _csv_rows(handle, source, text_column, id_column, encoding,
                                 "\t" if fmt == "tsv" else ",")


_UNDECODED = re.compile("[\udc80-\udcff]")


def _decode_problem(raw_byte, encoding):
    return f"not valid {encoding} (byte 0x{raw_byte:02x}); try --encoding, e.g. --encoding latin-1"


def _jsonl_rows(handle, source, text_column, id_column, encoding):
    encoding = encoding or "utf-8"
    for number, raw in enumerate(handle, 1):
        where = f"{source}:{number}"
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8):]
        try:
            line = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            yield InputError(where, _decode_problem(exc.object[exc.start], encoding))
            continue
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            yield InputError(where, f"invalid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(row, dict):
            yield InputError(where, f"expected a JSON object, found {type(row).__name__}")
            continue
        yield _document(row, where, text_column, id_column)


def _csv_rows(handle, source, text_column, id_column, encoding, delimiter):
    name = encoding or "utf-8"
    # Undecodable bytes become lone surrogates, so one bad row is reported and
    # the rows after it are still read.
    stream = io.TextIOWrapper(handle, encoding=encoding or "utf-8-sig",
                              errors="surrogateescape", newline="")
    reader = csv.reader(stream, delimiter=delimiter)
    header, line = None, 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield InputError(f"{source}:{line}", str(exc))
            line = reader.line_num + 1
            continue
        where, line = f"{source}:{line}", reader.line_num + 1
        if not values:
            continue
        bad = next(filter(None, map(_UNDECODED.search, values)), None)
        if bad:
            problem = _decode_problem(ord(bad.group()) - 0xDC00, name)
            if header is None:
                yield InputError(source, f"header: {problem}")
                return
            yield InputError(where, problem)
            continue
        if header is None:
            header = values
            missing = [c for c in (text_column, id_column) if c and c not in header]
            if missing:
                yield InputError(source, f"no column {missing[0]!r} "
                                         f"(columns: {', '.join(header)})")
                return
            continue
        if len(values) != len(header):
            yield InputError(where, f"{len(values)} fields, the header has {len(header)}")
            continue
        yield _document(dict(zip(header, values, strict=True)), where, text_column, id_column)


def _document(row, where, text_column, id_column):
    """A Document for a row (a dict), or an InputError naming what is missing."""
    text = row.get(text_column)
    if text is None:
        return InputError(where, f"no {text_column!r} field")
    if not isinstance(text, str):
        return InputError(where, f"{text_column!r} is not a string")
    if id_column is None:
        return Document(where, text=text)
    ident = row.get(id_column)
    if ident is None or ident == "" or isinstance(ident, (dict, list, bool)):
        return InputError(where, f"no {id_column!r} value")
    return Document(str(ident), text=text)
