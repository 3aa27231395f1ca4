"""Which of the three kinds a document is, by the words and shapes that show it (fhir_ire/data/kinds.json)."""

import re
from functools import lru_cache

from fhir_ire.data import load
from fhir_ire.sources import shapes
from fhir_ire.sources.layout import Layout
from fhir_ire.sources.positions import coverage_vocabulary
from fhir_ire.sources.procedures import vocabulary

_OPENING_CODE = re.compile(rf"^(?:\d{{4}}\s+)?(?:CPT®?\s+(?:code\s+)?)?{shapes.CPT_CODE}\b(?:\s*[:\-–—]|\s+[A-Z]|$)",
                           re.I)

_DESCRIBED_LINE = re.compile(rf"^(?:CPT®?\s*)?{shapes.CPT_CODE}\s*(?:[-–:]\s*)?[A-Z][a-z]+(?:,?\s+\S+){{3,}}")


@lru_cache(maxsize=1)
def _data() -> dict:
    return load("kinds.json")


def scores(layout: Layout) -> dict[str, int]:
    data = _data()
    text = " ".join(b.clean for b in layout.blocks).lower()
    out = {kind: sum(w for phrase, w in words.items() if phrase in text) for kind, words in data["kinds"].items()}
    opening = data["opening_code"]
    if any(_OPENING_CODE.match(b.clean) for b in layout.blocks[:opening["first_blocks"]]):
        out["code-report"] += opening["weight"]
    lines = data["descriptor_lines"]
    described = sum(1 for b in layout.blocks if b.kind == "paragraph" and _DESCRIBED_LINE.match(b.clean))
    out["reimbursement-guide"] += lines["weight"] * min(described, lines["most"])
    vocab, procs = coverage_vocabulary(), vocabulary()
    positions = sum(1 for b in layout.blocks if b.kind in ("paragraph", "item") and vocab.category(b.clean)
                    and procs.describe(b.clean) and not vocab.not_statements.search(b.clean))
    out["payer-policy"] += data["positions"]["weight"] * min(positions, data["positions"]["most"])
    return out


def detect_kind(layout: Layout) -> tuple[str | None, dict[str, int]]:
    """(kind, scores); kind is None when no kind reaches the minimum score."""
    found = scores(layout)
    kind, best = max(sorted(found.items()), key=lambda kv: kv[1])
    return (kind if best >= _data()["minimum"] else None), found
