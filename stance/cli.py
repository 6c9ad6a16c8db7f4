"""The `stance` command line: a thin shell over the core modules."""

import json
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
    if isinstance(exc, LabelError):
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        raise SystemExit(1)
    raise click.ClickException(str(exc))


def _warn(message):
    click.echo(f"warning: {message}", err=True)


def _load(model_path, strict):
    from stance.modelio import load_model

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model, manifest = load_model(model_path, strict=strict)
    for w in caught:
        _warn(str(w.message))
    return model, manifest


@click.group(context_settings=CONTEXT)
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
def score(paths, fmt, mentions, model_path, pattern, encoding, strict, output):
    """Tag the actors in text files, folders or stdin (-).

    Prints one record per actor per document (or per mention with
    --mentions), with stance, confidence, per-label scores and the evidence
    sentence. Bad inputs are reported on stderr and skipped; the exit code is
    1 if any input failed.

    \b
    Examples:
      stance score seeds/2024-12-iraqi-militias-cross-into-syria.txt
      stance score --format csv -o results.csv corpus/
      cat article.txt | stance score --mentions -
    """
    import codecs

    from stance.atomic import atomic_write
    from stance.formats import Writer
    from stance.scoring import score_documents
    from stance.textio import expand_inputs

    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise click.BadParameter(f"unknown encoding {encoding!r}",
                                     param_hint="--encoding") from None
    try:
        model, _ = _load(model_path, strict)
    except StanceError as exc:
        _fail(exc)
    if fmt is None:
        fmt = "table" if output is None and sys.stdout.isatty() else "jsonl"
    docs = (d if isinstance(d, Exception) else d.__class__(d.source, d.path, d.text, encoding)
            for d in expand_inputs(paths, pattern))
    failed = 0

    def run(out):
        nonlocal failed
        writer = Writer(out, fmt, mentions=mentions)
        for source, records, error in score_documents(model, docs, mentions=mentions):
            if error is not None:
                failed += 1
                click.echo(f"error: {error}", err=True)
                if strict:
                    break
                continue
            writer.write(records)
        writer.close()

    if output:
        with atomic_write(output, "w", encoding="utf-8", newline="") as out:
            run(out)
    else:
        run(sys.stdout)
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
    from stance.report import render_counts, render_cv
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
    click.echo(f"wrote {target} ({manifest['rows']} labelled mentions, "
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
    from stance.labels import validate as run_validate
    from stance.training import default_labels_dir, resolve_registry

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
