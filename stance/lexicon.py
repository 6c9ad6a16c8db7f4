"""Word lists used by the detector and the features, read from ``lexicon.csv``."""

import csv
import io
from functools import cache
from importlib import resources

from stance.tokens import Tokens, normalise, stem


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
            tuple(stem(w) for w in Tokens(entry).words) for entry in lexicon()[category])
    return out
