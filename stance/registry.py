"""The actor registry: canonical actors, their aliases, kinds, parents and prior stances."""

import codecs
import csv
import difflib
import io
from dataclasses import dataclass, field
from pathlib import Path

from stance import LABELS
from stance.errors import LabelError

COLUMNS = ("canonical", "kind", "parent", "prior", "aliases", "places", "demonyms", "note")
REQUIRED = ("canonical", "kind", "prior", "aliases")
KINDS = ("state", "person", "armed group", "organisation")


@dataclass(frozen=True)
class Actor:
    """One canonical actor and the surface forms that refer to it."""

    canonical: str
    kind: str
    parent: str = ""
    prior: str = ""
    aliases: tuple = ()
    places: tuple = ()
    demonyms: tuple = ()


@dataclass
class Registry:
    """All known actors, looked up by canonical name."""

    actors: dict = field(default_factory=dict)

    def __contains__(self, canonical):
        return canonical in self.actors

    def __len__(self):
        return len(self.actors)

    def get(self, canonical):
        return self.actors.get(canonical)

    def prior(self, canonical):
        """The actor's own prior, else the nearest ancestor's, else ''."""
        seen = set()
        actor = self.actors.get(canonical)
        while actor is not None and actor.canonical not in seen:
            if actor.prior:
                return actor.prior
            seen.add(actor.canonical)
            actor = self.actors.get(actor.parent)
        return ""

    def ancestors(self, canonical):
        """Canonical names of the actor's parents, nearest first."""
        out = []
        actor = self.actors.get(canonical)
        while actor is not None and actor.parent and actor.parent not in out:
            out.append(actor.parent)
            actor = self.actors.get(actor.parent)
        return out

    def to_rows(self):
        """Plain data (dicts of strings) so a model file can carry the registry."""
        return [
            {
                "canonical": a.canonical,
                "kind": a.kind,
                "parent": a.parent,
                "prior": a.prior,
                "aliases": "|".join(a.aliases),
                "places": "|".join(a.places),
                "demonyms": "|".join(a.demonyms),
            }
            for a in self.actors.values()
        ]

    @classmethod
    def from_rows(cls, rows):
        actors = {}
        for row in rows:
            actor = Actor(
                canonical=row["canonical"],
                kind=row.get("kind", ""),
                parent=row.get("parent", ""),
                prior=row.get("prior", ""),
                aliases=_split(row.get("aliases", "")),
                places=_split(row.get("places", "")),
                demonyms=_split(row.get("demonyms", "")),
            )
            actors[actor.canonical] = actor
        return cls(actors)


def _split(cell):
    return tuple(part.strip() for part in (cell or "").split("|") if part.strip())


def read_csv_rows(path):
    """Read a label or registry CSV into ``(header, [(line, header, cells), ...])``.

    UTF-8, UTF-8 with a BOM and UTF-16 with a BOM are read; every cell is kept
    as text ("NA", "null" or "None" are names, not missing values). ``line``
    is the line a row starts on. Raises LabelError, with file and line, for
    undecodable bytes, malformed quoting, a header that is not comma-separated
    or a column named twice.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LabelError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    text = _decode_csv(path, raw)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows = []
    line = 1
    try:
        header = next(reader, None)
        if header is None:
            raise LabelError([f"{path}:1: empty file, expected a header row"])
        header = [h.strip() for h in header]
        _check_header(path, header)
        line = reader.line_num + 1
        for cells in reader:
            if cells and any(c.strip() for c in cells):
                rows.append((line, header, cells))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise LabelError([f"{path}:{line}: malformed CSV ({exc}); look for a stray double "
                          "quote in this row"]) from None
    return header, rows


def _decode_csv(path, raw):
    for bom, name in ((codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            try:
                return raw.decode(name)
            except UnicodeDecodeError:
                raise LabelError([f"{path}: damaged UTF-16 file; save it as CSV UTF-8"]) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise LabelError(
            [f"{path}:{line}: not valid UTF-8 (byte 0x{raw[exc.start]:02x}; Latin-1 or "
             "Windows-1252?); save the file as CSV UTF-8"]
        ) from None


def _check_header(path, header):
    if len(header) == 1:
        for sep, name in ((";", "semicolon"), ("\t", "tab")):
            if sep in header[0]:
                raise LabelError([f"{path}:1: the header is one column; the file looks "
                                  f"{name}-separated, save it as comma-separated CSV"])
    named = [h for h in header if h]
    twice = sorted({h for h in named if named.count(h) > 1})
    if twice:
        raise LabelError([f"{path}:1: column(s) named twice: {', '.join(twice)}"])


def suggest(value, choices):
    """' (did you mean X?)' for the closest of ``choices``, or ''."""
    close = difflib.get_close_matches(value.strip().lower(), choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def load_registry(path):
    """Load and validate ``actors.csv``; raise LabelError listing every problem."""
    registry, problems = check_registry(path)
    if problems:
        raise LabelError(problems)
    return registry


def check_registry(path):
    """Return ``(registry, problems)`` where problems are 'file:line: message' strings."""
    path = Path(path)
    header, rows = read_csv_rows(path)
    problems = []
    unknown = [c for c in header if c and c not in COLUMNS]
    if unknown:
        hint = "; ".join(f"{c!r}" + suggest(c, COLUMNS) for c in unknown)
        problems.append(f"{path}:1: unknown column(s) {hint}")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        return Registry(), problems + [f"{path}:1: missing column(s) {', '.join(missing)}; "
                                       f"expected {','.join(COLUMNS)}"]
    parsed = []
    seen = {}
    alias_owner = {}
    for line, hdr, cells in rows:
        if len(cells) != len(hdr):
            problems.append(f"{path}:{line}: expected {len(hdr)} fields, found {len(cells)}")
            continue
        row = {k: v.strip() for k, v in zip(hdr, cells, strict=True)}
        name = row["canonical"]
        if not name:
            problems.append(f"{path}:{line}: empty canonical name")
            continue
        if name in seen:
            problems.append(f"{path}:{line}: duplicate canonical {name!r} "
                            f"(first on line {seen[name]})")
            continue
        seen[name] = line
        if row["kind"] not in KINDS:
            problems.append(f"{path}:{line}: kind {row['kind']!r} is not one of "
                            f"{', '.join(KINDS)}{suggest(row['kind'], KINDS)}")
        if row["prior"] and row["prior"] not in LABELS:
            problems.append(f"{path}:{line}: prior {row['prior']!r} is not one of "
                            f"{', '.join(LABELS)}{suggest(row['prior'], LABELS)}")
        for column in ("aliases", "places", "demonyms"):
            for alias in _split(row.get(column, "")):
                key = alias.casefold()
                if key in alias_owner and alias_owner[key][0] != name:
                    other, other_line = alias_owner[key]
                    problems.append(
                        f"{path}:{line}: alias {alias!r} of {name!r} is also an alias of "
                        f"{other!r} (line {other_line})")
                alias_owner.setdefault(key, (name, line))
        parsed.append((line, row))
    for line, row in parsed:
        if row.get("parent") and row["parent"] not in seen:
            problems.append(f"{path}:{line}: parent {row['parent']!r} is not a canonical actor")
    return Registry.from_rows(row for _, row in parsed), problems
