"""Models from elsewhere: untrusted types are refused, damaged or mismatched files are named."""

import hashlib
import io
import json
import os
import shutil
import warnings
import zipfile

import pytest
import sklearn
import skops.io as sio
from click.testing import CliRunner

from stance.cli import main
from stance.errors import ModelError
from stance.modelio import (
    TRUSTED_TYPES,
    ModelVersionWarning,
    load_model,
    manifest_path,
    save_model,
)

GOOD = "Russia brokered a ceasefire between the rebels and Damascus.\n"


class Payload:
    """Runs code when skops rebuilds it: what a malicious model file would carry."""

    def __init__(self, sentinel):
        self.sentinel = sentinel

    def __setstate__(self, state):
        with open(state["sentinel"], "w", encoding="utf-8") as handle:
            handle.write("code ran")
        self.__dict__.update(state)


def install(folder, data, **manifest):
    """Write ``data`` as a model with a manifest that matches it (as a forger would)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "stance.skops"
    path.write_bytes(data)
    fields = {"model_sha256": hashlib.sha256(data).hexdigest(),
              "sklearn_version": sklearn.__version__}
    fields.update(manifest)
    manifest_path(path).write_text(json.dumps(fields), encoding="utf-8")
    return path


def copy_model(trained_model, folder):
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(trained_model, folder / "stance.skops")
    shutil.copy(manifest_path(trained_model), folder)
    return folder / "stance.skops"


def edit_manifest(path, **changes):
    mpath = manifest_path(path)
    manifest = json.loads(mpath.read_text(encoding="utf-8"))
    manifest.update(changes)
    mpath.write_text(json.dumps(manifest), encoding="utf-8")


def score(model_path, tmp_path, *extra):
    doc = tmp_path / "doc.txt"
    doc.write_text(GOOD, encoding="utf-8")
    result = CliRunner().invoke(main, ["score", "--format", "jsonl", "--model", str(model_path),
                                       *extra, str(doc)])
    assert "Traceback" not in result.stderr
    return result


def test_payload_is_live_when_trusted(tmp_path):
    # The control for the refusals below: loaded without the allow-list, it runs.
    sentinel = tmp_path / "ran"
    data = sio.dumps(Payload(str(sentinel)))
    sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    assert sentinel.read_text(encoding="utf-8") == "code ran"


def test_object_with_code_in_setstate_is_refused_and_nothing_runs(tmp_path):
    sentinel = tmp_path / "ran"
    data = sio.dumps({"format": 1, "pipeline": Payload(str(sentinel)), "registry": []})
    path = install(tmp_path / "m", data)
    with pytest.raises(ModelError) as caught:
        load_model(path)
    assert str(caught.value) == (f"{path}: refusing to load untrusted type(s): "
                                 f"{Payload.__module__}.Payload")
    assert not sentinel.exists()


def test_function_reference_is_refused(tmp_path):
    data = sio.dumps({"format": 1, "pipeline": os.system, "registry": [{"canonical": "x"}]})
    path = install(tmp_path / "m", data)
    with pytest.raises(ModelError, match=r"refusing to load untrusted type\(s\): .*system"):
        load_model(path)


def test_cli_refuses_untrusted_model_with_one_line(tmp_path):
    sentinel = tmp_path / "ran"
    data = sio.dumps({"format": 1, "pipeline": Payload(str(sentinel)), "registry": []})
    path = install(tmp_path / "m", data)
    result = score(path, tmp_path)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (f"error: {path}: refusing to load untrusted type(s): "
                             f"{Payload.__module__}.Payload\n")
    assert not sentinel.exists()


def test_allow_list_is_only_our_featurizer():
    assert TRUSTED_TYPES == ("stance.model.MentionFeaturizer",)


def _flip(data, at):
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]


MODEL_PROBLEMS = [
    # id, how to damage the copied model, message after "error: "
    ("truncated", lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
     "{p}: corrupt or truncated model file (not a skops archive)"),
    ("empty", lambda p: p.write_bytes(b""),
     "{p}: corrupt or truncated model file (not a skops archive)"),
    ("not a zip", lambda p: p.write_text("import os; os.system('x')", encoding="utf-8"),
     "{p}: corrupt or truncated model file (not a skops archive)"),
    ("manifest of another model", lambda p: edit_manifest(p, model_sha256="0" * 64),
     "{p}: model does not match its manifest (stance.manifest.json); retrain with "
     "`stance train`"),
    ("model changed after its manifest", lambda p: p.write_bytes(_flip(p.read_bytes(), 200)),
     "{p}: model does not match its manifest (stance.manifest.json); retrain with "
     "`stance train`"),
    ("manifest missing", lambda p: manifest_path(p).unlink(),
     "{m}: manifest missing; a model needs the manifest written beside it by `stance train`"),
    ("manifest not JSON", lambda p: manifest_path(p).write_text("{oops", encoding="utf-8"),
     "{m}: unreadable manifest (Expecting property name enclosed in double quotes: line 1 "
     "column 2 (char 1))"),
    ("manifest a list", lambda p: manifest_path(p).write_text("[]", encoding="utf-8"),
     "{m}: not a stance manifest (expected a JSON object)"),
    ("manifest without fingerprint", lambda p: manifest_path(p).write_text("{}", encoding="utf-8"),
     "{m}: manifest has no model fingerprint (model_sha256); retrain with `stance train`"),
    ("model file missing", lambda p: p.unlink(),
     "{p}: no model file; run `stance train` to create one"),
]


@pytest.mark.parametrize("damage, message", [c[1:] for c in MODEL_PROBLEMS],
                         ids=[c[0] for c in MODEL_PROBLEMS])
def test_damaged_or_mismatched_model_gives_one_line_and_exit_1(tmp_path, trained_model,
                                                               damage, message):
    path = copy_model(trained_model, tmp_path / "m")
    damage(path)
    expected = message.format(p=path, m=manifest_path(path))
    with pytest.raises(ModelError) as caught:
        load_model(path)
    assert str(caught.value) == expected
    result = score(path, tmp_path)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"error: {expected}\n"


def test_corrupt_archive_with_a_forged_manifest(tmp_path, trained_model):
    data = trained_model.read_bytes()
    member = zipfile.ZipFile(io.BytesIO(data)).infolist()[0]
    damaged = _flip(data, member.header_offset + 30 + len(member.filename) + 5)
    path = install(tmp_path / "m", damaged)
    result = score(path, tmp_path)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {path}: corrupt or truncated model file (")
    assert result.stderr.count("\n") == 1


def test_trusted_object_that_is_not_a_stance_model(tmp_path):
    from sklearn.linear_model import LogisticRegression

    path = install(tmp_path / "m", sio.dumps(LogisticRegression()))
    with pytest.raises(ModelError, match=r": not a stance model$"):
        load_model(path)
    path = install(tmp_path / "n", sio.dumps({"format": 1, "pipeline": LogisticRegression(),
                                              "registry": []}))
    with pytest.raises(ModelError, match=r"not a stance model \(no fitted classifier"):
        load_model(path)


def test_newer_model_format_is_named(tmp_path):
    path = install(tmp_path / "m", sio.dumps({"format": 2, "pipeline": None, "registry": []}))
    with pytest.raises(ModelError) as caught:
        load_model(path)
    assert str(caught.value) == (f"{path}: model format 2, this stance reads format 1; use the "
                                 "stance version that wrote it, or retrain")


def test_other_sklearn_version_warns_and_still_scores(tmp_path, trained_model):
    path = copy_model(trained_model, tmp_path / "m")
    edit_manifest(path, sklearn_version="1.0.2")
    message = (f"{path}: model was trained with scikit-learn 1.0.2, this is scikit-learn "
               f"{sklearn.__version__}; run `stance train` to rebuild it")
    with pytest.warns(ModelVersionWarning) as caught:
        model, _ = load_model(path)
    assert [str(w.message) for w in caught] == [message]
    result = score(path, tmp_path)
    assert result.exit_code == 0
    assert result.stderr == f"warning: {message}\n"
    assert {json.loads(line)["actor"] for line in result.stdout.splitlines()} >= {"Russia"}


def test_other_sklearn_version_is_refused_with_strict(tmp_path, trained_model):
    path = copy_model(trained_model, tmp_path / "m")
    edit_manifest(path, sklearn_version="1.0.2")
    result = score(path, tmp_path, "--strict")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (f"error: {path}: model was trained with scikit-learn 1.0.2, this "
                             f"is scikit-learn {sklearn.__version__}; run `stance train` to "
                             "rebuild it\n")


def _restamp(data, version):
    """Change the scikit-learn version recorded inside the estimators of a skops file."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info)
            if info.filename == "schema.json":
                # The version is stored as JSON text inside a JSON string: \"1.9.1\".
                body = body.replace(json.dumps(json.dumps(sklearn.__version__)).encode(),
                                    json.dumps(json.dumps(version)).encode())
            target.writestr(info, body)
    return out.getvalue()


def test_estimators_from_another_version_give_one_warning_not_sklearns(tmp_path, trained_model):
    # A manifest claiming this version over estimators pickled by another: scikit-learn's
    # own multi-line warning is replaced by ours, and --strict refuses it.
    path = install(tmp_path / "m", _restamp(trained_model.read_bytes(), "1.0.2"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_model(path)
    assert [type(w.message) for w in caught] == [ModelVersionWarning]
    assert "trained with scikit-learn 1.0.2" in str(caught[0].message)
    with pytest.raises(ModelError, match="trained with scikit-learn 1.0.2"):
        load_model(path, strict=True)


def test_saved_model_round_trips_and_keeps_permissions(tmp_path, trained_model):
    model, manifest = load_model(trained_model)
    path = copy_model(trained_model, tmp_path / "m")
    os.chmod(path, 0o640)
    os.chmod(manifest_path(path), 0o600)
    written = save_model(model, path, {"note": "again"})
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert os.stat(manifest_path(path)).st_mode & 0o777 == 0o600
    again, manifest = load_model(path)
    assert manifest == written and manifest["note"] == "again"
    assert again.classes == model.classes
