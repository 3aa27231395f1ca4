"""Where documents name their payer and its other names (fhir_ire/sources/payers.py, cues in data/payers.json):
cues met in the held-out set, on small texts."""

from fhir_ire.sources.layout import read_layout
from fhir_ire.sources.payers import directory, payer_fields


def payer_and_aliases(text: str) -> tuple[str | None, list[str]]:
    facts = payer_fields(read_layout("p.txt", text.split("\n")), "payer-policy")
    return (next((f.value for f in facts if f.name == "payer"), None),
            [f.value for f in facts if f.name == "alias"])


def test_a_payer_the_directory_does_not_know_named_by_copyright_after_its_name_and_repeated_mentions():
    payer, aliases = payer_and_aliases(
        "Ridgeway Health Plan\nPolicies and Procedure Manual\n\nRidgeway Health Plan may refer collectively to "
        "health care coverage sponsors Ridgeway Health Plan, Ridgeway Options, Inc., and Ridgeway Indemnity "
        "Insurance Company, unless otherwise noted.\n\n© Ridgeway Health Plan 2025")
    assert payer == "Ridgeway Health Plan"
    assert aliases == ["Ridgeway Options, Inc.", "Ridgeway Indemnity Insurance Company"]


def test_a_quoted_name_the_document_defines_is_an_alias():
    _, aliases = payer_and_aliases('Cigna Medical Coverage Policy\n\n"Cigna Companies" refers to operating '
                                   'subsidiaries of The Cigna Group.')
    assert "Cigna Companies" in aliases


def test_a_directory_name_that_starts_a_longer_company_name_is_not_read_as_that_name():
    _, aliases = payer_and_aliases("Cigna Medical Coverage Policy\n\nProducts are provided by Cigna Health "
                                   "Management, Inc. and Cigna Health and Life Insurance Company.")
    assert "Cigna Health" not in aliases


def test_a_one_word_brand_before_its_legal_suffix_is_still_the_payer():
    payer, _ = payer_and_aliases("Medical Coverage Policy\n\nHumana Insurance Company considers the procedure "
                                 "investigational. Humana members may call.")
    assert directory().lookup(payer)["name"] == "Humana"  # read as said ('Humana Insurance Company'), one payer
