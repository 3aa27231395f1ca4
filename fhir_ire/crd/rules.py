"""Coverage-rule PlanDefinitions (docs/rules.md) read once at start-up: conditions compiled to closures, and every
action indexed by the codes and payer it can apply to, so a request only looks at actions for what it orders."""

from collections import defaultdict
from dataclasses import dataclass, field

from fhir_ire.crd.cards import card_text
from fhir_ire.crd.lineage import MAX_DEPTH, ancestry, inherited
from fhir_ire.errors import BundleError
from fhir_ire.fhirpath import Expression
from fhir_ire.fhirpath.requirements import required_codings, required_value
from fhir_ire.logs import escape
from fhir_ire.names import name_key as key_of
from fhir_ire.store import ResourceIndex
from fhir_ire.uris import CS_USAGE_CONTEXT, EXT_DETERMINATION, USAGE_CONTEXT_TYPE, normalize_system

DETERMINATION_REPEATS = {"doc-needed", "doc-purpose", "info-needed", "requirement"}
CROSS_PAYER = MAX_DEPTH + 1  # rank of cross-payer actions: after the payer's and its ancestors' (0, then 1..)


@dataclass
class Rule:
    plan: dict
    codes: set  # {(system, code)}
    payer_id: str | None
    label: str  # the cards' source.label: the payer's name, else the publisher
    actions: list = field(default_factory=list)


@dataclass
class Action:
    raw: dict
    rule: Rule
    rank: tuple  # (level, rule, action): the payer's (0), its ancestors' (1..), cross-payer; bundle order
    hooks: set
    conditions: list  # Expressions, all must be true
    determination: dict | None
    removals: list = field(default_factory=list)  # Expressions selecting the draft orders to delete
    card_text: tuple = ()  # (topic, detail, indicator, summary) of its card: crd/cards.py card_text
    links: dict = field(default_factory=dict)  # {FHIR base: its card links}: crd/cards.py cached_links
    tests: list = field(default_factory=list)  # (fn, focus) of each condition: fn(focus, env), the focus made once
    shaped: dict = field(default_factory=dict)  # its determination as each hook and CRD version say it: shaped_for
    questionnaires: list = field(default_factory=list)  # the DTR Questionnaires its sub-actions name
    payer: str | None = None  # the payer it is indexed under (None: cross-payer)


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


def _is_indexed_by(condition: Expression) -> bool:
    """A condition on the ordered codes or the payer, which the index reads: true for most actions it hands out."""
    tree = condition.tree
    return tree is not None and (required_codings(tree, "orderCodes") is not None
                                 or required_value(tree, "payerId") is not None)


def _in_test_order(conditions: list[Expression]) -> list[Expression]:
    """The conditions the index does not read first: an action that does not apply is usually told by them. All
    must be true, and one that cannot be evaluated makes the action not apply, whatever the order."""
    return sorted(conditions, key=_is_indexed_by)


class RuleIndex:
    """Actions by (system, code) and payer id (None for cross-payer); payers by normalised name, alias, identifier."""

    def __init__(self, index: ResourceIndex):
        self.index = index
        self.by_code: dict[tuple, list[Rule]] = defaultdict(list)
        self.actions: dict[tuple, dict[str | None, list[Action]]] = defaultdict(lambda: defaultdict(list))
        self.expressions: dict[str, Expression] = {}  # one compiled expression per distinct text
        self.ranked: dict[tuple, list[Action]] = {}  # (code, payer id) -> its actions in order: _ranked
        self.views: dict[tuple, Action] = {}  # (payer id, id(ancestor's action)) -> lineage.inherited, made on demand
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
        self.lineage = ancestry(self.payers)  # {payer id: its ancestors, nearest first}, for those that have any
        self.count = 0
        for pd in index.all("PlanDefinition"):
            if not any(c.get("code") == "eca-rule" for c in (pd.get("type") or {}).get("coding", [])):
                continue
            rule = self._rule(pd)
            for code in rule.codes:
                self.by_code[code].append(rule)
            for n, raw in enumerate(pd.get("action") or []):
                self._add_action(rule, raw, (self.count, n))
            self.count += 1
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
        label = (self.payers.get(payer) or {}).get("name") or pd.get("publisher") or "fhir-ire"
        return Rule(plan=pd, codes=codes, payer_id=payer, label=label)

    def _expression(self, text: str, where: str) -> Expression:
        """The compiled expression; one that does not compile stops the start-up with one line (BundleError)."""
        if text not in self.expressions:
            try:
                self.expressions[text] = Expression(text)
            except Exception as e:  # noqa: BLE001 - fhirpathpy's parser raises several kinds of errors
                raise BundleError(f"{where}: the FHIRPath expression '{escape(text, 300)}' does not compile: "
                                  f"{escape(e, 200) or type(e).__name__}") from None
        return self.expressions[text]

    def _add_action(self, rule: Rule, raw: dict, order: tuple) -> None:
        where = f"PlanDefinition/{rule.plan.get('id')} action {raw.get('id')}"
        hooks = {t.get("name") for t in raw.get("trigger") or [] if t.get("type") == "named-event"}
        conditions = [self._expression(c["expression"]["expression"], where) for c in raw.get("condition") or []
                      if c.get("kind") == "applicability"
                      and (c.get("expression") or {}).get("language") == "text/fhirpath"]
        removals = [self._expression(dv["expression"]["expression"], where) for sub in raw.get("action") or []
                    for dv in sub.get("dynamicValue") or [] if dv.get("path") == "resourceId"
                    and any(c.get("code") == "remove" for c in (sub.get("type") or {}).get("coding", []))]
        trees = [c.tree for c in conditions if c.tree is not None]
        payer = rule.payer_id or next((p for p in (required_value(t, "payerId") for t in trees) if p), None)
        action = Action(raw=raw, rule=rule, rank=(CROSS_PAYER if payer is None else 0, *order), hooks=hooks,
                        conditions=conditions, payer=payer,
                        determination=_determination(raw, EXT_DETERMINATION), removals=removals,
                        card_text=card_text(raw), tests=[c.bound({}) for c in _in_test_order(conditions)],
                        questionnaires=[a["definitionCanonical"] for a in raw.get("action") or []
                                        if a.get("definitionCanonical")])
        rule.actions.append(action)
        needed = [s for s in (required_codings(t, "orderCodes") for t in trees) if s is not None]
        codes = min(needed, key=len) if needed else rule.codes
        if not codes <= rule.codes:  # the rule's focus bounds where it is looked for
            codes = rule.codes
        for code in codes:
            self.actions[code][payer].append(action)

    def governs(self, codings: list[dict]) -> bool:
        return any((normalize_system(c.get("system")), c.get("code")) in self.by_code for c in codings)

    def order_code(self, codings: list[dict]) -> str:
        """The code an order is named by: its first code a rule governs, else its first code."""
        for c in codings:
            if (c.get("system"), c.get("code")) in self.by_code:
                if c.get("code"):
                    return c["code"]
                break
        return next((c["code"] for c in codings if c.get("code")), "this order")

    def actions_for(self, codings: list[dict], payer_id: str | None) -> list[Action]:
        """The actions that can apply to an order with these codings for this payer, in evaluation order (read
        only: an order with one code gets the list kept for its code and payer)."""
        keys = [key for c in codings if (key := (normalize_system(c.get("system")), c.get("code"))) in self.actions]
        if len(keys) == 1:
            return self._ranked(keys[0], payer_id)
        seen, out = set(), []
        for key in keys:
            for action in self._ranked(key, payer_id):
                if id(action) not in seen:
                    seen.add(id(action))
                    out.append(action)
        out.sort(key=lambda a: a.rank)
        return out

    def _ranked(self, key: tuple, payer_id: str | None) -> list[Action]:
        """One indexed code's actions for a payer: its own, then its ancestors' (nearest first, each evaluated as
        that ancestor's policy: lineage.inherited), then cross-payer ones; worked out once per code and payer
        (both bounded by the index: a payer without actions of its line for the code shares the cross-payer
        list)."""
        ranked = self.ranked.get((key, payer_id))
        if ranked is None:
            by_payer = self.actions[key]
            line = [p for p in (payer_id, *self.lineage.get(payer_id, ())) if p and p in by_payer]
            payer = payer_id if line else None
            ranked = self.ranked.get((key, payer))
            if ranked is None:
                own = [a for p in line for a in self._as_member(by_payer[p], payer)] + by_payer.get(None, [])
                ranked = self.ranked[(key, payer)] = sorted({id(a): a for a in own}.values(), key=lambda a: a.rank)
        return ranked

    def _as_member(self, actions: list[Action], payer: str) -> list[Action]:
        """A payer's own actions as they are; an ancestor's as they apply to this payer's members (one view per
        payer and action, kept: an order with several codes meets the same view under each)."""
        if not actions or actions[0].payer == payer:
            return actions
        line = self.lineage[payer]
        return [self.views.get((payer, id(a))) or self.views.setdefault(
            (payer, id(a)), inherited(a, self.payers[payer], self.payers[a.payer], line.index(a.payer) + 1))
            for a in actions]

    def match_payer(self, names: list[str]) -> str | None:
        for name in names:
            if (pid := self.payer_keys.get(key_of(name))) is not None:
                return pid
        return None
