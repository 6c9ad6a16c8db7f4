"""Context features of one actor mention, as a scikit-learn transformer.

The features describe the mention's neighbourhood, not its name: a few words
either side, cue words (talks, airstrikes, backed...) near it and in its
sentence, the other actors around it with their registry priors and the cue
words that link them, compounds such as "Turkish-backed", and what the rest of
the document says near the same actor. The registry prior of the actor itself
is one more feature, so the classifier learns how far context may override it.
"""

from bisect import bisect_left, bisect_right
from functools import cache, lru_cache
from typing import NamedTuple

from stance.lexicon import analyse, cue_patterns

_COORD = frozenset({"and", ",", "as", "well", "both", "or", "nor", "its", "their", "'", "s"})


class Context(NamedTuple):
    """What the featurizer needs to know about one mention."""

    sentence: str
    start: int            # mention span within ``sentence``
    end: int
    prior: str
    kind: str
    others: tuple = ()    # (start, end, prior) of the sentence's other mentions
    doc_cues: frozenset = frozenset()   # cues near the same actor in other sentences


def build_contexts(sentences, mentions, window=8):
    """One Context per mention, given a document's sentences and mentions."""
    by_sentence, slot = {}, []
    for m in mentions:
        group = by_sentence.setdefault(m.sentence, [])
        slot.append(len(group))
        group.append(m)
    spans = {index: [(o.start - sentences[index].start, o.end - sentences[index].start,
                      o.prior) for o in group]
             for index, group in by_sentence.items()}
    # Per actor, how many of its sentences have each cue category near it, so
    # "cues near the actor in its other sentences" costs O(1) per mention.
    near = {}
    for m in mentions:
        sent = sentences[m.sentence]
        cues = _window_cues(sent.text, m.start - sent.start, m.end - sent.start, window)
        near.setdefault(m.canonical, {}).setdefault(m.sentence, set()).update(cues)
    counts = {}
    for canonical, per_sentence in near.items():
        total = counts[canonical] = {}
        for cues in per_sentence.values():
            for cat in cues:
                total[cat] = total.get(cat, 0) + 1
    contexts = []
    for m, k in zip(mentions, slot, strict=True):
        sent = sentences[m.sentence]
        here = spans[m.sentence]
        others = tuple(here[:k] + here[k + 1:])
        own = near[m.canonical][m.sentence]
        doc = frozenset(cat for cat, n in counts[m.canonical].items() if n > (cat in own))
        contexts.append(Context(sent.text, m.start - sent.start, m.end - sent.start,
                                m.prior, m.kind, others, doc))
    return contexts


@cache
def _cue_index():
    """Cue patterns of one to three stems -> their categories, and the set of first stems."""
    index = {}
    for category, patterns in cue_patterns().items():
        for pattern in patterns:
            if 1 <= len(pattern) <= 3:
                index.setdefault(pattern, set()).add(category)
    return index, frozenset(p[0] for p in index)


@lru_cache(maxsize=4096)
def _cue_spans(sentence):
    """``(first, last + 1, category)`` token ranges of every cue in a sentence,
    found once so any window's cues are a range check."""
    index, firsts = _cue_index()
    stems = analyse(sentence).stems
    spans = []
    for i, first in enumerate(stems):
        if first in firsts:
            for n in (1, 2, 3):
                gram = tuple(stems[i:i + n])
                for category in index.get(gram, ()):
                    spans.append((i, i + len(gram), category))
    return tuple(spans)


def _cue_hits(sentence, lo, hi):
    """Cue categories of the cues lying wholly in tokens ``lo`` to ``hi - 1``."""
    return {c for a, b, c in _cue_spans(sentence) if lo <= a and b <= hi}


@lru_cache(maxsize=4096)
def _sentence_cues(sentence):
    return frozenset(c for _, _, c in _cue_spans(sentence))


@lru_cache(maxsize=1 << 14)
def _window_cues(sentence, start, end, window):
    """Cue categories within ``window`` words either side of a span; cached
    because the document pass and the mention's own features both need them."""
    tk = analyse(sentence)
    left_end = bisect_right(tk.ends, start)
    right_start = bisect_left(tk.starts, end)
    return frozenset(_cue_hits(sentence, max(0, left_end - window), left_end)
                     | _cue_hits(sentence, right_start, right_start + window))


def mention_features(c, window=8):
    """The feature dict of one :class:`Context` (names -> 1.0)."""
    f = {}
    prior = c.prior or "none"
    f[f"prior={prior}"] = 1.0
    f[f"kind={c.kind}"] = 1.0
    tk = analyse(c.sentence)
    stems = tk.stems
    n_left = bisect_right(tk.ends, c.start)        # words before the mention
    first_right = bisect_left(tk.starts, c.end)    # first word after it
    lo, hi = max(0, n_left - window), first_right + window
    lwin = stems[lo:n_left]
    rwin = stems[first_right:hi]
    for w in lwin:
        if w[:1].isalnum():
            f[f"L:{w}"] = 1.0
    for w in rwin:
        if w[:1].isalnum():
            f[f"R:{w}"] = 1.0
    if lwin:
        f[f"L1:{lwin[-1]}"] = 1.0
    if rwin:
        f[f"R1:{rwin[0]}"] = 1.0
    for cat in _window_cues(c.sentence, c.start, c.end, window):
        f[f"win:{cat}"] = 1.0
        f[f"win:{cat}&prior={prior}"] = 1.0
    for cat in _sentence_cues(c.sentence):
        f[f"sent:{cat}"] = 1.0
    for cat in c.doc_cues:
        f[f"doc:{cat}"] = 1.0
    # "Turkish-backed rebels": the mention backs whoever follows.
    if len(rwin) >= 2 and rwin[0] == "-" and tk.starts[first_right] == c.end:
        f[f"compound:{rwin[1]}"] = 1.0
        follower = next((o for o in sorted(c.others) if o[0] > c.end), None)
        if follower is not None:
            f[f"compound-to:{follower[2] or 'none'}"] = 1.0
    if lwin and rwin and lwin[-1] == "-" and tk.ends[n_left - 1] == c.start:
        f["compound-tail"] = 1.0
    if c.sentence[c.end:c.end + 2] in ("'s", "’s"):
        f["possessive"] = 1.0
    if n_left <= 2:
        f["initial"] = 1.0
    if _inside_quote(c.sentence, c.start):
        f["quoted"] = 1.0
    _relations(c, tk, f)
    return f


def _relations(c, tk, f):
    for o_start, o_end, o_prior in c.others:
        p = o_prior or "none"
        if o_start >= c.end:
            direction, a, b = "after", c.end, o_start
        else:
            direction, a, b = "before", o_end, c.start
        lo, hi = bisect_left(tk.starts, a), bisect_right(tk.ends, b)
        f[f"other:{p}"] = 1.0
        if hi - lo > 12:
            continue
        f[f"near:{direction}:{p}"] = 1.0
        if _COORD.issuperset(tk.stems[lo:hi]):
            f[f"coord:{p}"] = 1.0
            continue
        for cat in _cue_hits(c.sentence, lo, hi):
            f[f"rel:{cat}:{direction}:{p}"] = 1.0


def _inside_quote(sentence, pos):
    """Whether ``pos`` is inside a quotation: the last curly quote before it
    sets the state, and each straight quote after that flips it."""
    head = sentence[:pos]
    last = max(head.rfind("“"), head.rfind("”"))
    opened = last >= 0 and head[last] == "“"
    return opened != (head.count('"', last + 1) % 2 == 1)
