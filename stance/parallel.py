"""Scoring batches in parallel: local worker processes (joblib's loky) or a Dask cluster.

Both runners plug into :func:`stance.scoring.score_documents`: they take an
iterable of batches and yield each batch's partial results in the order the
batches came, while the main process goes on reading documents ahead. Workers
never see whole documents, only batches of chunks, so what scales is the
number of documents, and one huge document is still cut into batches that
share the work.

* Local: each worker process loads the model once, from its path, and checks
  it is the file the main process loaded.
* Dask: the model object is scattered to every worker once (``scatter=``),
  and tasks refer to it rather than carrying a copy.
"""

import os
import warnings
from dataclasses import dataclass

from stance.errors import ModelError, StanceError
from stance.scoring import score_batch

DASK_INSTALL = "pip install 'stance[dask]'"
#: Seconds to wait for a Dask scheduler to answer, and for it to have a worker.
CONNECT_TIMEOUT = 10


@dataclass(frozen=True)
class ModelRef:
    """How a worker process finds the model: its path and the fingerprint
    (``model_sha256`` of its manifest) that the main process loaded."""

    path: str
    sha256: str
    strict: bool = False


_loaded = {}


def _resolve(ref):
    """The model a worker scores with; loaded once per worker process."""
    model = _loaded.get(ref)
    if model is None:
        from stance.modelio import load_scorer

        with warnings.catch_warnings():
            # The main process has already shown load warnings once.
            warnings.simplefilter("ignore")
            model, manifest = load_scorer(ref.path, strict=ref.strict)
        if manifest.get("model_sha256") != ref.sha256:
            raise ModelError(f"{ref.path}: model file changed while scoring")
        _loaded.clear()
        _loaded[ref] = model
    return model


def _score_with_ref(ref, chunks, mentions):
    return score_batch(_resolve(ref), chunks, mentions)


def _ordered(results):
    """Yield from a joblib result generator; when stopped early (``--strict``),
    cancel the tasks still queued without joblib's warning about them."""
    try:
        # Not `yield from`: that would close ``results`` before the filter is set.
        for result in results:  # noqa: UP028
            yield result
    finally:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*adjusting the input task iterator")
            results.close()


def cpu_jobs(jobs):
    """``jobs``, or the number of CPU cores when ``jobs`` is 0 or less."""
    return jobs if jobs > 0 else (os.cpu_count() or 1)


def local_runner(ref, mentions, jobs):
    """A runner scoring batches in ``jobs`` worker processes, results in batch order."""
    from joblib import Parallel, delayed

    def run(batches):
        parallel = Parallel(n_jobs=cpu_jobs(jobs), backend="loky", return_as="generator",
                            batch_size=1, pre_dispatch="2*n_jobs")
        yield from _ordered(parallel(delayed(_score_with_ref)(ref, chunks, mentions)
                                     for chunks in batches))

    return run


def check_dask():
    """Raise StanceError, saying how to install it, when dask.distributed is missing."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise StanceError(f"scoring on a Dask cluster needs dask.distributed; install it "
                          f"with: {DASK_INSTALL}") from None


def dask_runner(model, mentions, address):
    """A runner sending batches to the Dask scheduler at ``address``, results in batch order.

    The model is scattered to all workers once; each task carries only its
    batch of text.
    """
    check_dask()

    def run(batches):
        from distributed import Client
        from joblib import Parallel, delayed, parallel_config

        try:
            client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise StanceError(f"cannot reach the Dask scheduler at {address} "
                              f"({exc or type(exc).__name__})") from None
        with client:
            try:
                with parallel_config(backend="dask", client=client, scatter=[model],
                                     wait_for_workers_timeout=CONNECT_TIMEOUT):
                    parallel = Parallel(return_as="generator", batch_size=1)
                    yield from _ordered(parallel(delayed(score_batch)(model, chunks, mentions)
                                                 for chunks in batches))
            except TimeoutError:
                if any(client.ncores().values()):
                    raise
                raise StanceError(f"the Dask scheduler at {address} has no workers; start "
                                  f"some with: dask worker {address}") from None

    return run


def runner_for(model, model_path, manifest, mentions=False, jobs=1, scheduler=None,
               strict=False):
    """The runner for :func:`~stance.scoring.score_documents`: None (in this process)
    for one job and no scheduler, else local workers or the Dask cluster."""
    if scheduler:
        return dask_runner(model, mentions, scheduler)
    if cpu_jobs(jobs) == 1:
        return None
    from stance.modelio import default_model_path

    path = str(model_path or default_model_path())
    return local_runner(ModelRef(path, manifest.get("model_sha256"), strict), mentions, jobs)
