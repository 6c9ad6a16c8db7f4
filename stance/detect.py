"""Finding actor mentions in text: registry aliases, metonyms, demonyms and unknown groups."""

from bisect import bisect_left
from operator import attrgetter
from typing import NamedTuple

from stance.lexicon import lexicon
from stance.sentences import split_sentences
from stance.tokens import analyse, normalise

_END = None    # trie key marking an alias end; never a token, even "\0"
# Words after "City, Country" that continue a list or an address, not a clause.
_LIST_OR_ADDRESS = frozenset("and or on after before in at for since during until with".split())
_BORDER = frozenset(("border", "borders", "frontier"))
_NAME_PARTICLES = frozenset(("al", "el", "ad", "ash", "as", "ar", "an", "at"))
_RELATIONAL_PREPOSITIONS = frozenset("to towards toward from of with".split())
_BACKER = frozenset(
    "backed led allied brokered sponsored supported funded armed trained aligned "
    "affiliated linked controlled dominated organised organized".split())


class Mention(NamedTuple):
    """One actor mention; ``start``/``end`` are offsets into the document."""

    start: int
    end: int
    surface: str
    canonical: str
    kind: str
    prior: str
    known: bool
    sentence: int


class Sentence(NamedTuple):
    """A sentence and its character span in the document."""

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
        # An alias is tried only where a word starting with a letter or digit
        # begins one, so _longest need not check for punctuation.
        self._first = frozenset(w for w in self._trie if w[:1].isalnum())
        self._group_words = self._lex["group_prefix"] | self._lex["group_head"]
        # Words that start an alias or belong to a group name: one pass over a
        # sentence finds the positions both searches need.
        self._wanted = frozenset(self._first) | self._group_words

    def _add(self, form, kind, actor):
        tokens = analyse(form).words
        if not tokens:
            return
        node = self._trie
        for tok in tokens:
            node = node.setdefault(normalise(tok), {})
        node.setdefault(_END, []).append(
            (kind, list(tokens), actor, _case_rule(tokens), self.registry.prior(actor.canonical)))

    def detect(self, text):
        """Return ``(sentences, mentions)`` for a document."""
        sentences = [Sentence(a, b, text[a:b]) for a, b in split_sentences(text)]
        mentions = []
        for index, sent in enumerate(sentences):
            mentions.extend(self.detect_sentence(sent.text, sent.start, index))
        return sentences, mentions

    def detect_sentence(self, text, offset=0, index=0):
        """Mentions in one sentence; offsets are shifted by ``offset``."""
        tk = analyse(text)
        norm = tk.norm
        found = []
        first = self._first
        # Most tokens start no alias; only these positions are tried.
        wanted = [k for k, w in enumerate(norm) if w in self._wanted]
        if not wanted:
            return []
        candidates = [k for k in wanted if norm[k] in first]
        if candidates:
            starts, ends = tk.starts, tk.ends
            n = len(norm)
            free = 0    # first token not inside an earlier match
            for i in candidates:
                if i < free:
                    continue
                match = self._longest(tk, i)
                if match is None:
                    continue
                j, actor, prior = match
                end_tok = j
                # Possessive 's / ’s belongs to the mention.
                if j < n and norm[j] == "'" and starts[j] == ends[j - 1]:
                    if j + 1 < n and norm[j + 1] == "s" and starts[j + 1] == ends[j]:
                        end_tok = j + 2
                    elif norm[j - 1].endswith("s"):
                        end_tok = j + 1     # "Damascus' refusal"
                start, end = starts[i], ends[end_tok - 1]
                found.append(Mention(
                    start + offset, end + offset, text[start:end], actor.canonical,
                    actor.kind, prior, True, index))
                free = end_tok
        if self.find_unknown:
            unknown = self._unknown_groups(text, tk, found, offset, index, wanted)
            if unknown:
                found.extend(unknown)
                found.sort(key=_start)
        if not found:
            return found
        found = self._titled_persons(found, text, tk, offset, index)
        return self._merge_titles(found, text, offset)

    def _longest(self, tk, i):
        """The longest valid alias starting at token ``i`` (a letter or digit):
        (end token, actor, prior), or None."""
        norm, words = tk.norm, tk.words
        node = self._trie
        best = None
        j = i
        n = len(norm)
        while j < n and norm[j] in node:
            node = node[norm[j]]
            j += 1
            # An alias must end at a word edge: "US" is not the start of "USAID".
            for kind, alias_tokens, actor, rule, prior in node.get(_END, ()):
                if rule == "exact":
                    case_ok = words[i:j] == alias_tokens
                else:
                    case_ok = rule != "capital" or words[i][:1].isupper()
                if case_ok and self._context_ok(kind, tk, i, j):
                    best = (j, actor, prior)
                    break
        return best

    def _context_ok(self, kind, tk, i, j):
        lex = self._lex
        norm, starts, ends = tk.norm, tk.starts, tk.ends
        prev = norm[i - 1] if i > 0 else ""
        prev2 = norm[i - 2] if i > 1 else ""
        nxt = norm[j] if j < len(norm) else ""
        nxt2 = norm[j + 1] if j + 1 < len(norm) else ""
        # "rebel-held Idlib" is a place; "anti-Assad forces" is not Assad.
        if nxt == "-" and nxt2 in lex["held"] and starts[j] == ends[j - 1]:
            return False
        if prev == "-" and prev2 in lex["anti"] and ends[i - 1] == starts[i]:
            return False
        if kind == "alias":
            # Generic words ("government", "army") belong to a named actor just
            # before them: "the Iraqi government", "Turkey's army".
            if norm[i] in lex["owned_generic"] and i > 0 and (
                    norm[i - 1] in ("'", "s") or tk.words[i - 1][:1].isupper()):
                return i == 1 and norm[0] == "the"
            # ...and "Army of Conquest", "Army of the Mujahideen" are named groups.
            if norm[i] in lex["owned_generic"] and j + 1 < len(norm) and norm[j] == "of" \
                    and tk.words[j + 1][:1].isupper() and tk.words[i][:1].isupper():
                return False
            return True
        if kind == "place":
            return self._acts_as_government(tk, i, j)
        return self._demonym_ok(tk, i, j)

    def _acts_as_government(self, tk, i, j):
        lex = self._lex
        norm = tk.norm
        nxt = norm[j] if j < len(norm) else ""
        if nxt in lex["place_next"]:
            return False
        # "the Jordan–Syria border": a place joined to another before a place noun.
        if nxt == "-" and j + 2 < len(norm) and norm[j + 2] in lex["place_next"]:
            return False
        if nxt == "'":
            return True     # "Damascus' refusal", "Moscow's position": the government acts
        k = i - 1
        if k >= 0 and norm[k] == "the":
            k -= 1
        if k >= 1 and norm[k] in ("with", "of") and norm[k - 1] in _BORDER:
            return False    # "the border with Jordan"
        # "in Moscow and Tehran": the second place inherits the first's reading.
        # After a comma, only in a list or an address ("in Moscow, Tehran and
        # Ankara", "in Antalya, Turkey on 31 May"): in "at the talks in Geneva,
        # Iran stepped up..." Iran begins the clause.
        if k >= 2 and norm[k] in (",", "and", "or") and tk.words[k - 1][:1].isupper() \
                and norm[k - 2] in lex["locative"] \
                and (norm[k] != "," or not nxt[:1].isalnum() or nxt in _LIST_OR_ADDRESS
                     or nxt in lex["locative"]):
            k -= 2
        if k >= 0 and norm[k] in lex["locative"]:
            # "loyal to Damascus", "support from Moscow": the place is the government.
            before = norm[k - 1] if k >= 1 else ""
            return norm[k] in _RELATIONAL_PREPOSITIONS and before in lex["relation"]
        return True

    def _demonym_ok(self, tk, i, j):
        lex = self._lex
        norm, words = tk.norm, tk.words
        if words[i].islower():
            # A generic word used like a demonym ("government forces") must not
            # belong to another actor: "the Iraqi government", "Turkey's government".
            prev = words[i - 1] if i > 0 else ""
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

    def _unknown_groups(self, text, tk, found, offset, index, wanted):
        lex = self._lex
        norm, words, starts, ends = tk.norm, tk.words, tk.starts, tk.ends
        prefixes, heads = lex["group_prefix"], lex["group_head"]
        group_words = self._group_words
        candidates = [k for k in wanted if norm[k] in group_words]
        if not candidates:
            return []
        taken = [(m.start - offset, m.end - offset) for m in found]
        out = []
        free = 0
        for i in candidates:
            if i >= free and norm[i] in prefixes and words[i][:1].isupper():
                j = self._name_run(tk, i + 1)
                if j > i + 1:
                    out.append((i, j))
                    free = j
        # "Sultan Murad Division": capitalised words ending in a group noun.
        for k in candidates:
            if norm[k] in heads and words[k][:1].isupper():
                s = k
                while s - 1 >= 0 and _is_name_token(words[s - 1]):
                    s -= 1
                while s < k and norm[s] == "the":
                    s += 1
                if s < k and not (s == 0 and k - s == 1):
                    out.append((s, k + 1))
        mentions = []
        for s, e in sorted(set(out)):
            a, b = starts[s], ends[e - 1]
            if any(a < tb and ta < b for ta, tb in taken):
                continue
            names = [w for w in norm[s:e] if w[:1].isalnum()]
            # "Operation Euphrates Shield" is an operation; "Special Forces" a unit type.
            generic = lex["generic_unit"] | heads
            if not names or names[0] == "operation" or all(w in generic for w in names):
                continue
            surface = text[a:b]
            taken.append((a, b))
            mentions.append(Mention(a + offset, b + offset, surface, surface, "unknown", "",
                                    False, index))
        return mentions

    @staticmethod
    def _name_run(tk, i):
        words, norm, starts, ends = tk.words, tk.norm, tk.starts, tk.ends
        j = i
        n = len(words)
        while j < n:
            tok = words[j]
            if _is_name_token(tok) or norm[j] in _NAME_PARTICLES or (
                    tok == "-" and j + 1 < n and ends[j] == starts[j + 1]):
                j += 1
            else:
                break
        while j > i and not _is_name_token(words[j - 1]):
            j -= 1
        return j

    def _titled_persons(self, mentions, text, tk, offset, index):
        """Officials the registry lacks, named after a title of a known actor:
        in "Israel's Defence Minister, Avigdor Liberman" the person is the
        mention, with Israel's prior."""
        lex = self._lex
        titles, strong = lex["title"], lex["strong_title"]
        norm, words, starts, ends = tk.norm, tk.words, tk.starts, tk.ends
        n = len(norm)
        out = taken = None     # made on the first titled person found
        for m in mentions:
            if m.kind == "person":
                continue
            k = bisect_left(ends, m.end - offset)
            if k >= n or ends[k] != m.end - offset:
                continue
            k += 1
            titled = False
            while k < n and (norm[k] in titles or norm[k] in ("'", "s")):
                titled = titled or norm[k] in strong
                k += 1
            if k < n and norm[k] == ",":
                k += 1
            if not titled or k >= n:
                continue
            end = self._name_run(tk, k)
            if end - k < 2 or not _is_name_token(words[k]):
                continue
            a, b = starts[k], ends[end - 1]
            if out is None:
                out = list(mentions)
                taken = {(x.start, x.end) for x in mentions}
            if any(a + offset < y and x < b + offset for x, y in taken):
                continue
            out.append(Mention(a + offset, b + offset, text[a:b], text[a:b], "person", m.prior,
                               False, index))
            out.remove(m)
        if out is None:
            return mentions
        return sorted(out, key=_start)

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
            # The dots of "U.S." are no words.
            own = [w for w in analyse(a.surface).norm[1:] if w[:1].isalnum() or w == "'"]
            if not all(w in title_words or w in ("'", "s") for w in own):
                continue
            gap = analyse(text[a.end - offset:b.start - offset])
            words = [w for t, w in zip(gap.words, gap.norm, strict=True) if t not in ",'"]
            if all(w in title_words or w == "s" for w in words) and len(words) <= 5:
                drop.add(a)
        return [m for m in mentions if m not in drop] if drop else mentions


def _case_rule(alias_tokens):
    """How an alias's case must match: acronyms exactly ("US" is not "us", "IS"
    not "is"), capitalised names by their capital, lower-case words in any case."""
    letters = "".join(ch for tok in alias_tokens for ch in tok if ch.isalpha())
    if letters and letters.isupper() and len(letters) <= 6:
        return "exact"
    if alias_tokens[0][:1].isupper():
        return "capital"
    return "any"


_start = attrgetter("start")


def _is_name_token(tok):
    return tok[:1].isupper() and tok[:1].isalpha()
