"""Plain-text papers keep their structure: each line its own paragraph unless the file is hard-wrapped."""

from __future__ import annotations

from precedent.ingest.parse import group_lines


def test_numbered_lines_inside_a_block_stay_paragraphs_of_their_own() -> None:
    text = "6. Confirmation Hearing\n6.1 The Commissioner confirmed his candidate.\n(a) he had joined in 1993;\n(b) he led CID."
    assert group_lines(text).split("\n\n") == [
        "6. Confirmation Hearing", "6.1 The Commissioner confirmed his candidate.", "(a) he had joined in 1993;",
        "(b) he led CID."]


def test_a_hard_wrapped_paragraph_is_joined_but_a_new_point_is_not() -> None:
    wrapped = ("The Panel considered the report of the Police and Crime Commissioner on\n"
               "the proposed precept for the coming year and heard from the Treasurer\n"
               "about reserves and the medium term financial plan before members asked\n"
               "questions.\n"
               "(a) Members asked about reserves and the level of borrowing planned.\n")
    assert group_lines(wrapped * 3).split("\n\n")[:2] == [
        "The Panel considered the report of the Police and Crime Commissioner on the proposed precept for the "
        "coming year and heard from the Treasurer about reserves and the medium term financial plan before "
        "members asked questions.",
        "(a) Members asked about reserves and the level of borrowing planned."]
