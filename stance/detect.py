"""Finding actor mentions in text: registry aliases, metonyms, demonyms and unknown groups."""

from dataclasses import dataclass
from functools import lru_cache

from stance.lexicon import lexicon, normalise, tokenize
from stance.sentences import split_sentences

_END = None    # trie key marking an alias end; never a token, even "\0"
# Tokens repeat a lot across a corpus; normalising each once saves a third of detection time.
_normalise = lru_cache(maxsize=1 << 16)(normalise)
_RELATIONAL_PREPOSITIONS = frozenset("to towards toward from of with".split())
_BACKER = frozenset(
    "backed led allied brokered sponsored supported funded armed trained aligned "
    "affiliated linked controlled dominated organised organized".split())


@dataclass(frozen=True)
class Mention:
    """One actor mention; ``start``/``end`` are offsets into the document."""

    start: int
    end: int
    surface: str
    canonical: str
    kind: str
    prior: str
    known: bool
    sentence: int


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str


class MentionDetector:
    """Longest-match registry lookup over tokens, with rules for places and demonyms.

    * aliases match anywhere (acronyms case-sensitively, capitalised names need a
      capital initial, lower-case group words match in any case);
    * ``places`` (countries, capitals) match only when not used as a location;
    * ``demonyms`` match only before a forces/officials noun or in compounds
      such as "Turkish-backed";
    * capitalised names shaped like armed groups ("Liwa al-Haqq", "Sultan Murad
      Division") are reported as unknown actors.
    """

    def __init__(self, registry, find_unknown=True):
        self.registry = registry
        self.find_unknown = find_unknown
        self._lex = lexicon()
        self._trie = {}
        for actor in registry.actors.values():
            aliases = set(actor.aliases)
            places = set(actor.places)
            if actor.canonical not in aliases | places:
                (places if actor.kind == "state" else aliases).add(actor.canonical)
            for kind, forms in (("alias", aliases), ("place", places),
                                ("demonym", actor.demonyms)):
                for form in forms:
                    self._add(form, kind, actor)

    def _add(self, form, kind, actor):
        tokens = [t for _, _, t in tokenize(form)]
        if not tokens:
            return
        node = self._trie
        for tok in tokens:
            node = node.setdefault(normalise(tok), {})
        node.setdefault(_END, []).append((kind, tuple(tokens), actor, _case_rule(tokens)))

    def detect(self, text):
        """Return ``(sentences, mentions)`` for a document."""
        sentences = [Sentence(a, b, text[a:b]) for a, b in split_sentences(text)]
        mentions = []
        for index, sent in enumerate(sentences):
            mentions.extend(self.detect_sentence(sent.text, sent.start, index))
        return sentences, mentions

    def detect_sentence(self, text, offset=0, index=0):
        """Mentions in one sentence; offsets are shifted by ``offset``."""
        tokens = tokenize(text)
        norm = [_normalise(t) for _, _, t in tokens]
        found = []
        trie = self._trie
        i = 0
        while i < len(tokens):
            # Most tokens start no alias; skip them without a call.
            match = self._longest(tokens, norm, i) if norm[i] in trie else None
            if match is None:
                i += 1
                continue
            j, _, actor = match
            end_tok = j
            # Possessive 's / ’s belongs to the mention.
            if j < len(tokens) and norm[j] == "'" and tokens[j][0] == tokens[j - 1][1]:
                if j + 1 < len(tokens) and norm[j + 1] == "s" \
                        and tokens[j + 1][0] == tokens[j][1]:
                    end_tok = j + 2
                elif norm[j - 1].endswith("s"):
                    end_tok = j + 1     # "Damascus' refusal"
            start, end = tokens[i][0], tokens[end_tok - 1][1]
            found.append(Mention(
                start=start + offset, end=end + offset, surface=text[start:end],
                canonical=actor.canonical, kind=actor.kind,
                prior=self.registry.prior(actor.canonical), known=True,
                sentence=index))
            i = end_tok
        if self.find_unknown:
            found.extend(self._unknown_groups(text, tokens, norm, found, offset, index))
            found.sort(key=lambda m: m.start)
        found = self._titled_persons(found, text, tokens, norm, offset, index)
        return self._merge_titles(found, text, offset)

    def _longest(self, tokens, norm, i):
        """The longest valid alias starting at token ``i``: (end token, kind, actor)."""
        if not norm[i][:1].isalnum():
            return None
        node = self._trie
        best = None
        j = i
        while j < len(tokens) and norm[j] in node:
            node = node[norm[j]]
            j += 1
            # An alias must end at a word edge: "US" is not the start of "USAID".
            for kind, alias_tokens, actor, rule in node.get(_END, ()):
                if self._case_ok(tokens, i, alias_tokens, rule) and \
                        self._context_ok(kind, tokens, norm, i, j):
                    best = (j, kind, actor)
                    break
        return best

    @staticmethod
    def _case_ok(tokens, i, alias_tokens, rule):
        if rule == "exact":
            return all(tokens[i + k][2] == tok for k, tok in enumerate(alias_tokens))
        if rule == "capital":
            return tokens[i][2][:1].isupper()
        return True

    def _context_ok(self, kind, tokens, norm, i, j):
        lex = self._lex
        prev = norm[i - 1] if i > 0 else ""
        prev2 = norm[i - 2] if i > 1 else ""
        nxt = norm[j] if j < len(norm) else ""
        nxt2 = norm[j + 1] if j + 1 < len(norm) else ""
        # "rebel-held Idlib" is a place; "anti-Assad forces" is not Assad.
        if nxt == "-" and nxt2 in lex["held"] and tokens[j][0] == tokens[j - 1][1]:
            return False
        if prev == "-" and prev2 in lex["anti"] and tokens[i - 1][1] == tokens[i][0]:
            return False
        if kind == "alias":
            # Generic words ("government", "army") belong to a named actor just
            # before them: "the Iraqi government", "Turkey's army".
            if norm[i] in lex["owned_generic"] and i > 0 and (
                    norm[i - 1] in ("'", "s") or tokens[i - 1][2][:1].isupper()):
                return i == 1 and norm[0] == "the"
            return True
        if kind == "place":
            return self._acts_as_government(tokens, norm, i, j)
        return self._demonym_ok(tokens, norm, i, j)

    def _acts_as_government(self, tokens, norm, i, j):
        lex = self._lex
        nxt = norm[j] if j < len(norm) else ""
        if nxt in lex["place_next"]:
            return False
        if nxt == "'":
            return True     # "Damascus' refusal", "Moscow's position": the government acts
        k = i - 1
        if k >= 0 and norm[k] == "the":
            k -= 1
        # "in Moscow and Tehran": the second place inherits the first's reading.
        if k >= 2 and norm[k] in (",", "and", "or") and tokens[k - 1][2][:1].isupper() \
                and norm[k - 2] in lex["locative"]:
            k -= 2
        if k >= 0 and norm[k] in lex["locative"]:
            # "loyal to Damascus", "support from Moscow": the place is the government.
            before = norm[k - 1] if k >= 1 else ""
            return norm[k] in _RELATIONAL_PREPOSITIONS and before in lex["relation"]
        return True

    def _demonym_ok(self, tokens, norm, i, j):
        lex = self._lex
        if tokens[i][2].islower():
            # A generic word used like a demonym ("government forces") must not
            # belong to another actor: "the Iraqi government", "Turkey's government".
            prev = tokens[i - 1][2] if i > 0 else ""
            if prev[:1].isupper() or prev in ("s", "'", "’"):
                return False
        # Allow modifiers ("Iranian ground troops"), coordinated or hyphenated
        # demonyms ("Syrian and Russian airstrikes", "U.S.-Russian deal") and
        # compounds ("Turkish-backed") before the head noun.
        k = j
        for _ in range(8):
            if k >= len(norm):
                return False
            word = norm[k]
            if word in lex["head"]:
                return True
            if word == "-" and k + 1 < len(norm):
                if norm[k + 1] in _BACKER:
                    return True
                k += 1
                continue
            if not (word[:1].isalpha() or word in (",", ".")):
                return False
            k += 1
        return False

    def _unknown_groups(self, text, tokens, norm, found, offset, index):
        lex = self._lex
        if lex["group_prefix"].isdisjoint(norm) and lex["group_head"].isdisjoint(norm):
            return []
        taken = [(m.start - offset, m.end - offset) for m in found]
        out = []
        i = 0
        n = len(tokens)
        while i < n:
            if norm[i] in lex["group_prefix"] and tokens[i][2][:1].isupper():
                j = self._name_run(tokens, norm, i + 1)
                if j > i + 1:
                    out.append((i, j))
                    i = j
                    continue
            i += 1
        # "Sultan Murad Division": capitalised words ending in a group noun.
        for k in range(n):
            if norm[k] in lex["group_head"] and tokens[k][2][:1].isupper():
                s = k
                while s - 1 >= 0 and _is_name_token(tokens[s - 1][2]):
                    s -= 1
                while s < k and norm[s] == "the":
                    s += 1
                if s < k and not (s == 0 and k - s == 1):
                    out.append((s, k + 1))
        mentions = []
        for s, e in sorted(set(out)):
            a, b = tokens[s][0], tokens[e - 1][1]
            if any(a < tb and ta < b for ta, tb in taken):
                continue
            words = [w for w in norm[s:e] if w[:1].isalnum()]
            # "Operation Euphrates Shield" is an operation; "Special Forces" a unit type.
            generic = lex["generic_unit"] | lex["group_head"]
            if not words or words[0] == "operation" or all(w in generic for w in words):
                continue
            surface = text[a:b]
            taken.append((a, b))
            mentions.append(Mention(
                start=a + offset, end=b + offset, surface=surface, canonical=surface,
                kind="unknown", prior="", known=False, sentence=index))
        return mentions

    @staticmethod
    def _name_run(tokens, norm, i):
        j = i
        while j < len(tokens):
            tok = tokens[j][2]
            if _is_name_token(tok) or (norm[j] in ("al", "el", "ad", "ash", "as", "ar", "an", "at")
                                       ) or (tok == "-" and j + 1 < len(tokens)
                                             and tokens[j][1] == tokens[j + 1][0]):
                j += 1
            else:
                break
        while j > i and not _is_name_token(tokens[j - 1][2]):
            j -= 1
        return j

    def _titled_persons(self, mentions, text, tokens, norm, offset, index):
        """Officials the registry lacks, named after a title of a known actor:
        in "Israel's Defence Minister, Avigdor Liberman" the person is the
        mention, with Israel's prior."""
        if all(m.kind == "person" for m in mentions):
            return mentions
        lex = self._lex
        taken = {(m.start, m.end) for m in mentions}
        out = list(mentions)
        token_ending = None
        for m in mentions:
            if m.kind == "person":
                continue
            if token_ending is None:
                token_ending = {t[1] + offset: k for k, t in enumerate(tokens)}
            k = token_ending.get(m.end)
            if k is None:
                continue
            k += 1
            titled = False
            while k < len(tokens) and (norm[k] in lex["title"] or norm[k] in ("'", "s")):
                titled = titled or norm[k] in lex["strong_title"]
                k += 1
            if k < len(tokens) and norm[k] == ",":
                k += 1
            if not titled or k >= len(tokens):
                continue
            end = self._name_run(tokens, norm, k)
            if end - k < 2 or not _is_name_token(tokens[k][2]):
                continue
            first, last = tokens[k][0] + offset, tokens[end - 1][1] + offset
            if any(first < b and a < last for a, b in taken):
                continue
            a, b = tokens[k][0], tokens[end - 1][1]
            out.append(Mention(start=a + offset, end=b + offset, surface=text[a:b],
                               canonical=text[a:b], kind="person", prior=m.prior, known=False,
                               sentence=index))
            out.remove(m)
        return sorted(out, key=lambda x: x.start)

    def _merge_titles(self, mentions, text, offset):
        """Drop a title mention that introduces a named person of the same actor:
        "Iran's foreign minister, Abbas Araghchi" is one mention of Araghchi."""
        if len(mentions) < 2:
            return mentions
        title_words = self._lex["title"]
        drop = set()
        for a, b in zip(mentions, mentions[1:]):
            if b.kind != "person" or a.canonical not in self.registry.ancestors(b.canonical):
                continue
            # Only a bare title ("the Russian president", "Iran's") merges, not a
            # phrase that names forces ("Forces loyal to the president, Bashar al-Assad").
            own = [normalise(t) for _, _, t in tokenize(a.surface)][1:]
            if not all(w in title_words or w in ("'", "s") for w in own):
                continue
            gap = text[a.end - offset:b.start - offset]
            words = [normalise(t) for _, _, t in tokenize(gap) if t not in ",'"]
            if all(w in title_words or w == "s" for w in words) and len(words) <= 5:
                drop.add(a)
        return [m for m in mentions if m not in drop]


def _case_rule(alias_tokens):
    """How an alias's case must match: acronyms exactly ("US" is not "us", "IS"
    not "is"), capitalised names by their capital, lower-case words in any case."""
    letters = "".join(ch for tok in alias_tokens for ch in tok if ch.isalpha())
    if letters and letters.isupper() and len(letters) <= 6:
        return "exact"
    if alias_tokens[0][:1].isupper():
        return "capital"
    return "any"


def _is_name_token(tok):
    return tok[:1].isupper() and tok[:1].isalpha()
