"""Fuzz the text reader: any bytes, encoding, chunk and block size.

Run by hand, not in CI (see fuzz/README.md):

    pip install atheris
    python fuzz/fuzz_textio.py -runs=100000

Checks that reading either yields chunks or raises InputError, that chunks
are contiguous and within the size asked for, and that small chunks and
small read blocks give exactly the text a single large read gives.
"""

import io
import sys

import atheris

with atheris.instrument_imports():
    from stance import textio
    from stance.errors import InputError

ENCODINGS = [None, "utf-8", "latin-1", "cp1256", "utf-16", "utf-16-le", "utf-16-be", "utf-32"]


def read_all(data, encoding, size, block):
    textio._BLOCK = block
    return list(textio.read_stream(io.BytesIO(data), "fuzz", encoding, size))


def TestOneInput(data):
    fdp = atheris.FuzzedDataProvider(data)
    size = fdp.ConsumeIntInRange(1, 64)
    block = fdp.ConsumeIntInRange(1, 16)
    encoding = fdp.PickValueInList(ENCODINGS)
    raw = fdp.ConsumeBytes(fdp.remaining_bytes())
    try:
        chunks = read_all(raw, encoding, size, block)
    except InputError as exc:
        assert exc.source == "fuzz" and exc.problem, exc
        return
    offset = 0
    for start, text in chunks:
        assert start == offset, (start, offset)
        assert 0 < len(text) <= size, (len(text), size)
        offset += len(text)
    whole = "".join(text for _, text in read_all(raw, encoding, 1 << 30, 1 << 20))
    assert "".join(text for _, text in chunks) == whole
    again = list(textio.Document("fuzz", text=whole).chunks(size=size))
    assert "".join(text for _, text in again) == whole.replace("\x00", "\ufffd")


def main():
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
