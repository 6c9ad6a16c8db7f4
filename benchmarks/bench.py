"""Throughput, memory and start-up of `stance score`, measured as whole processes.

Each measurement runs the real command in a fresh process and reports wall
time (model loading included), peak memory, and throughput in MB of text,
documents and mentions per second:

* ``shared``: the shared Wikipedia corpus (101 articles, 3.2 MB);
* ``big``: a >= 30 MB folder made by copying the shared articles repeatedly;
* ``jsonl``: a 300 MB JSON Lines corpus generated from the same articles;
* ``start-up``: `stance score` on one short file against
  ``python -c "import sklearn.linear_model"``.

Inputs are generated in a temporary folder that is deleted at the end.
This is a measurement, not a test: it prints numbers and checks nothing.

    python benchmarks/bench.py --model /tmp/bench-model/stance.skops
    python benchmarks/bench.py --quick          # shared corpus and start-up only
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED_CORPUS = REPO.parent / "shared" / "corpus" / "wikipedia-syria"
SHORT_TEXT = "Russia brokered a ceasefire between the rebels and Damascus.\n"


_WRAPPER = """\
import json, resource, subprocess, sys, time
t = time.perf_counter()
rc = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)
wall = time.perf_counter() - t
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": rc, "wall": wall, "peak_mb": usage.ru_maxrss / 1024,
                  "cpu": usage.ru_utime + usage.ru_stime}))
"""


def measure(cmd):
    """Run ``cmd`` in a fresh wrapper process; return wall seconds, CPU seconds
    (user + system, of every process it waited for), the peak RSS of its
    largest process (ru_maxrss, MB) and, when psutil is available, the peak
    sum of RSS over its process tree (main process plus workers, MB)."""
    try:
        import psutil
    except ImportError:
        psutil = None
    proc = subprocess.Popen([sys.executable, "-c", _WRAPPER, *map(str, cmd)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    tree_peak = 0
    if psutil is not None:
        wrapper = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                tree_peak = max(tree_peak, sum(p.memory_info().rss
                                               for p in wrapper.children(recursive=True)))
            except psutil.Error:
                pass
            time.sleep(0.05)
    stdout, stderr = proc.communicate()
    result = json.loads(stdout)
    if result["rc"] != 0:
        raise SystemExit(f"failed ({result['rc']}): {' '.join(map(str, cmd))}\n"
                         f"{stderr.decode(errors='replace')[-2000:]}")
    return result["wall"], result["cpu"], result["peak_mb"], tree_peak / 1e6 if tree_peak else None


def stance_cmd():
    exe = Path(sys.executable).with_name("stance")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "stance"]


def count_output(path):
    """(records, mentions) in a jsonl output of `stance score`."""
    records = mentions = 0
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            records += 1
            mentions += json.loads(line)["mentions"]
    return records, mentions


def make_big(corpus, folder, target_mb):
    """Copy the corpus's articles into ``folder`` until it holds ``target_mb`` MB."""
    files = sorted(corpus.glob("*.txt"))
    folder.mkdir(parents=True)
    total, copy = 0, 0
    while total < target_mb * 1e6:
        for f in files:
            shutil.copyfile(f, folder / f"{copy:03d}-{f.name}")
            total += f.stat().st_size
        copy += 1
    return folder, len(files) * copy, total


def make_jsonl(corpus, path, target_mb):
    """Write a JSONL corpus of ``target_mb`` MB of text, one article per row."""
    texts = [f.read_text(encoding="utf-8") for f in sorted(corpus.glob("*.txt"))]
    rows = size = 0
    with open(path, "w", encoding="utf-8") as handle:
        while size < target_mb * 1e6:
            text = texts[rows % len(texts)]
            handle.write(json.dumps({"id": f"doc-{rows}", "text": text}, ensure_ascii=False)
                         + "\n")
            size += len(text.encode("utf-8"))
            rows += 1
    return path, rows, size


def text_mb(corpus):
    files = sorted(corpus.glob("*.txt"))
    return len(files), sum(f.stat().st_size for f in files)


def run_score(name, target, docs, nbytes, model, jobs, tmp, extra=(), repeat=1):
    """Score ``target`` ``repeat`` times; the run with the median wall time is reported."""
    out = tmp / f"{name}-{jobs}.jsonl"
    cmd = [*stance_cmd(), "score", "--model", str(model), "--format", "jsonl", "--quiet",
           "-o", str(out), "--jobs", str(jobs), *extra, str(target)]
    runs = sorted((measure(cmd) for _ in range(repeat)), key=lambda r: r[0])
    wall, cpu, peak, tree = runs[len(runs) // 2]
    _, mentions = count_output(out)
    out.unlink()
    return {"input": name, "jobs": jobs, "MB": nbytes / 1e6, "docs": docs, "mentions": mentions,
            "wall_s": wall, "cpu_s": cpu, "MB/s": nbytes / 1e6 / wall, "docs/s": docs / wall,
            "mentions/s": mentions / wall, "peak_mb": peak, "tree_mb": tree}


def startup(model, tmp, repeat):
    short = tmp / "short.txt"
    short.write_text(SHORT_TEXT, encoding="utf-8")
    base = [measure([sys.executable, "-c", "import sklearn.linear_model"])[0]
            for _ in range(repeat)]
    ours = [measure([*stance_cmd(), "score", "--model", str(model), "--quiet", str(short)])[0]
            for _ in range(repeat)]
    return statistics.median(base), statistics.median(ours)


def table(rows):
    cols = [("input", "{}"), ("jobs", "{}"), ("MB", "{:.1f}"), ("docs", "{}"),
            ("mentions", "{}"), ("wall_s", "{:.2f}"), ("cpu_s", "{:.2f}"), ("MB/s", "{:.2f}"),
            ("docs/s", "{:.1f}"),
            ("mentions/s", "{:.0f}"), ("peak_mb", "{:.0f}"), ("tree_mb", "{:.0f}")]
    cells = [[name] + [fmt.format(r[name]) if r.get(name) is not None else "-" for r in rows]
             for name, fmt in cols]
    widths = [max(map(len, c)) for c in cells]
    lines = []
    for i in range(len(rows) + 1):
        lines.append("  ".join(c[i].rjust(w) for c, w in zip(cells, widths, strict=True)))
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="model file [default: $STANCE_MODEL, else the bundled "
                                        "models/stance.skops]")
    parser.add_argument("--corpus", type=Path, default=SHARED_CORPUS,
                        help="folder of .txt articles [default: %(default)s]")
    parser.add_argument("--quick", action="store_true",
                        help="only the shared corpus and start-up (--inputs shared,startup)")
    parser.add_argument("--inputs", default="shared,big,jsonl,startup",
                        help="comma-separated inputs to run, of shared, big, jsonl, startup "
                             "[default: shared,big,jsonl,startup]")
    parser.add_argument("--jobs", default="1,2", help="comma-separated --jobs values to run")
    parser.add_argument("--big-mb", type=float, default=30, help="size of the big folder")
    parser.add_argument("--jsonl-mb", type=float, default=300, help="size of the JSONL corpus")
    parser.add_argument("--repeat", type=int, default=5, help="start-up runs (median)")
    parser.add_argument("--shared-repeat", type=int, default=3,
                        help="runs on the shared corpus, per --jobs value (median)")
    args = parser.parse_args(argv)

    model = args.model or os.environ.get("STANCE_MODEL") or REPO / "models" / "stance.skops"
    if not Path(model).is_file():
        parser.error(f"no model at {model}; train one (stance train --model ...) and pass "
                     "--model")
    if not args.corpus.is_dir():
        parser.error(f"no corpus folder at {args.corpus}")
    jobs = [int(j) for j in args.jobs.split(",")]
    inputs = {"shared", "startup"} if args.quick else set(args.inputs.split(","))

    print(f"machine: {os.cpu_count()} CPU cores; python {sys.version.split()[0]}; "
          f"model {model}; load average before {os.getloadavg()[0]:.2f}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="stance-bench-") as tmp:
        tmp = Path(tmp)
        docs, nbytes = text_mb(args.corpus)
        for j in jobs if "shared" in inputs else ():
            rows.append(run_score("shared", args.corpus, docs, nbytes, model, j, tmp,
                                  repeat=args.shared_repeat))
            print(table(rows[-1:]).splitlines()[-1], flush=True)
        if "big" in inputs:
            folder, docs, nbytes = make_big(args.corpus, tmp / "big", args.big_mb)
            for j in jobs:
                rows.append(run_score("big", folder, docs, nbytes, model, j, tmp))
                print(table(rows[-1:]).splitlines()[-1], flush=True)
            shutil.rmtree(folder)
        if "jsonl" in inputs:
            path, docs, nbytes = make_jsonl(args.corpus, tmp / "corpus.jsonl", args.jsonl_mb)
            for j in jobs:
                rows.append(run_score("jsonl", path, docs, nbytes, model, j, tmp,
                                      extra=("--id-column", "id")))
                print(table(rows[-1:]).splitlines()[-1], flush=True)
            path.unlink()
        if "startup" in inputs:
            base, ours = startup(model, tmp, args.repeat)
    print()
    if rows:
        print(table(rows))
        print()
    if "startup" in inputs:
        print(f"start-up (median of {args.repeat}): stance score on one short file {ours:.2f} s; "
              f"python -c 'import sklearn.linear_model' {base:.2f} s; ratio {ours / base:.2f}")
    if "shared" in inputs:
        print(f"shared: the median of {args.shared_repeat} runs; big and jsonl: one run each")
    print(f"load average after: {os.getloadavg()[0]:.2f} (other work on the machine slows "
          "wall times; cpu_s is less sensitive to it)")
    print("peak_mb: largest single process (ru_maxrss); tree_mb: peak sum over the process "
          "tree (psutil)")


if __name__ == "__main__":
    main()
