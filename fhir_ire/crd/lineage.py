"""Which payers a payer is part of (a brand's regional plan, a program's contractor or state program), read once at
load from the payer Organizations' `partOf`, and the view of an ancestor's rule action as it applies to a
descendant's member (docs/crd.md, "Payers that are part of another")."""

from dataclasses import replace

from fhir_ire.errors import BundleError

MAX_DEPTH = 4  # ancestors a payer may have: plan, brand, holding... deeper is a data error, refused at load


def parent_of(org: dict) -> str | None:
    """The id of the Organization an Organization's partOf references (relative, absolute or versioned)."""
    ref = (org.get("partOf") or {}).get("reference")
    if not isinstance(ref, str) or "Organization/" not in ref:
        return None
    return ref.rsplit("Organization/", 1)[1].split("/", 1)[0] or None


def ancestry(payers: dict[str, dict]) -> dict[str, tuple[str, ...]]:
    """{payer id: its ancestors, nearest first} for the payers that have any. A partOf that names no loaded payer
    ends the line (a parent that is not a payer has no payer rules). A cycle, or a line deeper than MAX_DEPTH,
    stops the load with one line (BundleError)."""
    parents = {pid: p for pid, org in payers.items() if (p := parent_of(org)) in payers}
    out = {}
    for pid in parents:
        line, at = [], pid
        while at in parents:
            at = parents[at]
            if at == pid or at in line:
                raise BundleError(f"Organization/{pid}: its partOf makes a cycle ({' -> '.join([pid, *line, at])})")
            line.append(at)
            if len(line) > MAX_DEPTH:
                raise BundleError(f"Organization/{pid}: its partOf line is deeper than {MAX_DEPTH} payers "
                                  f"({' -> '.join([pid, *line])} ...)")
        out[pid] = tuple(line)
    return out


def _as_payer(fn, override: dict):
    """A compiled condition evaluated with the ancestor as the payer whose policy it is (%payerId, %payer)."""
    return lambda focus, env: fn(focus, {**env, **override})


def inherited(action, member: dict, owner: dict, level: int):
    """An ancestor's (owner's) rule action as it applies to a member of a payer that is part of it (member): its
    conditions see the owner as %payerId and %payer, so the rule is the same FHIRPath the owner's members meet;
    its card and coverage-information say whose policy it is. level: how far up the owner is (1: the parent)."""
    override = {"payerId": [owner["id"]], "payer": [owner]}
    owner_name, member_name = owner.get("name") or owner["id"], member.get("name") or member["id"]
    note = f"{member_name} is part of {owner_name}: {owner_name}'s policy applies."
    determination = action.determination
    if determination is not None:
        reason = determination.get("reason")
        determination = {**determination, "reason": f"{reason} ({note})" if reason else note}
    topic, detail, indicator = action.card_text
    return replace(action, rank=(level, *action.rank[1:]), determination=determination, shaped={},
                   card_text=(topic, f"*{note}*\n\n{detail}" if detail else note, indicator),
                   tests=[(_as_payer(fn, override), focus) for fn, focus in action.tests],
                   removals=[_as_payer(fn, override) for fn in action.removals])
