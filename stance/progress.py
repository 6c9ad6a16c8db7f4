"""A one-line progress display for long runs: documents, megabytes of text and rates."""

import time

#: Seconds between redraws, so drawing never costs more than reading.
INTERVAL = 0.2


class Progress:
    """Count finished documents, text and mentions; redraw one line on ``stream``.

    Call the object with ``(documents, chars, mentions)`` as each document is
    done (the signature :func:`stance.scoring.score_documents` expects), and
    :meth:`close` at the end. Text is counted in characters, shown as MB
    (millions of characters, which is megabytes for ASCII text).
    """

    def __init__(self, stream, clock=time.monotonic):
        self.stream = stream
        self.clock = clock
        self.started = clock()
        self.drawn = None
        self.documents = self.chars = self.mentions = 0
        self.width = 0

    def __call__(self, documents, chars, mentions):
        self.documents += documents
        self.chars += chars
        self.mentions += mentions
        now = self.clock()
        if self.drawn is None or now - self.drawn >= INTERVAL:
            self.draw(now)

    def line(self, now=None):
        elapsed = max((now if now is not None else self.clock()) - self.started, 1e-9)
        mb = self.chars / 1e6
        return (f"{self.documents:,} documents, {mb:,.1f} MB, {self.mentions:,} mentions "
                f"| {mb / elapsed:,.2f} MB/s, {self.documents / elapsed:,.1f} documents/s "
                f"| {elapsed:,.0f} s")

    def draw(self, now=None):
        now = self.clock() if now is None else now
        text = self.line(now)
        self.stream.write("\r" + text.ljust(self.width))
        self.stream.flush()
        self.width = len(text)
        self.drawn = now

    def clear(self):
        """Blank the line so a message can be printed; the next update redraws it."""
        if self.drawn is not None:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.drawn = None
            self.width = 0

    def close(self):
        """Draw the final counts and end the line."""
        if self.documents:
            self.draw()
            self.stream.write("\n")
            self.stream.flush()
