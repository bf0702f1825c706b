"""The trust page's suggested national support: given only where the index method's rule gives one.

The index method publishes `support_status` ("suggested", or why not) and `support_type_probability` (the share of
uncertainty draws giving the modal type). A build without those columns (before that method landed) gets no advice:
the page says the advice is unavailable rather than repeat an unchecked suggestion.
"""

from typing import Any

SUGGESTED = "suggested"
# verbal probability bands, after the PHIA probability yardstick used across UK government analysis
BANDS = (
    (0.95, "almost certain"),
    (0.80, "highly likely"),
    (0.55, "likely or probable"),
    (0.40, "a realistic possibility"),
    (0.0, "unlikely"),
)


def probability_words(probability: float) -> str:
    return next(words for floor, words in BANDS if probability >= floor)


def support_advice(row: dict[str, Any], type_words: str) -> dict[str, str]:
    """{"kind": "suggested" | "none" | "unavailable", "text": ...} for one readiness_index row."""
    if "support_status" not in row:
        return {
            "kind": "unavailable",
            "text": "Advice on national support is unavailable in this build: the index does not publish whether "
            "its suggestion survives its uncertainty (support_status), so none is given here.",
        }
    status = row["support_status"]
    if status == SUGGESTED and row.get("suggested_support_type"):
        probability = row.get("support_type_probability")
        share = (
            f" It is the type given in {probability:.0%} of the uncertainty draws ({probability_words(probability)})."
            if probability is not None
            else ""
        )
        return {"kind": "suggested", "text": f"Suggested national support: {type_words}.{share}"}
    return {"kind": "none", "text": f"No national support type is suggested: {status or 'no status published'}."}
