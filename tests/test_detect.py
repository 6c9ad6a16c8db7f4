import pytest

from stance.detect import MentionDetector
from stance.registry import load_registry


@pytest.fixture
def detector(labels_dir):
    return MentionDetector(load_registry(labels_dir / "actors.csv"))


def found(detector, text):
    _, mentions = detector.detect(text)
    for m in mentions:
        assert text[m.start:m.end] == m.surface
    return [(m.surface, m.canonical) for m in mentions]


def test_longest_match_and_word_boundaries(detector):
    assert found(detector, "Hayat Tahrir al-Sham (HTS) attacked; HTSX did not.") == [
        ("Hayat Tahrir al-Sham", "HTS"), ("HTS", "HTS")]


def test_acronym_case_rule(detector):
    assert found(detector, "The US said it would not help us.") == [("US", "United States")]


def test_possessives_are_part_of_the_mention(detector):
    assert found(detector, "Assad’s forces and Russia's jets advanced.") == [
        ("Assad’s", "Bashar al-Assad"), ("Russia's", "Russia")]


def test_compounds_hold_their_own_mentions(detector):
    assert found(detector, "Turkish-backed rebels and an HTS-led offensive.") == [
        ("Turkish", "Turkey"), ("rebels", "Syrian opposition"), ("HTS", "HTS")]


def test_places_used_as_places_are_not_actors(detector):
    assert found(detector, "Fidan flew to Moscow for talks in Tehran.") == []
    assert found(detector, "Talks between Ankara and Moscow stalled.") == [
        ("Ankara", "Turkey"), ("Moscow", "Russia")]
    assert found(detector, "Forces loyal to Damascus held the line.") == [
        ("Damascus", "Syrian government")]


def test_named_armies_and_newspapers_are_not_the_generic_actor(detector):
    assert found(detector, "The Army of Victory fought the Syrian army.") == [
        ("Syrian army", "Syrian government")]
    assert found(detector, "The Washington Post reported it.") == []


def test_a_country_on_a_border_is_a_place(detector):
    assert found(detector, "A jet came down near the border with Turkey.") == []
    assert found(detector, "Rebels reached the Turkey–Syria border.") == [
        ("Rebels", "Syrian opposition")]
    assert found(detector, "Turkey closed its border with Iran.") == [("Turkey", "Turkey")]


def test_a_place_after_a_comma_is_a_place_only_in_a_list_or_an_address(detector):
    assert found(detector, "Diplomats met in Moscow, Tehran.") == []
    assert found(detector, "A shell hit a house in Akcakale, Turkey on Sunday.") == []
    assert found(detector, "During the talks in Geneva, Iran stepped up its support.") == [
        ("Iran", "Iran")]
    assert found(detector, "In May, Russia launched strikes.") == [("Russia", "Russia")]


def test_demonyms_need_a_forces_or_officials_noun(detector):
    assert found(detector, "Syrian and Russian airstrikes hit the Syrian town.") == [
        ("Syrian", "Syrian government"), ("Russian", "Russia")]
    assert found(detector, "Russian food prices rose.") == []


def test_held_and_anti_compounds_are_not_mentions(detector):
    assert found(detector, "Rebel-held Idlib was hit by anti-Assad fighters.") == []


def test_title_before_a_named_person_merges(detector):
    assert found(detector, "The Russian president, Vladimir Putin, spoke.") == [
        ("Vladimir Putin", "Vladimir Putin")]


def test_a_dotted_acronym_title_merges_into_the_person(tmp_path):
    from conftest import ACTORS, write_registry

    write_registry(tmp_path / "actors.csv", ACTORS + [
        ("John Kerry", "person", "United States", "", "John Kerry|Kerry", "", "")])
    detector = MentionDetector(load_registry(tmp_path / "actors.csv"))
    assert found(detector, "U.S. Secretary of State John Kerry met Putin.") == [
        ("John Kerry", "John Kerry"), ("Putin", "Vladimir Putin")]


def test_unknown_armed_groups_are_reported_unknown(detector):
    _, mentions = detector.detect("Fighters of Liwa al-Haqq and the Sultan Murad Division "
                                  "joined the assault.")
    unknown = [(m.surface, m.known) for m in mentions]
    assert unknown == [("Liwa al-Haqq", False), ("Sultan Murad Division", False)]


def test_offsets_point_into_the_document(detector):
    text = "First sentence here.\n\nThen Moscow and the rebels agreed a truce."
    sentences, mentions = detector.detect(text)
    assert [text[m.start:m.end] for m in mentions] == ["Moscow", "rebels"]
    assert all(sentences[m.sentence].start <= m.start < sentences[m.sentence].end
               for m in mentions)


def test_unregistered_official_named_after_a_title(detector):
    _, mentions = detector.detect("Russia's defence minister, Sergei Ivanovich Novak, spoke. "
                                  "A Russian military spokesman at Hmeimim said so.")
    assert [(m.surface, m.known, m.prior) for m in mentions] == [
        ("Sergei Ivanovich Novak", False, "pro-damascus"), ("Russian", True, "pro-damascus")]
