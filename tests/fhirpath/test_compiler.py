"""The compiled closures against fhirpathpy, expression by expression, on edge data: empty and repeated values,
wrong types, primitive extensions, three-valued logic, literal collections of any size."""

import pytest

from fhir_ire.fhirpath import Expression, FhirPathError
from fhir_ire.fhirpath.items import item_test
from fhir_ire.fhirpath.parser import parse

from .oracle import oracle, outcome

CPT = "http://www.ama-assn.org/go/cpt"
ENV = {
    "orderCodes": [{"system": CPT, "code": "0600T"}, {"system": CPT, "code": "76940", "_code": {"extension": []}}],
    "payerId": ["medicare"], "none": [], "nothing": None, "flags": [True, False], "yes": True, "no": [False],
    "words": ["alpha", "beta", "alpha"], "number": [3], "mixed": ["3", 3, True, {"a": 1}],
    "orders": [{"resourceType": "ServiceRequest", "id": "a", "code": {"coding": [{"system": CPT, "code": "77013"}]}},
               {"resourceType": "ServiceRequest", "id": "b", "code": {"coding": [{"system": CPT, "code": "99213"}]},
                "quantity": 1.5}],
}
LOGIC = [f"{a} {op} {b}" for op in ("and", "or", "xor", "implies")
         for a in ("%yes", "%no", "%none") for b in ("%yes", "%no", "%none")]
EXPRESSIONS = LOGIC + [
    "%orderCodes.where(system = 'http://www.ama-assn.org/go/cpt' and code in ('0600T' | '0601T')).exists()",
    "%orderCodes.exists(code = '76940')", "%orderCodes.code", "%orderCodes.code.count()", "%orderCodes.system = %none",
    "%payerId = 'medicare'", "%payerId != 'medicare'", "'medicare' = %payerId", "%words = 'alpha'",
    "%words in ('alpha' | 'beta')", "'beta' in %words", "%words contains 'beta'", "%none in ('a' | 'b')",
    "'a' in %none", "%mixed.where($this = 3)", "%mixed.where($this in ('3' | 'x'))", "%number = 3", "1 = true",
    "%flags.not()", "%no.not()", "%words.first().not()", "%none.not()", "%words.empty()", "%none.exists()",
    "%words.where($this.startsWith('al'))", "%words.startsWith('al')", "%none.startsWith('a')",
    "%words.first().startsWith('al')", "%orderCodes.code.substring(0, 3)", "%orderCodes.code.first().substring(2)",
    "%orderCodes.code.first().substring(1, 2) in ('60' | '00')", "%orderCodes.code.first().substring(9)",
    "%orders.where(code.coding.where(system = 'http://www.ama-assn.org/go/cpt' and code = '77013').exists())",
    "%orders.where(code.coding.where(code = '77013').exists()).id", "%orders.quantity", "%orders.id.length",
    "('a' | 'b' | 'a').count()", "('a' | 'b') = ('a' | 'b')", "{} = 'a'", "%undefined = 'a'", "%nothing.exists()",
    "%orders.code.coding.code contains '99213'", "%words.where(true)", "%orders.where(id = 'a' or quantity = 1.5)",
    "%orders.where(%payerId = 'medicare').id", "%yes and %words.exists()", "%words.where($this = 'alpha').count() = 2",
]


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_compiled_expression_gives_fhirpathpy_answer(text):
    assert outcome(Expression(text), ENV) == oracle(text, ENV)


@pytest.mark.parametrize("text", ["%orders.where(quantity > 1)", "today() > @2020-01-01", "%orders.quantity = 1.5",
                                  "%resource.id", "%orders.ofType(ServiceRequest)", "%orders.select(id)",
                                  "%words.where($this = 'a' and %orders.where(id = 'a').exists() and $this = 'b')"])
def test_expressions_outside_the_subset_are_evaluated_by_fhirpathpy(text):
    expression = Expression(text)
    assert not expression.native and expression.reason
    assert outcome(expression, ENV) == oracle(text, ENV)


# items of every shape for the criteria read straight off one item (fhirpath/items.py): plain ones, and ones it leaves
# to the general closures (a primitive extension, a list or an object as the value, a nested list, a string item)
SHAPES = {
    "plain": [{"system": CPT, "code": "0600T"}, {"system": CPT, "code": "77013"}, {"system": CPT}, {"code": ""},
              {"system": CPT, "code": None}, {"system": CPT, "code": []}, {"status": {"coding": []}}, {},
              {"status": {"coding": [{"code": "active"}, {"code": "x"}]}, "coding": [{"system": CPT, "code": "0600T"}]},
              {"status": {"coding": [{"code": "resolved"}]}, "coding": [{"code": "77013"}, {"system": CPT}]}],
    "odd": [{"system": CPT, "code": "0600T", "_code": {"id": "x"}}, {"system": CPT, "code": {"value": "0600T"}},
            [{"system": CPT, "code": "0601T"}, {"system": CPT, "code": "77013"}], [], "0600T", 7, None,
            {"system": [CPT], "code": "0600T"}, {"system": CPT, "code": 600}, {"status": None, "_status": {"id": "s"}},
            {"status": {"coding": [{"code": ["active"]}]}}, {"status": [{"coding": {"code": "active"}}, "text"]},
            {"coding": [None, {"code": "0600T"}]}, {"status": {"coding": [{"code": "active", "_code": {}}]}}],
    "lists": [{"system": CPT, "code": ["0600T", "0601T"]}],
    "words": ["medicare", "medicare-ffs", 3, ["medicare"], {"a": 1}, "", None],
}
CRITERIA = ["system = 'http://www.ama-assn.org/go/cpt' and code in ('0600T' | '0601T')", "code = '0600T'",
            "code != '0600T'", "code in ('0600T' | '77013') or system = 'x'", "code.substring(0, 3) in ('060' | '770')",
            "code.substring(2) = '00T'", "code.substring(5, 2) = ''", "code.substring(0, 9) = '0600T'",
            "code.empty()", "status.exists() or code.empty()", "system.exists() and code.empty()",
            "system = 'http://www.ama-assn.org/go/cpt' and code in ('0600T' | '77013') and display = 'x'",
            "code in ('0600T' | '77013') and system = 'http://www.ama-assn.org/go/cpt' and code != '77013'",
            "status.empty() or status.coding.where(code in ('active' | 'recurrence')).exists()",
            "status.coding.where(code = 'active').empty() and coding.exists(code = '0600T')",
            "coding.where(system = 'http://www.ama-assn.org/go/cpt' and code.substring(0, 3) = '060').exists()"]
ITEM_EXPRESSIONS = [f"%{var}.{form}" for var in ("plain", "odd", "lists") for crit in CRITERIA
                    for form in (f"where({crit})", f"where({crit}).exists()", f"where({crit}).empty()",
                                 f"exists({crit})", f"where({crit}).count()")] + [
    f"%words.{form}" for form in ("where($this in ('medicare' | 'medicare-ffs'))", "where($this = 'medicare').exists()",
                                  "where($this != 'medicare').empty()", "exists($this.substring(0, 3) = 'med')")]


@pytest.mark.parametrize("text", ITEM_EXPRESSIONS)
def test_criteria_read_off_one_item_give_fhirpathpy_answer(text):
    assert outcome(Expression(text), SHAPES) == oracle(text, SHAPES)
    assert outcome(Expression(text), {v: SHAPES["plain"] for v in SHAPES}) == \
        oracle(text, {v: SHAPES["plain"] for v in SHAPES})


def test_rule_shaped_criteria_are_read_off_one_item():
    assert all(item_test(parse(c)) for c in CRITERIA)
    assert item_test(parse("code.coding.where(%payerId = 'a').exists()")) is None  # a variable: general closures


def test_the_compiled_subset_is_native():
    assert all(Expression(t).native for t in EXPRESSIONS if "quantity = 1.5" not in t)


def test_a_literal_collection_of_thousands_of_codes_is_a_set_lookup():
    codes = [f"{n:04d}T" for n in range(5000)]
    chunks = ["(" + " | ".join(f"'{c}'" for c in codes[i:i + 16]) + ")" for i in range(0, len(codes), 16)]
    while len(chunks) > 1:
        chunks = [f"({' | '.join(chunks[i:i + 2])})" if i + 1 < len(chunks) else chunks[i]
                  for i in range(0, len(chunks), 2)]
    expression = Expression(f"%orderCodes.where(code in {chunks[0]}).exists()")
    assert expression.native
    assert expression({}, {"orderCodes": [{"code": "4999T"}]}) == [True]
    assert expression({}, {"orderCodes": [{"code": "5000T"}]}) == [False]


def test_a_syntax_error_is_refused_when_compiled_not_left_to_fail_per_request():
    assert oracle("%orderCodes.where(", ENV) == ("fails", "error")  # fhirpathpy compiled it and fails each time
    with pytest.raises(FhirPathError, match="not valid FHIRPath at 1:18: mismatched input '<EOF>'"):
        Expression("%orderCodes.where(")
