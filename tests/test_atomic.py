"""Files the tool writes: atomic replacement, kept permissions, killed and concurrent trains."""

import fcntl
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading

import pytest
from conftest import write_labels

from stance.atomic import atomic_write, atomic_write_files, file_lock, lock_path
from stance.errors import OutputError
from stance.modelio import load_model, manifest_path, save_model
from stance.scoring import score_documents
from stance.textio import Document


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_atomic_write_replaces_and_keeps_permissions(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text("old", encoding="utf-8")
    os.chmod(path, 0o640)
    with atomic_write(path, "w", encoding="utf-8") as handle:
        handle.write("new")
        assert path.read_text(encoding="utf-8") == "old"
    assert path.read_text(encoding="utf-8") == "new"
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert leftovers(tmp_path) == []


def test_new_file_gets_umask_permissions(tmp_path):
    old = os.umask(0o027)
    try:
        with atomic_write(tmp_path / "new.bin") as handle:
            handle.write(b"x")
    finally:
        os.umask(old)
    assert os.stat(tmp_path / "new.bin").st_mode & 0o777 == 0o640


def test_failure_inside_the_write_leaves_the_old_file(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_write(path) as handle:
            handle.write(b"half of the new")
            raise RuntimeError("boom")
    assert path.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


def test_unwritable_target_raises_output_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    with pytest.raises(OutputError) as caught:
        with atomic_write(blocker / "x.csv") as handle:
            handle.write(b"never")
    assert str(caught.value) == f"{blocker / 'x.csv'}: cannot write ({blocker}: Not a directory)"
    (tmp_path / "folder").mkdir()
    with pytest.raises(OutputError, match="cannot write .*Is a directory"):
        atomic_write_files([(tmp_path / "folder", b"x")])
    assert leftovers(tmp_path) == []


def test_atomic_write_files_changes_nothing_when_staging_fails(tmp_path):
    first = tmp_path / "a.bin"
    first.write_bytes(b"old a")
    blocker = tmp_path / "plain"
    blocker.write_bytes(b"")
    with pytest.raises(OutputError, match="Not a directory"):
        atomic_write_files([(first, b"new a"), (blocker / "sub" / "m", b"new m")])
    assert first.read_bytes() == b"old a"
    assert leftovers(tmp_path) == []


def test_file_lock_is_exclusive_between_open_files(tmp_path):
    target = tmp_path / "m.skops"
    with file_lock(target):
        fd = os.open(lock_path(target), os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        finally:
            os.close(fd)
    fd = os.open(lock_path(target), os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(fd)


def test_shared_lock_needs_no_lock_file(tmp_path):
    target = tmp_path / "read-only" / "m.skops"
    with file_lock(target, shared=True):
        pass
    assert not lock_path(target).exists()


# --- a real `stance train`, stopped or raced while it writes --------------------------

CHILD = textwrap.dedent("""
    import fcntl, os, signal, sys
    signal.signal(signal.SIGINT, signal.default_int_handler)
    real_fsync, real_flock = os.fsync, fcntl.flock
    calls = []

    def fsync(fd):
        real_fsync(fd)
        calls.append(fd)
        if len(calls) == 1 and os.environ.get("CHILD_MODE") == "pause":
            # The new model is staged beside the old one but not yet in place.
            print("STAGED", flush=True)
            sys.stdin.readline()

    def flock(fd, operation):
        if operation == fcntl.LOCK_EX and os.environ.get("CHILD_MODE") == "report":
            try:
                real_flock(fd, operation | fcntl.LOCK_NB)
            except BlockingIOError:
                print("BLOCKED", flush=True)
                real_flock(fd, operation)
            else:
                print("NOT BLOCKED", flush=True)
            return
        real_flock(fd, operation)

    os.fsync, fcntl.flock = fsync, flock
    from stance.cli import main
    main(sys.argv[1:])
""")


def start_train(tmp_path, labels, model, mode):
    script = tmp_path / "child_train.py"
    script.write_text(CHILD, encoding="utf-8")
    return subprocess.Popen(
        [sys.executable, str(script), "train", "--labels", str(labels), "--model", str(model),
         "--folds", "2"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, CHILD_MODE=mode), cwd=tmp_path)


def wait_staged(proc):
    line = proc.stdout.readline()
    if line != "STAGED\n":
        proc.kill()
        pytest.fail(f"child did not reach the write: {line!r} {proc.stderr.read()}")


def previous_model(tmp_path, trained_model):
    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(trained_model, folder / "stance.skops")
    shutil.copy(manifest_path(trained_model), folder)
    return folder / "stance.skops"


def assert_loads_and_scores(model_path):
    model, manifest = load_model(model_path)
    assert manifest["model_sha256"] == digest(model_path)
    (_, records, error), = score_documents(
        model, [Document("d", text="Russia brokered a ceasefire between the rebels and Damascus.")])
    assert error is None
    assert {r["actor"] for r in records} >= {"Russia", "Syrian opposition"}
    return manifest


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_train_killed_mid_write_leaves_previous_model(tmp_path, labels_dir, trained_model, sig):
    model = previous_model(tmp_path, trained_model)
    before = {p.name: digest(p) for p in (model, manifest_path(model))}
    proc = start_train(tmp_path, labels_dir, model, "pause")
    wait_staged(proc)
    staged = leftovers(model.parent)
    assert len(staged) == 1 and staged[0].startswith(".stance.skops.")
    # The lock is held across the writing of model and manifest.
    fd = os.open(lock_path(model), os.O_RDWR)
    try:
        with pytest.raises(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(fd)
    proc.send_signal(sig)
    assert proc.wait(timeout=120) == -sig
    proc.stdout.close()
    proc.stderr.close()
    assert {p.name: digest(p) for p in (model, manifest_path(model))} == before
    assert_loads_and_scores(model)
    # The next save takes the lock the dead process held and clears its leftovers.
    loaded, _ = load_model(model)
    save_model(loaded, model, {"rows": 1})
    assert leftovers(model.parent) == []
    assert_loads_and_scores(model)


def test_train_interrupted_mid_write_cleans_up(tmp_path, labels_dir, trained_model):
    model = previous_model(tmp_path, trained_model)
    before = digest(model)
    proc = start_train(tmp_path, labels_dir, model, "pause")
    wait_staged(proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in err
    assert digest(model) == before
    assert leftovers(model.parent) == []
    assert_loads_and_scores(model)


def test_two_trains_at_once_leave_one_consistent_model(tmp_path, labels_dir, trained_model):
    model = previous_model(tmp_path, trained_model)
    more = tmp_path / "more-labels"
    shutil.copytree(labels_dir, more)
    write_labels(more / "extra.csv", [
        ("Moscow and Tehran sent advisers to help the Syrian army.", "Moscow", "pro-damascus",
         "Russia"),
        ("The UN envoy met both sides in Geneva.", "UN", "mediator", "UN"),
    ])
    first = start_train(tmp_path, labels_dir, model, "pause")
    wait_staged(first)              # holds the lock with its model staged
    second = start_train(tmp_path, more, model, "report")
    assert second.stdout.readline() == "BLOCKED\n"
    first.stdin.write("\n")
    first.stdin.flush()
    out_first, err_first = first.communicate(timeout=120)
    out_second, err_second = second.communicate(timeout=120)
    assert first.returncode == 0, err_first
    assert second.returncode == 0, err_second
    # The second waited for the first's lock, so it wrote last, and both of its files.
    manifest = assert_loads_and_scores(model)
    assert manifest["rows"] == 30
    assert sorted(manifest["labels"]) == sorted(str(p) for p in [more / "extra.csv",
                                                                 more / "small.csv"])
    assert leftovers(model.parent) == []


def test_concurrent_saves_and_loads_in_threads_never_mix(tmp_path, trained_model):
    model, _ = load_model(trained_model)
    path = previous_model(tmp_path, trained_model)
    variants = {"all": model.registry_rows, "few": model.registry_rows[:3]}
    errors = []

    def writer(tag):
        from stance.model import StanceModel

        try:
            for i in range(6):
                save_model(StanceModel(model.pipeline, variants[tag]), path,
                           {"tag": tag, "i": i})
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(tag,)) for tag in variants]
    for t in threads:
        t.start()
    loads = 0
    while any(t.is_alive() for t in threads) or loads < 3:
        loaded, manifest = load_model(path)
        if "tag" in manifest:
            assert loaded.registry_rows == variants[manifest["tag"]]
        loads += 1
    for t in threads:
        t.join()
    assert errors == []
    loaded, manifest = load_model(path)
    assert manifest["i"] == 5
    assert loaded.registry_rows == variants[manifest["tag"]]
    assert leftovers(path.parent) == []
