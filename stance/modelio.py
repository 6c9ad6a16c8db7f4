"""Saving and loading models safely: skops files with an allow-list, plus a JSON manifest."""

import hashlib
import json
import os
import warnings
from datetime import datetime, timezone
from pathlib import Path

from stance import __version__
from stance.atomic import atomic_write
from stance.errors import ModelError

MODEL_NAME = "stance.skops"
FORMAT = 1
#: Our own classes a model file may contain, besides what skops trusts by default.
TRUSTED_TYPES = ("stance.features.MentionFeaturizer",)
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
    """Write the model and its manifest atomically (model first, then manifest).

    ``manifest`` is completed with versions, the model's fingerprint and a
    timestamp. Returns the manifest as written.
    """
    import sklearn
    import skops.io as sio

    path = Path(path)
    data = sio.dumps({"format": FORMAT, "pipeline": model.pipeline,
                      "registry": model.registry_rows})
    manifest = dict(manifest)
    manifest.update({
        "stance_version": __version__,
        "sklearn_version": sklearn.__version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model_file": path.name,
        "model_sha256": hashlib.sha256(data).hexdigest(),
    })
    with atomic_write(path, "wb") as handle:
        handle.write(data)
    with atomic_write(manifest_path(path), "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=2, sort_keys=True)
        handle.write("\n")
    return manifest


def read_manifest(path):
    mpath = manifest_path(path)
    try:
        return json.loads(Path(mpath).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{mpath}: manifest missing; a model needs the manifest written "
                         "beside it by `stance train`") from None
    except (OSError, ValueError) as exc:
        raise ModelError(f"{mpath}: unreadable manifest ({exc})") from None


def load_model(path=None, strict=False):
    """Load a model file, refusing untrusted types and mismatched manifests.

    A scikit-learn version different from the one that saved the model gives a
    :class:`ModelVersionWarning`, or a ModelError when ``strict``.
    """
    import sklearn
    import skops.io as sio

    from stance.model import StanceModel

    path = Path(path) if path else default_model_path()
    if not path.is_file():
        raise ModelError(f"{path}: no model file; run `stance train` to create one")
    manifest = read_manifest(path)
    if manifest.get("model_sha256") != sha256_file(path):
        raise ModelError(f"{path}: model does not match its manifest "
                         f"({manifest_path(path).name}); retrain with `stance train`")
    saved = manifest.get("sklearn_version")
    if saved != sklearn.__version__:
        message = (f"{path}: model was trained with scikit-learn {saved}, this is "
                   f"scikit-learn {sklearn.__version__}; run `stance train` to rebuild it")
        if strict:
            raise ModelError(message)
        warnings.warn(message, ModelVersionWarning, stacklevel=2)
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # skops raises many types on corrupt files
        raise ModelError(f"{path}: corrupt or truncated model file ({_short(exc)})") from None
    refused = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if refused:
        raise ModelError(f"{path}: refusing to load untrusted type(s): {', '.join(refused)}")
    try:
        data = sio.load(path, trusted=list(untrusted))
    except Exception as exc:
        raise ModelError(f"{path}: corrupt or truncated model file ({_short(exc)})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ModelError(f"{path}: not a stance model (format {FORMAT} expected)")
    return StanceModel(data["pipeline"], data["registry"]), manifest


def _short(exc):
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:160]
