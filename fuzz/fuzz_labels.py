"""Fuzz the label reader: any bytes as a labels CSV.

Run by hand, not in CI (see fuzz/README.md):

    pip install atheris
    python fuzz/fuzz_labels.py -runs=100000

Checks that ``check_labels`` never raises, that every problem names the file,
and that every row it accepts is valid (known stance, actor inside its text).
"""

import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from stance import LABELS
    from stance.labels import check_labels

FOLDER = Path(tempfile.mkdtemp(prefix="stance-fuzz-"))
PATH = FOLDER / "labels.csv"
HEADERS = [b"", b"text,actor,stance\n", b"text,actor,stance,canonical,evidence,source,note\n",
           b"\xef\xbb\xbftext,actor,stance\n"]


def TestOneInput(data):
    fdp = atheris.FuzzedDataProvider(data)
    header = fdp.PickValueInList(HEADERS)
    PATH.write_bytes(header + fdp.ConsumeBytes(fdp.remaining_bytes()))
    rows, problems = check_labels([PATH])
    for problem in problems:
        assert problem.startswith(str(PATH)), problem
        assert "\n" not in problem.split(": ", 1)[0], problem
    for row in rows:
        assert row.stance in LABELS, row
        assert row.actor and row.actor in row.text, row


def main():
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
