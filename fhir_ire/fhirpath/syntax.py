"""FHIRPath syntax checked strictly against the grammar (fhirpathpy's ANTLR parser). fhirpathpy itself ignores
syntax errors and reads what it can (`a.where(` compiles), so a text the compiled subset does not cover is checked
here before fhirpathpy is given it: an expression that does not parse is refused at load, never met per request."""

from antlr4 import CommonTokenStream, InputStream
from antlr4.error.ErrorListener import ErrorListener
from fhirpathpy.parser.generated.FHIRPathLexer import FHIRPathLexer
from fhirpathpy.parser.generated.FHIRPathParser import FHIRPathParser

from fhir_ire.errors import FhirPathError


class _Refuse(ErrorListener):
    def syntaxError(self, recognizer, offendingSymbol, line, column, msg, e):  # noqa: N802 - ANTLR's name
        raise FhirPathError(f"not valid FHIRPath at {line}:{column}: {msg.split(' expecting ')[0]}")


def check_syntax(text: str) -> None:
    """Raise FhirPathError when text is not one whole FHIRPath expression."""
    lexer = FHIRPathLexer(InputStream(text))
    parser = FHIRPathParser(CommonTokenStream(lexer))
    for recognizer in (lexer, parser):
        recognizer.removeErrorListeners()
        recognizer.addErrorListener(_Refuse())
    parser.entireExpression()  # the expression and then the end: trailing text is an error too
