"""Output formats for score records: jsonl, json, csv and a terminal table."""

import csv
import json

ACTOR_FIELDS = ("source", "actor", "stance", "confidence", "scores", "mentions", "surfaces",
                "evidence", "known")
MENTION_FIELDS = ("source", "sentence", "start", "end", "mention", "actor", "stance",
                  "confidence", "scores", "known")
FORMATS = ("table", "jsonl", "json", "csv")
_INJECTION = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value):
    """Neutralise spreadsheet formulas (OWASP CSV injection) with a leading quote."""
    if isinstance(value, str) and value.startswith(_INJECTION):
        return "'" + value
    return value


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
        self.out, self.fmt = out, fmt
        self.fields = MENTION_FIELDS if mentions else ACTOR_FIELDS
        self._csv = None
        self._first = True
        self._table_header = False

    def write(self, records):
        for record in records:
            getattr(self, f"_write_{self.fmt}")(record)
        self.out.flush()

    def _write_jsonl(self, record):
        self.out.write(json.dumps(record, ensure_ascii=False) + "\n")

    def _write_json(self, record):
        self.out.write(("[\n" if self._first else ",\n") + json.dumps(record, ensure_ascii=False))
        self._first = False

    def _write_csv(self, record):
        row = _flat(record, self.fields)
        if self._csv is None:
            self._csv = csv.DictWriter(self.out, fieldnames=list(row), lineterminator="\n")
            self._csv.writeheader()
        self._csv.writerow(row)

    def _write_table(self, record):
        if "mention" in record:
            cols = (("source", 24), ("mention", 24), ("actor", 24), ("stance", 12),
                    ("confidence", 5))
        else:
            cols = (("source", 24), ("actor", 28), ("stance", 12), ("confidence", 5),
                    ("mentions", 4))
        if not self._table_header:
            self.out.write("  ".join(name[:w].upper().ljust(w) for name, w in cols) + "\n")
            self._table_header = True
        cells = []
        for name, width in cols:
            value = record[name]
            text = f"{value:.2f}" if isinstance(value, float) else str(value)
            if len(text) > width:
                text = "…" + text[-(width - 1):] if name == "source" else text[:width - 1] + "…"
            cells.append(text.ljust(width))
        self.out.write("  ".join(cells).rstrip() + "\n")

    def close(self):
        if self.fmt == "json":
            self.out.write("[]\n" if self._first else "\n]\n")
        self.out.flush()

