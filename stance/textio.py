"""Reading documents: files, folders and stdin, in bounded memory, with clear errors.

A document is read as a stream of ``(offset, text)`` chunks cut at paragraph
(or line, or space) boundaries, so a file of hundreds of megabytes never sits
in memory whole and offsets still point into the document as read.
"""

import codecs
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from stance.errors import InputError

CHUNK_CHARS = 1_000_000
_SNIFF = 8192
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


@dataclass(frozen=True)
class Document:
    """A document to score: where it comes from and how to read it."""

    source: str
    path: Path = None      # None for stdin or in-memory text
    text: str = None
    encoding: str = None

    def chunks(self, size=CHUNK_CHARS):
        """Yield ``(offset, text)`` chunks; raise InputError on unreadable input."""
        if self.text is not None:
            yield from _split_chunks(self.text, size)
        elif self.path is None:
            yield from read_stream(sys.stdin.buffer, self.source, self.encoding, size)
        else:
            try:
                handle = open(self.path, "rb")
            except OSError as exc:
                raise InputError(self.source, _os_problem(exc)) from None
            with handle:
                yield from read_stream(handle, self.source, self.encoding, size)


def _os_problem(exc):
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, IsADirectoryError):
        return "is a directory"
    return exc.strerror or str(exc)


def read_stream(handle, source, encoding=None, size=CHUNK_CHARS):
    """Decode a binary stream into chunks; detect BOMs, UTF-16 and binary data."""
    try:
        head = handle.read(_SNIFF)
    except OSError as exc:
        raise InputError(source, _os_problem(exc)) from None
    bom_encoding, skip = None, 0
    for bom, name in _BOMS:
        if head.startswith(bom):
            bom_encoding, skip = name, len(bom)
            break
    if bom_encoding is None and b"\x00" in head:
        raise InputError(source, "binary file (NUL bytes), not text")
    name = bom_encoding or encoding or "utf-8"
    try:
        decoder = codecs.getincrementaldecoder(name)(errors="strict")
    except LookupError:
        raise InputError(source, f"unknown encoding {encoding!r}") from None
    offset, consumed = 0, 0
    pending = ""
    block = head[skip:]
    while True:
        try:
            pending += decoder.decode(block, final=not block)
        except UnicodeDecodeError as exc:
            at = consumed + exc.start + skip
            raise InputError(
                source, f"not valid {name} (byte 0x{exc.object[exc.start]:02x} at offset {at}); "
                        "try --encoding, e.g. --encoding latin-1") from None
        consumed += len(block)
        while len(pending) >= size:
            cut = _cut_point(pending, size)
            yield offset, pending[:cut]
            offset += cut
            pending = pending[cut:]
        if not block:
            break
        try:
            block = handle.read(1 << 20)
        except OSError as exc:
            raise InputError(source, _os_problem(exc)) from None
    if pending:
        yield offset, pending


def _cut_point(text, size):
    """Cut before ``size`` at a paragraph break, else a line break, else a space."""
    for sep in ("\n\n", "\n", ". ", " "):
        pos = text.rfind(sep, size // 2, size)
        if pos > 0:
            return pos + len(sep)
    return size


def _split_chunks(text, size):
    offset = 0
    while len(text) - offset > size:
        cut = _cut_point(text[offset:offset + size], size)
        yield offset, text[offset:offset + cut]
        offset += cut
    if offset < len(text):
        yield offset, text[offset:]


def expand_inputs(paths, pattern="*.txt"):
    """Yield a Document, or an InputError, for each input path in order.

    Folders are searched recursively for ``pattern``; ``-`` is stdin. Problems
    with one path (missing, unreadable folder, broken link) are yielded as
    errors so the caller can go on with the others.
    """
    for raw in paths:
        if raw == "-":
            yield Document("-")
            continue
        path = Path(raw)
        if path.is_dir():
            yield from _walk(path, raw, pattern)
        elif path.is_symlink() and not path.exists():
            yield InputError(raw, "broken symbolic link")
        elif not path.exists():
            yield InputError(raw, "no such file or directory")
        else:
            yield Document(raw, path)


def _walk(root, raw, pattern):
    errors = []

    def onerror(exc):
        errors.append(exc)

    found = []
    for folder, dirs, files in os.walk(root, onerror=onerror, followlinks=False):
        dirs.sort()
        base = Path(folder)
        for name in sorted(files):
            candidate = base / name
            if candidate.match(pattern):
                found.append(candidate)
    for exc in errors:
        yield InputError(getattr(exc, "filename", raw) or raw, _os_problem(exc))
    for path in sorted(found):
        if path.is_symlink() and not path.exists():
            yield InputError(str(path), "broken symbolic link")
        else:
            yield Document(str(path), path)
