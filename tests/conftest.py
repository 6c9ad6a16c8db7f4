"""Shared fixtures: a small registry and labels written to tmp_path, and a model trained on them."""

import csv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"

ACTORS = [
    # canonical, kind, parent, prior, aliases, places, demonyms
    ("Syrian government", "state", "", "pro-damascus",
     "Syrian government|regime|Syrian army|government forces|government troops", "Damascus",
     "Syrian"),
    ("Bashar al-Assad", "person", "Syrian government", "pro-damascus", "Bashar al-Assad|Assad",
     "", ""),
    ("Russia", "state", "", "pro-damascus", "Kremlin", "Russia|Moscow", "Russian"),
    ("Vladimir Putin", "person", "Russia", "pro-damascus", "Vladimir Putin|Putin", "", ""),
    ("Iran", "state", "", "pro-damascus", "", "Iran|Tehran", "Iranian"),
    ("Turkey", "state", "", "opposition", "", "Turkey|Ankara", "Turkish"),
    ("United States", "state", "", "opposition", "US|U.S.|United States", "Washington",
     "American"),
    ("UN", "organisation", "", "mediator", "UN|United Nations|Security Council", "", ""),
    ("Syrian opposition", "armed group", "", "opposition",
     "rebels|rebel groups|opposition|insurgents", "", ""),
    ("HTS", "armed group", "", "opposition", "HTS|Hayat Tahrir al-Sham", "", ""),
    ("Hezbollah", "armed group", "Iran", "pro-damascus", "Hezbollah|Hizballah", "", ""),
]

LABELS = [
    ("Russian jets bombed rebel-held Idlib on Monday.", "Russian", "pro-damascus", "Russia"),
    ("Russia brokered a ceasefire between the rebels and Damascus.", "Russia", "mediator",
     "Russia"),
    ("Russia brokered a ceasefire between the rebels and Damascus.", "rebels", "opposition",
     "Syrian opposition"),
    ("Russia brokered a ceasefire between the rebels and Damascus.", "Damascus", "pro-damascus",
     "Syrian government"),
    ("Turkey backed rebel groups in the north.", "Turkey", "opposition", "Turkey"),
    ("Turkey backed rebel groups in the north.", "rebel groups", "opposition",
     "Syrian opposition"),
    ("Ankara hosted talks with Moscow and Tehran on a truce.", "Ankara", "mediator", "Turkey"),
    ("Ankara hosted talks with Moscow and Tehran on a truce.", "Moscow", "mediator", "Russia"),
    ("Ankara hosted talks with Moscow and Tehran on a truce.", "Tehran", "mediator", "Iran"),
    ("The UN called for a ceasefire and urged talks.", "UN", "mediator", "UN"),
    ("Hezbollah fighters helped the Syrian army retake the town.", "Hezbollah", "pro-damascus",
     "Hezbollah"),
    ("Hezbollah fighters helped the Syrian army retake the town.", "Syrian army", "pro-damascus",
     "Syrian government"),
    ("HTS seized control of Aleppo from government forces.", "HTS", "opposition", "HTS"),
    ("HTS seized control of Aleppo from government forces.", "government forces",
     "pro-damascus", "Syrian government"),
    ("Putin pledged unconditional support for Assad.", "Putin", "pro-damascus", "Vladimir Putin"),
    ("Putin pledged unconditional support for Assad.", "Assad", "pro-damascus",
     "Bashar al-Assad"),
    ("The US struck a Syrian army airbase.", "US", "opposition", "United States"),
    ("The US struck a Syrian army airbase.", "Syrian army", "pro-damascus", "Syrian government"),
    ("Washington and Moscow agreed a cessation of hostilities.", "Washington", "mediator",
     "United States"),
    ("Washington and Moscow agreed a cessation of hostilities.", "Moscow", "mediator", "Russia"),
    ("Iranian advisers fought alongside regime troops.", "Iranian", "pro-damascus", "Iran"),
    ("Iranian advisers fought alongside regime troops.", "regime", "pro-damascus",
     "Syrian government"),
    ("Insurgents attacked the regime near Hama.", "Insurgents", "opposition",
     "Syrian opposition"),
    ("Insurgents attacked the regime near Hama.", "regime", "pro-damascus", "Syrian government"),
    ("Turkish-backed rebels clashed with Syrian troops.", "Turkish", "opposition", "Turkey"),
    ("Turkish-backed rebels clashed with Syrian troops.", "rebels", "opposition",
     "Syrian opposition"),
    ("Turkish-backed rebels clashed with Syrian troops.", "Syrian", "pro-damascus",
     "Syrian government"),
    ("The Security Council demanded humanitarian access.", "Security Council", "mediator", "UN"),
]

LABEL_HEADER = ["text", "actor", "stance", "canonical", "evidence", "source", "note"]
REGISTRY_HEADER = ["canonical", "kind", "parent", "prior", "aliases", "places", "demonyms",
                   "note"]


def write_registry(path, actors=ACTORS):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(REGISTRY_HEADER)
        for row in actors:
            writer.writerow(list(row) + [""])
    return path


def write_labels(path, rows=LABELS):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(LABEL_HEADER)
        for text, actor, stance, canonical in rows:
            writer.writerow([text, actor, stance, canonical, "explicit", "written", ""])
    return path


@pytest.fixture
def labels_dir(tmp_path):
    """A labels folder with a registry and one labels file."""
    folder = tmp_path / "labels"
    folder.mkdir()
    write_registry(folder / "actors.csv")
    write_labels(folder / "small.csv")
    return folder


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory):
    """Path of a model trained on the small labels (trained once per test session)."""
    from stance.training import train

    root = tmp_path_factory.mktemp("model")
    folder = root / "labels"
    folder.mkdir()
    write_registry(folder / "actors.csv")
    write_labels(folder / "small.csv")
    path = root / "models" / "stance.skops"
    train([folder], path, folds=2)
    return path


@pytest.fixture(scope="session")
def bundled_model():
    """The model shipped in models/, as `stance score` loads it."""
    from stance.modelio import bundled_model_path, load_scorer

    if not bundled_model_path().is_file():
        pytest.skip("no bundled model in models/")
    return load_scorer(bundled_model_path())[0]


@pytest.fixture
def shared_dir():
    """The team's shared folder beside the repo; tests using it skip when it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} not present (team data beside the repo)")
    return SHARED
