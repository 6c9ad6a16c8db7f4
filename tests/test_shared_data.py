"""Checks on the team's real data beside the repo (skipped when ../shared is absent)."""

import json

from click.testing import CliRunner

from stance import LABELS
from stance.cli import main
from stance.labels import load_labels


def test_scoring_real_articles_keeps_the_output_contract(shared_dir, tmp_path):
    files = sorted((shared_dir / "corpus" / "wikipedia-syria").glob("*.txt"))[:5]
    result = CliRunner().invoke(main, ["score", "--mentions", *map(str, files)])
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) > 100
    texts = {str(f): f.read_text(encoding="utf-8-sig") for f in files}
    for r in records:
        assert texts[r["source"]][r["start"]:r["end"]] == r["mention"]
        assert r["stance"] in LABELS


def test_bundled_model_meets_the_quality_floors_on_the_dev_set(shared_dir, bundled_model):
    from stance.evaluate import evaluate_test

    rows = load_labels([shared_dir / "eval" / "wikipedia-dev.csv"])
    report = evaluate_test(bundled_model, rows, majority_label="pro-damascus")
    assert report["detection_rate"] >= 0.93
    assert report["model"]["macro_f1"] >= 0.80
    assert report["model"]["per_label"]["mediator"]["f1"] >= 0.70
    assert report["model"]["macro_f1"] >= report["prior"]["macro_f1"] + 0.05
