"""The stance classifier: context features fused with the registry prior.

:func:`make_pipeline` is a plain scikit-learn ``Pipeline`` over
:class:`~stance.features.Context` objects, so it drops into cross-validation.
:class:`~stance.predictor.StanceModel` (re-exported here) bundles a fitted
pipeline with the actor registry it was trained with, so a model file is
self-contained.
"""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from stance.detect import Mention, Sentence
from stance.features import build_contexts, mention_features
from stance.predictor import StanceModel  # noqa: F401  (re-exported)


class MentionFeaturizer(BaseEstimator, TransformerMixin):
    """Turn :class:`~stance.features.Context` objects into feature dicts.

    Parameters
    ----------
    window : int
        Words either side of the mention used for word and cue features.
    """

    def __init__(self, window=8):
        self.window = window

    def fit(self, X, y=None):
        self.n_features_in_ = 1
        return self

    def transform(self, X):
        return [mention_features(c, self.window) for c in X]


def make_pipeline(C=0.3, window=8, random_state=0):
    """Featurizer -> DictVectorizer -> class-balanced multinomial logistic regression.

    The prior is an ordinary feature, so the regression learns how strongly an
    actor's usual side counts against the context words around it.
    """
    return Pipeline([
        ("features", MentionFeaturizer(window=window)),
        ("vectorize", DictVectorizer()),
        ("classify", LogisticRegression(C=C, class_weight="balanced", max_iter=5000,
                                        random_state=random_state)),
    ])


def training_examples(rows, detector):
    """Turn label rows into ``(contexts, labels, canonicals)`` for fitting.

    Each row's mention is the detected mention that best overlaps the row's
    ``actor`` in its ``text``; where the detector misses it, the labelled span
    itself is used, so every row trains the classifier.
    """
    by_text = {}
    for row in rows:
        by_text.setdefault(row.text, []).append(row)
    contexts, labels, groups = [], [], []
    for text, text_rows in by_text.items():
        sentences, mentions = detector.detect(text)
        chosen = []
        for row in text_rows:
            m = best_mention(text, row.actor, mentions)
            if m is None:
                m = _labelled_mention(text, row, sentences, detector.registry)
                mentions.append(m)
            chosen.append((row, m))
        mentions.sort(key=lambda m: m.start)
        ctx = dict(zip(mentions, build_contexts(sentences, mentions)))
        for row, m in chosen:
            contexts.append(ctx[m])
            labels.append(row.stance)
            groups.append(row.canonical or m.canonical)
    return contexts, np.array(labels), np.array(groups)


def occurrences(text, surface):
    """Character spans of every occurrence of ``surface`` in ``text``."""
    spans, pos = [], text.find(surface)
    while pos >= 0 and surface:
        spans.append((pos, pos + len(surface)))
        pos = text.find(surface, pos + 1)
    return spans


def best_mention(text, surface, mentions, gold=None, predicted=None):
    """The detected mention standing for a labelled surface form, or None.

    Among mentions overlapping an occurrence, take the one holding the span's
    last character (the head of a compound), else the largest overlap. Where
    the surface occurs several times and ``gold``/``predicted`` are given, an
    occurrence whose prediction matches the gold label wins: a labels row does
    not say which occurrence it means.
    """
    picks = []
    for a, b in occurrences(text, surface):
        overlapping = [m for m in mentions if m.start < b and a < m.end]
        if overlapping:
            # The head of a compound ("rebels" in "Turkish-backed rebels") is
            # the mention that reaches the end of the labelled span.
            picks.append(max(overlapping, key=lambda m: (m.start < b <= m.end,
                                                         min(b, m.end) - max(a, m.start))))
    if not picks:
        return None
    if gold is not None and predicted is not None:
        for m in picks:
            if predicted.get(m) == gold:
                return m
    return picks[0]


def _labelled_mention(text, row, sentences, registry):
    a, b = occurrences(text, row.actor)[0]
    index = next((i for i, s in enumerate(sentences) if s.start <= a < s.end), None)
    if index is None:
        sentences.append(Sentence(0, len(text), text))
        index = len(sentences) - 1
    actor = registry.get(row.canonical)
    return Mention(start=a, end=b, surface=row.actor, canonical=row.canonical or row.actor,
                   kind=actor.kind if actor else "unknown",
                   prior=registry.prior(row.canonical) if actor else "",
                   known=actor is not None, sentence=index)
