"""The NUCC taxonomy embedded in the package: the default code set of build and serve, its release read from the
CSV's content; --nucc replaces it."""

import hashlib
import shutil

import pytest

from fhir_ire.build.command import output_files
from fhir_ire.codesets.nucc import embedded, load_nucc, read_nucc, version_from_notes
from fhir_ire.data import load as load_data
from fhir_ire.errors import BuildError

from ..build.conftest import AS_OF, SEEDS

SAMPLE = SEEDS.parent / "tests" / "build" / "fixtures" / "nucc-sample.csv"


def test_the_embedded_release_is_documented_and_read_from_the_package():
    table = embedded()
    release = load_data("nucc/release.json")
    assert table.version == release["version"] == "25.1"
    assert len(table.codes) > 800
    assert table.get("207P00000X").display == "Emergency Medicine Physician"
    assert load_nucc(None) is table


def test_the_documented_release_matches_the_content():
    assert version_from_notes([line for line in embedded_notes()]) == load_data("nucc/release.json")["version"]


def embedded_notes():
    import csv
    import io
    from importlib import resources

    raw = resources.files("fhir_ire.data").joinpath("nucc", "nucc_taxonomy_251.csv").read_text(encoding="utf-8-sig")
    return [row["Notes"] or "" for row in csv.DictReader(io.StringIO(raw))]


def test_the_embedded_csv_is_the_official_file(shared):
    official = shared / "reference" / "nucc_taxonomy_251.csv"
    assert hashlib.sha256(official.read_bytes()).hexdigest() == load_data("nucc/release.json")["sha256"]


@pytest.mark.parametrize("notes, version", [
    (["[7/1/2003: new]", "[1/1/2024: modified definition; 7/1/2025: definition modified]"], "25.1"),
    (["[1/1/2025: marked inactive]", "[7/1/2024: new]"], "25.0"),
    (["no dates here"], None),
], ids=["july", "january", "undated"])
def test_release_from_the_latest_dated_change(notes, version):
    assert version_from_notes(notes) == version


def test_a_renamed_csv_keeps_its_release(tmp_path):
    renamed = tmp_path / "taxonomy.csv"
    shutil.copy(SAMPLE, renamed)
    assert read_nucc(renamed).version == read_nucc(SAMPLE).version != "taxonomy"


def test_an_undated_csv_is_refused_with_one_line(tmp_path):
    csv = tmp_path / "nucc.csv"
    csv.write_text("Code,Grouping,Classification,Specialization,Notes\n207P00000X,G,Emergency Medicine,,\n")
    with pytest.raises(BuildError, match="cannot tell the NUCC release"):
        read_nucc(csv)


def test_a_build_without_nucc_checks_taxonomy_codes_against_the_embedded_release():
    files, _, findings = output_files(SEEDS, None, as_of=AS_OF)
    codes = {f.code for f in findings}
    assert "nucc-check-skipped" not in codes and "nucc-specialty-mismatch" in codes
    nucc_map = next(e["resource"] for e in files["02-terminology.json"]["entry"]
                    if e["resource"]["id"] == "cpt-to-nucc")
    targets = {t["code"]: t.get("display") for g in nucc_map["group"] for el in g["element"] for t in el["target"]}
    assert targets.get("207P00000X") is None  # Emergency Medicine, which the document calls Otolaryngology
    assert targets.get("207Y00000X") == "Otolaryngology Physician"
    fragment = next(e["resource"] for e in files["02-terminology.json"]["entry"]
                    if e["resource"]["resourceType"] == "CodeSystem" and "nucc" in e["resource"]["url"])
    assert fragment["version"] == "25.1"
