"""Batched, multi-process and Dask scoring give the results of a plain serial run, in order.

Speed itself is measured by benchmarks/bench.py, not here.
"""

import gc
import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from stance import textio
from stance.cli import main
from stance.errors import InputError, ModelError
from stance.modelio import load_model
from stance.parallel import ModelRef, _resolve, dask_runner, local_runner, runner_for
from stance.scoring import score_batch, score_documents
from stance.textio import Document

TEXTS = [
    "Russia brokered a ceasefire between the rebels and Damascus.",
    "Turkey backed rebel groups in the north. Ankara hosted talks with Moscow and Tehran.",
    "Hezbollah fighters helped the Syrian army retake the town.\n\n"
    "The UN called for a ceasefire and urged talks.",
    "Nothing to see here.",
    "The US struck a Syrian army airbase. Putin pledged unconditional support for Assad.",
]


@pytest.fixture(scope="module")
def model(trained_model):
    return load_model(trained_model)


def documents(copies=4):
    """Text documents with an unreadable one in the middle, as score_documents gets them."""
    docs = [Document(f"doc{i}-{k}", text="\n\n".join([t] * (k + 1)))
            for k in range(copies) for i, t in enumerate(TEXTS)]
    docs.insert(7, InputError("missing.txt", "no such file"))
    return docs


def run(model, mentions=False, **kw):
    return list(score_documents(model, documents(), mentions=mentions, **kw))


def close(a, b):
    """Results equal, scores compared to 1e-4 (partial sums may be added in another order)."""
    assert [(s, str(e)) for s, _, e in a] == [(s, str(e)) for s, _, e in b]
    for (_, ra, _), (_, rb, _) in zip(a, b, strict=True):
        assert len(ra) == len(rb)
        for x, y in zip(ra, rb, strict=True):
            assert {k: v for k, v in x.items() if k not in ("scores", "confidence")} == \
                {k: v for k, v in y.items() if k not in ("scores", "confidence")}
            assert x["scores"] == pytest.approx(y["scores"], abs=1e-4)


@pytest.fixture
def small_chunks(monkeypatch):
    """Cut documents into many chunks so they spread over several batches."""
    monkeypatch.setattr(textio, "CHUNK_CHARS", 120)


# --- batching ------------------------------------------------------------------------


@pytest.mark.parametrize("mentions", [False, True])
def test_batch_size_does_not_change_results(model, small_chunks, mentions):
    one_batch = run(model[0], mentions, batch_chars=10**9)
    many = run(model[0], mentions, batch_chars=50)
    close(many, one_batch)
    assert [s for s, _, _ in many][:8] == ["doc0-0", "doc1-0", "doc2-0", "doc3-0", "doc4-0",
                                           "doc0-1", "doc1-1", "missing.txt"]
    assert sum(len(r) for _, r, _ in many) > 20


def test_one_predict_call_per_batch(model, monkeypatch):
    calls = []
    stance_model = model[0]
    original = type(stance_model).predict_documents

    def counting(self, texts):
        calls.append(len(texts))
        return original(self, texts)

    monkeypatch.setattr(type(stance_model), "predict_documents", counting)
    results = run(stance_model, batch_chars=10**9)
    assert calls == [len(TEXTS) * 4]
    assert len(results) == len(TEXTS) * 4 + 1


def test_errors_keep_their_place_and_progress_counts_documents(model):
    seen = []
    results = run(model[0], progress=lambda d, c, m: seen.append((d, c, m)), batch_chars=100)
    errors = [(i, s) for i, (s, _, e) in enumerate(results) if e is not None]
    assert errors == [(7, "missing.txt")]
    assert len(seen) == len(TEXTS) * 4
    assert sum(c for _, c, _ in seen) == sum(len(d.text) for d in documents()
                                            if isinstance(d, Document))
    assert sum(m for _, _, m in seen) == sum(r["mentions"] for _, recs, _ in results
                                            for r in recs)


@pytest.mark.parametrize("enabled", [True, False])
def test_a_batch_pauses_the_cycle_collector_and_empties_the_sentence_caches(model, monkeypatch,
                                                                           enabled):
    from stance import features, tokens

    seen = []
    original = features.build_contexts

    def spying(*args, **kwargs):
        seen.append((gc.isenabled(), tokens.analyse.cache_info().currsize))
        return original(*args, **kwargs)

    monkeypatch.setattr("stance.predictor.build_contexts", spying)
    (gc.enable if enabled else gc.disable)()
    try:
        score_batch(model[0], [(0, t) for t in TEXTS])
        assert gc.isenabled() is enabled     # the caller's setting comes back
    finally:
        gc.enable()
    assert seen and all(not on for on, _ in seen)
    assert max(size for _, size in seen) > 0    # the detector's tokens were cached...
    assert tokens.analyse.cache_info().currsize == 0       # ...and freed after the batch
    assert features._sentence_info.cache_info().currsize == 0


def test_overlapping_batches_share_one_pause_of_the_collector():
    from stance.scoring import _no_cycle_collection

    gc.enable()
    first, second = _no_cycle_collection(), _no_cycle_collection()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not gc.isenabled()      # the other batch is still being scored
    second.__exit__(None, None, None)
    assert gc.isenabled()


# --- local worker processes ------------------------------------------------------------


@pytest.mark.parametrize("mentions", [False, True])
def test_two_worker_processes_give_the_serial_results_in_order(model, trained_model,
                                                               small_chunks, mentions):
    stance_model, manifest = model
    runner = local_runner(ModelRef(str(trained_model), manifest["model_sha256"]), mentions, 2)
    parallel = run(stance_model, mentions, batch_chars=200, runner=runner)
    close(parallel, run(stance_model, mentions, batch_chars=200))


def _worker_model_id(ref):
    return os.getpid(), id(_resolve(ref))


def test_each_worker_loads_the_model_once(model, trained_model):
    from joblib import Parallel, delayed

    ref = ModelRef(str(trained_model), model[1]["model_sha256"])
    seen = Parallel(n_jobs=2, backend="loky", batch_size=1)(
        delayed(_worker_model_id)(ref) for _ in range(12))
    by_pid = {}
    for pid, model_id in seen:
        by_pid.setdefault(pid, set()).add(model_id)
    assert by_pid and all(len(ids) == 1 for ids in by_pid.values())
    assert os.getpid() not in by_pid


def test_worker_refuses_a_model_that_changed(trained_model):
    with pytest.raises(ModelError, match="changed while scoring"):
        _resolve(ModelRef(str(trained_model), "0" * 64))


def test_runner_for_one_job_is_in_process(model, trained_model):
    assert runner_for(model[0], trained_model, model[1], jobs=1) is None
    assert runner_for(model[0], trained_model, model[1], jobs=2) is not None


def test_cli_jobs_2_writes_what_jobs_1_writes(tmp_path, trained_model):
    folder = tmp_path / "in"
    folder.mkdir()
    for k in range(3):
        for i, text in enumerate(TEXTS):
            (folder / f"{k}-{i}.txt").write_text(text, encoding="utf-8")
    outputs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"out-{jobs}.jsonl"
        result = CliRunner().invoke(main, ["score", "--model", str(trained_model), "--jobs",
                                           jobs, "-o", str(out), str(folder)])
        assert result.exit_code == 0, result.stderr
        outputs.append(out.read_text(encoding="utf-8"))
    assert outputs[0] == outputs[1]
    sources = [json.loads(line)["source"] for line in outputs[0].splitlines()]
    order = sorted(str(p) for p in folder.iterdir())
    assert [order.index(s) for s in sources] == sorted(order.index(s) for s in sources)
    assert len(set(sources)) == len(TEXTS) * 3 - 3      # "Nothing to see here." has no actor


def test_cli_strict_stops_workers_quietly_at_the_first_bad_input(tmp_path, trained_model):
    path = tmp_path / "c.jsonl"
    lines = [json.dumps({"text": TEXTS[i % len(TEXTS)] * 200}) for i in range(200)]
    lines.insert(3, "{not json")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # A real process: pytest would swallow a warning joblib printed.
    result = subprocess.run([sys.executable, "-m", "stance", "score", "--model",
                             str(trained_model), "--jobs", "2", "--strict", str(path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"error: {path}:4: invalid JSON (Expecting property name enclosed in double quotes "
        "at column 2)"]
    assert {json.loads(line)["source"] for line in result.stdout.splitlines()} <= {
        f"{path}:1", f"{path}:2", f"{path}:3"}


# --- Dask ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed", reason="dask[distributed] not installed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as local:
        yield local


@pytest.mark.parametrize("mentions", [False, True])
def test_dask_cluster_gives_the_local_results(model, cluster, small_chunks, mentions):
    runner = dask_runner(model[0], mentions, cluster.scheduler_address)
    on_cluster = run(model[0], mentions, batch_chars=200, runner=runner)
    close(on_cluster, run(model[0], mentions, batch_chars=200))


def test_dask_scatters_the_model_once_not_per_task(model, cluster, small_chunks, monkeypatch):
    from distributed import Client

    scattered, sent = [], []
    original = Client.scatter

    def recording(self, data, *args, **kwargs):
        scattered.append(data)
        return original(self, data, *args, **kwargs)

    monkeypatch.setattr(Client, "scatter", recording)
    runner = dask_runner(model[0], False, cluster.scheduler_address)

    def counting(batches):
        for batch in batches:
            sent.append(batch)
            yield batch

    results = run(model[0], batch_chars=200, runner=lambda batches: runner(counting(batches)))
    with_model = [d for d in scattered
                  if d is model[0] or (isinstance(d, list) and any(x is model[0] for x in d))]
    assert len(sent) > 10          # many tasks...
    assert len(with_model) == 1    # ...one copy of the model sent
    assert sum(len(r) for _, r, _ in results) > 20


def test_cli_scheduler_from_the_environment(tmp_path, trained_model, cluster):
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps({"id": i, "text": t}) + "\n"
                            for i, t in enumerate(TEXTS)), encoding="utf-8")
    args = ["score", "--model", str(trained_model), "--id-column", "id", str(path)]
    local = CliRunner().invoke(main, args)
    remote = CliRunner().invoke(main, args, env={"STANCE_SCHEDULER": cluster.scheduler_address})
    assert local.exit_code == 0 and remote.exit_code == 0, remote.stderr
    assert remote.stdout == local.stdout != ""


def test_cli_unreachable_scheduler_is_one_error_line(tmp_path, trained_model, monkeypatch):
    pytest.importorskip("distributed", reason="dask[distributed] not installed")
    monkeypatch.setattr("stance.parallel.CONNECT_TIMEOUT", 1)
    path = tmp_path / "a.txt"
    path.write_text(TEXTS[0], encoding="utf-8")
    result = CliRunner().invoke(main, ["score", "--model", str(trained_model), "--scheduler",
                                       "tcp://127.0.0.1:9", str(path)])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot reach the Dask scheduler at "
                                    "tcp://127.0.0.1:9 (")
    assert len(result.stderr.splitlines()) == 1


def test_cli_scheduler_without_workers_is_one_error_line(tmp_path, trained_model, monkeypatch):
    distributed = pytest.importorskip("distributed", reason="dask[distributed] not installed")
    monkeypatch.setattr("stance.parallel.CONNECT_TIMEOUT", 1)
    path = tmp_path / "a.txt"
    path.write_text(TEXTS[0], encoding="utf-8")
    with distributed.LocalCluster(n_workers=0, dashboard_address=":0") as empty:
        result = CliRunner().invoke(main, ["score", "--model", str(trained_model),
                                           "--scheduler", empty.scheduler_address, str(path)])
    assert result.exit_code == 1
    assert result.stderr == (f"error: the Dask scheduler at {empty.scheduler_address} has no "
                             f"workers; start some with: dask worker "
                             f"{empty.scheduler_address}\n")


def test_cli_scheduler_without_dask_says_how_to_install(tmp_path, trained_model, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)     # import fails as if absent
    path = tmp_path / "a.txt"
    path.write_text(TEXTS[0], encoding="utf-8")
    result = CliRunner().invoke(main, ["score", "--model", str(trained_model), "--scheduler",
                                       "tcp://127.0.0.1:8786", str(path)])
    assert result.exit_code == 2
    assert "Invalid value for --scheduler: scoring on a Dask cluster needs dask.distributed; " \
           "install it with: pip install 'stance[dask]'" in result.stderr
    assert result.stdout == ""


def test_cli_jobs_and_scheduler_together_is_a_usage_error(tmp_path, trained_model):
    result = CliRunner().invoke(main, ["score", "--jobs", "2", "--scheduler", "tcp://x:8786",
                                       str(tmp_path)])
    assert result.exit_code == 2
    assert "--jobs and --scheduler cannot be used together" in result.stderr


def test_cli_jobs_overrides_a_scheduler_from_the_environment(tmp_path, trained_model):
    path = tmp_path / "a.txt"
    path.write_text(TEXTS[0], encoding="utf-8")
    result = CliRunner().invoke(main, ["score", "--model", str(trained_model), "--jobs", "1",
                                       str(path)], env={"STANCE_SCHEDULER": "tcp://nowhere:1"})
    assert result.exit_code == 0, result.stderr
    assert {json.loads(line)["actor"] for line in result.stdout.splitlines()} >= {"Russia"}


# --- start-up: nothing heavy for help, version or validate ---------------------------

HEAVY = ("pandas", "sklearn", "scipy", "skops", "joblib", "dask", "distributed")
_PROBE = """\
import sys
from stance.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(",".join(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)
"""


def heavy_imports(args, cwd):
    out = subprocess.run([sys.executable, "-c", _PROBE.format(heavy=HEAVY), *args],
                         capture_output=True, text=True, cwd=cwd, timeout=120)
    return out.stderr.strip().splitlines()[-1] if out.stderr.strip() else ""


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["score", "--help"],
                                  ["score", "--version"], ["validate", "--help"]])
def test_help_and_version_import_nothing_heavy(args, tmp_path):
    assert heavy_imports(args, tmp_path) == ""


def test_validate_imports_nothing_heavy(labels_dir, tmp_path):
    assert heavy_imports(["validate", str(labels_dir)], tmp_path) == ""
