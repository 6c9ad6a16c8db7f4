"""Scoring documents: per-mention predictions and per-actor aggregates, streamed.

Chunks of many documents are batched so the classifier predicts once per
batch; each document's records are yielded, in input order, once all its
chunks are scored.
"""

from stance import LABELS
from stance.errors import InputError

BATCH_CHARS = 1_000_000


def _scores(p):
    total = float(sum(p)) or 1.0
    return {label: round(float(v) / total, 4) for label, v in zip(LABELS, p)}


class _Accumulator:
    """Collects one document's mentions across chunks; builds its records."""

    def __init__(self, source, mentions):
        self.source = source
        self.mentions = mentions
        self.records = []       # per-mention mode
        self.actors = {}        # canonical -> [sum p, n, surfaces, best (p, sentence) per label, known]
        self.pending = 0
        self.closed = False
        self.error = None

    def add(self, offset, text, sentences, found, proba):
        for m, p in zip(found, proba):
            sentence = sentences[m.sentence].text
            if self.mentions:
                scores = _scores(p)
                stance = max(scores, key=scores.get)
                self.records.append({
                    "source": self.source, "sentence": sentence,
                    "start": m.start + offset, "end": m.end + offset,
                    "mention": text[m.start:m.end], "actor": m.canonical,
                    "stance": stance, "confidence": scores[stance], "scores": scores,
                    "known": m.known,
                })
                continue
            entry = self.actors.get(m.canonical)
            if entry is None:
                entry = self.actors[m.canonical] = [
                    [0.0] * len(LABELS), 0, [], [(-1.0, "")] * len(LABELS), m.known]
            entry[1] += 1
            for j in range(len(LABELS)):
                entry[0][j] += float(p[j])
                if p[j] > entry[3][j][0]:
                    entry[3][j] = (float(p[j]), sentence)
            if m.surface not in entry[2]:
                entry[2].append(m.surface)

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


def score_documents(model, documents, mentions=False, batch_chars=BATCH_CHARS):
    """Score documents; yield ``(source, records, error)`` per document in order.

    ``documents`` yields :class:`~stance.textio.Document` objects or
    :class:`~stance.errors.InputError` instances (passed through as errors).
    Per actor (default): one record per actor, ``scores`` the mean of its
    mention probabilities, ``evidence`` the sentence of its most confident
    mention for the winning label. With ``mentions``: one record per mention,
    ``start``/``end`` offsets into the document as read.
    """
    order = []
    batch, size = [], 0

    def flush():
        nonlocal batch, size
        if batch:
            results = model.predict_documents([text for _, _, text in batch])
            for (acc, offset, text), (sentences, found, proba) in zip(batch, results):
                acc.add(offset, text, sentences, found, proba)
                acc.pending -= 1
        batch, size = [], 0

    def ready():
        while order and order[0].closed and order[0].pending == 0:
            acc = order.pop(0)
            if acc.error is not None:
                yield acc.source, [], acc.error
            else:
                yield acc.source, acc.result(), None

    for doc in documents:
        if isinstance(doc, InputError):
            acc = _Accumulator(doc.source, mentions)
            acc.error, acc.closed = doc, True
            order.append(acc)
            yield from ready()
            continue
        acc = _Accumulator(doc.source, mentions)
        order.append(acc)
        try:
            for offset, text in doc.chunks():
                acc.pending += 1
                batch.append((acc, offset, text))
                size += len(text)
                if size >= batch_chars:
                    flush()
                    yield from ready()
        except InputError as exc:
            acc.error = exc
        acc.closed = True
        if acc.error is not None:
            yield from ready()
    flush()
    yield from ready()
