"""Error hierarchy: build errors carry file and line; FhirError carries HTTP status and issue code."""


class IreError(Exception):
    """Base of every error this package raises on purpose."""


class BuildError(IreError):
    """A document or folder the build cannot use. str() is the one line the CLI prints."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None):
        self.file, self.line, self.message = file, line, message
        where = f"{file}:{line}: " if file and line else f"{file}: " if file else ""
        super().__init__(where + message)

    def __reduce__(self):  # raised in a build worker process, it reaches the parent whole (file and line too)
        return type(self), (self.message, self.file, self.line)


class BundleError(IreError):
    """A bundle file the server cannot load."""


class FhirError(IreError):
    """An error answered as an OperationOutcome."""

    status = 400
    code = "invalid"

    def __init__(self, diagnostics: str, *, status: int | None = None, code: str | None = None,
                 tx_issue_type: str | None = None, expression: list[str] | None = None):
        super().__init__(diagnostics)
        self.diagnostics = diagnostics
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        self.tx_issue_type = tx_issue_type
        self.expression = expression


class InvalidRequest(FhirError):
    status, code = 400, "invalid"


class NotFound(FhirError):
    status, code = 404, "not-found"


class NotSupported(FhirError):
    status, code = 400, "not-supported"


class TooCostly(FhirError):
    status, code = 400, "too-costly"


class FhirPathError(IreError):
    """A FHIRPath expression that cannot be evaluated on the data given (wrong cardinality or type)."""


class FhirPathUnsupported(FhirPathError):
    """A FHIRPath construct outside the subset fhir_ire.fhirpath compiles: it is evaluated by fhirpathpy instead."""


class LoadError(IreError):
    """`fhir-ire load` could not finish: the server is unreachable, refused a request or answered an error."""


class ServerRefused(LoadError):
    """The server answered a request with an HTTP error status (kept in .status)."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class RequestTooLarge(ServerRefused):
    """HTTP 413 from the server or a proxy in front of it: send smaller batches."""


class TooLarge(FhirError):
    """A request body over the configured size (413)."""
    status, code = 413, "too-long"


class OverLimit(FhirError):
    """A well-formed request that asks for more work than this server takes per call (orders, prefetch, time)."""
    status, code = 422, "too-costly"
