"""Status warnings: draft, experimental, deprecated and withdrawn resources an answer relied on."""

from fhir_ire.terminology.status import expansion_warnings, status_issues, status_kinds

DEPRECATED = {"resourceType": "CodeSystem", "url": "http://example.org/cs/old", "version": "1", "status": "active",
              "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/structuredefinition-standards-status",
                             "valueCode": "deprecated"}]}
DRAFT_VS = {"resourceType": "ValueSet", "url": "http://example.org/vs/draft", "status": "draft"}


def test_status_kinds():
    assert status_kinds(DEPRECATED) == ["deprecated"]
    assert status_kinds({"status": "draft", "experimental": True}) == ["draft", "experimental"]


def test_the_requested_value_set_is_not_warned_about_being_a_draft():
    assert expansion_warnings(DRAFT_VS, [DEPRECATED]) == [{"name": "warning-deprecated",
                                                           "valueUri": "http://example.org/cs/old|1"}]


def test_validate_code_gets_information_issues():
    issue = status_issues(None, [DEPRECATED])[0]
    assert (issue["severity"], issue["details"]["text"]) == (
        "information", "Reference to deprecated CodeSystem http://example.org/cs/old|1")
