"""Tokens: splitting sentences into words, normalising and stemming them.

A sentence is analysed once (:func:`analyse`) and its :class:`Tokens` are
shared by the detector, the context builder and the featurizer. Scoring is
pure Python per token, so the per-token steps run in C where they can: one
regex split, running sums for offsets, and memo dictionaries (:class:`Memo`)
mapped over the words instead of a Python call per word.
"""

import re
import unicodedata
from functools import lru_cache
from itertools import accumulate

# Words (\w+) and single punctuation marks: where \w+ fails, \S is a
# non-word, non-space character. Faster than the equivalent (\w+|[^\w\s]).
_TOKEN_SPLIT = re.compile(r"(\w+|\S)")


def normalise(token):
    """Case-fold, strip accents and unify apostrophes so 'Erdoğan’s' ~ "erdogan's"."""
    token = token.replace("’", "'").replace("‘", "'").replace("‐", "-").replace("–", "-")
    if not token.isascii():
        token = "".join(c for c in unicodedata.normalize("NFKD", token)
                        if not unicodedata.combining(c))
    return token.casefold()


def stem(word):
    """A crude suffix stripper so 'bombed', 'bombing' and 'bombs' share a feature."""
    for suffix in ("ings", "ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


class Memo(dict):
    """``memo[x]`` is ``function(x)``, worked out once per distinct ``x``.

    Words repeat a lot across a corpus, and a dict lookup in C through
    ``map`` is several times cheaper than a Python call per word. The memo
    is emptied when it grows past ``limit``, so endless vocabularies stay bounded.
    """

    def __init__(self, function, limit=200_000):
        super().__init__()
        self.function, self.limit = function, limit

    def __missing__(self, key):
        if len(self) >= self.limit:
            self.clear()
        value = self[key] = self.function(key)
        return value


# Memoised so that a repeated word is one shared string, its hash cached,
# rather than a new string per occurrence.
_NORMALISED = Memo(normalise)
_STEMMED = Memo(stem)


class Tokens:
    """One sentence's word and punctuation tokens as parallel lists:
    ``words`` (as written), ``starts``/``ends`` (offsets), ``norm`` (after
    :func:`normalise`) and, on first use, ``stems``."""

    __slots__ = ("words", "starts", "ends", "norm", "_stems")

    def __init__(self, text):
        # One C-level split gives words and the gaps between them, so offsets
        # are running sums instead of a Python call per token.
        parts = _TOKEN_SPLIT.split(text)
        cum = list(accumulate(map(len, parts)))
        self.words = parts[1::2]
        self.starts = cum[0:-1:2]
        self.ends = cum[1::2]
        self.norm = list(map(_NORMALISED.__getitem__, self.words))
        self._stems = None

    @property
    def stems(self):
        """:func:`stem` of each normalised token."""
        if self._stems is None:
            self._stems = list(map(_STEMMED.__getitem__, self.norm))
        return self._stems


@lru_cache(maxsize=1 << 14)
def analyse(text):
    """The :class:`Tokens` of a sentence.

    Cached because the detector, the context builder and the featurizer read
    the same sentences; a scoring batch empties the cache when it is done
    (:func:`clear_cache`), so the size only has to hold one batch's sentences.
    """
    return Tokens(text)


def clear_cache():
    """Forget the analysed sentences."""
    analyse.cache_clear()
