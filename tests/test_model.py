"""Core model behaviour: training examples, prediction invariants, context flips."""

import numpy as np
import pytest

from stance import LABELS
from stance.detect import MentionDetector
from stance.errors import LabelError
from stance.evaluate import cross_validate, metrics
from stance.labels import LabelRow
from stance.model import best_mention, training_examples
from stance.modelio import load_model
from stance.registry import load_registry
from stance.training import prepare, train


def test_training_examples_use_detected_mentions_and_fall_back_to_the_label(labels_dir):
    registry = load_registry(labels_dir / "actors.csv")
    rows = [LabelRow("Russian jets bombed Idlib.", "Russian", "pro-damascus", "Russia"),
            LabelRow("The Wagner men left.", "Wagner men", "pro-damascus", "Russia")]
    contexts, y, groups = training_examples(rows, MentionDetector(registry))
    assert list(y) == ["pro-damascus", "pro-damascus"]
    assert [c.sentence[c.start:c.end] for c in contexts] == ["Russian", "Wagner men"]
    assert [c.prior for c in contexts] == ["pro-damascus", "pro-damascus"]
    assert list(groups) == ["Russia", "Russia"]


def test_best_mention_prefers_largest_overlap_and_matching_occurrence(labels_dir):
    detector = MentionDetector(load_registry(labels_dir / "actors.csv"))
    text = "Turkish-backed rebels met Russia, then Russia bombed them."
    _, mentions = detector.detect(text)
    assert best_mention(text, "Turkish-backed rebels", mentions).surface == "rebels"
    russia = [m for m in mentions if m.surface == "Russia"]
    predicted = {russia[0]: "mediator", russia[1]: "pro-damascus"}
    assert best_mention(text, "Russia", mentions, "pro-damascus", predicted) is russia[1]
    assert best_mention(text, "Hezbollah", mentions) is None


def test_predictions_are_probabilities_over_the_labels(trained_model):
    model, manifest = load_model(trained_model)
    (sentences, mentions, proba), = model.predict_documents(
        ["Russia and Turkey agreed a truce. Rebels shelled the Syrian army."])
    assert len(mentions) == len(proba) == 4
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert set(manifest["class_counts"]) == set(LABELS)


def test_metrics_count_missed_rows_as_wrong():
    m = metrics(["mediator", "opposition", "opposition"], ["mediator", "missed", "opposition"])
    assert m["accuracy"] == pytest.approx(2 / 3, abs=1e-3)
    assert m["per_label"]["opposition"]["recall"] == 0.5
    assert m["confusion"]["columns"][-1] == "missed"
    assert m["confusion"]["matrix"][1] == [0, 1, 0, 1]


def test_cross_validation_reports_baselines_next_to_the_model(labels_dir):
    data = prepare([labels_dir])
    cv = cross_validate(data["contexts"], data["y"], data["texts"], data["actors"], n_splits=2)
    for scheme in ("kfold", "leave_actor_out"):
        assert {"model", "prior", "majority"} <= set(cv[scheme])
        assert cv[scheme]["model"]["n"] == len(data["y"])
    # The majority baseline predicts one label only.
    assert sum(v["f1"] > 0 for v in cv["kfold"]["majority"]["per_label"].values()) == 1


def test_train_refuses_invalid_labels_and_keeps_the_old_model(labels_dir, tmp_path):
    target = tmp_path / "m" / "stance.skops"
    train([labels_dir], target, folds=2)
    before = target.read_bytes()
    with open(labels_dir / "small.csv", "a", encoding="utf-8") as handle:
        handle.write("Some text.,Hezbollah,pro-damascus,Hezbollah,explicit,written,\n")
    with pytest.raises(LabelError) as info:
        train([labels_dir], target, folds=2)
    assert "does not occur in its text" in str(info.value)
    assert target.read_bytes() == before


def stances(model, text):
    (_, mentions, proba), = model.predict_documents([text])
    return {m.surface: LABELS[int(np.argmax(p))] for m, p in zip(mentions, proba)}


@pytest.mark.parametrize("text, surface, expected", [
    ("Russia brokered a ceasefire between the two sides in Idlib.", "Russia", "mediator"),
    ("Russian jets bombed rebel-held Idlib overnight.", "Russian", "pro-damascus"),
    ("Turkey sent weapons to rebel groups fighting the Syrian army.", "Turkey", "opposition"),
    ("Turkey hosted peace talks and called for a political solution.", "Turkey", "mediator"),
    ("The United States armed the rebels fighting Assad.", "United States", "opposition"),
    ("The United States and Russia agreed a cessation of hostilities.", "United States",
     "mediator"),
    ("Iranian advisers helped government troops recapture the town.", "Iranian",
     "pro-damascus"),
    ("The UN envoy urged all parties to return to negotiations in Geneva.", "UN", "mediator"),
])
def test_bundled_model_reads_context_not_just_names(bundled_model, text, surface, expected):
    found = {k: v for k, v in stances(bundled_model, text).items() if k.startswith(surface)}
    assert list(found.values()) == [expected]


def test_exported_weights_score_like_the_pipeline(trained_model):
    from stance.modelio import load_scorer, weights_path

    full, _ = load_model(trained_model)
    fast, manifest = load_scorer(trained_model)
    assert type(fast.pipeline).__name__ == "LinearScorer"
    assert weights_path(trained_model).name == manifest["weights_file"]
    texts = ["Russia and Turkey agreed a truce. Rebels shelled the Syrian army.",
             "The UN called for talks while Hezbollah fought for Assad."]
    for (_, m1, p1), (_, m2, p2) in zip(full.predict_documents(texts),
                                        fast.predict_documents(texts)):
        assert m1 == m2
        assert np.allclose(p1, p2)


def test_scorer_falls_back_to_the_checked_model_when_weights_do_not_match(trained_model,
                                                                           tmp_path):
    import shutil

    from stance.modelio import load_scorer, manifest_path, weights_path

    folder = tmp_path / "m"
    folder.mkdir()
    for source in (trained_model, manifest_path(trained_model), weights_path(trained_model)):
        shutil.copy(source, folder)
    path = folder / trained_model.name
    weights_path(path).write_bytes(b"not the exported weights")
    model, _ = load_scorer(path)
    assert type(model.pipeline).__name__ == "Pipeline"
