"""Sentence splitting for news prose: abbreviations, initials, quotes and line breaks."""

import re

# Tokens that end with a period without ending a sentence.
ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof gen lt col maj capt sgt cpl adm brig cmdr gov sen rep rev st mt ft
    no nos vs etc al approx dept est fig inc ltd co corp jr sr jan feb mar apr jun jul aug sep
    sept oct nov dec e.g i.e a.m p.m""".split()
)

# A terminal mark, then optional closing quotes/brackets, then space: a candidate boundary.
_BOUNDARY = re.compile(r"""[.!?…]+["'”’)\]]*(?=\s)""")
_WORD_BEFORE = re.compile(r"([\w.]+)\.$")
_NEXT_START = re.compile(r"""\s+["'“‘(\[]*([\w])""")
# Words that start a new sentence after a dotted acronym ("...by the U.S. The army").
_STARTERS = frozenset(
    "the a an in on at it its he she they we i but however this that these those there "
    "after before when while during since meanwhile also according".split())
_INITIAL = re.compile(r"[a-z]")
_DOTTED = re.compile(r"(?:[a-z]\.)+[a-z]")
_WORD = re.compile(r"\w+")
_LINE_BREAK = re.compile(r"\n\s*\n|\n(?=\s*[-*•])")
_SOFT_BREAK = re.compile(r"\n")

#: Sentences longer than this are cut at the last space before it, so one
#: runaway "sentence" (tables, lists, garbage) cannot dominate time or memory.
MAX_SENTENCE = 2000


def split_sentences(text):
    """Return ``(start, end)`` character spans of the sentences in ``text``.

    Spans exclude surrounding whitespace and always satisfy ``start < end``.
    """
    spans = []
    for block_start, block_end in _blocks(text):
        spans.extend(_split_block(text, block_start, block_end))
    return spans


def _blocks(text):
    """Paragraph-like blocks: blank lines split, and so do line breaks after
    sentence-final punctuation or short heading-like lines."""
    cuts = [0]
    for m in _LINE_BREAK.finditer(text):
        cuts.extend((m.start(), m.end()))
    for m in _SOFT_BREAK.finditer(text):
        # The 200 characters before the break, less trailing space, are what
        # decides; found by index rather than by slicing them out.
        at = m.start()
        lo = max(0, at - 200)
        last = at - 1       # last non-space character before the break
        while last >= lo and text[last].isspace():
            last -= 1
        after = text[m.end():m.end() + 1]
        # Break after a finished sentence, or after a short heading-like line
        # followed by a capital; otherwise the line was only wrapped.
        if last < lo or text[last] in '.!?…"”’:)' or (
                last - max(lo, text.rfind("\n", lo, last) + 1) + 1 < 60
                and (after.isupper() or after.isdigit())):
            cuts.extend((at, m.end()))
    cuts.append(len(text))
    cuts = sorted(set(cuts))
    # Pair the cut points up into blocks, skipping the separators themselves.
    for a, b in zip(cuts, cuts[1:]):
        if text[a:b].strip():
            yield a, b


def _split_block(text, start, end):
    pos = start
    for m in _BOUNDARY.finditer(text, start, end):
        cut = m.end()
        if not _is_boundary(text, m, end):
            continue
        yield from _trimmed(text, pos, cut)
        pos = cut
    yield from _trimmed(text, pos, end)


def _is_boundary(text, m, end):
    mark = text[m.start()]
    nxt = _NEXT_START.match(text, m.end(), end)
    if not nxt:
        return False
    following = nxt.group(1)
    if mark == ".":
        word = _WORD_BEFORE.search(text, max(0, m.start() - 20), m.start() + 1)
        if word:
            token = word.group(1).lower()
            if token in ABBREVIATIONS or _INITIAL.fullmatch(token):
                return False
            # Dotted acronyms (U.S., U.N.) end a sentence only before a capital.
            if _DOTTED.fullmatch(token):
                word_after = _WORD.match(text, nxt.start(1), nxt.start(1) + 20)
                return bool(word_after) and word_after.group().lower() in _STARTERS
    # A lower-case word after "..." or "?" inside a quote continues the sentence.
    return not following.islower()


def _trimmed(text, a, b):
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    while b - a > MAX_SENTENCE:
        cut = text.rfind(" ", a + 1, a + MAX_SENTENCE)
        if cut <= a:
            cut = a + MAX_SENTENCE
        yield a, cut
        a = cut
        while a < b and text[a].isspace():
            a += 1
    if a < b:
        yield a, b
