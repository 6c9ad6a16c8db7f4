"""Prediction without training machinery: a model bundle and a scikit-learn-free scorer.

Scoring only needs the fitted weights of the linear model. :class:`LinearScorer`
holds them as plain arrays (exported at training time), so ``stance score``
starts without importing scikit-learn and gives the same probabilities as the
fitted pipeline.
"""

from functools import cached_property

import numpy as np

from stance import LABELS, features, tokens
from stance.detect import MentionDetector
from stance.features import build_contexts, mention_features
from stance.registry import Registry


class LinearScorer:
    """Multinomial logistic regression over feature dicts, from exported weights.

    ``predict_proba`` equals the fitted pipeline's (featurizer, DictVectorizer,
    LogisticRegression) up to floating-point rounding.
    """

    def __init__(self, vocabulary, coef, intercept, classes, window):
        self.vocabulary = vocabulary
        self.coef = np.asarray(coef, dtype=np.float64)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.classes_ = np.asarray(classes)
        self.window = int(window)

    @classmethod
    def from_pipeline(cls, pipeline):
        vec, clf = pipeline.named_steps["vectorize"], pipeline.named_steps["classify"]
        return cls(dict(vec.vocabulary_), clf.coef_, clf.intercept_, clf.classes_,
                   pipeline.named_steps["features"].window)

    def to_arrays(self):
        """Plain arrays (no Python objects) for ``numpy.savez``."""
        names = sorted(self.vocabulary, key=self.vocabulary.get)
        return {"features": np.array(names, dtype=str), "coef": self.coef,
                "intercept": self.intercept, "classes": self.classes_.astype(str),
                "window": np.array(self.window)}

    @classmethod
    def from_arrays(cls, arrays):
        names = arrays["features"].tolist()
        return cls({name: i for i, name in enumerate(names)}, arrays["coef"],
                   arrays["intercept"], arrays["classes"].tolist(), int(arrays["window"]))

    @cached_property
    def _column(self):
        # 1-based, so that ``filter(None, ...)`` drops unknown features (None)
        # in C without dropping column 0.
        return {name: j + 1 for name, j in self.vocabulary.items()}.get

    def predict_proba(self, contexts):
        column = self._column
        cols, counts = [], []
        for context in contexts:
            n = len(cols)
            cols.extend(filter(None, map(column, mention_features(context, self.window))))
            counts.append(len(cols) - n)
        rows = np.repeat(np.arange(len(contexts)), counts)
        cols = np.asarray(cols, dtype=np.intp) - 1
        # Every feature value is 1.0, so each logit is a sum of weight columns.
        logits = np.tile(self.intercept, (len(contexts), 1))
        if self.coef.shape[0] == 1:     # binary: scikit-learn keeps one row of weights
            weights = np.vstack([-self.coef, self.coef]) / 2
            logits = np.column_stack([-logits[:, 0] / 2, logits[:, 0] / 2])
        else:
            weights = self.coef
        for k in range(weights.shape[0]):
            logits[:, k] += np.bincount(rows, weights=weights[k, cols], minlength=len(contexts))
        logits -= logits.max(axis=1, keepdims=True)
        proba = np.exp(logits)
        return proba / proba.sum(axis=1, keepdims=True)


class StanceModel:
    """A fitted estimator (pipeline or :class:`LinearScorer`) plus the registry it
    detects actors with, so a model is self-contained."""

    def __init__(self, pipeline, registry_rows):
        self.pipeline = pipeline
        self.registry_rows = registry_rows
        self._detector = None

    @property
    def detector(self):
        if self._detector is None:
            self._detector = MentionDetector(Registry.from_rows(self.registry_rows))
        return self._detector

    @property
    def classes(self):
        return list(self.pipeline.classes_)

    def predict_documents(self, texts):
        """For each text, ``(sentences, mentions, probabilities)``; one predict call in all.

        ``probabilities`` is an array with a row per mention and a column per
        label in :data:`stance.LABELS` order.
        """
        detected = [self.detector.detect(t) for t in texts]
        contexts, sizes = [], []
        for sentences, mentions in detected:
            contexts.extend(build_contexts(sentences, mentions))
            sizes.append(len(mentions))
        proba = np.zeros((len(contexts), len(LABELS)))
        if contexts:
            raw = self.pipeline.predict_proba(contexts)
            for j, label in enumerate(self.pipeline.classes_):
                proba[:, LABELS.index(label)] = raw[:, j]
        # The per-sentence caches serve one batch; emptying them bounds memory
        # and leaves nothing large to free at exit.
        features.clear_cache()
        tokens.clear_cache()
        out, pos = [], 0
        for (sentences, mentions), n in zip(detected, sizes):
            out.append((sentences, mentions, proba[pos:pos + n]))
            pos += n
        return out
