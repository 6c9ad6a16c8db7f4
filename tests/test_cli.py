"""CLI wiring through click's CliRunner: exit codes, schemas, messages."""

import csv
import io
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner
from conftest import write_labels

from stance import LABELS, __version__
from stance.cli import main

ACTOR_KEYS = {"source", "actor", "stance", "confidence", "scores", "mentions", "surfaces",
              "evidence", "known"}
MENTION_KEYS = {"source", "sentence", "start", "end", "mention", "actor", "stance",
                "confidence", "scores", "known"}
DOC = "\ufeffRussia brokered a ceasefire.\n\nRussian jets bombed the rebels near Idlib."


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def doc(tmp_path):
    path = tmp_path / "doc.txt"
    path.write_text(DOC, encoding="utf-8")
    return path


def run(runner, args, **kw):
    return runner.invoke(main, args, catch_exceptions=False, **kw)


@pytest.mark.parametrize("command", ["score", "train", "evaluate", "validate"])
def test_every_command_has_help_and_version(runner, command):
    result = run(runner, [command, "-h"])
    assert result.exit_code == 0
    assert "Example" in result.output
    result = run(runner, [command, "--version"])
    assert result.exit_code == 0 and __version__ in result.output


def test_python_dash_m_works():
    out = subprocess.run([sys.executable, "-m", "stance", "--version"], capture_output=True,
                         text=True, check=True)
    assert __version__ in out.stdout


def test_score_per_actor_schema(runner, trained_model, doc):
    result = run(runner, ["score", "--model", str(trained_model), str(doc)])
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert {r["actor"] for r in records} == {"Russia", "Syrian opposition"}
    for r in records:
        assert set(r) == ACTOR_KEYS
        assert r["source"] == str(doc)
        assert r["stance"] in LABELS
        assert abs(sum(r["scores"].values()) - 1) < 1e-3
        assert r["confidence"] == r["scores"][r["stance"]]
        assert r["evidence"] in DOC
    russia = next(r for r in records if r["actor"] == "Russia")
    assert russia["mentions"] == 2 and russia["surfaces"] == ["Russia", "Russian"]


def test_score_mentions_offsets_index_the_text_as_read(runner, trained_model, doc):
    result = run(runner, ["score", "--mentions", "--model", str(trained_model), str(doc)])
    assert result.exit_code == 0
    records = [json.loads(line) for line in result.stdout.splitlines()]
    text = DOC.lstrip("\ufeff")
    assert [r["mention"] for r in records] == ["Russia", "Russian", "rebels"]
    for r in records:
        assert set(r) == MENTION_KEYS
        assert text[r["start"]:r["end"]] == r["mention"]
        assert r["mention"] in r["sentence"]


def test_score_reads_stdin_and_folders(runner, trained_model, doc, tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("HTS seized Aleppo.", encoding="utf-8")
    (tmp_path / "sub" / "skip.md").write_text("HTS seized Aleppo.", encoding="utf-8")
    result = run(runner, ["score", "--model", str(trained_model), str(tmp_path), "-"],
                 input="The UN called for talks.")
    sources = [json.loads(line)["source"] for line in result.stdout.splitlines()]
    assert sources == [str(doc), str(doc), str(tmp_path / "sub" / "b.txt"), "-"]


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_score_formats(runner, trained_model, doc, fmt):
    result = run(runner, ["score", "--format", fmt, "--model", str(trained_model), str(doc)])
    assert result.exit_code == 0
    if fmt == "json":
        assert {r["actor"] for r in json.loads(result.stdout)} == {"Russia", "Syrian opposition"}
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
        assert [r["actor"] for r in rows] == ["Russia", "Syrian opposition"]
        assert {f"p_{label}" for label in LABELS} <= set(rows[0])
    else:
        assert result.stdout.splitlines()[0].startswith("SOURCE")
        assert "Russia" in result.stdout


def test_output_file_is_written(runner, trained_model, doc, tmp_path):
    out = tmp_path / "out.jsonl"
    result = run(runner, ["score", "-o", str(out), "--model", str(trained_model), str(doc)])
    assert result.exit_code == 0 and result.stdout == ""
    assert len(out.read_text().splitlines()) == 2


def test_validate_reports_file_and_line(runner, labels_dir):
    bad = labels_dir / "bad.csv"
    write_labels(bad, [("Russia bombed Idlib.", "Russia", "pro-damascus", "Russia"),
                       ("Russia bombed Idlib.", "Iran", "pro-damascus", "Iran"),
                       ("Talks began.", "Talks", "neutral", "Russia"),
                       ("Russia bombed Idlib.", "Russia", "pro-damascus", "Russia"),
                       ("Moscow spoke.", "Moscow", "mediator", "Muscovy")])
    result = run(runner, ["validate", str(labels_dir)])
    assert result.exit_code == 1
    err = result.stderr
    assert f"{bad}:3: actor 'Iran' does not occur in its text" in err
    assert f"{bad}:4: stance 'neutral' is not one of" in err
    assert f"{bad}:5: duplicate of {bad}:2" in err
    assert f"{bad}:6: canonical 'Muscovy' is not in the actor registry" in err


def test_validate_ok(runner, labels_dir):
    result = run(runner, ["validate", str(labels_dir)])
    assert result.exit_code == 0 and "ok" in result.stdout


def test_train_then_score_round_trip(runner, labels_dir, tmp_path, doc):
    model = tmp_path / "models" / "stance.skops"
    result = run(runner, ["train", "--labels", str(labels_dir), "--model", str(model),
                          "--folds", "2"])
    assert result.exit_code == 0, result.stderr
    assert "class counts:" in result.stdout and "leave_actor_out" in result.stdout
    manifest = json.loads(model.with_name("stance.manifest.json").read_text())
    assert manifest["rows"] == 28 and set(manifest["cv"]) == {"kfold", "leave_actor_out"}
    scored = run(runner, ["score", "--model", str(model), str(doc)])
    assert scored.exit_code == 0
    assert {json.loads(line)["actor"] for line in scored.stdout.splitlines()} == {
        "Russia", "Syrian opposition"}


def test_evaluate_json_on_a_test_file(runner, labels_dir, tmp_path):
    test = write_labels(tmp_path / "test.csv", [
        ("Moscow and Ankara agreed a truce.", "Moscow", "mediator", "Russia"),
        ("Hezbollah fought for Assad.", "Hezbollah", "pro-damascus", "Hezbollah"),
        ("Nobody here.", "Nobody", "opposition", "")])
    result = run(runner, ["evaluate", "--labels", str(labels_dir), "--test", str(test),
                          "--folds", "2", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    t = report["test"][str(test)]
    assert t["rows"] == 3 and t["detection_rate"] == pytest.approx(2 / 3, abs=1e-3)
    assert t["model"]["confusion"]["columns"][-1] == "missed"
    assert {"model", "prior", "majority"} <= set(report["cv"]["kfold"])


def test_folder_without_matching_files_is_an_error(runner, trained_model, tmp_path, doc):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.md").write_text("Russia spoke.", encoding="utf-8")
    result = runner.invoke(main, ["score", "--model", str(trained_model), str(empty), str(doc)])
    assert result.exit_code == 1
    assert f"error: {empty}: no files matching '*.txt' in this folder (see --glob)" in result.stderr
    assert len(result.stdout.splitlines()) == 2
