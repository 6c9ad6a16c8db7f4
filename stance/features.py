"""Context features of one actor mention, as a scikit-learn transformer.

The features describe the mention's neighbourhood, not its name: a few words
either side, cue words (talks, airstrikes, backed...) near it and in its
sentence, the other actors around it with their registry priors and the cue
words that link them, compounds such as "Turkish-backed", and what the rest of
the document says near the same actor. The registry prior of the actor itself
is one more feature, so the classifier learns how far context may override it.
"""

from dataclasses import dataclass

from sklearn.base import BaseEstimator, TransformerMixin

from stance.lexicon import cue_patterns, normalise, stem, tokenize

_QUOTES_OPEN = "“\"‘"
_QUOTES_CLOSE = "”\"’"
_COORD = frozenset({"and", ",", "as", "well", "both", "or", "nor", "its", "their", "'", "s"})


@dataclass(frozen=True)
class Context:
    """What the featurizer needs to know about one mention."""

    sentence: str
    start: int            # mention span within ``sentence``
    end: int
    prior: str
    kind: str
    others: tuple = ()    # (start, end, prior, canonical) of the sentence's other mentions
    doc_cues: frozenset = frozenset()   # cue categories near the same actor elsewhere in the document


def build_contexts(sentences, mentions, window=6):
    """One Context per mention, given a document's sentences and mentions."""
    by_sentence = {}
    for m in mentions:
        by_sentence.setdefault(m.sentence, []).append(m)
    local = {}
    for m in mentions:
        sent = sentences[m.sentence]
        local[m] = _window_cues(sent.text, m.start - sent.start, m.end - sent.start, window)
    contexts = []
    for m in mentions:
        sent = sentences[m.sentence]
        others = tuple(
            (o.start - sent.start, o.end - sent.start, o.prior, o.canonical)
            for o in by_sentence[m.sentence] if o is not m)
        doc = frozenset().union(*(
            local[o] for o in mentions
            if o.canonical == m.canonical and o.sentence != m.sentence))
        contexts.append(Context(sent.text, m.start - sent.start, m.end - sent.start,
                                m.prior, m.kind, others, doc))
    return contexts


def _words(text):
    return [(a, b, stem(normalise(t))) for a, b, t in tokenize(text)]


def _cue_hits(words):
    """Cue categories of a token window, with multi-word cues."""
    hits = set()
    stems = [w for _, _, w in words]
    for category, patterns in cue_patterns().items():
        for i in range(len(stems)):
            for n in (1, 2, 3):
                if tuple(stems[i:i + n]) in patterns:
                    hits.add(category)
                    break
            if category in hits:
                break
    return hits


def _window_cues(sentence, start, end, window):
    words = _words(sentence)
    left = [w for w in words if w[1] <= start][-window:]
    right = [w for w in words if w[0] >= end][:window]
    return frozenset(_cue_hits(left) | _cue_hits(right))


class MentionFeaturizer(BaseEstimator, TransformerMixin):
    """Turn :class:`Context` objects into feature dicts for a ``DictVectorizer``.

    Parameters
    ----------
    window : int
        Words either side of the mention used for word and cue features.
    """

    def __init__(self, window=6):
        self.window = window

    def fit(self, X, y=None):
        self.n_features_in_ = 1
        return self

    def transform(self, X):
        return [self._features(c) for c in X]

    def _features(self, c):
        f = {}
        prior = c.prior or "none"
        f[f"prior={prior}"] = 1.0
        f[f"kind={c.kind}"] = 1.0
        words = _words(c.sentence)
        left = [w for w in words if w[1] <= c.start]
        right = [w for w in words if w[0] >= c.end]
        lwin, rwin = left[-self.window:], right[:self.window]
        for _, _, w in lwin:
            if w[:1].isalnum():
                f[f"L:{w}"] = 1.0
        for _, _, w in rwin:
            if w[:1].isalnum():
                f[f"R:{w}"] = 1.0
        if lwin:
            f[f"L1:{lwin[-1][2]}"] = 1.0
        if rwin:
            f[f"R1:{rwin[0][2]}"] = 1.0
        for cat in _cue_hits(lwin) | _cue_hits(rwin):
            f[f"win:{cat}"] = 1.0
            f[f"win:{cat}&prior={prior}"] = 1.0
        for cat in _cue_hits(words):
            f[f"sent:{cat}"] = 1.0
        for cat in c.doc_cues:
            f[f"doc:{cat}"] = 1.0
        # "Turkish-backed rebels": the mention backs whoever follows.
        if len(rwin) >= 2 and rwin[0][2] == "-" and rwin[0][0] == c.end:
            f[f"compound:{rwin[1][2]}"] = 1.0
            follower = next((o for o in sorted(c.others) if o[0] > c.end), None)
            if follower is not None:
                f[f"compound-to:{follower[2] or 'none'}"] = 1.0
        if left and right and left[-1][2] == "-" and left[-1][1] == c.start:
            f["compound-tail"] = 1.0
        if c.sentence[c.end:c.end + 2] in ("'s", "’s"):
            f["possessive"] = 1.0
        if len(left) <= 2:
            f["initial"] = 1.0
        if _inside_quote(c.sentence, c.start):
            f["quoted"] = 1.0
        self._relations(c, words, f)
        return f

    def _relations(self, c, words, f):
        for o_start, o_end, o_prior, o_canonical in c.others:
            p = o_prior or "none"
            if o_start >= c.end:
                direction, between = "after", [w for w in words if w[0] >= c.end and w[1] <= o_start]
            else:
                direction, between = "before", [w for w in words if w[0] >= o_end and w[1] <= c.start]
            f[f"other:{p}"] = 1.0
            if len(between) > 12:
                continue
            f[f"near:{direction}:{p}"] = 1.0
            if all(w[2] in _COORD for w in between):
                f[f"coord:{p}"] = 1.0
                continue
            for cat in _cue_hits(between):
                f[f"rel:{cat}:{direction}:{p}"] = 1.0


def _inside_quote(sentence, pos):
    opened = 0
    for ch in sentence[:pos]:
        if ch in "“":
            opened = 1
        elif ch in "”":
            opened = 0
        elif ch == '"':
            opened ^= 1
    return bool(opened)
