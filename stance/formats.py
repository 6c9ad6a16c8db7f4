"""Output formats for score records: jsonl, json, csv and a terminal table."""

import csv
import json
import re

ACTOR_FIELDS = ("source", "actor", "stance", "confidence", "scores", "mentions", "surfaces",
                "evidence", "known")
MENTION_FIELDS = ("source", "sentence", "start", "end", "mention", "actor", "stance",
                  "confidence", "scores", "known")
FORMATS = ("table", "jsonl", "json", "csv")
_INJECTION = ("=", "+", "-", "@", "\t", "\r")
_LINE_SEPARATORS = {c: f"\\u{c:04x}" for c in (0x85, 0x2028, 0x2029)}
_LINE_SEPARATOR = re.compile("[\x85\u2028\u2029]")
_encode = json.JSONEncoder(ensure_ascii=False).encode
_SURROGATE = re.compile("[\ud800-\udfff]")
# C0/C1 controls and bidi overrides would move the cursor or reorder a terminal line.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def csv_safe(value):
    """Neutralise spreadsheet formulas (OWASP CSV injection) with a leading quote."""
    if isinstance(value, str) and value.startswith(_INJECTION):
        return "'" + value
    return value


class _SafeText:
    """A text stream wrapper that never fails on a character the stream cannot take.

    Lone surrogates (possible in in-memory text or undecodable file names)
    become U+FFFD, one character for one so offsets still count right; a
    character the stream's encoding lacks is written as a backslash escape.
    """

    def __init__(self, out):
        self.out = out

    def write(self, text):
        text = _SURROGATE.sub("\ufffd", text)
        try:
            self.out.write(text)
        except UnicodeEncodeError:
            encoding = getattr(self.out, "encoding", None) or "ascii"
            self.out.write(text.encode(encoding, "backslashreplace").decode(encoding))

    def flush(self):
        self.out.flush()


def _json(record):
    text = _encode(record)
    # Line separators are legal raw in JSON strings but split lines for readers
    # that use str.splitlines or JavaScript; escape them so one record is one line.
    if _LINE_SEPARATOR.search(text):
        text = text.translate(_LINE_SEPARATORS)
    return text


def _table_cell(value):
    text = f"{value:.2f}" if isinstance(value, float) else str(value)
    return _UNPRINTABLE.sub("\ufffd", text.replace("\t", " ").replace("\n", " "))


def _flat(record, fields):
    row = {}
    for key in fields:
        value = record.get(key)
        if key == "scores":
            for label, p in value.items():
                row[f"p_{label}"] = p
            continue
        if isinstance(value, list):
            value = "|".join(value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        row[key] = csv_safe(value)
    return row


class Writer:
    """Stream records to ``out`` in one format; call :meth:`close` at the end."""

    def __init__(self, out, fmt, mentions=False):
        self.out, self.fmt = _SafeText(out), fmt
        self.fields = MENTION_FIELDS if mentions else ACTOR_FIELDS
        self._csv = self._csv_quoted = None
        self._first = True
        self._table_header = False

    def write(self, records):
        for record in records:
            getattr(self, f"_write_{self.fmt}")(record)
        self.out.flush()

    def _write_jsonl(self, record):
        self.out.write(_json(record) + "\n")

    def _write_json(self, record):
        self.out.write(("[\n" if self._first else ",\n") + _json(record))
        self._first = False

    def _write_csv(self, record):
        row = _flat(record, self.fields)
        if self._csv is None:
            self._csv = csv.DictWriter(self.out, fieldnames=list(row), lineterminator="\n")
            self._csv.writeheader()
            # The csv module quotes only for characters of the line terminator, so a
            # bare CR in a cell would end the row for a reader: quote such rows in full.
            self._csv_quoted = csv.DictWriter(self.out, fieldnames=list(row),
                                              lineterminator="\n", quoting=csv.QUOTE_ALL)
        if any(isinstance(v, str) and "\r" in v for v in row.values()):
            self._csv_quoted.writerow(row)
        else:
            self._csv.writerow(row)

    def _write_table(self, record):
        if "mention" in record:
            cols = (("source", 24), ("mention", 24), ("actor", 24), ("stance", 12),
                    ("confidence", 10))
        else:
            cols = (("source", 24), ("actor", 28), ("stance", 12), ("confidence", 10),
                    ("mentions", 8))
        if not self._table_header:
            self.out.write("  ".join(name[:w].upper().ljust(w) for name, w in cols) + "\n")
            self._table_header = True
        cells = []
        for name, width in cols:
            text = _table_cell(record[name])
            if len(text) > width:
                text = "…" + text[-(width - 1):] if name == "source" else text[:width - 1] + "…"
            cells.append(text.ljust(width))
        self.out.write("  ".join(cells).rstrip() + "\n")

    def close(self):
        if self.fmt == "json":
            self.out.write("[]\n" if self._first else "\n]\n")
        self.out.flush()

