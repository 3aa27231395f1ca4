"""Reading behaviours the third blind set (fixtures/blind3) showed missing, each on a short text of its own: codes
listed without a descriptor, page furniture and columns aligned with spaces (pdftotext), code matrices, payments set
out under a code line, regional plans of a brand and Medicare contractors in the payer directory, a guide on a payer's
own site; and the floor on the third blind set itself."""

import json
from pathlib import Path

import pytest

from fhir_ire.build.command import build_to
from fhir_ire.sources import read_source
from fhir_ire.sources.layout import read_layout
from fhir_ire.sources.payers import directory

from .conftest import AS_OF, facts_of
from .test_real_docs import bench  # noqa: F401  (the benchmark module, a fixture)

BLIND3 = Path(__file__).resolve().parent / "fixtures" / "blind3"
# The third blind set: 71.7% blind (the commit after its first, readers untouched), 94.8% when this floor was first
# set, 99.3% after the aliases, edits, lines of business and numbers it showed next, 99.7% after the fourth blind
# set's (the legal name in a page footer).
# Raise it as the readers improve; never lower it.
BLIND3_FLOOR = 0.995


def read(tmp_path, text, name="doc.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read_source(path)


def fields(doc, name):
    return [f.value for f in facts_of(doc, "policy-field") if f.name == name]


def positions(doc):
    return {f.text: {c for _, c in f.codes} for f in facts_of(doc, "coverage-statement")}


CODES_ALONE = """Acme Health Plan Medical Policy
Cryoablation of Tumors
Policy Number: AB-31

Policy
Percutaneous cryoablation of a renal tumor may be considered medically necessary when the tumor is 4 cm or smaller.

Cryoablation of a breast fibroadenoma may be considered medically necessary when it is 4 cm or smaller.

Cryoablation is considered investigational for the treatment of breast cancer.

Codes
CPT: 19105, 50250, 50593, 0581T
"""


def test_a_code_listed_alone_goes_by_what_it_is_about(tmp_path):
    """No descriptor in the text: the code's meaning (data/code-meanings.json) places it by site, by benign or
    malignant lesion, and never an open code on a position only about percutaneous ablation."""
    got = positions(read(tmp_path, CODES_ALONE))
    assert {k.split(" may")[0].split(" is")[0]: v for k, v in got.items()} == {
        "Percutaneous cryoablation of a renal tumor": {"50593"},
        "Cryoablation of a breast fibroadenoma": {"19105"},
        "Cryoablation": {"0581T"}}


PDF_PAGES = """Acme Health Plan
Medical Policy
Subject:   Cryoablation of Breast Lesions

POLICY
Cryoablation of a breast fibroadenoma may be considered medically necessary when all of the following are met:
    1. The lesion was confirmed by core needle biopsy;
    2. The lesion can be seen on ultrasound;

Acme Health Plan                                                    Page 1 of 3
AB-9 Cryoablation of Breast Lesions                     Effective 07/01/2025
\fAcme Health Plan                                                  Medical Policy

    3. The lesion is 4 cm or smaller; and
    4. The member chose ablation over excision.

Acme Health Plan                                                    Page 2 of 3
AB-9 Cryoablation of Breast Lesions                     Effective 07/01/2025
\fAcme Health Plan                                                  Medical Policy

Policy history: new policy in 2019.

Acme Health Plan                                                    Page 3 of 3
AB-9 Cryoablation of Breast Lesions                     Effective 07/01/2025
"""


def test_a_list_broken_by_a_page_boundary_stays_whole(tmp_path):
    doc = read(tmp_path, PDF_PAGES)
    statement = next(f for f in facts_of(doc, "coverage-statement"))
    assert statement.criteria == 4
    assert not any("Page 1 of 3" in b.clean for b in read_layout("d.txt", PDF_PAGES.split("\n")).blocks)


def test_columns_aligned_with_spaces_are_fields_and_tables():
    lines = ["Policy Number:   MNC-1                    Date Effective:      09/01/2025",
             "Last Reviewed:   07/16/2025               Original Effective:  01/01/2018",
             "",
             "CPT        Description                                              Notes",
             "47382      Ablation, 1 or more liver tumor(s), percutaneous,        Liver criteria",
             "           radiofrequency",
             "50592      Ablation, 1 or more renal tumor(s), percutaneous         Renal criteria"]
    blocks = read_layout("d.txt", lines).blocks
    assert {b.label: b.value.clean for b in blocks if b.kind == "field"} == {
        "Policy Number": "MNC-1", "Date Effective": "09/01/2025", "Last Reviewed": "07/16/2025",
        "Original Effective": "01/01/2018"}
    table = next(b for b in blocks if b.kind == "table")
    assert [c.clean for c in table.rows[1].cells] == [
        "47382", "Ablation, 1 or more liver tumor(s), percutaneous, radiofrequency", "Liver criteria"]


def test_codes_in_a_matrix_are_read_with_their_row_and_column(tmp_path):
    doc = read(tmp_path, "Ablation Coding Guide 2025\nCPT coding quick reference for reimbursement\n\n"
                         "Organ      Energy     Percutaneous           Open\n"
                         "Liver      RF         47382                  47380\n"
                         "           Cryo       47383                  47381\n"
                         "Breast     Cryo       0581T (malignant)      n/a\n", name="guide.txt")
    codes = {f.code: f.description for f in doc.facts if getattr(f, "code", None) and hasattr(f, "description")
             and f.kind != "payment"}
    assert {"47382", "47380", "47383", "47381", "0581T"} <= set(codes)
    assert "Liver" in codes["47381"] and "Open" in codes["47381"] and "Cryo" in codes["47381"]


def test_amounts_under_a_code_line_are_that_codes(tmp_path):
    doc = read(tmp_path, "Acme GBA | Medicare\nHome > Medicare Part B > Fee Schedules\n\nCategory III pricing\n\n"
                         "The amounts below are the 2026 contractor-priced allowances for Part B claims.\n\n"
                         "0600T - Ablation, irreversible electroporation, percutaneous\n"
                         "   Non-facility: $1,512.30\n"
                         "   Facility: $1,500.00\n"
                         "0601T - Ablation, irreversible electroporation, open\n"
                         "   Facility: $1,744.05\n", name="pricing.txt")
    got = sorted((f.code, f.amount, f.year) for f in facts_of(doc, "payment"))
    assert got == [("0600T", 1500.0, 2026), ("0600T", 1512.3, 2026), ("0601T", 1744.05, 2026)]


def test_a_regional_plan_is_a_child_of_its_brand():
    d = directory()
    colorado, brand = d.lookup("Kaiser Permanente Colorado"), d.lookup("Kaiser Permanente")
    assert colorado is not brand and colorado["parent"] == brand["name"]
    assert d.lookup("Texas Medicaid")["parent"] == "Medicaid"
    assert d.lookup("Palmetto GBA")["parent"] == "Medicare"


REGIONAL = """KAISER PERMANENTE COLORADO
Medical Coverage Policy

Irreversible Electroporation
Policy ID: CO-1

Kaiser Foundation Health Plan of Colorado uses this policy for its members. It does not apply to other Kaiser
Permanente regions.

Irreversible electroporation of renal tumors is experimental/investigational and is not covered.

Codes
0600T Ablation, irreversible electroporation; 1 or more tumors per organ, percutaneous
"""


def test_a_regional_plans_policy_is_the_plans_and_its_organization_is_part_of_the_brand(tmp_path):
    doc = read(tmp_path, REGIONAL)
    assert directory().lookup(fields(doc, "payer")[0])["name"] == "Kaiser Foundation Health Plan of Colorado"
    assert "Kaiser Permanente" not in fields(doc, "alias")
    src = tmp_path / "src"
    src.mkdir()
    (src / "kp.txt").write_text(REGIONAL, encoding="utf-8")
    out = tmp_path / "out"
    build_to(src, out, as_of=AS_OF)
    orgs = {e["resource"]["id"]: e["resource"] for f in out.glob("*.json") if f.name != "qa-outcome.json"
            for e in json.loads(f.read_text()).get("entry", []) if e["resource"]["resourceType"] == "Organization"}
    plan = orgs["kaiser-foundation-health-plan-of-colorado"]
    assert plan["partOf"]["reference"] == "Organization/kaiser-permanente" and "kaiser-permanente" in orgs
    assert "partOf" not in orgs["kaiser-permanente"]


@pytest.mark.parametrize("first_line, payer", [
    ("Palmetto GBA > Jurisdiction J Part B > Fee Schedules", "Palmetto GBA"),
    ("Acme Devices > Reimbursement > Coding guides", None),
])
def test_a_guide_on_a_payers_own_site_names_that_payer(tmp_path, first_line, payer):
    doc = read(tmp_path, f"{first_line}\n\nCategory III CPT Codes: 2025 Pricing\n\n"
                         "CPT Code\tDescriptor\t2025 Non-Facility Price\n0600T\tAbltj irrv elctrpj\t$1,408.22\n",
               name="notice.txt")
    assert (fields(doc, "payer") or [None])[0] == payer


def folder_score(bench, folder: Path):  # noqa: F811
    """The benchmark's score of a folder of documents and its EXPECTED.json, built with the seeds."""
    expected = json.loads((folder / "EXPECTED.json").read_text())
    documents, left = bench.build_real_docs(folder)
    return bench.score(documents, expected, left)


@pytest.fixture(scope="module")
def blind3_score(bench):  # noqa: F811
    return folder_score(bench, BLIND3)


def test_the_third_blind_set_keeps_its_floor(blind3_score):
    assert blind3_score.left_out == {} and blind3_score.wrong.get("kind", 0) == 0
    assert blind3_score.ratio() >= BLIND3_FLOOR, [d for d in blind3_score.details]
    assert blind3_score.missed.get("position", 0) == 0 and blind3_score.wrong.get("position", 0) == 0
    assert [d for d in blind3_score.details if d[1] in ("category", "prior_auth") and d[2] == "wrong"] == []


def test_companies_a_payer_names_as_its_own_are_aliases(tmp_path):
    doc = read(tmp_path, "Acme Blue Cross Medical Policy\nTumor Ablation\nPolicy Number: AB-40\n\n"
                         "Irreversible electroporation is considered investigational.\n\n"
                         "Acme Blue Cross offers products through its subsidiaries Acme Indemnity Plan, Keystone Test "
                         "Plan East, and QRS Insurance Company, independent licensees of the Association.\n\n"
                         "Acme Blue Cross Inc. and Acme Group Plan, Inc. are nonprofit corporations.\n")
    assert {"Acme Indemnity Plan", "Keystone Test Plan East", "QRS Insurance Company", "Acme Blue Cross Inc.",
            "Acme Group Plan, Inc."} <= set(fields(doc, "alias"))


def test_a_bulletins_changes_apply_to_its_lines_of_business(tmp_path):
    doc = read(tmp_path, "Acme Health Plan Medical Policy\nUpdates\n\nEffective for dates of service on or after "
                         "March 1, 2026, Acme Health Plan will update its coverage. These changes apply to our "
                         "commercial and Medicare Advantage members.\n\nIrreversible electroporation (CPT codes 0600T, "
                         "0601T) will continue to be considered experimental/investigational.\n")
    assert any("Medicare Advantage" in v for v in fields(doc, "line-of-business"))
    assert "2026-03-01" in fields(doc, "effective-date")


def test_a_number_label_inside_an_opening_heading(tmp_path):
    doc = read(tmp_path, "Acme Health Plan\nMedical Policy Manual\n\nSurgery, Policy No. 214\nCryoablation of Tumors\n\n"
                         "Cryoablation is considered investigational for the treatment of breast cancer.\n")
    assert fields(doc, "number") == ["214"]


def test_a_code_page_edit_is_not_a_related_code(tmp_path):
    doc = read(tmp_path, "CPT® 0601T\nAblation, irreversible electroporation; 1 or more tumors, open\n\n"
                         "Quick facts\nCode\t0601T\nCode set\tCPT Category III\n\nBundled imaging\n"
                         "Do not report 76940 or 77002 in addition to 0601T for the same session.\n\n"
                         "Related codes\nFor the percutaneous approach, see 0600T.\n", name="page.txt")
    assert {f.code for f in facts_of(doc, "related-code")} == {"0600T"}
    edits = facts_of(doc, "not-reported-with")
    assert any(f.code == "0601T" and set(f.others) == {"76940", "77002"} for f in edits)


def test_the_payers_fuller_name_wins_over_a_shorter_header(tmp_path):
    doc = read(tmp_path, "Medical Mutual\nCorporate Medical Policy\n\nPolicy Number: 2021012\n\n"
                         "Irreversible electroporation (IRE) of liver tumors is considered experimental.\n\n"
                         "Medical Mutual of Ohio reviews its medical policies every year.\n")
    assert fields(doc, "payer") == ["Medical Mutual of Ohio"] and "Medical Mutual" in fields(doc, "alias")


def test_a_policy_history_gives_the_last_review_and_the_original_effective_date(tmp_path):
    doc = read(tmp_path, "Acme Health Plan Medical Policy\nIrreversible Electroporation\nPolicy Number: AB-50\n\n"
                         "Irreversible electroporation is considered investigational.\n\nPolicy History\n"
                         "Date          Action\n"
                         "12/2024       Annual policy review. Policy statement unchanged.\n"
                         "12/2023       Annual policy review. Policy statement unchanged.\n"
                         "1/2021        New medical policy. Effective 1/1/2021.\n")
    assert fields(doc, "last-review-date") == ["2024-12"]
    assert fields(doc, "original-effective-date") == ["2021-01-01"]


def test_a_history_row_without_an_effective_date_gives_no_original_effective_date(tmp_path):
    doc = read(tmp_path, "Acme Health Plan Medical Policy\nIrreversible Electroporation\nEffective Date: 10/08/2024\n\n"
                         "Irreversible electroporation is considered investigational.\n\nChange Summary\n\n"
                         "09/24/2024 New Policy.\n")
    assert fields(doc, "original-effective-date") == []
