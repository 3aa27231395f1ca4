"""FHIRPath that does not parse is refused when it is compiled (fhirpathpy alone reads past syntax errors), while
every expression the grammar allows still compiles: natively, or through fhirpathpy."""

import fhirpathpy
import pytest

from fhir_ire.fhirpath import Expression, FhirPathError

INVALID = ["%orderCodes.exists(", "%orderCodes.where(code in ('0600T' | '0601T')", "%payerId = 'medicare",
           "%payerId = 'a' and and %payerId = 'b'", "%payerId = 'a' 'b'", "%orderCodes.where(code = 1))", "and",
           "%orderCodes.or"]
VALID_OUTSIDE_THE_SUBSET = ["%payerId.as(String)", "%when > @2020-01-01", "%payerId.`and`", "%weight > 3.5 'kg'"]


@pytest.mark.parametrize("text", INVALID)
def test_fhirpath_that_does_not_parse_is_refused_at_compile_time(text):
    fhirpathpy.compile(text)  # what the fallback alone accepted
    with pytest.raises(FhirPathError, match=r"not valid FHIRPath at 1:\d+: "):
        Expression(text)


@pytest.mark.parametrize("text", VALID_OUTSIDE_THE_SUBSET)
def test_valid_fhirpath_outside_the_compiled_subset_still_compiles(text):
    env = {"payerId": ["medicare"], "when": ["2021-05-01"], "weight": []}
    expression = Expression(text)
    assert not expression.native and expression({}, env) == fhirpathpy.evaluate({}, text, env)
