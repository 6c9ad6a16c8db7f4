"""Plain-text rendering of training and evaluation results."""

from stance import LABELS


def _line(name, m):
    per = "  ".join(f"{label} {m['per_label'][label]['f1']:.3f}" for label in LABELS)
    return f"  {name:<10} macro-F1 {m['macro_f1']:.3f}  accuracy {m['accuracy']:.3f}   F1: {per}"


def _confusion(m):
    cm = m["confusion"]
    width = max(len(c) for c in cm["columns"]) + 1
    lines = ["  confusion (rows: true, columns: predicted)",
             "  " + " " * 14 + "".join(c.rjust(width) for c in cm["columns"])]
    for label, row in zip(cm["labels"], cm["matrix"]):
        lines.append("  " + label.ljust(14) + "".join(str(v).rjust(width) for v in row))
    return lines


def render_cv(cv):
    out = []
    titles = {"kfold": "stratified {folds}-fold CV (grouped by sentence)",
              "leave_actor_out": "leave-one-actor-out CV ({folds} actors)"}
    for scheme, result in cv.items():
        out.append(titles[scheme].format(folds=result["folds"]) + f", n={result['model']['n']}")
        for name in ("model", "prior", "majority"):
            out.append(_line(name, result[name]))
    return out


def render_test(path, t):
    out = [f"test {path}: {t['rows']} rows, detection rate {t['detection_rate']:.3f}"]
    for name in ("model", "prior", "majority"):
        out.append(_line(name, t[name]))
    out.append(_line("detected", t["model_on_detected"]) + "  (model, found rows only)")
    m = t["model"]["per_label"]
    out.append("  model per label: " + "; ".join(
        f"{label} P {m[label]['precision']:.3f} R {m[label]['recall']:.3f} n {m[label]['support']}"
        for label in LABELS))
    out.extend(_confusion(t["model"]))
    return out


def render_counts(counts):
    return "class counts: " + ", ".join(f"{k} {v}" for k, v in counts.items())


def render_evaluation(report):
    lines = [render_counts(report["class_counts"])]
    lines.extend(render_cv(report["cv"]))
    for path, t in report["test"].items():
        lines.extend(render_test(path, t))
    return "\n".join(lines)
