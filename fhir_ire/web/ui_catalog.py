"""What the pages show, computed once from the loaded index (it is read-only): payers, rules by payer and code, the
coverage matrix, the codes every rule names, payment benchmarks by code, and the QA findings."""

import re
from collections import defaultdict
from dataclasses import dataclass, field

from datetime import date

from fhir_ire.store import ResourceIndex
from fhir_ire.web.ui_forms import Forms
from fhir_ire.web.ui_rules import determination, verdict
from fhir_ire.web.ui_sources import Source, load_sources

RANK = {"covered": 0, "conditional": 1, "not-covered": 2}
PAYER_TYPE = ("http://terminology.hl7.org/CodeSystem/organization-type", "pay")
_LITERAL = re.compile(r"'((?:[^'\\]|\\.)*)'")


@dataclass
class Rule:
    resource: dict
    payer: str | None  # Organization id; None for a cross-payer rule
    codes: list[tuple[str, str]]  # the procedure codes it governs (useContext focus)
    lines: list[str]  # line-of-business displays
    number: str | None  # the payer's policy number

    @property
    def id(self) -> str:
        return self.resource["id"]

    @property
    def title(self) -> str:
        return self.resource.get("title") or self.resource.get("name") or self.id

    @property
    def short(self) -> str:
        """What a matrix cell names the rule by: the policy number, else the title after the payer's name."""
        return f"policy {self.number}" if self.number else self.title.split(": ", 1)[-1]

    def actions_for(self, code: str | None = None) -> list[dict]:
        """Actions whose conditions name the code (or every action when the rule governs it without naming it)."""
        acts = self.resource.get("action") or []
        if code is None:
            return acts
        naming = [a for a in acts if code in _literals(a)]
        return naming or acts


@dataclass
class Cell:
    payer: str
    code: str
    entries: list[tuple[Rule, dict, dict]] = field(default_factory=list)  # (rule, action, determination)

    @property
    def verdict(self) -> tuple[str, str]:
        """The headline: the way to coverage when the rule offers one (criteria, prior authorization), else its
        refusal; a rule that covers some diagnoses and refuses the others has both (see also)."""
        return verdict(self.ranked[0][2] if self.entries else None)

    @property
    def ranked(self) -> list[tuple[Rule, dict, dict]]:
        return sorted(self.entries, key=lambda e: RANK.get(e[2].get("covered"), len(RANK)))

    @property
    def also(self) -> list[tuple[str, str]]:
        """The other verdicts the cell's actions give."""
        return [v for v in dict.fromkeys(verdict(e[2]) for e in self.entries) if v != self.verdict]


def _literals(action: dict) -> set[str]:
    found = set()
    for cond in action.get("condition") or []:
        found.update(_LITERAL.findall((cond.get("expression") or {}).get("expression") or ""))
    return found


def _use_context(resource: dict, code: str) -> list[dict]:
    return [u for u in resource.get("useContext") or [] if (u.get("code") or {}).get("code") == code]


def _rule(pd: dict) -> Rule:
    focus = [(c.get("system"), c.get("code")) for u in _use_context(pd, "focus")
             for c in (u.get("valueCodeableConcept") or {}).get("coding") or [] if c.get("code")]
    payer = next((u["valueReference"].get("reference", "").split("/")[-1] for u in _use_context(pd, "payer")
                  if isinstance(u.get("valueReference"), dict)), None)
    lines = [c.get("display") or c.get("code") for u in _use_context(pd, "line-of-business")
             for c in (u.get("valueCodeableConcept") or {}).get("coding") or []]
    number = next((i.get("value") for i in pd.get("identifier") or [] if i.get("value")), None)
    return Rule(pd, payer or None, focus, lines, number)


def _is_payer(org: dict) -> bool:
    return any((c.get("system"), c.get("code")) == PAYER_TYPE for t in org.get("type") or [] for c in t.get("coding") or [])


class Catalog:
    """The view of the index the pages read; built once at start-up."""

    def __init__(self, index: ResourceIndex):
        self.index = index
        self.rules = [_rule(pd) for pd in sorted(index.all("PlanDefinition"), key=lambda r: r["id"])]
        self.rules_by_id = {r.id: r for r in self.rules}
        ruled = {r.payer for r in self.rules if r.payer}
        self.payers = sorted((o for o in index.all("Organization") if _is_payer(o) or o["id"] in ruled),
                             key=lambda o: (o.get("name") or o["id"]).lower())
        self.codes = sorted({c for r in self.rules for c in r.codes}, key=lambda c: (c[1], c[0] or ""))
        self.payers_by_id = {p["id"]: p for p in self.payers}
        self.by_payer: dict[str | None, list[Rule]] = defaultdict(list)  # None: rules for any payer
        for rule in self.rules:
            self.by_payer[rule.payer].append(rule)
        self.cells = {(p["id"], code): Cell(p["id"], code) for p in self.payers for _, code in self.codes}
        for pid in self.payers_by_id:
            for rule in self.by_payer.get(pid, []):
                for _, code in rule.codes:
                    self.cells[(pid, code)].entries += [(rule, a, determination(a)) for a in rule.actions_for(code)
                                                        if determination(a) is not None]
        self.naming: dict[str, list[Rule]] = {}  # code -> rules whose focus or conditions name it
        for rule in self.rules:
            named = {c for _, c in rule.codes} | {lit for a in rule.resource.get("action") or [] for lit in _literals(a)}
            for code in named:
                self.naming.setdefault(code, []).append(rule)
        self.charge_items: dict[str, list[dict]] = {}
        for cid in sorted(index.all("ChargeItemDefinition"), key=lambda c: c["id"]):
            for coding in (cid.get("code") or {}).get("coding") or []:
                self.charge_items.setdefault(coding.get("code"), []).append(cid)
        lines = {c.get("code"): c.get("display") or c.get("code") for r in self.rules
                 for u in _use_context(r.resource, "line-of-business")
                 for c in (u.get("valueCodeableConcept") or {}).get("coding") or []}
        self.names = {"%payerId": {p["id"]: p.get("name") or p["id"] for p in self.payers}, "%linesOfBusiness": lines,
                      "ValueSet": {v["url"]: v.get("title") or v.get("name") or v["url"] for v in index.all("ValueSet")
                                   if v.get("url")}}
        self.findings = [i for o in index.outcomes.values() for i in o.get("issue") or []]
        titles = {f"{r['resourceType']}/{r['id']}": r.get("title") or r.get("name") or r["id"]
                  for t in index.types() for r in index.all(t)}
        self.sources: dict[str, Source] = load_sources(index, self.findings, titles)
        self.source_by_file = {f: s for s in self.sources.values() for f in s.files}
        self.procedure_systems = {s for s, _ in self.codes}
        self.doc_payers: dict[str, list[str]] = defaultdict(list)
        for doc in index.all("DocumentReference"):  # the payer the document itself names (author, custodian)
            for ref in (doc.get("author") or []) + [doc.get("custodian") or {}]:
                pid = (ref.get("reference") or "").rsplit("Organization/", 1)[-1] if "Organization/" in \
                    (ref.get("reference") or "") else None
                name = self.payer_name(pid) if pid and self.payer(pid) else ref.get("display")
                if name and name not in self.doc_payers[doc["id"]]:
                    self.doc_payers[doc["id"]].append(name)
        for rule in self.rules:
            docs = {(a.get("document") or {}).get("url") for a in rule.resource.get("relatedArtifact") or []}
            doc_id = next(iter(docs)).rsplit("/", 1)[-1] if len(docs) == 1 and rule.payer else None
            if doc_id and self.payer_name(rule.payer) not in self.doc_payers[doc_id]:
                self.doc_payers[doc_id].append(self.payer_name(rule.payer))
        self.findings_by_code: dict[str, list[dict]] = defaultdict(list)
        for f in self.findings:
            self.findings_by_code[self.finding_field(f, "code")].append(f)
        self.stale = {c for c, fs in self.findings_by_code.items() if any(_finding_code(f) == "payment-stale" for f in fs)}
        self.forms = Forms(index, self.rules)  # DTR Questionnaires the rules link
        self.provenance: dict[str, list[dict]] = defaultdict(list)  # "Type/id" -> its Provenance entities
        for prov in index.all("Provenance"):
            for target in prov.get("target") or []:
                self.provenance[target.get("reference")].extend(prov.get("entity") or [])

    def payer(self, pid: str) -> dict | None:
        return self.payers_by_id.get(pid)

    def payer_name(self, pid: str | None) -> str:
        p = self.payer(pid) if pid else None
        return (p.get("name") or pid) if p else (pid or "any payer")

    def payer_rules(self, pid: str) -> list[Rule]:
        return self.by_payer.get(pid, [])

    def cross_payer_rules(self, code: str) -> list[Rule]:
        return [r for r in self.by_payer.get(None, []) if any(c == code for _, c in r.codes)]

    def document_payers(self, doc_id: str) -> list[str]:
        """Payers of the rules built from this document alone (a rule citing several documents names none)."""
        return self.doc_payers.get(doc_id, [])

    def provenance_of(self, ref: str) -> list[dict]:
        return self.provenance.get(ref, [])

    def payor(self, text: str) -> dict | None:
        """Coverage.payor for the console: a known payer (by id, name or alias) with its identifiers, else the text
        as a display; None for no coverage."""
        if not text:
            return None
        low = text.lower()
        org = next((p for p in self.payers if low in [p["id"], (p.get("name") or "").lower()]
                    + [a.lower() for a in p.get("alias") or []]), None)
        if org is None:
            return {"display": text}
        payor = {"display": org.get("name") or org["id"]}
        if org.get("identifier"):
            payor["identifier"] = org["identifier"][0]
        return payor

    def payments(self, code: str) -> list[dict]:
        """Payment benchmarks of a code: setting, year, amount, and whether the figure is stale (its period has
        ended, or a QA finding says so)."""
        out = []
        for cid in self.charge_items.get(code, []):
            period = cid.get("effectivePeriod") or {}
            venue = next((u.get("valueCodeableConcept", {}).get("text") for u in _use_context(cid, "venue")), "")
            component = ((cid.get("propertyGroup") or [{}])[0].get("priceComponent") or [{}])[0]
            out.append({"resource": cid, "setting": venue or cid.get("title"), "year": (period.get("start") or "")[:4],
                        "amount": (component.get("amount") or {}).get("value"),
                        "note": (component.get("code") or {}).get("text"),
                        "quote": ((cid.get("applicability") or [{}])[0]).get("description"),
                        "stale": code in self.stale or (period.get("end") or "9999") < date.today().isoformat()})
        return out

    def finding_field(self, finding: dict, name: str):
        for ext in finding.get("extension") or []:
            for sub in ext.get("extension") or []:
                if sub.get("url") == name:
                    return next((v for k, v in sub.items() if k.startswith("value")), None)
        return None

    def finding_document(self, finding: dict) -> str | None:
        src = self.source_by_file.get(self.finding_field(finding, "file") or self.finding_field(finding, "code") or "")
        return src.id if src else None

    def group_findings(self, findings: list[dict]) -> list[tuple[str, list[dict]]]:
        groups: dict[str, list[dict]] = {}
        for f in findings:
            groups.setdefault(_finding_code(f), []).append(f)
        return sorted(groups.items())


def _finding_code(finding: dict) -> str:
    return ((finding.get("details") or {}).get("coding") or [{}])[0].get("code") or finding.get("code") or "finding"
