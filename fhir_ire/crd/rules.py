"""Coverage-rule PlanDefinitions (docs/rules.md) indexed by procedure code and payer, conditions compiled once."""

from collections import defaultdict
from dataclasses import dataclass, field

from fhirpathpy import compile as compile_fhirpath

from fhir_ire.names import name_key as key_of
from fhir_ire.store import ResourceIndex
from fhir_ire.uris import CS_USAGE_CONTEXT, EXT_DETERMINATION, USAGE_CONTEXT_TYPE, normalize_system

DETERMINATION_REPEATS = {"doc-needed", "doc-purpose", "info-needed", "requirement"}


@dataclass
class Action:
    raw: dict
    hooks: set
    conditions: list  # compiled FHIRPath functions
    determination: dict | None
    removals: list = field(default_factory=list)  # compiled FHIRPath selecting draft orders to delete


@dataclass
class Rule:
    plan: dict
    codes: set  # {(system, code)}
    payer_id: str | None
    actions: list[Action]


def _compile(expression: str):
    return compile_fhirpath(expression)


def _determination(action: dict, base_suffix: str) -> dict | None:
    ext = next((e for e in action.get("extension") or [] if e.get("url", "").endswith(base_suffix)), None)
    if ext is None:
        return None
    out: dict = {}
    for sub in ext.get("extension") or []:
        value = sub.get("valueCode", sub.get("valueString"))
        if sub["url"] in DETERMINATION_REPEATS:
            out.setdefault(sub["url"], []).append(value)
        else:
            out[sub["url"]] = value
    return out


def _action(raw: dict) -> Action:
    hooks = {t.get("name") for t in raw.get("trigger") or [] if t.get("type") == "named-event"}
    conditions = [_compile(c["expression"]["expression"]) for c in raw.get("condition") or []
                  if c.get("kind") == "applicability" and (c.get("expression") or {}).get("language") == "text/fhirpath"]
    removals = [_compile(dv["expression"]["expression"]) for sub in raw.get("action") or []
                for dv in sub.get("dynamicValue") or [] if dv.get("path") == "resourceId"
                and any(c.get("code") == "remove" for c in (sub.get("type") or {}).get("coding", []))]
    return Action(raw=raw, hooks=hooks, conditions=conditions, determination=_determination(raw, EXT_DETERMINATION),
                  removals=removals)


class RuleIndex:
    """Rules by (system, code); payers by normalised name, alias and identifier."""

    def __init__(self, index: ResourceIndex):
        self.index = index
        self.by_code: dict[tuple, list[Rule]] = defaultdict(list)
        self.payer_keys: dict[str, str] = {}
        self.payers: dict[str, dict] = {}
        for org in index.all("Organization"):
            if any(c.get("code") == "pay" for t in org.get("type") or [] for c in t.get("coding") or []):
                self.payers[org["id"]] = org
                for name in [org.get("name")] + list(org.get("alias") or []):
                    if name:
                        self.payer_keys[key_of(name)] = org["id"]
                for ident in org.get("identifier") or []:
                    if ident.get("value"):
                        self.payer_keys[key_of(ident["value"])] = org["id"]
        self.count = 0
        for pd in index.all("PlanDefinition"):
            if not any(c.get("code") == "eca-rule" for c in (pd.get("type") or {}).get("coding", [])):
                continue
            rule = self._rule(pd)
            self.count += 1
            for code in rule.codes:
                self.by_code[code].append(rule)
        self.charge_items: dict[tuple, list[dict]] = defaultdict(list)
        for cid in index.all("ChargeItemDefinition"):
            for c in (cid.get("code") or {}).get("coding") or []:
                self.charge_items[(normalize_system(c.get("system")), c.get("code"))].append(cid)

    def _rule(self, pd: dict) -> Rule:
        codes, payer = set(), None
        for use in pd.get("useContext") or []:
            code = use.get("code") or {}
            if code.get("system") == USAGE_CONTEXT_TYPE and code.get("code") == "focus":
                for c in (use.get("valueCodeableConcept") or {}).get("coding") or []:
                    codes.add((normalize_system(c.get("system")), c.get("code")))
            elif code.get("system", "").endswith(CS_USAGE_CONTEXT) and code.get("code") == "payer":
                ref = (use.get("valueReference") or {}).get("reference", "")
                payer = ref.split("/", 1)[1] if ref.startswith("Organization/") else None
        return Rule(plan=pd, codes=codes, payer_id=payer, actions=[_action(a) for a in pd.get("action") or []])

    def rules_for(self, codings: list[dict]) -> list[Rule]:
        seen, out = set(), []
        for c in codings:
            for rule in self.by_code.get((normalize_system(c.get("system")), c.get("code")), []):
                if id(rule) not in seen:
                    seen.add(id(rule))
                    out.append(rule)
        return out

    def match_payer(self, names: list[str]) -> str | None:
        for name in names:
            if (pid := self.payer_keys.get(key_of(name))) is not None:
                return pid
        return None
