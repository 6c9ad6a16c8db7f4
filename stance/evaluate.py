"""Honest quality numbers: cross-validation, leave-one-actor-out and held-out test files,
each next to the majority-label and registry-prior baselines."""

from collections import Counter

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import LeaveOneGroupOut, StratifiedGroupKFold

from stance import LABELS
from stance.model import best_mention, make_pipeline

MISSED = "missed"


def metrics(y_true, y_pred):
    """Accuracy, per-label precision/recall/F1, macro-F1 and a confusion matrix.

    ``y_pred`` may hold ``"missed"`` for rows the detector did not find; they
    count as wrong, and the confusion matrix gets a ``missed`` column.
    """
    y_true, y_pred = list(y_true), list(y_pred)
    p, r, f, s = precision_recall_fscore_support(
        y_true, y_pred, labels=list(LABELS), zero_division=0)
    columns = list(LABELS) + ([MISSED] if MISSED in y_pred else [])
    cm = confusion_matrix(y_true, y_pred, labels=columns)[: len(LABELS)]
    n = len(y_true)
    return {
        "n": n,
        "accuracy": round(sum(a == b for a, b in zip(y_true, y_pred)) / n, 4) if n else 0.0,
        "macro_f1": round(float(np.mean(f)), 4),
        "per_label": {
            label: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                    "f1": round(float(f[i]), 4), "support": int(s[i])}
            for i, label in enumerate(LABELS)
        },
        "confusion": {"labels": list(LABELS), "columns": columns,
                      "matrix": cm.astype(int).tolist()},
    }


def _prior_predictions(contexts, fallback):
    return [c.prior or fallback for c in contexts]


def _cv(contexts, y, splitter, groups, make):
    """Out-of-fold predictions of the model and both baselines, pooled."""
    from sklearn.base import clone
    from threadpoolctl import threadpool_limits

    pipeline = make()
    # The featurizer is stateless and the vectorizer only names columns: a
    # column never seen in a training fold gets weight 0 under L2, so fitting
    # them once on all contexts gives the same predictions as per fold, and
    # each fold then fits only the classifier.
    X = pipeline[:-1].fit_transform(contexts)
    pred_model = np.empty(len(y), dtype=object)
    pred_major = np.empty(len(y), dtype=object)
    pred_prior = np.empty(len(y), dtype=object)
    # Threaded BLAS only slows these small fits down.
    with threadpool_limits(1):
        for train, test in splitter.split(np.zeros(len(y)), y, groups):
            est = clone(pipeline[-1]).fit(X[train], y[train])
            pred_model[test] = est.predict(X[test])
            majority = Counter(y[train]).most_common(1)[0][0]
            pred_major[test] = majority
            pred_prior[test] = _prior_predictions([contexts[i] for i in test], majority)
    return {
        "model": metrics(y, pred_model),
        "majority": metrics(y, pred_major),
        "prior": metrics(y, pred_prior),
    }


def cross_validate(contexts, y, texts, actors, n_splits=5, random_state=0, make=make_pipeline,
                   leave_actor_out=True):
    """Stratified k-fold (grouped by text, so a sentence never sits on both sides)
    and leave-one-actor-out scores, each with baselines."""
    y = np.asarray(y)
    n_splits = max(2, min(n_splits, min(Counter(y).values()), len(set(texts))))
    kfold = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    out = {"kfold": dict(_cv(contexts, y, kfold, texts, make), folds=n_splits)}
    if leave_actor_out and len(set(actors)) > 1:
        out["leave_actor_out"] = dict(_cv(contexts, y, LeaveOneGroupOut(), actors, make),
                                      folds=len(set(actors)))
    return out


def evaluate_test(model, rows, majority_label):
    """Score test rows with a trained model, as a user would meet the text.

    Each distinct ``text`` is scored as a document. A row is found when a
    detected mention overlaps an occurrence of its ``actor``; that mention's
    prediction is the row's. Missed rows count as wrong in every score.
    """
    texts = list(dict.fromkeys(r.text for r in rows))
    results = dict(zip(texts, model.predict_documents(texts)))
    y_true, y_model, y_prior = [], [], []
    found = 0
    for row in rows:
        _, mentions, proba = results[row.text]
        predicted = {m: LABELS[int(np.argmax(p))] for m, p in zip(mentions, proba)}
        m = best_mention(row.text, row.actor, mentions, gold=row.stance, predicted=predicted)
        y_true.append(row.stance)
        if m is None:
            y_model.append(MISSED)
            y_prior.append(MISSED)
            continue
        found += 1
        y_model.append(predicted[m])
        y_prior.append(m.prior or majority_label)
    detected = [i for i, p in enumerate(y_model) if p != MISSED]
    return {
        "rows": len(rows),
        "detection_rate": round(found / len(rows), 4) if rows else 0.0,
        "model": metrics(y_true, y_model),
        "model_on_detected": metrics([y_true[i] for i in detected],
                                     [y_model[i] for i in detected]),
        "majority": metrics(y_true, [majority_label] * len(rows)),
        "prior": metrics(y_true, y_prior),
    }
