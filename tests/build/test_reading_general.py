"""Reading behaviours the second blind set (fixtures/blind2) showed missing, each on a short text of its own: body
sites as words, codes placed by site, a category stated in the next sentence, denial lead-ins over lists of
procedures, code-list lead-ins that restate a position, lines of business per section, acronyms of a payer's name,
dated rows of revision tables, markdown code pages."""

import pytest

from fhir_ire.sources import read_source
from fhir_ire.sources.layout import read_layout
from fhir_ire.sources.procedures import describe

from .conftest import facts_of

POLICY_HEAD = "Acme Health Plan Medical Policy\nTumor Ablation\nPolicy Number: AB-12\n\n"


def read(tmp_path, text, name="doc.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read_source(path)


def positions(doc):
    return {f.text: f for f in facts_of(doc, "coverage-statement")}


def test_a_site_word_starts_a_word():
    assert describe("percutaneous cryoablation of a lung tumor").sites == {"lung"}
    assert "kidney" not in describe("ablation of an adrenal tumor").sites


def test_a_listed_code_goes_to_the_position_on_its_body_site(tmp_path):
    doc = read(tmp_path, POLICY_HEAD + "Coverage\n"
               "Percutaneous radiofrequency ablation of a lung tumor is medically necessary when criteria are met.\n\n"
               "Percutaneous radiofrequency ablation of a renal tumor is medically necessary when criteria are met.\n\n"
               "Codes\n"
               "32998\tAblation therapy for reduction or eradication of 1 or more pulmonary tumor(s), percutaneous,"
               " unilateral; radiofrequency\n"
               "50592\tAblation, 1 or more renal tumor(s), percutaneous, unilateral, radiofrequency\n")
    by_site = {("lung" if "lung" in t else "renal"): {c for _, c in p.codes} for t, p in positions(doc).items()}
    assert by_site == {"lung": {"32998"}, "renal": {"50592"}}


@pytest.mark.parametrize("text, expected", [
    ("Not covered\nIrreversible electroporation is not covered for any tumor. It is considered investigational.\n\n"
     "Microwave ablation of lung tumors is not covered. Other tumors are reviewed case by case.\n",
     {"Irreversible electroporation is not covered for any tumor.": "investigational",
      "Microwave ablation of lung tumors is not covered.": "not-covered"}),
    ("Investigational\nAcme Health Plan considers the following experimental and investigational:\n"
     "1. Irreversible electroporation of any tumor;\n2. Cryoablation of malignant breast tumors.\n",
     {"Irreversible electroporation of any tumor;": "investigational",
      "Cryoablation of malignant breast tumors.": "investigational"}),
], ids=["the next sentence says a denial is investigational", "a denial lead-in over a list of procedures"])
def test_a_category_stated_apart_from_the_procedure(tmp_path, text, expected):
    doc = read(tmp_path, POLICY_HEAD + text)
    assert {t: p.category for t, p in positions(doc).items()} == expected


def test_a_code_list_lead_in_restates_the_position_on_its_class(tmp_path):
    doc = read(tmp_path, POLICY_HEAD + "Guidance\n"
               "The Category III CPT codes listed below are not reasonable and necessary and will be denied.\n\n"
               "Codes\nThe following Category III CPT codes are non-covered.\n"
               "0600T\tAblation, irreversible electroporation; 1 or more tumors per organ, percutaneous\n")
    (only,) = facts_of(doc, "coverage-statement")
    assert only.category == "not-covered" and {c for _, c in only.codes} == {"0600T"}


def test_lines_of_business_from_sections_and_applies_to(tmp_path):
    doc = read(tmp_path, POLICY_HEAD + "Description\nIRE ablates tissue.\n\nBackground\nIt is new.\n\n"
               "COMMERCIAL PLAN POLICY\nIRE is investigational.\n\nMEDICAID POLICY\n"
               "IRE is not covered.\n\nThis policy applies to Acme commercial and Medicare Advantage products.\n")
    values = [f.value for f in facts_of(doc, "policy-field") if f.name in ("product", "line-of-business")]
    assert values[:2] == ["Commercial Plan Policy", "Medicaid Policy"] and "Medicare Advantage" in values[2]


def test_an_acronym_may_leave_out_and_and_of(tmp_path):
    doc = read(tmp_path, "Private Property of Blue Cross and Blue Shield of Florida.\nThis guideline is Copyright "
               "2025, Blue Cross and Blue Shield of Florida (BCBSF).\n\nSubject: Irreversible Electroporation\n"
               "Medical Coverage Guideline\n\nIrreversible electroporation is considered experimental or "
               "investigational.\n")
    aliases = {f.value for f in facts_of(doc, "policy-field") if f.name == "alias"}
    assert "BCBSF" in aliases


def test_dated_rows_of_a_revision_table_are_fields():
    fields = [(b.label, b.value.clean) for b in read_layout("f.txt", [
        "\tDATES\tACTION", "Date Issued\t10/12/2022\tNew policy.", "Date Revised\t01/08/2025\tAdded criteria.",
        "Date Effective\t04/01/2025\t"]).blocks if b.kind == "field"]
    assert ("Date Revised", "01/08/2025") in fields and ("Date Effective", "04/01/2025") in fields


def test_a_markdown_code_page_is_a_code_report(tmp_path):
    doc = read(tmp_path, "# CPT Code 0581T: Cryoablation of a Breast Cancer\n\n"
               "> **0581T** — Ablation, malignant breast tumor(s), percutaneous, cryotherapy, including imaging "
               "guidance when performed, unilateral\n\n## At a glance\n\n| Attribute | Value |\n|:--|:--|\n"
               "| Code status | Active |\n| Procedure type | Percutaneous breast cryoablation |\n\n## Who pays\n\n"
               "Medicare decides claims locally.\n", name="page.md")
    assert doc.kind == "code-report"
    formal = [f.text for f in facts_of(doc, "code-description") if f.role == "formal"]
    assert formal and formal[0].startswith("Ablation, malignant breast tumor(s)")
    assert [p.name for p in facts_of(doc, "payer-mention")] == ["Medicare"]


def test_a_policy_number_with_its_version_or_alone_on_a_line(tmp_path):
    versioned = read(tmp_path, "# Tumor Ablation\n\n**Clinical Guideline:** Tumor Ablation (CG071, Ver. 4)\n\n"
                     "## Indications\n\nRadiofrequency ablation of a renal tumor is medically necessary when the "
                     "member is not a surgical candidate.\n\nIrreversible electroporation is considered "
                     "investigational.\n", name="a.md")
    alone = read(tmp_path, "Medical Coverage Guideline\n\n02-40000-26\n\nOriginal Effective Date: 02/15/16\n\n"
                 "Subject: Irreversible Electroporation\n\nIrreversible electroporation is considered investigational."
                 "\n\nCall 1-888-900-2733.\n", name="b.txt")
    numbers = [[f.value for f in facts_of(d, "policy-field") if f.name == "number"] for d in (versioned, alone)]
    assert numbers == [["CG071"], ["02-40000-26"]]


def test_a_one_code_guide_pays_by_setting_rows(tmp_path):
    doc = read(tmp_path, "2025 Coding and Reimbursement Guide\n\nCPT Code\tDescriptor\n0581T\tAblation, malignant "
               "breast tumor(s), percutaneous, cryotherapy, including imaging guidance when performed, unilateral\n\n"
               "Medicare National Average Payment\n\nSetting\tPayment System\t2025 National Average\n"
               "Hospital Outpatient\tOPPS\t$6,518.79\nPhysician\tMPFS\tContractor priced\n"
               "MS-DRG 405\tInpatient\t$44,816.07\n")
    assert [(p.code, p.amount, p.year) for p in facts_of(doc, "payment")] == [("0581T", 6518.79, 2025)]
