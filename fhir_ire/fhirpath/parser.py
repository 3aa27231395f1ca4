"""A FHIRPath (N1) parser: text -> a small tuple AST the compiler reads. Precedence climbing over the spec's
operator table; anything the grammar has that this parser does not (dates, quantities) raises Unsupported."""

import re

from fhir_ire.errors import FhirPathUnsupported as Unsupported

TOKEN = re.compile(r"""
    (?P<ws>\s+|//[^\n]*|/\*.*?\*/)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<delimited>`(?:[^`\\]|\\.)*`)
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<special>\$this|\$index|\$total)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><=|>=|!=|!~|[=~<>|&+\-*/.,()\[\]{}%@])
""", re.VERBOSE | re.DOTALL)
ESCAPES = {"'": "'", '"': '"', "`": "`", "r": "\r", "n": "\n", "t": "\t", "f": "\f", "\\": "\\", "/": "/"}
# binding power of each infix operator, from the FHIRPath operator precedence table (higher binds tighter)
INFIX = {"*": 9, "/": 9, "div": 9, "mod": 9, "+": 8, "-": 8, "&": 8, "is": 7, "as": 7, "|": 6,
         "<": 5, ">": 5, "<=": 5, ">=": 5, "=": 4, "~": 4, "!=": 4, "!~": 4, "in": 3, "contains": 3,
         "and": 2, "or": 1, "xor": 1, "implies": 0}
WORD_OPERATORS = {op for op in INFIX if op.isalpha()}
NOT_NAMES = WORD_OPERATORS - {"as", "contains", "in", "is"} | {"true", "false"}  # keywords the grammar's names exclude


def _unescape(body: str) -> str:
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 2:i + 6]):
                out.append(chr(int(body[i + 2:i + 6], 16)))
                i += 6
                continue
            out.append(ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m:
            raise Unsupported(f"unexpected character {text[pos]!r} at {pos}")
        pos = m.end()
        kind = m.lastgroup
        if kind == "ws":
            continue
        value = m.group(kind)
        if kind == "string":
            if "\\" in value[1:-1].replace("\\'", ""):
                raise Unsupported("string escapes other than \\' (fhirpathpy reads some of them differently)")
            value = _unescape(value[1:-1])
        elif kind == "delimited":
            kind, value = "ident", _unescape(value[1:-1])
        tokens.append((kind, value))
    tokens.append(("end", ""))
    return tokens


class Parser:
    """AST nodes: ("literal", value) ("empty",) ("var", name) ("this",) ("member", name) ("call", name, args)
    ("path", head, [step, ...]) ("index", expr, index) ("binary", op, left, right) ("negate", expr)."""

    def __init__(self, text: str):
        self.tokens, self.pos = tokenize(text), 0

    def peek(self, offset: int = 0) -> tuple[str, str]:
        return self.tokens[min(self.pos + offset, len(self.tokens) - 1)]

    def take(self, kind: str | None = None, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if (kind and tok[0] != kind) or (value is not None and tok[1] != value):
            raise Unsupported(f"expected {value or kind}, found {tok[1] or 'the end'!r}")
        self.pos += 1
        return tok

    def parse(self):
        node = self.expression(0)
        if self.peek()[0] != "end":
            raise Unsupported(f"unexpected {self.peek()[1]!r} after the expression")
        return node

    def infix_operator(self) -> str | None:
        kind, value = self.peek()
        if (kind == "op" and value in INFIX) or (kind == "ident" and value in WORD_OPERATORS):
            return value
        return None

    def expression(self, min_power: int):
        left = self.unary()
        while (op := self.infix_operator()) is not None and INFIX[op] >= min_power:
            self.pos += 1
            if op in ("is", "as"):
                raise Unsupported(f"type operator '{op}'")
            right = self.expression(INFIX[op] + 1)  # every FHIRPath operator is left-associative
            left = ("binary", op, left, right)
        return left

    def unary(self):
        if self.peek() in (("op", "-"), ("op", "+")):
            sign = self.take()[1]
            node = self.unary()
            return ("negate", node) if sign == "-" else node
        return self.postfix(self.term())

    def postfix(self, node):
        steps = []
        while True:
            if self.peek() == ("op", "."):
                self.pos += 1
                steps.append(self.invocation(self.take("ident")[1]))
            elif self.peek() == ("op", "["):
                self.pos += 1
                index = self.expression(0)
                self.take("op", "]")
                node, steps = ("index", ("path", node, steps) if steps else node, index), []
            else:
                return ("path", node, steps) if steps else node

    def invocation(self, name: str):
        if name in NOT_NAMES:
            raise Unsupported(f"'{name}' where a name is expected")
        if self.peek() != ("op", "("):
            return ("member", name)
        self.pos += 1
        args = []
        if self.peek() != ("op", ")"):
            args.append(self.expression(0))
            while self.peek() == ("op", ","):
                self.pos += 1
                args.append(self.expression(0))
        self.take("op", ")")
        return ("call", name, args)

    def term(self):
        kind, value = self.take()
        if kind == "string":
            return ("literal", value)
        if kind == "number":
            if "." in value or self.peek()[0] == "string" or self.peek()[1] in ("year", "years", "day", "days"):
                raise Unsupported("decimal or quantity literal")
            return ("literal", int(value))
        if kind == "special":
            if value != "$this":
                raise Unsupported(value)
            return ("this",)
        if kind == "ident":
            if value in ("true", "false"):
                return ("literal", value == "true")
            return self.invocation(value)
        if (kind, value) == ("op", "%"):
            name_kind, name = self.take()
            if name_kind not in ("ident", "string"):
                raise Unsupported(f"bad environment variable name {name!r}")
            return ("var", name)
        if (kind, value) == ("op", "("):
            node = self.expression(0)
            self.take("op", ")")
            return node
        if (kind, value) == ("op", "{"):
            self.take("op", "}")
            return ("empty",)
        raise Unsupported(f"unexpected {value or 'end of expression'!r}")


def parse(text: str):
    return Parser(text).parse()
