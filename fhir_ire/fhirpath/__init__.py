"""FHIRPath expressions compiled once into Python closures; fhirpathpy evaluates what the compiled subset does not
cover (and is the oracle the tests compare the closures with)."""

from fhirpathpy import compile as compile_fhirpathpy

from fhir_ire.errors import FhirPathError, FhirPathUnsupported
from fhir_ire.fhirpath.compiler import compile_node
from fhir_ire.fhirpath.operators import TRUE
from fhir_ire.fhirpath.parser import parse
from fhir_ire.fhirpath.syntax import check_syntax

__all__ = ["TRUE", "Expression", "FhirPathError", "compile_expression"]


class Expression:
    """expression(resource, env) -> list, like fhirpathpy.compile(text)(resource, env). `native` tells whether the
    closures evaluate it; `reason` says why not; `tree` is the syntax tree (None when this parser cannot read it)."""

    def __init__(self, text: str):
        self.text, self.reason, self.tree, self._fn, self._fallback = text, None, None, None, None
        try:
            self.tree = parse(text)
            self._fn = compile_node(self.tree).fn
        except FhirPathUnsupported as e:
            self.reason = str(e)
        except RecursionError:
            self.reason = "nested too deeply"
        if self._fn is None:
            check_syntax(text)  # fhirpathpy reads past syntax errors: refused here, at load, not per request
            self._fallback = compile_fhirpathpy(text)

    @property
    def native(self) -> bool:
        return self._fn is not None

    def __call__(self, resource, env: dict) -> list:
        if self._fn is not None:
            focus = resource if isinstance(resource, list) else [] if resource is None else [resource]
            return self._fn(focus, env)
        return self._fallback(resource, env)

    def bound(self, resource) -> tuple:
        """(fn, focus) with fn(focus, env) == self(resource, env): the focus made once, for a caller that evaluates
        the expression on the same resource call after call (read only: no closure changes its focus)."""
        if self._fn is None:
            return self._fallback, resource
        return self._fn, resource if isinstance(resource, list) else [] if resource is None else [resource]

    def __repr__(self):
        return f"Expression({self.text!r}, native={self.native})"


def compile_expression(text: str) -> Expression:
    return Expression(text)
