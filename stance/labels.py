"""Reading and checking hand-labelled mention files (the columns of ANNOTATION.md)."""

from dataclasses import dataclass
from pathlib import Path

from stance import LABELS
from stance.errors import LabelError
from stance.registry import check_registry, read_csv_rows, suggest

COLUMNS = ("text", "actor", "stance", "canonical", "evidence", "source", "note")
REQUIRED = ("text", "actor", "stance")
#: Cells that name one thing; a line break in them is a spreadsheet accident.
SINGLE_LINE = ("actor", "stance", "canonical", "evidence")
EVIDENCE = ("", "explicit", "context")
REGISTRY_NAME = "actors.csv"


@dataclass(frozen=True)
class LabelRow:
    """One labelled mention; ``where`` is 'file:line' for messages."""

    text: str
    actor: str
    stance: str
    canonical: str = ""
    evidence: str = ""
    source: str = ""
    where: str = ""


def default_labels_dir():
    """``./labels`` when it exists, else the repository's bundled ``labels/``."""
    here = Path("labels")
    if (here / REGISTRY_NAME).is_file():
        return here
    return Path(__file__).resolve().parent.parent / "labels"


def resolve_registry(label_paths, registry_path=None):
    """The registry given, else ``actors.csv`` in the first labels folder given."""
    if registry_path:
        return Path(registry_path)
    for path in label_paths:
        path = Path(path)
        folder = path if path.is_dir() else path.parent
        if (folder / REGISTRY_NAME).is_file():
            return folder / REGISTRY_NAME
    return default_labels_dir() / REGISTRY_NAME


def label_files(paths):
    """Expand files and folders into label CSVs (the registry file excluded)."""
    out = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            out.extend(p for p in sorted(path.glob("*.csv")) if p.name != REGISTRY_NAME)
        else:
            out.append(path)
    return out


def check_labels(paths, registry=None):
    """Return ``(rows, problems)`` for label files; problems are 'file:line: message'."""
    rows, problems = [], []
    seen = {}
    for path in label_files(paths):
        if not path.exists():
            problems.append(f"{path}: no such file")
            continue
        try:
            header, raw = read_csv_rows(path)
        except LabelError as exc:
            problems.extend(exc.problems)
            continue
        missing = [c for c in REQUIRED if c not in header]
        unknown = [c for c in header if c and c not in COLUMNS]
        if unknown:
            hint = "; ".join(f"{c!r}" + suggest(c, COLUMNS) for c in unknown)
            problems.append(f"{path}:1: unknown column(s) {hint}")
        if missing:
            problems.append(f"{path}:1: missing required column(s) {', '.join(missing)}")
            continue
        for line, hdr, cells in raw:
            where = f"{path}:{line}"
            if len(cells) != len(hdr):
                problems.append(f"{where}: expected {len(hdr)} fields, found {len(cells)} "
                                "(a stray quote or comma?)")
                continue
            cell = dict(zip(hdr, cells, strict=True))
            binary = [c for c in hdr if "\x00" in cell[c]]
            if binary:
                problems.append(f"{where}: NUL character in the {', '.join(binary)} cell(s); "
                                "binary data pasted into a text cell?")
                continue
            broken = [c for c in SINGLE_LINE if c in cell and _has_break(cell[c])]
            if broken:
                problems.append(f"{where}: line break inside the {', '.join(broken)} cell(s); "
                                "a row must name one actor and one stance")
                continue
            row = LabelRow(
                text=cell["text"], actor=cell["actor"].strip(), stance=cell["stance"].strip(),
                canonical=cell.get("canonical", "").strip(),
                evidence=cell.get("evidence", "").strip(),
                source=cell.get("source", "").strip(), where=where)
            row_problems = _check_row(row, registry)
            problems.extend(f"{where}: {p}" for p in row_problems)
            if row_problems:
                continue
            key = (row.text, row.actor)
            if key in seen:
                first = seen[key]
                if first.stance == row.stance:
                    problems.append(f"{where}: duplicate of {first.where} "
                                    f"({row.actor!r}, {row.stance})")
                    continue
                problems.append(f"{where}: conflicts with {first.where}: {row.actor!r} is "
                                f"{row.stance} here and {first.stance} there; if the same "
                                "words really hold two mentions with different stances, "
                                "split the text")
                continue
            seen[key] = row
            rows.append(row)
    return rows, problems


def _check_row(row, registry):
    out = []
    if not row.text.strip():
        return ["empty text"]
    if not row.actor:
        return ["empty actor"]
    if row.stance not in LABELS:
        out.append(f"stance {row.stance!r} is not one of {', '.join(LABELS)}"
                   + suggest(row.stance, LABELS))
    if row.actor not in row.text:
        out.append(f"actor {row.actor!r} does not occur in its text")
    if row.evidence not in EVIDENCE:
        out.append(f"evidence {row.evidence!r} is not 'explicit' or 'context'")
    if registry is not None and row.canonical and row.canonical not in registry:
        out.append(f"canonical {row.canonical!r} is not in the actor registry")
    return out


def _has_break(cell):
    return "\n" in cell.strip() or "\r" in cell.strip()


def load_labels(paths, registry=None):
    """Valid label rows, or LabelError listing every problem."""
    rows, problems = check_labels(paths, registry)
    if problems:
        raise LabelError(problems)
    if not rows:
        raise LabelError([f"{', '.join(map(str, paths))}: no labelled rows found"])
    return rows


def validate(paths, registry_path=None):
    """Check label files and the registry; return a list of problems (empty when valid)."""
    problems = []
    registry = None
    if registry_path is not None:
        try:
            registry, problems = check_registry(registry_path)
        except LabelError as exc:
            problems = list(exc.problems)
    if not label_files(paths):
        return problems + [f"{', '.join(map(str, paths))}: no label files (*.csv) found"]
    _, label_problems = check_labels(paths, registry)
    return problems + label_problems
