"""The `stance` command line: a thin shell over the core modules."""

import errno
import json
import os
import sys
import warnings

import click

from stance import __version__
from stance.errors import LabelError, StanceError

CONTEXT = {"help_option_names": ["-h", "--help"]}


def _version(f):
    return click.version_option(__version__, "--version", prog_name="stance")(f)


def _fail(exc):
    """Turn a core exception into a one-line (or per-problem) message and exit 1."""
    for problem in exc.problems if isinstance(exc, LabelError) else [str(exc)]:
        click.echo(f"error: {problem}", err=True)
    raise SystemExit(1)


def _warn(message):
    click.echo(f"warning: {message}", err=True)


def _load(model_path, strict):
    from stance.modelio import load_scorer

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model, manifest = load_scorer(model_path, strict=strict)
    for w in caught:
        _warn(str(w.message))
    return model, manifest


class _Group(click.Group):
    """The command group; any error a command lets escape becomes one line on stderr."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except StanceError as exc:
            _fail(exc)
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise  # click exits quietly when the reader of stdout has gone
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"error: {where}{exc.strerror or exc}", err=True)
            raise SystemExit(1) from None
        except Exception as exc:
            if os.environ.get("STANCE_DEBUG"):
                raise
            click.echo(f"error: internal error ({type(exc).__name__}: {exc}); please report "
                       "it (STANCE_DEBUG=1 shows the traceback)", err=True)
            raise SystemExit(1) from None


@click.group(cls=_Group, context_settings=CONTEXT)
@_version
def main():
    """Tag actors in Syrian-conflict news with their position toward Damascus:
    pro-damascus, opposition or mediator.

    \b
    Examples:
      stance score seeds/                 # per-actor stances for every .txt file
      stance score --mentions article.txt # one record per mention
      stance validate labels/             # check hand-labelled files
      stance train                        # retrain models/stance.skops from labels/
      stance evaluate --test ../shared/eval/wikipedia-dev.csv
    """


@main.command(context_settings=CONTEXT)
@_version
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl", "json", "csv"]),
              help="Output format [default: table on a terminal, else jsonl].")
@click.option("--mentions", is_flag=True, help="One record per mention instead of per actor.")
@click.option("--model", "model_path", type=click.Path(dir_okay=False),
              help="Model file [default: $STANCE_MODEL, else the bundled model].")
@click.option("--glob", "pattern", default="*.txt", show_default=True,
              help="File pattern when a PATH is a folder (searched recursively).")
@click.option("--encoding", default=None,
              help="Text encoding of inputs without a BOM [default: utf-8].")
@click.option("--strict", is_flag=True,
              help="Stop at the first bad input; refuse models from another scikit-learn.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write results to FILE (atomically) instead of stdout.")
@click.option("--text-column", default="text", show_default=True,
              help="CSV/TSV column or JSONL field holding each document's text.")
@click.option("--id-column",
              help="CSV/TSV column or JSONL field whose value becomes `source` "
                   "[default: FILE:LINE].")
@click.option("-j", "--jobs", type=click.IntRange(min=0), default=1, show_default=True,
              help="Worker processes (0: one per CPU core); overrides $STANCE_SCHEDULER.")
@click.option("--scheduler", metavar="ADDRESS", envvar="STANCE_SCHEDULER",
              help="Score on the Dask cluster at ADDRESS, e.g. tcp://10.0.0.5:8786 "
                   "[default: $STANCE_SCHEDULER]; needs pip install 'stance[dask]'.")
@click.option("-q", "--quiet", is_flag=True, help="No progress line on stderr.")
@click.pass_context
def score(ctx, paths, fmt, mentions, model_path, pattern, encoding, strict, output, text_column,
          id_column, jobs, scheduler, quiet):
    """Tag the actors in text files, folders, corpora or stdin (-).

    Prints one record per actor per document (or per mention with
    --mentions), with stance, confidence, per-label scores and the evidence
    sentence. Bad inputs are reported on stderr and skipped; the exit code is
    1 if any input failed.

    A file named *.csv, *.tsv, *.jsonl or *.ndjson (given as PATH or found by
    --glob) is a corpus with one document per row: the text is in
    --text-column and `source` is the --id-column value, else FILE:LINE. Rows
    are streamed, so a corpus of any size runs in bounded memory. A bad row
    is reported with its file and line, and the other rows are scored.

    Output keeps the input order whatever --jobs. On a terminal a progress
    line on stderr shows documents, MB and rates (--quiet hides it).

    \b
    Examples:
      stance score seeds/2024-12-iraqi-militias-cross-into-syria.txt
      stance score --format csv -o results.csv corpus/
      cat article.txt | stance score --mentions -
      stance score --id-column url --jobs 4 -o scores.jsonl archive.jsonl
      stance score --scheduler tcp://scheduler:8786 -o scores.jsonl archive.csv
    """
    from click.core import ParameterSource

    from stance.atomic import atomic_write
    from stance.corpus import expand
    from stance.formats import Writer
    from stance.parallel import check_dask, runner_for
    from stance.progress import Progress
    from stance.scoring import score_documents
    from stance.textio import check_encoding

    if scheduler and ctx.get_parameter_source("jobs") == ParameterSource.COMMANDLINE:
        if ctx.get_parameter_source("scheduler") == ParameterSource.COMMANDLINE:
            raise click.UsageError("--jobs and --scheduler cannot be used together: "
                                   "a cluster runs on all its workers")
        scheduler = None
    if scheduler:
        try:
            check_dask()
        except StanceError as exc:
            raise click.BadParameter(str(exc), param_hint="--scheduler") from None
    if encoding:
        try:
            check_encoding(encoding)
        except StanceError as exc:
            raise click.BadParameter(str(exc), param_hint="--encoding") from None
    try:
        model, manifest = _load(model_path, strict)
    except StanceError as exc:
        _fail(exc)
    if fmt is None:
        fmt = "table" if output is None and sys.stdout.isatty() else "jsonl"
    docs = expand(paths, pattern, text_column, id_column, encoding)
    runner = runner_for(model, model_path, manifest, mentions, jobs, scheduler, strict)
    progress = None if quiet or not sys.stderr.isatty() else Progress(sys.stderr)
    failed = 0

    def run(out):
        nonlocal failed
        writer = Writer(out, fmt, mentions=mentions)
        for _, records, error in score_documents(model, docs, mentions=mentions,
                                                 runner=runner, progress=progress):
            if error is not None:
                failed += 1
                if progress is not None:
                    progress.clear()
                click.echo(f"error: {error}", err=True)
                if strict:
                    break
                continue
            writer.write(records)
        writer.close()

    try:
        if output:
            with atomic_write(output, "w", encoding="utf-8", newline="") as out:
                run(out)
        else:
            run(sys.stdout)
    finally:
        if progress is not None:
            progress.close()
    if failed:
        raise SystemExit(1)


@main.command(context_settings=CONTEXT)
@_version
@click.option("--labels", "label_paths", multiple=True, type=click.Path(),
              help="Label CSV file or folder (repeatable) [default: labels/].")
@click.option("--registry", "registry_path", type=click.Path(dir_okay=False),
              help="Actor registry [default: actors.csv beside the labels].")
@click.option("--model", "model_path", type=click.Path(dir_okay=False),
              help="Where to write the model [default: $STANCE_MODEL, else models/stance.skops].")
@click.option("--folds", default=5, show_default=True, help="Cross-validation folds.")
def train(label_paths, registry_path, model_path, folds):
    """Validate labels, cross-validate, train and save the model and its manifest.

    The model and manifest are written atomically; invalid labels leave the
    existing model untouched.

    \b
    Example:
      stance train --labels labels/ --model models/stance.skops
    """
    from stance.modelio import default_model_path
    from stance.report import render_counts
    from stance.training import train as run_train

    target = model_path or default_model_path()
    try:
        manifest = run_train(label_paths or None, target, registry_path, folds=folds)
    except StanceError as exc:
        _fail(exc)
    click.echo(render_counts(manifest["class_counts"]))
    for scheme, result in manifest["cv"].items():
        click.echo(f"{scheme}: " + ", ".join(
            f"{name} macro-F1 {v['macro_f1']:.3f}" for name, v in result.items()
            if isinstance(v, dict)))
    click.echo(f"wrote {target}, its weights and manifest ({manifest['rows']} labelled mentions, "
               f"{manifest['actors']} registry actors)")


@main.command(context_settings=CONTEXT)
@_version
@click.option("--labels", "label_paths", multiple=True, type=click.Path(),
              help="Training label CSV file or folder (repeatable) [default: labels/].")
@click.option("--registry", "registry_path", type=click.Path(dir_okay=False),
              help="Actor registry [default: actors.csv beside the labels].")
@click.option("--test", "test_paths", multiple=True, type=click.Path(dir_okay=False),
              help="Held-out labels file to score with a model trained on --labels.")
@click.option("--model", "model_path", type=click.Path(dir_okay=False),
              help="Score --test with this saved model instead of training one.")
@click.option("--folds", default=5, show_default=True, help="Cross-validation folds.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def evaluate(label_paths, registry_path, test_paths, model_path, folds, fmt):
    """Cross-validate on the training labels; score held-out --test files.

    Reports stratified k-fold and leave-one-actor-out scores, and for each
    test file the detection rate, accuracy, per-label precision/recall/F1,
    macro-F1 and a confusion matrix, next to the majority-label and
    registry-prior baselines.

    \b
    Example:
      stance evaluate --test ../shared/eval/wikipedia-dev.csv
    """
    from stance.report import render_evaluation
    from stance.training import evaluate as run_evaluate

    try:
        report = run_evaluate(label_paths or None, test_paths, model_path, registry_path,
                              folds=folds)
    except StanceError as exc:
        _fail(exc)
    if fmt == "json":
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(render_evaluation(report))


@main.command(context_settings=CONTEXT)
@_version
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--registry", "registry_path", type=click.Path(dir_okay=False),
              help="Actor registry [default: actors.csv beside the labels].")
def validate(paths, registry_path):
    """Check label files and the actor registry; exit 1 on any problem.

    Checks columns, stance values, that each actor occurs in its text,
    duplicate and conflicting rows, and canonical names missing from the
    registry. Each problem is printed with its file and line.

    \b
    Example:
      stance validate labels/
    """
    from stance.labels import default_labels_dir, resolve_registry
    from stance.labels import validate as run_validate

    paths = list(paths) or [default_labels_dir()]
    registry = resolve_registry(paths, registry_path)
    try:
        problems = run_validate(paths, registry if registry.is_file() else None)
    except StanceError as exc:
        _fail(exc)
    if not registry.is_file():
        problems.insert(0, f"{registry}: actor registry not found")
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    if problems:
        click.echo(f"{len(problems)} problem(s) found", err=True)
        raise SystemExit(1)
    click.echo(f"ok: labels valid (registry {registry})")
