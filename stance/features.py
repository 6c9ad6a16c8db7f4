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

from stance.lexicon import cue_patterns
from stance.tokens import Memo, analyse

_COORD = frozenset({"and", ",", "as", "well", "both", "or", "nor", "its", "their", "'", "s"})


_NO_CUES = frozenset()


class Context(NamedTuple):
    """What the featurizer needs to know about one mention; made by
    :func:`build_contexts`, which works out the token positions."""

    sentence: str
    start: int            # mention span within ``sentence``
    end: int
    prior: str
    kind: str
    first: int            # the sentence's tokens before the mention are [0, first)...
    after: int            # ...and after it [after, n)
    others: tuple = ()    # (start, end, prior, first, after) of the sentence's other mentions
    doc_cues: frozenset = frozenset()   # cues near the same actor in other sentences


def build_contexts(sentences, mentions, window=8):
    """One Context per mention, given a document's sentences and mentions."""
    groups = {}
    for m in mentions:
        groups.setdefault(m.sentence, []).append(m)
    local = {}      # sentence index -> (start, end, prior, first, after) of its mentions
    # Per actor, the cue categories near it in each of its sentences, and in
    # how many sentences each occurs, so "cues near the actor in its other
    # sentences" costs O(1) per mention.
    near, counts = {}, {}
    for index, group in groups.items():
        sent = sentences[index]
        base = sent.start
        info = _sentence_info(sent.text)
        starts, ends = info.starts, info.ends
        spans = local[index] = [
            (m.start - base, m.end - base, m.prior,
             bisect_right(ends, m.start - base), bisect_left(starts, m.end - base))
            for m in group]
        if info.cues:
            for m, span in zip(group, spans):
                cues = _window_cues(info, span[3], span[4], window)
                if cues:
                    near.setdefault(m.canonical, {}).setdefault(index, set()).update(cues)
    for canonical, per_sentence in near.items():
        total = counts[canonical] = {}
        for cues in per_sentence.values():
            for cat in cues:
                total[cat] = total.get(cat, 0) + 1
    contexts, docs, placed = [], {}, dict.fromkeys(groups, 0)
    for m in mentions:
        index = m.sentence
        k = placed[index]
        placed[index] = k + 1
        spans = local[index]
        doc = docs.get((m.canonical, index))
        if doc is None:
            total = counts.get(m.canonical)
            if total:
                own = near[m.canonical].get(index, ())
                doc = frozenset([cat for cat, n in total.items() if n > (cat in own)])
            else:
                doc = _NO_CUES
            docs[m.canonical, index] = doc
        a, b, _, first, after = spans[k]
        contexts.append(Context(sentences[index].text, a, b, m.prior, m.kind, first, after,
                                tuple(spans[:k] + spans[k + 1:]), doc))
    return contexts


@cache
def _cue_index():
    """First stem -> ``(length, following stems, categories)`` of the cue
    patterns (one to three stems) starting with it."""
    categories = {}
    for category, patterns in cue_patterns().items():
        for pattern in patterns:
            if 1 <= len(pattern) <= 3:
                categories.setdefault(pattern, set()).add(category)
    index = {}
    for pattern, cats in categories.items():
        index.setdefault(pattern[0], []).append((len(pattern), list(pattern[1:]), tuple(cats)))
    return index


class _SentenceInfo(NamedTuple):
    """What the features read of a sentence, worked out once per sentence."""

    starts: list
    ends: list
    stems: list
    cues: tuple         # (first token, last token + 1, category) of every cue
    categories: frozenset
    quotes: bool        # whether any quotation mark occurs


@lru_cache(maxsize=1 << 14)
def _sentence_info(sentence):
    # Cached: every mention of a sentence, and the document pass, need it. A
    # scoring batch empties the cache when done, so it need only hold a batch.
    tk = analyse(sentence)
    stems = tk.stems
    index = _cue_index()
    cues = []
    for i in [k for k, w in enumerate(stems) if w in index]:
        for length, rest, categories in index[stems[i]]:
            if length == 1 or stems[i + 1:i + length] == rest:
                cues.extend([(i, i + length, c) for c in categories])
    return _SentenceInfo(tk.starts, tk.ends, stems, tuple(cues),
                         frozenset(c for _, _, c in cues),
                         '"' in sentence or "“" in sentence or "”" in sentence)


def _window_cues(info, first, after, window):
    """Cue categories within ``window`` words either side of a mention."""
    lo, hi = max(0, first - window), after + window
    return {c for a, b, c in info.cues if (lo <= a and b <= first) or (after <= a and b <= hi)}


# Window-word feature names per stem (None for punctuation), made once per
# stem rather than once per mention.
_LEFT = Memo(lambda w: "L:" + w if w[:1].isalnum() else None)
_RIGHT = Memo(lambda w: "R:" + w if w[:1].isalnum() else None)


def mention_features(c, window=8):
    """The feature dict of one :class:`Context` (names -> 1.0)."""
    info = _sentence_info(c.sentence)
    starts, ends, stems = info.starts, info.ends, info.stems
    prior = c.prior or "none"
    f = {f"prior={prior}": 1.0, f"kind={c.kind}": 1.0}
    n_left, first_right = c.first, c.after
    lwin = stems[max(0, n_left - window):n_left]
    rwin = stems[first_right:first_right + window]
    for w in lwin:
        name = _LEFT[w]
        if name:
            f[name] = 1.0
    for w in rwin:
        name = _RIGHT[w]
        if name:
            f[name] = 1.0
    if lwin:
        f["L1:" + lwin[-1]] = 1.0
    if rwin:
        f["R1:" + rwin[0]] = 1.0
    if info.cues:
        for cat in _window_cues(info, n_left, first_right, window):
            f["win:" + cat] = 1.0
            f[f"win:{cat}&prior={prior}"] = 1.0
        for cat in info.categories:
            f["sent:" + cat] = 1.0
    for cat in c.doc_cues:
        f["doc:" + cat] = 1.0
    # "Turkish-backed rebels": the mention backs whoever follows.
    if len(rwin) >= 2 and rwin[0] == "-" and starts[first_right] == c.end:
        f["compound:" + rwin[1]] = 1.0
        follower = next((o for o in sorted(c.others) if o[0] > c.end), None)
        if follower is not None:
            f["compound-to:" + (follower[2] or "none")] = 1.0
    if lwin and rwin and lwin[-1] == "-" and ends[n_left - 1] == c.start:
        f["compound-tail"] = 1.0
    if c.sentence[c.end:c.end + 2] in ("'s", "’s"):
        f["possessive"] = 1.0
    if n_left <= 2:
        f["initial"] = 1.0
    if info.quotes and _inside_quote(c.sentence, c.start):
        f["quoted"] = 1.0
    if c.others:
        _relations(c, info, f)
    return f


def _relations(c, info, f):
    for o_start, _, o_prior, o_first, o_after in c.others:
        p = o_prior or "none"
        # The tokens between the two mentions are [lo, hi).
        if o_start >= c.end:
            direction, lo, hi = "after", c.after, o_first
        else:
            direction, lo, hi = "before", o_after, c.first
        f["other:" + p] = 1.0
        if hi - lo > 12:
            continue
        f[f"near:{direction}:{p}"] = 1.0
        if _COORD.issuperset(info.stems[lo:hi]):
            f["coord:" + p] = 1.0
            continue
        for cat in {k for x, y, k in info.cues if lo <= x and y <= hi}:
            f[f"rel:{cat}:{direction}:{p}"] = 1.0


def clear_cache():
    """Forget the sentences' feature data (see :func:`_sentence_info`)."""
    _sentence_info.cache_clear()


def _inside_quote(sentence, pos):
    """Whether ``pos`` is inside a quotation: the last curly quote before it
    sets the state, and each straight quote after that flips it."""
    head = sentence[:pos]
    last = max(head.rfind("“"), head.rfind("”"))
    opened = last >= 0 and head[last] == "“"
    return opened != (head.count('"', last + 1) % 2 == 1)
