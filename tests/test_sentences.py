from stance.sentences import MAX_SENTENCE, split_sentences


def texts(text):
    return [text[a:b] for a, b in split_sentences(text)]


def test_abbreviations_and_initials_do_not_split():
    text = ("The U.S. envoy met Mr. Lavrov in Geneva. Gen. Suheil al-Hassan led the push. "
            "Abu M. al-Jolani spoke.")
    assert texts(text) == [
        "The U.S. envoy met Mr. Lavrov in Geneva.",
        "Gen. Suheil al-Hassan led the push.",
        "Abu M. al-Jolani spoke.",
    ]


def test_quote_closing_after_period_ends_sentence():
    text = "“We do not want an escalation.” Fidan said so. “Is it over?” he asked."
    assert texts(text) == ["“We do not want an escalation.”", "Fidan said so.",
                           "“Is it over?” he asked."]


def test_acronym_at_end_of_sentence_splits_before_capital():
    assert texts("Troops were sent by the U.S. The army denied it.") == [
        "Troops were sent by the U.S.", "The army denied it."]


def test_paragraphs_and_headings_split_but_wrapped_lines_join():
    text = ("Headline here\nRussian jets bombed Idlib, and the rebels\nretreated north. "
            "Talks followed.\n\nA new paragraph.")
    assert texts(text) == ["Headline here",
                           "Russian jets bombed Idlib, and the rebels\nretreated north.",
                           "Talks followed.", "A new paragraph."]


def test_spans_are_trimmed_and_long_runs_are_cut():
    text = "  " + "word " * 1000 + "end."
    spans = split_sentences(text)
    assert all(b - a <= MAX_SENTENCE for a, b in spans)
    assert all(not text[a].isspace() and not text[b - 1].isspace() for a, b in spans)
    assert "".join(text[a:b] for a, b in spans).replace(" ", "") == text.replace(" ", "")
