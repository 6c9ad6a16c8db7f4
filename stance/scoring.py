"""Scoring documents: per-mention predictions and per-actor aggregates, streamed.

Documents are cut into chunks and chunks of many documents are batched, so
the classifier predicts once per batch. :func:`score_batch` turns a batch into
partial results (records per mention, or per-actor sums), which is all a
worker process or a cluster node needs to do; :func:`score_documents` merges
the partials of each document and yields its records, in input order, once all
its chunks are scored.
"""

import gc
import threading
from collections import deque
from contextlib import contextmanager

from stance import LABELS
from stance.errors import InputError

#: Characters of text per batch: large enough that one predict call serves
#: hundreds of mentions, small enough that a batch is a fair unit of parallel
#: work and its sentences stay in the featurizer's caches.
BATCH_CHARS = 250_000


def _scores(p):
    total = float(sum(p)) or 1.0
    return {label: round(float(v) / total, 4) for label, v in zip(LABELS, p, strict=True)}


def _partial(offset, text, sentences, found, proba, mentions):
    """One chunk's contribution: mention records, or per-actor sums.

    Per actor: ``canonical -> [sum p, n, surfaces, best (p, sentence) per label, known]``.
    """
    proba = proba.tolist()      # Python floats: indexing numpy scalars one by one is slow
    if mentions:
        out = []
        for m, p in zip(found, proba, strict=True):
            scores = _scores(p)
            stance = max(scores, key=scores.get)
            out.append({
                "sentence": sentences[m.sentence].text,
                "start": m.start + offset, "end": m.end + offset,
                "mention": text[m.start:m.end], "actor": m.canonical,
                "stance": stance, "confidence": scores[stance], "scores": scores,
                "known": m.known,
            })
        return out
    actors = {}
    for m, p in zip(found, proba, strict=True):
        entry = actors.get(m.canonical)
        if entry is None:
            entry = actors[m.canonical] = [
                [0.0] * len(LABELS), 0, [], [(-1.0, "")] * len(LABELS), m.known]
        entry[1] += 1
        sentence = sentences[m.sentence].text
        for j, pj in enumerate(p):
            entry[0][j] += pj
            if pj > entry[3][j][0]:
                entry[3][j] = (pj, sentence)
        if m.surface not in entry[2]:
            entry[2].append(m.surface)
    return actors


def score_batch(model, chunks, mentions=False):
    """Partial results for a list of ``(offset, text)`` chunks, with one predict call.

    Chunks may come from any documents; the result is a list with one partial
    per chunk, to be merged in order by :func:`score_documents`.
    """
    with _no_cycle_collection():
        results = model.predict_documents([text for _, text in chunks])
        return [_partial(offset, text, sentences, found, proba, mentions)
                for (offset, text), (sentences, found, proba)
                in zip(chunks, results, strict=True)]


@contextmanager
def _no_cycle_collection():
    """Pause the cyclic garbage collector while a batch is scored.

    A batch allocates millions of small containers (tokens, contexts,
    feature dicts) and creates no reference cycles, so reference counting
    frees everything and the collector's repeated passes over the growing
    young generation are pure cost: about a sixth of scoring time. The
    collector is process-wide, so batches scored in several threads at once
    share one pause, and the last to finish restores the setting found by
    the first. (On a Dask worker with several threads, the worker's own
    threads run without the collector while a batch is scored; one thread
    per worker, as in the README, avoids that.)
    """
    global _paused, _was_enabled
    with _pause_lock:
        if _paused == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _pause_lock:
            _paused -= 1
            if _paused == 0 and _was_enabled:
                gc.enable()


_pause_lock = threading.Lock()
_paused = 0             # batches being scored now
_was_enabled = False    # the collector's setting before the first of them


class _Accumulator:
    """Collects one document's partial results across chunks; builds its records.

    A runner may read documents in another thread than the one merging
    results, so the reading side alone writes ``chunks``, ``chars``, ``error``
    and (last) ``closed``, and the merging side alone writes ``done``.
    """

    def __init__(self, source, mentions):
        self.source = source
        self.mentions = mentions
        self.records = []       # per-mention mode
        self.actors = {}        # per-actor mode, as in _partial
        self.chunks = 0
        self.done = 0
        self.chars = 0
        self.closed = False
        self.error = None

    def merge(self, partial):
        if self.mentions:
            for record in partial:
                self.records.append({"source": self.source, **record})
            return
        for canonical, (total, n, surfaces, best, known) in partial.items():
            entry = self.actors.get(canonical)
            if entry is None:
                self.actors[canonical] = [list(total), n, list(surfaces), list(best), known]
                continue
            entry[1] += n
            for j in range(len(LABELS)):
                entry[0][j] += total[j]
                if best[j][0] > entry[3][j][0]:
                    entry[3][j] = best[j]
            entry[2].extend(s for s in surfaces if s not in entry[2])

    def result(self):
        if self.mentions:
            return self.records
        out = []
        for canonical, (total, n, surfaces, best, known) in self.actors.items():
            scores = _scores([t / n for t in total])
            stance = max(scores, key=scores.get)
            out.append({
                "source": self.source, "actor": canonical, "stance": stance,
                "confidence": scores[stance], "scores": scores, "mentions": n,
                "surfaces": surfaces, "evidence": best[LABELS.index(stance)][1],
                "known": known,
            })
        return out


def serial(model, mentions):
    """The in-process runner: batches of chunks in, lists of partials out, in order."""
    def run(batches):
        for chunks in batches:
            yield score_batch(model, chunks, mentions)
    return run


def score_documents(model, documents, mentions=False, batch_chars=BATCH_CHARS, runner=None,
                    progress=None):
    """Score documents; yield ``(source, records, error)`` per document in order.

    ``documents`` yields :class:`~stance.textio.Document` objects or
    :class:`~stance.errors.InputError` instances (passed through as errors).
    Per actor (default): one record per actor, ``scores`` the mean of its
    mention probabilities, ``evidence`` the sentence of its most confident
    mention for the winning label. With ``mentions``: one record per mention,
    ``start``/``end`` offsets into the document as read.

    ``runner`` maps an iterable of batches (lists of ``(offset, text)``) to an
    iterable of their :func:`score_batch` results in the same order; it
    defaults to :func:`serial` and may run batches in other processes (see
    :mod:`stance.parallel`), reading ahead while earlier batches are scored.
    ``progress``, if given, is called with ``(documents, chars, mentions)``
    for each finished document.
    """
    run = runner or serial(model, mentions)
    order = deque()     # accumulators of documents not yet yielded, in input order
    owners = deque()    # per batch sent to ``run``: the accumulator of each chunk

    def batches():
        chunks, owned, size = [], [], 0
        for doc in documents:
            if isinstance(doc, InputError):
                acc = _Accumulator(doc.source, mentions)
                acc.error, acc.closed = doc, True
                order.append(acc)
                continue
            acc = _Accumulator(doc.source, mentions)
            order.append(acc)
            try:
                for offset, text in doc.chunks():
                    acc.chunks += 1
                    acc.chars += len(text)
                    chunks.append((offset, text))
                    owned.append(acc)
                    size += len(text)
                    if size >= batch_chars:
                        owners.append(owned)
                        yield chunks
                        chunks, owned, size = [], [], 0
            except InputError as exc:
                acc.error = exc
            acc.closed = True
        if chunks:
            owners.append(owned)
            yield chunks

    def ready():
        while order and order[0].closed and order[0].done == order[0].chunks:
            acc = order.popleft()
            if acc.error is not None:
                yield acc.source, [], acc.error
                continue
            records = acc.result()
            if progress is not None:
                progress(1, acc.chars, len(records) if mentions else
                         sum(r["mentions"] for r in records))
            yield acc.source, records, None

    for partials in run(batches()):
        for acc, partial in zip(owners.popleft(), partials, strict=True):
            acc.merge(partial)
            acc.done += 1
        yield from ready()
    yield from ready()
