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
_BLOCK = 1 << 20
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

    def chunks(self, size=None):
        """Yield ``(offset, text)`` chunks; raise InputError on unreadable input.

        A NUL character (binary junk past the sniffed head, zero-filled tails
        of files cut short by a crash) comes out as U+FFFD, one character for
        one so offsets still hold: no text reader downstream expects NULs.
        """
        for offset, text in self._raw_chunks(size or CHUNK_CHARS):
            yield offset, text.replace("\x00", "\ufffd")

    def _raw_chunks(self, size):
        if self.text is not None:
            yield from _split_chunks(self.text, size)
        elif self.path is None:
            yield from _read_stdin(self.source, self.encoding, size)
        else:
            try:
                handle = open(self.path, "rb")
            except OSError as exc:
                raise InputError(self.source, _os_problem(exc)) from None
            with handle:
                yield from read_stream(handle, self.source, self.encoding, size)


def _read_stdin(source, encoding, size):
    stream = sys.stdin
    if stream is None:
        raise InputError(source, "no standard input")
    binary = getattr(stream, "buffer", None)
    if binary is not None:
        yield from read_stream(binary, source, encoding, size)
        return
    # A text stream without a byte buffer (an embedding program's StringIO) is already decoded.
    yield from _chunked(_read_blocks(stream, source), size)


def check_encoding(name):
    """Raise StanceError unless ``name`` is a known text encoding."""
    from stance.errors import StanceError

    try:
        info = codecs.lookup(name)
    except LookupError:
        raise StanceError(f"unknown encoding {name!r}") from None
    if not getattr(info, "_is_text_encoding", True):
        raise StanceError(f"{name!r} is not a text encoding")


def _os_problem(exc):
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, IsADirectoryError):
        return "is a directory"
    return exc.strerror or str(exc)


def _read_blocks(handle, source, first=None):
    """Yield ``first`` (if any), then blocks read from ``handle`` until end of file."""
    if first:
        yield first
    while True:
        try:
            block = handle.read(_BLOCK)
        except OSError as exc:
            raise InputError(source, _os_problem(exc)) from None
        if not block:
            return
        yield block


def _is_wide(encoding):
    """True for UTF-16/UTF-32, whose text is full of NUL bytes."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return False
    return name.startswith(("utf-16", "utf-32"))


def _wide_hint(head):
    """A hint when NUL bytes fall on every other byte, as in UTF-16 without a BOM."""
    even, odd = head[0::2].count(0), head[1::2].count(0)
    half = len(head) // 2
    if odd > half * 0.4 and even < odd / 8:
        return "; if it is UTF-16 without a byte-order mark, try --encoding utf-16-le"
    if even > half * 0.4 and odd < even / 8:
        return "; if it is UTF-16 without a byte-order mark, try --encoding utf-16-be"
    return ""


def read_stream(handle, source, encoding=None, size=CHUNK_CHARS):
    """Decode a binary stream into chunks; detect BOMs, UTF-16 and binary data.

    A BOM decides the encoding; without one ``encoding`` (default UTF-8) is
    used. NUL bytes in the first few KiB mean a binary file, unless the
    encoding asked for is UTF-16 or UTF-32.
    """
    try:
        head = handle.read(_SNIFF)
    except OSError as exc:
        raise InputError(source, _os_problem(exc)) from None
    bom_encoding, skip = None, 0
    for bom, name in _BOMS:
        if head.startswith(bom):
            bom_encoding, skip = name, len(bom)
            break
    if bom_encoding is None and b"\x00" in head and not (encoding and _is_wide(encoding)):
        raise InputError(source, "binary file (NUL bytes), not text" + _wide_hint(head))
    name = bom_encoding or encoding or "utf-8"
    try:
        info = codecs.lookup(name)
    except LookupError:
        raise InputError(source, f"unknown encoding {encoding!r}") from None
    if not getattr(info, "_is_text_encoding", True):   # hex, base64, rot13...
        raise InputError(source, f"{encoding!r} is not a text encoding")
    decoder = info.incrementaldecoder(errors="strict")
    hint = ("the file starts with a byte-order mark but is damaged" if bom_encoding
            else "try --encoding, e.g. --encoding latin-1")
    blocks = _read_blocks(handle, source, head[skip:])
    yield from _chunked(_decode(blocks, decoder, f"{name} ({{}}); {hint}", source, skip), size)


def _decode(blocks, decoder, message, source, skip):
    """Decode byte blocks incrementally; a character split across blocks is kept whole."""
    consumed = skip
    for block in blocks:
        yield _decode_block(decoder, block, False, consumed, message, source)
        consumed += len(block)
    yield _decode_block(decoder, b"", True, consumed, message, source)


def _decode_block(decoder, block, final, consumed, message, source):
    held = len(decoder.getstate()[0])
    try:
        return decoder.decode(block, final=final)
    except UnicodeDecodeError as exc:
        # exc.start counts from the bytes the decoder still held from the last block.
        at = consumed - held + exc.start
        if final and exc.end >= len(exc.object):
            what = f"incomplete character at the end, offset {at}"
        else:
            what = f"byte 0x{exc.object[exc.start]:02x} at offset {at}"
        raise InputError(source, "not valid " + message.format(what)) from None
    except UnicodeError as exc:
        if "BOM" in str(exc):    # plain "utf-16"/"utf-32" asked for, and no BOM in the file
            raise InputError(source, "no byte-order mark, so the byte order is unknown; "
                                     "say it, e.g. --encoding utf-16-le") from None
        raise InputError(source, f"cannot decode: {exc}") from None


def _chunked(pieces, size):
    """Re-cut decoded text pieces into chunks of at most ``size`` characters."""
    offset = 0
    pending = ""
    for piece in pieces:
        if not piece:
            continue
        pending += piece
        start = 0
        while len(pending) - start >= size:
            cut = _cut_point(pending[start:start + size], size)
            yield offset, pending[start:start + cut]
            offset += cut
            start += cut
        pending = pending[start:]
    if pending:
        yield offset, pending


def _cut_point(text, size):
    """Cut before ``size`` at a paragraph break, else a line break, else a space.

    Text with none of them in its second half is cut at ``size``, but never
    between CR and LF or between the halves of a surrogate pair.
    """
    for sep in ("\n\n", "\n", ". ", " "):
        pos = text.rfind(sep, size // 2, size)
        if pos > 0:
            return pos + len(sep)
    if size > 1 and (text[size - 1] == "\r" or "\ud800" <= text[size - 1] <= "\udbff"):
        return size - 1
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
    if not found and not errors:
        yield InputError(raw, f"no files matching {pattern!r} in this folder (see --glob)")
    for path in sorted(found):
        if path.is_symlink() and not path.exists():
            yield InputError(str(path), "broken symbolic link")
        else:
            yield Document(str(path), path)
