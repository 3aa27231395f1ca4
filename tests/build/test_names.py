"""Payer names: one key for the spellings of one payer, never one key for two payers; the directory is consistent."""

import pytest

from fhir_ire.data import load
from fhir_ire.names import name_key


@pytest.mark.parametrize("names", [
    ("Cigna", "Cigna Healthcare", "Cigna Health", "CIGNA", "cigna healthcare, inc."),
    ("Blue Cross and Blue Shield of Louisiana", "Blue Cross & Blue Shield of Louisiana", "BLUE CROSS BLUE SHIELD OF LOUISIANA"),
    ("BlueCross BlueShield of Tennessee", "Blue Cross Blue Shield of Tennessee"),
    ("Humana", "Humana Inc.", "Humana Health Plan"),
    ("The Lakeshore Community Health Plan", "Lakeshore Community Health Plan"),
], ids=["cigna", "bcbs-louisiana", "bcbs-tennessee", "humana", "leading-the"])
def test_spellings_of_one_payer_share_a_key(names):
    assert len({name_key(n) for n in names}) == 1


@pytest.mark.parametrize("a, b", [
    ("Blue Cross and Blue Shield of Louisiana", "Blue Cross of Idaho"),
    ("Blue Cross Blue Shield of Minnesota", "Blue Cross Blue Shield"),
    ("Blue Cross", "Blue Shield"),
    ("Anthem Blue Cross", "Anthem Blue Cross and Blue Shield"),
    ("Health Net", "Health"),
    ("Independent Care Health Plan", "Independent Health"),
])
def test_different_payers_never_share_a_key(a, b):
    assert name_key(a) != name_key(b)


def test_directory_names_belong_to_one_payer_each():
    owner = {}
    for entry in load("payers.json")["payers"]:
        for name in [entry["name"], *entry["aliases"]]:
            key = name_key(name)
            assert owner.setdefault(key, entry["name"]) == entry["name"], (name, owner[key])


def test_directory_identifiers_say_where_they_come_from():
    data = load("payers.json")
    for entry in data["payers"]:
        for ident in entry.get("identifiers", []):
            assert ident["type"] in data["identifier_types"] and ident["value"] and "http" in ident["source"]
