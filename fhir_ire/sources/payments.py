"""Payment figures: the per-code payment table of a reimbursement guide (a table PDF extraction breaks over many
lines: a code, its descriptor, then the values of each setting), and amounts a page gives for a code ('Est. Medicare
Payment $228.46', '50593 $480.35')."""

import re
from functools import lru_cache

from fhir_ire.data import load
from fhir_ire.facts import Payment
from fhir_ire.sources import shapes
from fhir_ire.sources.layout import Block, Layout
from fhir_ire.sources.text import Passage, sentences

_TOKEN = re.compile(r"No\s+national\s+(?:set\s+)?payment|\bN/?A\b|\$\s?[\d,]+(?:\.\d+)?|\(\s*[A-Z][0-9A-Z]?\s*\)"
                    r"|\b\d+(?:\.\d+)?\b", re.IGNORECASE)
_MONEY = re.compile(r"\$\s?(?P<n>\d{1,3}(?:,\d{3})*(?:\.\d{2})|\d+\.\d{2})")
_NOT_REPORT_PAREN = re.compile(r"\(?\s*Do\s+not\s+report[^)]*\)?", re.IGNORECASE)
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")


@lru_cache(maxsize=1)
def _vocab() -> dict:
    return load("reports.json")["payments"]


def is_value_block(text: str) -> bool:
    rest = _TOKEN.sub("", text)
    return bool(_TOKEN.search(text)) and not re.search(r"[A-Za-z]{3,}", rest)


def _is_na(token: str) -> bool:
    return token.upper().replace("/", "") == "NA"


def table_year(layout: Layout) -> int | None:
    flow = " ".join(b.clean for b in layout.blocks)
    for rx in (r"\b((?:19|20)\d{2})\s+(?:Medicare\s+)?National\s+Average\s+Payment", r"\bCY\s*((?:19|20)\d{2})\b",
               rf"\beffective\s+(?:as\s+of\s+)?(?:{shapes.DATE})", r"\bon\s+or\s+after\s+(?:" + shapes.DATE + ")"):
        if m := re.search(rx, flow, re.I):
            years = _YEAR.findall(m.group(0))
            return int(years[-1]) if years else None
    return None


def payment_table(doc_lines: list[str], file: str, layout: Layout, year: int | None):
    """(descriptor facts, payments) of the table: (code, descriptor passage, [(token, line)]) per code block."""
    blocks, entries = layout.blocks, []
    starts = [k for k, b in enumerate(blocks) if b.kind == "paragraph" and re.fullmatch(
        rf"(?:CPT®?\s*)?{shapes.CPT_CODE}", b.clean)]
    for n, k in enumerate(starts):
        stop = starts[n + 1] if n + 1 < len(starts) else len(blocks)
        desc: list[Block] = []
        tokens: list[tuple[str, int]] = []
        for b in blocks[k + 1:stop]:
            if tokens and len(b.clean) > 70 and not is_value_block(b.clean):
                break  # prose after the table
            if b.kind == "paragraph" and is_value_block(b.clean):
                tokens += [(t.group(0), b.line) for t in _TOKEN.finditer(b.clean)]
            elif not tokens and b.kind == "paragraph":
                desc.append(b)
            elif tokens:
                break
        if desc:
            code = re.search(shapes.CPT_CODE, blocks[k].clean).group(0)
            passage = Passage(file, [(n_, doc_lines[n_ - 1]) for d in desc for n_ in range(d.line, d.end_line + 1)])
            descriptor = re.sub(r"\s+", " ", _NOT_REPORT_PAREN.sub("", passage.clean)).strip(" ,;")
            entries.append((code, descriptor, passage.source(), _payments(code, tokens, year, file, doc_lines)))
    return entries


def _payments(code: str, tokens: list[tuple[str, int]], year, file: str, lines: list[str]) -> list[Payment]:
    """Interpret the value tokens after a descriptor: physician fee schedule (RVUs and amounts, or 'no national
    payment'), then the OPPS APC with its status indicator and amount, then the ASC amount and its indicator."""
    kinds = ["none" if t.lower().startswith("no") else "na" if _is_na(t) else "money"
             if t.startswith("$") else "ind" if t.startswith("(") else "num" for t, _ in tokens]
    apc_at = next((i for i, k in enumerate(kinds) if k == "num" and re.fullmatch(r"\d{4}", tokens[i][0])
                   and i + 1 < len(kinds) and kinds[i + 1] == "ind"), None)
    physician = tokens[:apc_at] if apc_at is not None else tokens
    after = tokens[apc_at:] if apc_at is not None else []
    facts = []

    def add(setting, amount_tok, *, rvu=None, apc=None, ind=None, note=""):
        used = [x for x in (amount_tok, rvu, apc, ind) if x]
        first, last = min(ln for _, ln in used), max(ln for _, ln in used)
        src = Passage(file, [(n, lines[n - 1]) for n in range(first, last + 1)]).source()
        amount = float(amount_tok[0].strip("$ ").replace(",", "")) if amount_tok and amount_tok[0].startswith("$") \
            else None
        facts.append(Payment(source=src, code=code, setting=setting, year=year, amount=amount,
                             rvu=float(rvu[0]) if rvu else None, apc=apc[0] if apc else None,
                             indicator=ind[0].strip("() ") if ind else None, note=note))

    if any(re.match(r"no\s", t, re.I) for t, _ in physician):
        none_tok = next(x for x in physician if x[0].lower().startswith("no"))
        for setting in ("physician-non-facility", "physician-facility"):
            add(setting, none_tok, note=re.sub(r"\s+", " ", none_tok[0]))
    else:
        pairs = [(physician[i], physician[i + 1]) for i in range(0, len(physician) - 1, 2)]
        for setting, (rvu, money) in zip(("physician-non-facility", "physician-facility"), pairs):
            not_paid = _is_na(rvu[0]) and _is_na(money[0])
            add(setting, money, rvu=None if _is_na(rvu[0]) else rvu, note="Not applicable (NA)" if not_paid else "")
    if len(after) >= 2:
        apc, ind = after[0], after[1]
        money = next((t for t in after[2:] if t[0].startswith("$")), None)
        add("hospital-outpatient", money, apc=apc, ind=ind)
        rest = after[after.index(money) + 1:] if money else []
        asc_money = next((t for t in rest if t[0].startswith("$")), None)
        asc_ind = next((t for t in rest if t[0].startswith("(")), None)
        if asc_money or asc_ind:
            add("asc", asc_money, ind=asc_ind)
    return facts


def _setting(text: str) -> str:
    return next((s for s, words in _vocab()["settings"].items() if any(w in text.lower() for w in words)),
                "unspecified")


def column_amounts(layout: Layout, primary: str | None = None) -> list[Payment]:
    """Amounts in a table whose header names a payment column per setting ('CPT Code | Descriptor | 2025
    Non-Facility Price | 2025 Facility Price'): one payment per code row and money column, its year from the column
    header. In a document about one code (primary), a row named by its setting ('Hospital Outpatient | OPPS | ... |
    $6,518.79') is that code's payment in that setting."""
    words = _vocab()["columns"]
    facts = []
    for k, b in enumerate(layout.blocks):
        if b.kind != "table" or len(b.rows) < 2:
            continue
        header = [c.clean for c in b.rows[0].cells]
        before = layout.blocks[k - 1].clean if k and len(layout.blocks[k - 1].clean.split()) <= 8 else ""
        title = f"{b.section} {before}"
        # a column named by a payment word ('2025 Facility Price'), or by its setting under a heading that names the
        # payments ('2025 MEDICARE NATIONAL AVERAGE PAYMENT' over 'Physician (facility) | Hospital outpatient (OPPS)')
        titled = any(w in title.lower() for w in words)
        money = [k for k, h in enumerate(header) if k > 0 and (any(w in h.lower() for w in words)
                                                                 or titled and _setting(h) != "unspecified")]
        if not money:
            continue
        for row in b.rows[1:]:
            cells = [c.clean.strip() for c in row.cells]
            if not cells or not cells[0]:
                continue
            code = cells[0] if re.fullmatch(shapes.PROCEDURE_CODE, cells[0]) else \
                primary if primary and not any(ch.isdigit() for ch in cells[0]) else None
            if code is None:
                continue
            for n in money:
                if n < len(cells) and (m := _MONEY.fullmatch(cells[n])):
                    year = _YEAR.search(header[n]) or (_YEAR.search(title) if titled else None)
                    setting = _setting(header[n]) if code == cells[0] else _setting(f"{cells[0]} {header[n]}")
                    facts.append(Payment(source=row.cells[n].source(), code=code, setting=setting,
                                         year=int(year.group(0)) if year else None,
                                         amount=float(m.group("n").replace(",", ""))))
    return facts


def amounts(layout: Layout, primary: str | None, table_codes: set[str]) -> list[Payment]:
    """Amounts given for a code outside a payment table: the code right before the amount, else the page's code,
    when the block or the heading or item before it names a payment program."""
    vocab, facts = _vocab(), []
    blocks = layout.blocks
    opening = " ".join(x.clean for x in blocks[:3]).lower()  # a guide's cover names its program once for all
    above = None  # the code opening the code line that amounts are set out under ('0600T - ...' / 'Facility: $...')
    for k, b in enumerate(blocks):
        if b.kind in ("paragraph", "item") and (lead := re.match(rf"({shapes.PROCEDURE_CODE})\b", b.clean)):
            above = lead.group(1)
        elif b.kind == "heading" or b.kind in ("paragraph", "item") and not _MONEY.search(b.clean):
            above = None
        if b.kind == "table" or b.kind == "field" and (b.value is None or not _MONEY.fullmatch(b.value.clean.strip())):
            continue  # a field is a payment when its value is an amount ('2025 OPPS national payment: $9,743.51')
        for m in _MONEY.finditer(b.clean):
            before = b.clean[max(0, m.start() - 60):m.start()].lower()
            if any(w in before for w in vocab["not_payment"]):
                continue
            label = b.clean[max(0, m.start() - 60):m.start()]
            labelled = _YEAR.search(label) if any(w in label.lower() for w in vocab["program"]) else None
            context = " ".join(x.clean for x in blocks[max(0, k - 1):k + 2]).lower() + " " + opening
            near = re.search(rf"({shapes.PROCEDURE_CODE})[\s:]*$", b.clean[:m.start()])
            code = near.group(1) if near else above if b.kind == "field" and above else primary or _only_code(b.clean,
                                                                                                            m.start())
            if code is None or code in table_codes or not any(w in context for w in vocab["program"]):
                continue
            window = " ".join(x.clean for x in blocks[k:k + 2])
            year = int(labelled.group(0)) if labelled else next((int(y) for y in _YEAR.findall(window) if re.search(
                rf"{y}\s+(?:CMS\s+)?(?:PFS|physician|fee|medicare|national|reimbursement|io|coding|conversion)", window,
                re.I) or re.search(rf"{y}[\w .]*(?:reimbursement|coding) guide", window, re.I)), None)
            year = year or _year_before(blocks, k) if code == above and not near else year
            setting = _setting(window)
            facts.append(Payment(source=b.text.source(near.start(1) if near else m.start(), m.end()),
                                 code=code, setting=setting, year=year,
                                 amount=float(m.group("n").replace(",", ""))))
    return facts


def _only_code(text: str, at: int) -> str | None:
    """The one code the sentence of an amount names ('CMS assigns 0600T to a New Technology APC; its 2026 OPPS
    national payment is $8,946.50.'); None when it names none or several."""
    for a, z in sentences(text):
        if a <= at < z:
            codes = set(re.findall(rf"(?<![\w$.,/-])({shapes.PROCEDURE_CODE})(?![\w%/-])", text[a:z]))
            return codes.pop() if len(codes) == 1 else None
    return None


_YEAR_OF_AMOUNTS = re.compile(r"\b((?:19|20)\d{2})\s+(?:[\w-]+\s+){0,3}(?:allowances?|payments?|prices?|pricing|fee schedule"
                              r"|rates?|amounts?)\b", re.I)


def _year_before(blocks: list[Block], k: int) -> int | None:
    """The year the prose before a list of amounts gives them ('The amounts below are the 2026 contractor-priced
    allowances ...'): the nearest paragraph above, within the same section."""
    for b in reversed(blocks[max(0, k - 8):k]):
        if b.kind == "heading":
            break
        if b.kind == "paragraph" and (m := _YEAR_OF_AMOUNTS.search(b.clean)):
            return int(m.group(1))
    return None
