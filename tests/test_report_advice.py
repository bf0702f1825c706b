"""The suggested national support on the trust page: only where the index method's rule gives one."""

from assets.publish.report.advice import probability_words, support_advice

WORDS = "Type 2 “Proactive support” (practical help to change)"


def test_no_status_column_means_no_advice() -> None:
    advice = support_advice({"suggested_support_type": "Type 1: prod organisations"}, WORDS)
    assert advice["kind"] == "unavailable" and "unavailable" in advice["text"]


def test_suggested_with_its_probability_in_words() -> None:
    row = {"support_status": "suggested", "suggested_support_type": "Type 2", "support_type_probability": 0.83}
    assert support_advice(row, WORDS) == {
        "kind": "suggested",
        "text": f"Suggested national support: {WORDS}. It is the type given in 83% of the uncertainty draws "
        "(highly likely).",
    }


def test_no_type_says_why() -> None:
    row = {"support_status": "no barrier credibly below the group", "suggested_support_type": None}
    assert support_advice(row, WORDS)["text"] == (
        "No national support type is suggested: no barrier credibly below the group."
    )


def test_probability_bands() -> None:
    assert [probability_words(p) for p in (0.99, 0.95, 0.8, 0.6, 0.5, 0.1)] == [
        "almost certain",
        "almost certain",
        "highly likely",
        "likely or probable",
        "a realistic possibility",
        "unlikely",
    ]
