"""Word lists used by the detector and the features, read from ``lexicon.csv``."""

import csv
import io
import re
import unicodedata
from functools import cache, lru_cache
from importlib import resources

_TOKEN = re.compile(r"\w+|[^\w\s]")


def normalise(token):
    """Case-fold, strip accents and unify apostrophes so 'Erdoğan’s' ~ "erdogan's"."""
    token = token.replace("’", "'").replace("‘", "'").replace("‐", "-").replace("–", "-")
    if not token.isascii():
        token = "".join(c for c in unicodedata.normalize("NFKD", token)
                        if not unicodedata.combining(c))
    return token.casefold()


def tokenize(text, offset=0):
    """``(start, end, token)`` triples for word and punctuation tokens."""
    tokens = _tokens(text)
    if offset:
        return tuple((a + offset, b + offset, t) for a, b, t in tokens)
    return tokens


@lru_cache(maxsize=8192)
def _tokens(text):
    # Cached: the detector and the featurizer tokenize the same sentences.
    return tuple([(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)])


def stem(word):
    """A crude suffix stripper so 'bombed', 'bombing' and 'bombs' share a feature."""
    for suffix in ("ings", "ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


@cache
def lexicon():
    """Category -> frozenset of normalised entries (multi-word entries as tuples of stems)."""
    text = resources.files("stance").joinpath("lexicon.csv").read_text(encoding="utf-8")
    out = {}
    for row in csv.DictReader(io.StringIO(text)):
        words = [w.strip() for w in row["words"].split("|") if w.strip()]
        out[row["category"]] = frozenset(normalise(w) for w in words)
    return out


@cache
def cue_patterns():
    """Feature cue categories as tuples of stemmed tokens, e.g. ('shore', 'up')."""
    out = {}
    for category in ("mediate", "support", "attack", "oppose", "govern"):
        out[category] = frozenset(
            tuple(stem(t[2]) for t in tokenize(entry)) for entry in lexicon()[category])
    return out
