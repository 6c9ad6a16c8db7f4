"""Saving and loading models safely: skops files with an allow-list, plus a JSON manifest."""

import contextlib
import glob
import hashlib
import io
import json
import os
import warnings
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from stance import __version__
from stance.atomic import atomic_write_files, file_lock
from stance.errors import ModelError

MODEL_NAME = "stance.skops"
FORMAT = 1
#: Our own classes a model file may contain, besides what skops trusts by default.
TRUSTED_TYPES = ("stance.model.MentionFeaturizer",)
ENV_MODEL = "STANCE_MODEL"


class ModelVersionWarning(UserWarning):
    """The model was saved by another scikit-learn version."""


def bundled_model_path():
    """The model shipped in the repository's ``models/`` folder."""
    return Path(__file__).resolve().parent.parent / "models" / MODEL_NAME


def default_model_path():
    """``$STANCE_MODEL`` if set, else the bundled model."""
    env = os.environ.get(ENV_MODEL)
    return Path(env) if env else bundled_model_path()


def weights_path(model_path):
    """The exported linear weights beside a model: ``stance.weights.npz``."""
    model_path = Path(model_path)
    return model_path.with_name(model_path.stem + ".weights.npz")


def manifest_path(model_path):
    model_path = Path(model_path)
    return model_path.with_name(model_path.stem + ".manifest.json")


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_model(model, path, manifest):
    """Write the model and its manifest atomically, under an exclusive lock.

    ``manifest`` is completed with versions, the model's fingerprint and a
    timestamp. Both files are staged and fsynced before either is moved into
    place, and the lock beside the model keeps two concurrent saves from
    leaving the model of one with the manifest of the other. Returns the
    manifest as written.
    """
    import sklearn
    import skops.io as sio

    from stance.predictor import LinearScorer

    path = Path(path)
    data = sio.dumps({"format": FORMAT, "pipeline": model.pipeline,
                      "registry": model.registry_rows})
    arrays = LinearScorer.from_pipeline(model.pipeline).to_arrays()
    arrays["registry"] = np.array(json.dumps(model.registry_rows, ensure_ascii=False))
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    weights = buffer.getvalue()
    manifest = dict(manifest)
    manifest.update({
        "stance_version": __version__,
        "sklearn_version": sklearn.__version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model_file": path.name,
        "model_sha256": hashlib.sha256(data).hexdigest(),
        "weights_file": weights_path(path).name,
        "weights_sha256": hashlib.sha256(weights).hexdigest(),
    })
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    with file_lock(path):
        _remove_stale_temporaries(path)
        atomic_write_files([(path, data), (weights_path(path), weights),
                            (manifest_path(path), text.encode("utf-8"))])
    return manifest


def _remove_stale_temporaries(path):
    """Delete temporary files left by a save that was killed.

    Every save stages its files while holding the lock, so with the lock held
    any temporary file still here belongs to a writer that died.
    """
    for target in (path, weights_path(path), manifest_path(path)):
        for stale in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
            with contextlib.suppress(OSError):
                stale.unlink()


def read_manifest(path):
    """The manifest beside a model file, as a dict; ModelError if missing or unreadable."""
    mpath = manifest_path(path)
    try:
        manifest = json.loads(Path(mpath).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{mpath}: manifest missing; a model needs the manifest written "
                         "beside it by `stance train`") from None
    except OSError as exc:
        raise ModelError(f"{mpath}: cannot read manifest ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise ModelError(f"{mpath}: unreadable manifest ({_short(exc)})") from None
    if not isinstance(manifest, dict):
        raise ModelError(f"{mpath}: not a stance manifest (expected a JSON object)")
    return manifest


def load_model(path=None, strict=False):
    """Load a model file, refusing untrusted types and mismatched manifests.

    The file is read once, under a shared lock, and everything is checked on
    those bytes: that it is a complete skops file, that its SHA-256 matches the
    manifest, and that it holds no type outside skops' defaults and
    :data:`TRUSTED_TYPES`. A scikit-learn version different from the one that
    saved the model gives a :class:`ModelVersionWarning`, or a ModelError when
    ``strict``.
    """
    import sklearn

    path = Path(path) if path else default_model_path()
    if not path.is_file():
        raise ModelError(f"{path}: no model file; run `stance train` to create one")
    with file_lock(path, shared=True):
        manifest = read_manifest(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ModelError(f"{path}: cannot read model ({exc.strerror or exc})") from None
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ModelError(f"{path}: corrupt or truncated model file (not a skops archive)")
    expected = manifest.get("model_sha256")
    if not expected:
        raise ModelError(f"{manifest_path(path)}: manifest has no model fingerprint "
                         "(model_sha256); retrain with `stance train`")
    if expected != hashlib.sha256(data).hexdigest():
        raise ModelError(f"{path}: model does not match its manifest "
                         f"({manifest_path(path).name}); retrain with `stance train`")
    saved = manifest.get("sklearn_version")
    if saved != sklearn.__version__:
        _version_mismatch(path, saved, strict)
    obj = _unpack(path, data, saved, strict)
    return _check_contents(path, obj), manifest


def _installed_sklearn():
    """The installed scikit-learn version, read without importing scikit-learn."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("scikit-learn")
    except PackageNotFoundError:
        return "not installed"


def _version_mismatch(path, saved, strict):
    message = (f"{path}: model was trained with scikit-learn {saved or 'unknown'}, this is "
               f"scikit-learn {_installed_sklearn()}; run `stance train` to rebuild it")
    if strict:
        raise ModelError(message)
    warnings.warn(message, ModelVersionWarning, stacklevel=3)


def _unpack(path, data, saved, strict):
    """Load skops bytes, allowing only trusted types; nothing else is ever constructed."""
    import sklearn
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as exc:  # skops raises many types on damaged archives
        raise ModelError(_unreadable(path, exc)) from None
    refused = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if refused:
        raise ModelError(f"{path}: refusing to load untrusted type(s): {', '.join(refused)}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            obj = sio.loads(data, trusted=list(untrusted))
        except Exception as exc:
            raise ModelError(_unreadable(path, exc)) from None
    # scikit-learn warns (at length) when estimators were pickled by another
    # version; the manifest check above says it in one line, so say it once.
    inconsistent = [w for w in caught if type(w.message).__name__ == "InconsistentVersionWarning"]
    if inconsistent and saved == sklearn.__version__:
        found = getattr(inconsistent[0].message, "original_sklearn_version", "another version")
        _version_mismatch(path, found, strict)
    for w in caught:
        if w not in inconsistent:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return obj


def load_scorer(path=None, strict=False):
    """Load a model for scoring, without importing scikit-learn where possible.

    When the manifest fingerprints an exported weights file
    (``stance.weights.npz``: plain arrays, read with ``allow_pickle=False``, so
    it cannot carry code) and both it and the model file match the manifest,
    the model is built from the weights alone. Otherwise this is
    :func:`load_model`, with all of its checks.
    """
    path = Path(path) if path else default_model_path()
    wpath = weights_path(path)
    if not path.is_file() or not wpath.is_file():
        return load_model(path, strict=strict)
    with file_lock(path, shared=True):
        manifest = read_manifest(path)
        try:
            data, weights = path.read_bytes(), wpath.read_bytes()
        except OSError:
            return load_model(path, strict=strict)
    if not manifest.get("weights_sha256") or \
            manifest.get("model_sha256") != hashlib.sha256(data).hexdigest() or \
            manifest["weights_sha256"] != hashlib.sha256(weights).hexdigest():
        return load_model(path, strict=strict)
    if manifest.get("sklearn_version") != _installed_sklearn():
        _version_mismatch(path, manifest.get("sklearn_version"), strict)
    from stance.predictor import LinearScorer, StanceModel

    try:
        with np.load(io.BytesIO(weights), allow_pickle=False) as arrays:
            scorer = LinearScorer.from_arrays(arrays)
            registry = json.loads(str(arrays["registry"]))
    except (ValueError, KeyError, OSError, zipfile.BadZipFile) as exc:
        raise ModelError(f"{wpath}: corrupt weights file ({_short(exc)}); retrain with "
                         "`stance train`") from None
    return StanceModel(scorer, registry), manifest


def _check_contents(path, obj):
    """Build a StanceModel from loaded data, or say why it is not one."""
    from stance import LABELS
    from stance.predictor import StanceModel

    if not isinstance(obj, dict) or "format" not in obj:
        raise ModelError(f"{path}: not a stance model")
    if obj["format"] != FORMAT:
        raise ModelError(f"{path}: model format {obj['format']!r}, this stance reads format "
                         f"{FORMAT}; use the stance version that wrote it, or retrain")
    pipeline, registry = obj.get("pipeline"), obj.get("registry")
    classes = getattr(pipeline, "classes_", None)
    if (not hasattr(pipeline, "predict_proba") or classes is None
            or not set(map(str, classes)) <= set(LABELS)):
        raise ModelError(f"{path}: not a stance model (no fitted classifier over "
                         f"{', '.join(LABELS)})")
    if not isinstance(registry, list) or not all(
            isinstance(r, dict) and "canonical" in r
            and all(isinstance(v, str) for v in r.values()) for r in registry):
        raise ModelError(f"{path}: not a stance model (no actor registry)")
    return StanceModel(pipeline, registry)


def _unreadable(path, exc):
    return (f"{path}: corrupt or truncated model file ({_short(exc)}); it may also have "
            "been written by a newer skops")


def _short(exc):
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:160]
