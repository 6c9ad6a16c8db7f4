"""Training and evaluation jobs: from label files to a saved model and its scores."""

from collections import Counter
from pathlib import Path

from stance.detect import MentionDetector
from stance.evaluate import cross_validate, evaluate_test
from stance.labels import default_labels_dir, label_files, load_labels, resolve_registry
from stance.model import StanceModel, make_pipeline, training_examples
from stance.modelio import save_model, sha256_file
from stance.registry import load_registry


def prepare(label_paths=None, registry_path=None):
    """Load registry and labels, build training examples.

    Returns a dict with the registry, rows, contexts, labels and groups; raises
    LabelError if any file is invalid.
    """
    label_paths = list(label_paths or [default_labels_dir()])
    registry_path = resolve_registry(label_paths, registry_path)
    registry = load_registry(registry_path)
    rows = load_labels(label_paths, registry)
    contexts, y, actors = training_examples(rows, MentionDetector(registry))
    texts = [r.text for r in rows]
    return {
        "label_files": label_files(label_paths),
        "registry_path": registry_path,
        "registry": registry,
        "rows": rows,
        "contexts": contexts,
        "y": y,
        "texts": texts,
        "actors": actors,
    }


def train(label_paths=None, model_path=None, registry_path=None, folds=5, random_state=0):
    """Validate labels, cross-validate, fit on all labels, save model + manifest.

    Returns the manifest. Nothing is written when the labels are invalid.
    """
    from stance.modelio import default_model_path

    data = prepare(label_paths, registry_path)
    scores = cross_validate(data["contexts"], data["y"], data["texts"], data["actors"],
                            n_splits=folds, random_state=random_state)
    pipeline = make_pipeline(random_state=random_state).fit(data["contexts"], data["y"])
    model = StanceModel(pipeline, data["registry"].to_rows())
    manifest = {
        "labels": {_shown(p): sha256_file(p) for p in data["label_files"]},
        "registry": {_shown(data["registry_path"]): sha256_file(data["registry_path"])},
        "class_counts": dict(sorted(Counter(data["y"].tolist()).items())),
        "rows": len(data["rows"]),
        "actors": len(data["registry"]),
        "cv": _summary(scores),
    }
    return save_model(model, Path(model_path or default_model_path()), manifest)


def _shown(path):
    """A path relative to the repository when inside it, so manifests are portable."""
    path = Path(path).resolve()
    root = Path(__file__).resolve().parent.parent
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def _summary(scores):
    """Headline numbers of a cross-validation result, for the manifest."""
    out = {}
    for scheme, result in scores.items():
        out[scheme] = {"folds": result["folds"]}
        for name in ("model", "majority", "prior"):
            out[scheme][name] = {"macro_f1": result[name]["macro_f1"],
                                 "accuracy": result[name]["accuracy"]}
    return out


def evaluate(label_paths=None, test_paths=(), model_path=None, registry_path=None,
             folds=5, random_state=0, strict=False):
    """Cross-validation on the training labels and, for each test file, held-out scores."""
    from stance.modelio import load_model

    data = prepare(label_paths, registry_path)
    report = {"cv": cross_validate(data["contexts"], data["y"], data["texts"], data["actors"],
                                   n_splits=folds, random_state=random_state),
              "class_counts": dict(sorted(Counter(data["y"].tolist()).items())),
              "test": {}}
    if test_paths:
        if model_path:
            model, _ = load_model(model_path, strict=strict)
        else:
            model = StanceModel(make_pipeline(random_state=random_state).fit(
                data["contexts"], data["y"]), data["registry"].to_rows())
        majority = Counter(data["y"].tolist()).most_common(1)[0][0]
        for path in test_paths:
            rows = load_labels([path])
            report["test"][str(path)] = evaluate_test(model, rows, majority)
    return report
