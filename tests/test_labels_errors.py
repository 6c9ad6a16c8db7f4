"""Bad label and registry files: every problem is named with its file and line."""

import codecs
import csv
import hashlib
import shutil

import pytest
from click.testing import CliRunner
from conftest import ACTORS, REGISTRY_HEADER, write_registry

from stance.cli import main
from stance.errors import LabelError
from stance.labels import check_labels, load_labels, validate
from stance.registry import check_registry, load_registry

HEAD = "text,actor,stance,canonical\n"
OK = "Turkey backed rebel groups in the north.,Turkey,opposition,Turkey\n"

BAD_LABELS = [
    # id, file bytes, problems ({p} is the file)
    ("missing column", b"text,actor,canonical\nTurkey backed rebels.,Turkey,Turkey\n",
     ["{p}:1: missing required column(s) stance"]),
    ("misspelt column", b"text,actor,stnce,canonical\nTurkey backed rebels.,Turkey,opposition,\n",
     ["{p}:1: unknown column(s) 'stnce' (did you mean 'stance'?)",
      "{p}:1: missing required column(s) stance"]),
    ("capitalised column", b"Text,actor,stance\nTurkey backed rebels.,Turkey,opposition\n",
     ["{p}:1: unknown column(s) 'Text' (did you mean 'text'?)",
      "{p}:1: missing required column(s) text"]),
    ("unknown stance", (HEAD + OK + "Turkey backed rebels.,Turkey,Opposition,Turkey\n").encode(),
     ["{p}:3: stance 'Opposition' is not one of pro-damascus, opposition, mediator "
      "(did you mean 'opposition'?)"]),
    ("empty text", (HEAD + ",Turkey,opposition,Turkey\n" + OK).encode(),
     ["{p}:2: empty text"]),
    ("blank text", (HEAD + '"   ",Turkey,opposition,Turkey\n').encode(),
     ["{p}:2: empty text"]),
    ("actor not in text", (HEAD + "Turkey backed rebels.,Iran,opposition,Iran\n").encode(),
     ["{p}:2: actor 'Iran' does not occur in its text"]),
    ("unclosed quote", (HEAD + OK + '"Turkey backed rebels.,Turkey,opposition,Turkey\n'
                        + OK).encode(),
     ["{p}:3: malformed CSV (unexpected end of data); look for a stray double quote "
      "in this row"]),
    ("quote inside a quoted cell", (HEAD + '"Turkey "backed" rebels.",Turkey,opposition,\n')
     .encode(),
     ["{p}:2: malformed CSV (',' expected after '\"'); look for a stray double quote "
      "in this row"]),
    ("row broken by a newline", (HEAD + "Turkey backed\nrebel groups.,Turkey,opposition,"
                                 "Turkey\n").encode(),
     ["{p}:2: expected 4 fields, found 1 (a stray quote or comma?)",
      "{p}:3: actor 'Turkey' does not occur in its text"]),
    ("line break in the actor cell", (HEAD + 'Turkey backed rebels.,"Turkey\nrebels",'
                                      "opposition,Turkey\n" + OK).encode(),
     ["{p}:2: line break inside the actor cell(s); a row must name one actor and one stance"]),
    ("stray comma", (HEAD + "Turkey, backed rebels.,Turkey,opposition,Turkey\n").encode(),
     ["{p}:2: expected 4 fields, found 5 (a stray quote or comma?)"]),
    ("duplicate row", (HEAD + OK + OK).encode(),
     ["{p}:3: duplicate of {p}:2 ('Turkey', opposition)"]),
    ("conflicting rows", (HEAD + OK + OK.replace("opposition", "mediator")).encode(),
     ["{p}:3: conflicts with {p}:2: 'Turkey' is mediator here and opposition there; if the "
      "same words really hold two mentions with different stances, split the text"]),
    ("latin-1", (HEAD + OK).encode() + "Caf\xe9 Turkey.,Turkey,opposition,\n".encode("latin-1"),
     ["{p}:3: not valid UTF-8 (byte 0xe9; Latin-1 or Windows-1252?); save the file as "
      "CSV UTF-8"]),
    ("semicolons", b"text;actor;stance\nTurkey backed rebels.;Turkey;opposition\n",
     ["{p}:1: the header is one column; the file looks semicolon-separated, save it as "
      "comma-separated CSV"]),
    ("column named twice", b"text,actor,stance,actor\nTurkey.,Turkey,opposition,Turkey\n",
     ["{p}:1: column(s) named twice: actor"]),
    ("empty file", b"", ["{p}:1: empty file, expected a header row"]),
    ("bad evidence", (HEAD.replace("canonical", "evidence")
                      + "Turkey backed rebels.,Turkey,opposition,implicit\n").encode(),
     ["{p}:2: evidence 'implicit' is not 'explicit' or 'context'"]),
    ("NUL in a cell", (HEAD + "Turkey backed\x00 rebels.,Turkey,opposition,Turkey\n").encode(),
     ["{p}:2: NUL character in the text cell(s); binary data pasted into a text cell?"]),
    ("canonical not in registry", (HEAD + "Turkey backed rebels.,Turkey,opposition,Turkiye\n")
     .encode(),
     ["{p}:2: canonical 'Turkiye' is not in the actor registry"]),
]


@pytest.fixture
def registry(tmp_path):
    return load_registry(write_registry(tmp_path / "actors.csv"))


@pytest.mark.parametrize("data, problems", [c[1:] for c in BAD_LABELS],
                         ids=[c[0] for c in BAD_LABELS])
def test_bad_label_file_problems_name_file_and_line(tmp_path, registry, data, problems):
    path = tmp_path / "bad.csv"
    path.write_bytes(data)
    rows, found = check_labels([path], registry)
    assert found == [p.format(p=path) for p in problems]
    with pytest.raises(LabelError) as caught:
        load_labels([path], registry)
    assert caught.value.problems == found


@pytest.mark.parametrize("data, problems", [c[1:] for c in BAD_LABELS],
                         ids=[c[0] for c in BAD_LABELS])
def test_validate_cli_prints_each_problem_and_exits_1(tmp_path, data, problems):
    write_registry(tmp_path / "actors.csv")
    path = tmp_path / "bad.csv"
    path.write_bytes(data)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 1
    expected = [f"error: {p.format(p=path)}" for p in problems]
    assert result.stderr.splitlines() == expected + [f"{len(problems)} problem(s) found"]
    assert "Traceback" not in result.stderr


GOOD_LABELS = [
    # id, file bytes, line of the last row
    ("utf-8 BOM", codecs.BOM_UTF8 + (HEAD + OK).encode(), 2),
    ("utf-16 BOM", (HEAD + OK).encode("utf-16"), 2),
    ("CRLF line ends", (HEAD + OK).replace("\n", "\r\n").encode(), 2),
    ("quoted newline in text", (HEAD + '"Turkey backed\nrebel groups.",Turkey,opposition,'
                                "Turkey\n" + OK.replace("north", "south")).encode(), 4),
    ("trailing empty column", (HEAD.strip() + ",\n" + OK.strip() + ",\n").encode(), 2),
]


@pytest.mark.parametrize("data, line", [c[1:] for c in GOOD_LABELS],
                         ids=[c[0] for c in GOOD_LABELS])
def test_awkward_but_valid_label_files_are_read(tmp_path, registry, data, line):
    path = tmp_path / "ok.csv"
    path.write_bytes(data)
    rows, problems = check_labels([path], registry)
    assert problems == []
    assert (rows[-1].actor, rows[-1].stance, rows[-1].canonical) == (
        "Turkey", "opposition", "Turkey")
    assert rows[-1].text.startswith("Turkey backed rebel groups in the")
    assert rows[-1].where == f"{path}:{line}"


def test_line_numbers_count_physical_lines_after_a_multiline_cell(tmp_path, registry):
    path = tmp_path / "ok.csv"
    path.write_text(HEAD + '"Turkey backed\n\nrebel groups.",Turkey,opposition,Turkey\n'
                    "Turkey backed rebels.,Iran,opposition,Iran\n", encoding="utf-8")
    _, problems = check_labels([path], registry)
    assert problems == [f"{path}:5: actor 'Iran' does not occur in its text"]


def test_na_null_none_are_text_not_missing_values(tmp_path, registry):
    path = tmp_path / "na.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "actor", "stance", "canonical", "evidence", "source", "note"])
        writer.writerow(["NA and null met None.", "NA", "mediator", "", "", "None", "null"])
        writer.writerow(["NA and null met None.", "None", "opposition", "", "", "NA", "NaN"])
        writer.writerow(["NA and null met None.", "null", "pro-damascus", "", "", "n/a", ""])
    rows, problems = check_labels([path], registry)
    assert problems == []
    assert [(r.actor, r.stance, r.source) for r in rows] == [
        ("NA", "mediator", "None"), ("None", "opposition", "NA"),
        ("null", "pro-damascus", "n/a")]


def test_problems_in_several_files_are_all_reported(tmp_path, registry):
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    one.write_text(HEAD + "Turkey backed rebels.,Iran,opposition,\n", encoding="utf-8")
    two.write_text(HEAD + OK + "Russia.,Russia,pro damascus,Russia\n", encoding="utf-8")
    problems = validate([tmp_path], tmp_path / "actors.csv")
    assert problems == [
        f"{one}:2: actor 'Iran' does not occur in its text",
        f"{two}:3: stance 'pro damascus' is not one of pro-damascus, opposition, mediator "
        "(did you mean 'pro-damascus'?)"]


def test_validate_says_when_there_is_nothing_to_validate(tmp_path):
    (tmp_path / "empty").mkdir()
    write_registry(tmp_path / "empty" / "actors.csv")
    assert validate([tmp_path / "empty"], tmp_path / "empty" / "actors.csv") == [
        f"{tmp_path / 'empty'}: no label files (*.csv) found"]
    assert validate([tmp_path / "missing.csv"]) == [f"{tmp_path / 'missing.csv'}: no such file"]


def _write_rows(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def test_registry_problems_name_file_and_line(tmp_path):
    path = tmp_path / "actors.csv"
    rows = [list(a) + [""] for a in ACTORS[:3]]
    rows.append(["Turkey", "armed-group", "", "oposition", "Ankara", "", "", ""])
    rows.append(["Russia", "state", "", "", "", "", "", ""])
    rows.append(["Hamas", "armed group", "Qatar", "", "Kremlin", "", "", ""])
    _write_rows(path, REGISTRY_HEADER, rows)
    _, problems = check_registry(path)
    assert problems == [
        f"{path}:5: kind 'armed-group' is not one of state, person, armed group, organisation "
        "(did you mean 'armed group'?)",
        f"{path}:5: prior 'oposition' is not one of pro-damascus, opposition, mediator "
        "(did you mean 'opposition'?)",
        f"{path}:6: duplicate canonical 'Russia' (first on line 4)",
        f"{path}:7: alias 'Kremlin' of 'Hamas' is also an alias of 'Russia' (line 4)",
        f"{path}:7: parent 'Qatar' is not a canonical actor",
    ]


def test_registry_with_misspelt_column(tmp_path):
    path = tmp_path / "actors.csv"
    _write_rows(path, ["canonical", "kind", "prior", "alias"], [["Iran", "state", "", "Iran"]])
    _, problems = check_registry(path)
    assert problems == [
        f"{path}:1: unknown column(s) 'alias' (did you mean 'aliases'?)",
        f"{path}:1: missing column(s) aliases; expected "
        "canonical,kind,parent,prior,aliases,places,demonyms,note"]


def test_train_refuses_invalid_labels_and_keeps_the_model(tmp_path, labels_dir, trained_model):
    model = tmp_path / "models" / "stance.skops"
    model.parent.mkdir()
    shutil.copy(trained_model, model)
    shutil.copy(trained_model.with_name("stance.manifest.json"), model.parent)
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in model.parent.iterdir()}
    (labels_dir / "bad.csv").write_text(
        HEAD + "Turkey backed rebels.,Iran,opposition,Iran\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["train", "--labels", str(labels_dir), "--model",
                                       str(model), "--folds", "2"])
    assert result.exit_code == 1
    assert result.stderr == (f"error: {labels_dir / 'bad.csv'}:2: actor 'Iran' does not occur "
                             "in its text\n")
    assert result.stdout == ""
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in model.parent.iterdir()}
    assert after == before


def test_train_refuses_a_broken_registry(tmp_path, labels_dir):
    registry = labels_dir / "actors.csv"
    registry.write_text(registry.read_text(encoding="utf-8").replace(",state,", ",country,", 1),
                        encoding="utf-8")
    model = tmp_path / "out" / "stance.skops"
    result = CliRunner().invoke(main, ["train", "--labels", str(labels_dir), "--model",
                                       str(model)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {registry}:")
    assert "kind 'country' is not one of" in result.stderr
    assert not model.parent.exists() or not any(model.parent.iterdir())
