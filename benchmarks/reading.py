"""Reading benchmark: build ../shared/real-docs together with the seeds, compare the facts read with the facts a
careful reader takes from each document (real-docs/EXPECTED.json), and time builds of 5, 50 and 500 documents.

    .venv/bin/python benchmarks/reading.py [--docs DIR ...] [--sizes 5,50,500] [--details] [--no-timing]

--docs (repeatable; default ../shared/real-docs) names any folder holding documents and an EXPECTED.json that maps
their file names to the facts expected (e.g. tests/build/fixtures/holdout, written blind of the readers); each
folder is built with the seeds and scored on its own, the figures printed side by side in one run.

Prints, per field and in total, how many expected facts were read right, read wrong and missed, and which
documents were left out and why. A fact the reader claims that the document does not say (a code, an alias, a
payment, a prior-authorization answer, a coverage category on a passage that states none) counts as wrong. The
tests (tests/build/test_real_docs.py) import score() and assert floors on the same figures."""

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fhir_ire.build.command import output_files  # noqa: E402
from fhir_ire.names import name_key  # noqa: E402
from fhir_ire.uris import CPT, HCPCS, ICD10CM  # noqa: E402

REAL_DOCS = ROOT.parent / "shared" / "real-docs"
SEEDS = ROOT / "seeds"
AS_OF = date(2026, 1, 15)
KINDS = {"code-report": "code-report", "reimbursement-guide": "guide", "payer-policy": "policy"}
SYSTEMS = {CPT: "CPT", HCPCS: "HCPCS", ICD10CM: "ICD-10-CM", "http://hl7.org/fhir/sid/icd-9-cm": "ICD-9-CM"}
# EXPECTED.json date keys -> the PolicyField names the readers give them
DATE_FIELDS = {"effective": "effective-date", "original_effective": "original-effective-date", "issued": "issued-date",
               "revised": "revision-date", "last_revision": "last-revision-date", "reviewed": "review-date",
               "last_review": "last-review-date", "annual_review": "annual-review-date",
               "initiated": "initiated-date", "published": "published-date", "replaced": "replaced-date",
               "codes_established": "codes-established-date"}
FIELD_ORDER = ["kind", "payer", "aliases", "policy_number", "line_of_business", "dates", "position", "quote",
               "category", "prior_auth", "criteria_count", "position codes", "procedure", "codes", "payments",
               "code", "descriptor", "service_type", "site_of_service", "payers", "modifiers", "related_cpt",
               "missing data"]


@dataclass
class Score:
    right: dict = field(default_factory=lambda: defaultdict(int))
    wrong: dict = field(default_factory=lambda: defaultdict(int))
    missed: dict = field(default_factory=lambda: defaultdict(int))
    details: list = field(default_factory=list)
    left_out: dict = field(default_factory=dict)

    def add(self, doc: str, name: str, outcome: str, expected=None, got=None):
        getattr(self, outcome)[name] += 1
        if outcome != "right":
            self.details.append((doc, name, outcome, expected, got))

    def total(self, outcome: str) -> int:
        return sum(getattr(self, outcome).values())

    def ratio(self) -> float:
        """Share of the facts scored that were read right."""
        r = self.total("right")
        return r / max(1, r + self.total("wrong") + self.total("missed"))


def norm(text) -> str:
    return re.sub(r"\s+", " ", str(text or "")).strip()


def loose(text) -> str:
    return re.sub(r"[^a-z0-9]+", " ", str(text or "").lower()).strip()


# --- what was read, in EXPECTED.json's terms ---------------------------------------------------------------------

# The benchmark's own modality words (kept apart from the readers' vocabulary, so the score does not grade the
# readers' vocabulary with itself): a position's procedure is read right when it names the same modality.
MODALITIES = (("ire", r"irreversible electroporation|\bIRE\b"), ("cryoablation", r"cryo"),
              ("radiofrequency", r"radiofrequency|\bRFA?\b"), ("microwave", r"microwave|\bMWA\b"),
              ("ultrasound", r"focused ultrasound|ultrasound ablation|high-intensity ultrasound|\bHIFU\b|\bMRgFUS\b"
                             r"|\bTULSA\b"),
              ("histotripsy", r"histotripsy"), ("ethanol", r"ethanol injection|\bPEI\b"), ("laser", r"laser"))


def _modality(text: str) -> str | None:
    return next((m for m, pattern in MODALITIES if re.search(pattern, text or "", re.I)), None)


def same_payer(a: str, b: str) -> bool:
    if name_key(a) == name_key(b):
        return True
    try:
        from fhir_ire.sources.payers import directory
    except ImportError:
        return False
    ea, eb = directory().lookup(a), directory().lookup(b)
    return ea is not None and ea is eb


def as_read(doc) -> dict:
    fields = [f for f in doc.facts if f.kind == "policy-field"]
    got = {"kind": KINDS.get(doc.kind, doc.kind), "payer": None, "aliases": [], "number": None, "lob": [],
           "dates": defaultdict(list), "positions": [], "codes": set(), "payments": [], "descriptions": [],
           "attributes": defaultdict(list), "payers": [], "modifiers": set(), "related": set(), "missing": set(),
           "primary": None}
    for f in fields:
        if f.name == "payer" and got["payer"] is None:
            got["payer"] = f.value
        elif f.name == "alias":
            got["aliases"].append(f.value)
        elif f.name == "number" and got["number"] is None:
            got["number"] = f.value
        elif f.name in ("line-of-business", "product"):
            got["lob"].append(f.value)
        elif f.name.endswith("-date"):
            got["dates"][f.name].append(f.value)
    pas = [f for f in doc.facts if f.kind == "prior-authorization"]
    for f in doc.facts:
        if f.kind == "coverage-statement":
            pa = getattr(f, "prior_auth", None)
            if pa is None and not hasattr(f, "prior_auth"):  # readers before positions: a PA fact in the same lines
                pa = next((p.required for p in pas if p.source.line <= f.source.end_line
                           and p.source.end_line >= f.source.line), None)
            got["positions"].append({"quote": f.source.quote, "category": f.category or None, "prior_auth": pa,
                                     "criteria": getattr(f, "criteria", None),
                                     "announced": getattr(f, "criteria_announced", False),
                                     "codes": {c for _, c in getattr(f, "codes", ())},
                                     "procedure": getattr(f, "procedure", "") or f.text})
    for p in pas:  # prior-authorization statements that are not part of a coverage statement are positions too
        if not any(p.source.line <= q.source.end_line and p.source.end_line >= q.source.line
                   for q in doc.facts if q.kind == "coverage-statement"):
            got["positions"].append({"quote": p.source.quote, "category": None, "prior_auth": p.required,
                                     "criteria": None, "announced": False,
                                     "codes": {c for _, c in getattr(p, "codes", ())},
                                     "procedure": getattr(p, "procedure", "") or p.text})
    for f in doc.facts:
        system = getattr(f, "system", None)
        code = getattr(f, "code", None)
        if f.kind in ("modifier",):
            got["modifiers"].add(f.code)
            continue
        if f.kind in ("taxonomy", "diagnosis") and f.kind == "taxonomy":
            continue
        if code and system in SYSTEMS:
            got["codes"].add((SYSTEMS[system], code))
        elif code and f.kind in ("payment", "not-reported-with", "related-code"):
            got["codes"].add(("HCPCS" if re.fullmatch(r"[A-Z]\d{4}", code) else "CPT", code))
        for other in getattr(f, "others", ()) or ():
            got["codes"].add(("HCPCS" if re.fullmatch(r"[A-Z]\d{4}", other) else "CPT", other))
        if f.kind == "diagnosis":
            got["codes"].add(("ICD-10-CM", f.code))
        if f.kind == "payment":
            got["payments"].append(f)
        elif f.kind == "code-description":
            got["descriptions"].append(f)
        elif f.kind == "code-attribute":
            got["attributes"][f.name].append(f.value)
        elif f.kind == "payer-mention":
            got["payers"].append(f.name)
        elif f.kind == "related-code":
            got["related"].add(f.code)
        elif f.kind == "missing-data":
            got["missing"].add(getattr(f, "topic", "") or loose(f.section))
    for pos in got["positions"]:
        for c in pos["codes"]:
            got["codes"].add(("HCPCS" if re.fullmatch(r"[A-Z]\d{4}", c) else "CPT", c))
    titles = [d for d in got["descriptions"] if d.role == "title"]
    got["primary"] = titles[0].code if titles else (got["descriptions"][0].code if got["descriptions"] else None)
    return got


# --- scoring ----------------------------------------------------------------------------------------------------

def _score_list(score, doc, name, expected: list, got: list, same=lambda a, b: loose(a) == loose(b)):
    used = set()
    for e in expected:
        hit = next((i for i, g in enumerate(got) if i not in used and same(e, g)), None)
        if hit is None:
            score.add(doc, name, "missed", e)
        else:
            used.add(hit)
            score.add(doc, name, "right")
    for i, g in enumerate(got):
        if i not in used and not any(same(e, g) for e in expected):
            score.add(doc, name, "wrong", None, g)


def _score_value(score, doc, name, expected, got, same=lambda a, b: loose(a) == loose(b)):
    if got in (None, "", []):
        score.add(doc, name, "missed", expected)
    elif same(expected, got):
        score.add(doc, name, "right")
    else:
        score.add(doc, name, "wrong", expected, got)


def _is_date(text) -> bool:
    return bool(re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", str(text or "")))


def _score_dates(score, doc, expected: dict, got: dict):
    for key, value in expected.items():
        name = DATE_FIELDS.get(key)
        values = list(got.get(name, [])) if name else []
        if key == "revised_previous":
            values = list(got.get("revision-date", []))[1:]
        elif key == "revised":
            values = values[:1]
        if not values:
            score.add(doc, "dates", "missed", f"{key}={value}")
        elif value is None:
            ok = not any(_is_date(v) for v in values)
            score.add(doc, "dates", "right" if ok else "wrong", f"{key}=null", values)
        elif value in values:
            score.add(doc, "dates", "right")
        else:
            score.add(doc, "dates", "wrong", f"{key}={value}", values)


def _overlaps(a: str, b: str) -> bool:
    a, b = norm(a), norm(b)
    return len(min(a, b, key=len)) >= 20 and (a in b or b in a)


def _score_positions(score, doc, expected: list, got: list):
    used = set()
    for e in expected:
        hit = max((i for i, g in enumerate(got) if i not in used and _overlaps(e["quote"], g["quote"])),
                  key=lambda i: -abs(len(norm(got[i]["quote"])) - len(norm(e["quote"]))), default=None)
        names = ["position", "quote"] + [k for k in ("category", "prior_auth", "criteria_count") if k in e]
        if hit is None:
            for n in names:
                score.add(doc, n, "missed", e.get(n if n != "position" else "quote"))
            for c in e.get("codes", []):
                score.add(doc, "position codes", "missed", c)
            continue
        used.add(hit)
        g = got[hit]
        score.add(doc, "position", "right")
        score.add(doc, "quote", "right" if norm(e["quote"]) == norm(g["quote"]) else "wrong", e["quote"], g["quote"])
        if "category" in e:
            _score_value(score, doc, "category", e["category"], g["category"])
        elif g["category"]:
            score.add(doc, "category", "wrong", None, g["category"])
        if "prior_auth" in e:
            _score_value(score, doc, "prior_auth", e["prior_auth"], g["prior_auth"], lambda a, b: a is b)
        elif g["prior_auth"] is not None:
            score.add(doc, "prior_auth", "wrong", None, g["prior_auth"])
        if "criteria_count" in e:
            want = e["criteria_count"]
            if want is None:
                outcome = "right" if g["announced"] and g["criteria"] is None else \
                    "wrong" if g["criteria"] is not None else "missed"
            else:
                outcome = "right" if g["criteria"] == want else "missed" if g["criteria"] is None else "wrong"
            score.add(doc, "criteria_count", outcome, want, g["criteria"])
        if "codes" in e:
            _score_list(score, doc, "position codes", e["codes"], sorted(g["codes"]), lambda a, b: a == b)
        if (want := _modality(e.get("procedure", ""))) is not None:
            _score_value(score, doc, "procedure", want, _modality(g["procedure"]), lambda a, b: a == b)
    for i, g in enumerate(got):
        if i not in used:  # a passage read as a position that the document does not take
            score.add(doc, "position", "wrong", None, g["quote"][:120])


def _score_payments(score, doc, expected, got: list, missing=()):
    if expected is None:
        _score_value(score, doc, "missing data", "payments", "payments" if "payments" in missing else None)
        return
    used = set()
    for e in expected:
        hit = next((i for i, p in enumerate(got) if i not in used and p.code == e["code"]
                    and p.amount is not None and abs(p.amount - e["amount"]) < 0.005), None)
        if hit is None:
            score.add(doc, "payments", "missed", e)
            continue
        used.add(hit)
        score.add(doc, "payments", "right" if got[hit].year == e.get("year") else "wrong", e, got[hit].year)
    for i, p in enumerate(got):
        if i not in used and p.amount is not None:
            score.add(doc, "payments", "wrong", None, (p.code, p.setting, p.amount))


def _score_code_report(score, doc, e: dict, g: dict):
    _score_value(score, doc, "code", e["code"], g["primary"])
    if "descriptor" in e:
        texts = [d.text for d in g["descriptions"] if d.code == e["code"] and d.role in ("title", "formal")]
        same = lambda a, b: loose(a) == loose(b)  # noqa: E731
        outcome = "right" if any(same(e["descriptor"], t) for t in texts) else "wrong" if texts else "missed"
        score.add(doc, "descriptor", outcome, e["descriptor"], texts)
    for key, name in (("service_type", "service-type"), ("site_of_service", "site-of-service")):
        if key in e:
            got = g["attributes"].get(name, [])
            _score_value(score, doc, key, e[key], got[0] if got else None)
    if "payers" in e:
        _score_list(score, doc, "payers", e["payers"], g["payers"], same_payer)
    if "modifiers" in e:
        _score_list(score, doc, "modifiers", e["modifiers"], sorted(g["modifiers"]), lambda a, b: a == b)
    if "related_cpt" in e:
        _score_list(score, doc, "related_cpt", e["related_cpt"], sorted(g["related"]), lambda a, b: a == b)
    for key, topic in (("taxonomy", "taxonomy"), ("icd10", "diagnoses")):
        if key in e and e[key] is None:
            _score_value(score, doc, "missing data", topic, topic if topic in g["missing"] else None)


def score_document(score: Score, name: str, e: dict, g: dict | None):
    if g is None:
        g = as_read_nothing()
    _score_value(score, name, "kind", e["kind"], g["kind"])
    if "payer" in e:
        _score_value(score, name, "payer", e["payer"], g["payer"], same_payer)
    elif g["payer"]:  # a payer the document does not name
        score.add(name, "payer", "wrong", None, g["payer"])
    _score_list(score, name, "aliases", e.get("aliases", []), [a for a in g["aliases"]
                                                               if loose(a) != loose(e.get("payer"))], _same_alias)
    if "policy_number" in e:
        _score_value(score, name, "policy_number", e["policy_number"], g["number"])
    elif g["number"]:
        score.add(name, "policy_number", "wrong", None, g["number"])
    if "line_of_business" in e:
        _score_value(score, name, "line_of_business", e["line_of_business"], ", ".join(g["lob"]) or None, _same_lob)
    _score_dates(score, name, e.get("dates", {}), g["dates"])
    _score_positions(score, name, e.get("positions", []), g["positions"])
    expected_codes = [(s, c) for s, codes in (e.get("codes") or {}).items() for c in codes]
    _score_list(score, name, "codes", expected_codes, sorted(g["codes"]), lambda a, b: a == b)
    if "payments" in e or g["payments"]:
        _score_payments(score, name, e.get("payments", []), g["payments"], g["missing"])
    if "code_report" in e:
        _score_code_report(score, name, e["code_report"], g)


def as_read_nothing() -> dict:
    return {"kind": None, "payer": None, "aliases": [], "number": None, "lob": [], "dates": {}, "positions": [],
            "codes": set(), "payments": [], "descriptions": [], "attributes": {}, "payers": [], "modifiers": set(),
            "related": set(), "missing": set(), "primary": None}


def _same_alias(a: str, b: str) -> bool:
    """The same name, written with or without its corporate suffix ('X Insurance Company, Inc.' and 'X Insurance
    Company')."""
    bare = lambda t: re.sub(r"\s+(?:inc|llc|corp|ltd)$", "", loose(t))  # noqa: E731
    return bare(a) == bare(b)


def _same_lob(expected: str, got: str) -> bool:
    from fhir_ire.build.payers import lines_of_business

    from fhir_ire.data import load

    want, have = {c["code"] for c in lines_of_business(expected)}, {c["code"] for c in lines_of_business(got)}
    if want:
        return want == have
    everything = load("lines-of-business.json")["all_products"]["patterns"]
    return any(p in expected.lower() for p in everything) and any(p in got.lower() for p in everything)


def score(documents, expected: dict, left_out: dict) -> Score:
    """Score the documents read (DocumentFacts) against EXPECTED.json; left_out maps file name to the reason."""
    result = Score(left_out=dict(left_out))
    by_name = {d.file: d for d in documents}
    for name, e in sorted(expected.items()):
        doc = by_name.get(name)
        score_document(result, name, e, as_read(doc) if doc is not None else None)
    return result


# --- running ----------------------------------------------------------------------------------------------------

def documents_of(docs: Path) -> list[Path]:
    """The documents of a folder scored against its EXPECTED.json: the files it names."""
    expected = json.loads((docs / "EXPECTED.json").read_text())
    return [docs / name for name in sorted(expected) if (docs / name).is_file()]


def build_real_docs(real_docs: Path, nucc=None):
    """(documents, left out {file: reason}) of one build of the seeds and the folder's documents together."""
    from fhir_ire.errors import BuildError

    sources = documents_of(real_docs)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "seeds"
        folder.mkdir()
        for p in sorted(SEEDS.iterdir()) + sources:
            shutil.copy(p, folder / p.name)
        try:
            files, documents, _ = output_files(folder, nucc, as_of=AS_OF)
        except BuildError as err:  # readers that refuse a document refuse the whole build
            return [], {p.name: f"build refused: {err}" for p in sources}
    left = {}
    report = files.get("qa-outcome.json", {})
    documents = [d for d in documents if not getattr(d, "left_out", "")]
    read = {d.file for d in documents}
    for p in sources:
        if p.name not in read:
            left[p.name] = _reason(report, p.name) or "left out"
    return documents, left


def _reason(outcome: dict, file: str) -> str | None:
    for issue in outcome.get("issue", []):
        codes = [c["code"] for c in issue.get("details", {}).get("coding", [])]
        if "document-left-out" in codes and file in " ".join(issue.get("location", [])):
            return issue["details"].get("text")
    return None


def read_one_by_one(real_docs: Path) -> tuple[list, dict]:
    """Each document read on its own (as the readers did before a build could leave a document out)."""
    from fhir_ire.errors import BuildError
    from fhir_ire.sources import read_source

    documents, left = [], {}
    for p in documents_of(real_docs):
        try:
            doc = read_source(p)
        except BuildError as err:
            left[p.name] = err.message
            continue
        if getattr(doc, "left_out", ""):
            left[p.name] = doc.left_out
        else:
            documents.append(doc)
    return documents, left


def print_score(s: Score, details: bool):
    print(f"{'field':<18}{'right':>7}{'wrong':>7}{'missed':>8}")
    for name in FIELD_ORDER + sorted((set(s.right) | set(s.wrong) | set(s.missed)) - set(FIELD_ORDER)):
        r, w, m = s.right.get(name, 0), s.wrong.get(name, 0), s.missed.get(name, 0)
        if r or w or m:
            print(f"{name:<18}{r:>7}{w:>7}{m:>8}")
    r, w, m = s.total("right"), s.total("wrong"), s.total("missed")
    print(f"{'total':<18}{r:>7}{w:>7}{m:>8}   read right: {r}/{r + w + m} = {100 * r / max(1, r + w + m):.1f}%")
    print(f"documents left out: {len(s.left_out)}")
    for name, why in sorted(s.left_out.items()):
        print(f"  {name}: {why}")
    if details:
        for doc, name, outcome, want, got in s.details:
            print(f"  {outcome:<6} {doc[:40]:<40} {name:<16} expected={want!r:.90} got={got!r:.90}")


def replicate(n: int, sources: list[Path], folder: Path, payers: dict[str, str]):
    """n documents from the sources, cycling; each copy after the first names its payer with a region suffix, so a
    corpus of many documents has many payers, as a real one would."""
    for i in range(n):
        src = sources[i % len(sources)]
        text = src.read_text(encoding="utf-8")
        copy = i // len(sources)
        if copy and (payer := payers.get(src.name)):
            region = f" Region {copy}"
            text = re.sub(re.escape(payer), lambda m: m.group(0) + (region.upper() if m.group(0).isupper() else region),
                          text, flags=re.I)
        (folder / f"{copy:03d}-{src.name}").write_text(text, encoding="utf-8")


def payer_names(sources: list[Path], expected: dict) -> dict[str, str]:
    """The payer each source names (as its reader reads it, else as EXPECTED.json says)."""
    from fhir_ire.errors import BuildError
    from fhir_ire.sources import read_source

    names = {name: e["payer"] for name, e in expected.items() if e.get("payer")}
    for src in sources:
        try:
            doc = read_source(src)
        except BuildError:
            continue
        payer = next((f.value for f in doc.facts if f.kind == "policy-field" and f.name == "payer"), None)
        if payer and payer.lower() in src.read_text(encoding="utf-8").lower():
            names[src.name] = payer
    return names


def time_builds(real_docs: Path, sizes: list[int], expected: dict, seeds_only: bool = False):
    sources = sorted(SEEDS.iterdir()) + ([] if seeds_only else documents_of(real_docs))
    payers = payer_names(sources, expected)
    print(f"{'documents':>10}{'seconds':>10}{'ms/document':>13}")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            replicate(n, sources, folder, payers)
            start = time.perf_counter()
            try:
                output_files(folder, None, as_of=AS_OF)
                took = time.perf_counter() - start
                print(f"{n:>10}{took:>10.2f}{1000 * took / n:>13.1f}")
            except Exception as err:  # noqa: BLE001 - a benchmark reports what happened
                print(f"{n:>10}  build failed: {str(err)[:100]}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--docs", "--real-docs", type=Path, action="append", dest="docs",
                   help="a folder with documents and EXPECTED.json (repeatable; default ../shared/real-docs)")
    p.add_argument("--sizes", default="5,50,500")
    p.add_argument("--details", action="store_true", help="list every wrong and missed fact")
    p.add_argument("--no-timing", action="store_true")
    p.add_argument("--one-by-one", action="store_true", help="read each document on its own, without a build")
    p.add_argument("--timing-seeds-only", action="store_true",
                   help="time corpora made of the seeds only (for readers that refuse the real documents)")
    args = p.parse_args(argv)
    folders = args.docs or [REAL_DOCS]
    for docs in folders:
        expected = json.loads((docs / "EXPECTED.json").read_text())
        if args.one_by_one:
            print(f"== {docs.name} read one by one ({len(expected)} documents) ==")
            documents, left = read_one_by_one(docs)
            print_score(score(documents, expected, left), args.details)
            continue
        print(f"== {docs.name} built with the seeds ({len(expected)} documents) ==")
        documents, left = build_real_docs(docs)
        print_score(score(documents, expected, left), args.details)
        if len(left) == len(expected):
            print(f"\n== the same documents read one by one (the build refused them together) ==")
            documents, left = read_one_by_one(docs)
            print_score(score(documents, expected, left), args.details)
        print()
    if not args.no_timing and not args.one_by_one:
        expected = json.loads((folders[0] / "EXPECTED.json").read_text())
        print("== build time ==")
        time_builds(folders[0], [int(n) for n in args.sizes.split(",")], expected, args.timing_seeds_only)


if __name__ == "__main__":
    main()
