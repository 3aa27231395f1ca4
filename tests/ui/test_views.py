"""The pages' plain functions without a browser: citations, rules in words, verdicts, the console's requests, the
matrix from a synthetic index; and every page and link of the app over the committed bundles."""

import re
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlparse

import jsonschema
import pytest
from flask import Flask
from markupsafe import escape

from fhir_ire import create_app
from fhir_ire.app import mount
from fhir_ire.citations import cited_page, line_span
from fhir_ire.data import load as load_data
from fhir_ire.store import ResourceIndex
from fhir_ire.web.ui_catalog import Catalog
from fhir_ire.web.ui_hooks import build_request, coverage_type
from fhir_ire.web.ui_rules import describe, verdict

CPT = "http://www.ama-assn.org/go/cpt"


@pytest.mark.parametrize("text, span", [
    ("003_x.txt:60", ("003_x.txt", 60, 60)),
    ("002_y.txt:4-5", ("002_y.txt", 4, 5)),
    ('a b.txt:7-9: "a quote: with colon"', ("a b.txt", 7, 9)),
    ("001_z.txt#L41", ("001_z.txt", 41, 41)),
    ("no position here", None),
    (None, None),
], ids=["label", "label-range", "provenance-display", "qa-location", "none", "empty"])
def test_line_span_reads_the_positions_the_build_writes(text, span):
    assert line_span(text) == span


def test_a_citation_links_to_its_source_page_at_the_quoted_line():
    art = {"label": "003_x.txt:60-61", "document": {"url": "DocumentReference/doc-003-x"}}
    assert cited_page("/ui", art) == "/ui/sources/doc-003-x#L60"
    assert cited_page("/ui", {"document": {"url": "DocumentReference/doc-1"}, "display": "T (f.txt:4-5)"}) \
        == "/ui/sources/doc-1#L4"
    assert cited_page("/ui", {"url": "https://example.org/policy"}) is None


NAMES = {"%payerId": {"p1": "First Payer"}, "%linesOfBusiness": {"ma": "Medicare Advantage"},
         "ValueSet": {"http://x/ValueSet/dx": "Related diagnoses"}}


@pytest.mark.parametrize("expression, words", [
    ("%payerId = 'p1'", "the patient's payer is First Payer"),
    (f"%orderCodes.where(system = '{CPT}' and (code = 'A1' or code = 'B2')).exists()",
     "the ordered procedure is one of A1, B2"),
    (f"%orderCodes.where(system = '{CPT}' and code in ('A1' | 'B2')).exists()", "the ordered procedure is one of A1, B2"),
    ("(%linesOfBusiness.empty() or %linesOfBusiness.where($this = 'ma').exists())",
     "either the coverage's line of business is not known, or the coverage's line of business is Medicare Advantage"),
    ("%reasonCodes.where(code.startsWith('C64')).empty()", "the order's diagnosis has no code starting with C64"),
    ("%conditions.code.coding.where(code.substring(0, 3) in ('G40' | 'I48') or code.substring(0, 5) in ('Z95.0'))"
     ".exists()", "a condition of the patient has a code starting with G40, I48, Z95.0"),
    ("%reasonCodes.where(memberOf('http://x/ValueSet/dx')).exists()", "the order's diagnosis has a code in Related diagnoses"),
    ("%payerId = 'p1' and %hook = 'order-sign'", "the patient's payer is First Payer; the hook is order-sign"),
], ids=["equality", "or-chain", "in-collection", "either", "starts-with-none", "prefix-families", "member-of", "and"])
def test_conditions_read_as_words(expression, words):
    assert describe(expression, NAMES) == words


@pytest.mark.parametrize("det, label", [
    (None, "No policy"),
    ({"covered": "not-covered", "doc-purpose": []}, "Not covered"),
    ({"covered": "conditional", "pa-needed": "auth-needed", "doc-purpose": ["withpa"]}, "Prior authorization"),
    ({"covered": "conditional", "pa-needed": "no-auth", "doc-purpose": ["withclaim"]},
     "Conditional: documentation with the claim"),
    ({"covered": "conditional", "pa-needed": "conditional", "doc-purpose": []}, "Covered with criteria"),
    ({"covered": "covered", "doc-purpose": []}, "Covered"),
], ids=["none", "not-covered", "prior-auth", "with-claim", "criteria", "covered"])
def test_verdicts_follow_the_coverage_information_codes(det, label):
    assert verdict(det)[0] == label


def _rule(rid, payer, codes, det):
    ext = [{"url": "http://b/StructureDefinition/coverage-determination",
            "extension": [{"url": k, "valueCode": v} for k, v in det.items()]}]
    use = [{"code": {"code": "focus"}, "valueCodeableConcept": {"coding": [{"system": CPT, "code": c} for c in codes]}}]
    if payer:
        use.append({"code": {"code": "payer"}, "valueReference": {"reference": f"Organization/{payer}"}})
    cond = " or ".join(f"code = '{c}'" for c in codes)
    return {"resourceType": "PlanDefinition", "id": rid, "title": f"rule {rid}", "useContext": use,
            "identifier": [{"value": f"N-{rid}"}],
            "action": [{"id": "a", "extension": ext, "condition": [{"kind": "applicability", "expression": {
                "expression": f"%orderCodes.where({cond}).exists()"}}]}]}


def test_the_matrix_is_payers_by_governed_codes_from_any_index():
    index = ResourceIndex()
    for pid in ("p1", "p2"):
        index.add({"resourceType": "Organization", "id": pid, "name": pid.upper(),
                   "type": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/organization-type",
                                         "code": "pay"}]}]})
    index.add(_rule("r1", "p1", ["X1", "X2"], {"covered": "conditional", "pa-needed": "auth-needed"}))
    index.add(_rule("r2", None, ["X3"], {"covered": "not-covered"}))
    both = _rule("r3", "p2", ["X2"], {"covered": "not-covered"})  # other indications first, as the build writes it
    both["action"] += _rule("r3", "p2", ["X2"], {"covered": "conditional", "pa-needed": "auth-needed"})["action"]
    index.add(both)
    catalog = Catalog(index)
    assert catalog.cells[("p2", "X2")].verdict[0] == "Prior authorization"
    assert [v[0] for v in catalog.cells[("p2", "X2")].also] == ["Not covered"]
    assert [c for _, c in catalog.codes] == ["X1", "X2", "X3"]
    assert catalog.cells[("p1", "X1")].verdict[0] == "Prior authorization"
    assert catalog.cells[("p1", "X1")].entries[0][0].short == "policy N-r1"
    assert catalog.cells[("p1", "X3")].verdict[0] == "No policy"  # a cross-payer rule is not a payer's policy
    assert catalog.cells[("p2", "X1")].verdict[0] == "No policy"
    assert [r.id for r in catalog.cross_payer_rules("X3")] == ["r2"]


SCHEMA = jsonschema.Draft7Validator(load_data("crd/request-schema.json"))


@pytest.fixture(scope="module")
def app():
    return create_app({"BUNDLES": "bundles"})


@pytest.mark.parametrize("service", ["order-sign-crd", "order-select-crd", "order-dispatch-crd", "appointment-book-crd"])
def test_console_requests_are_valid_and_answered(app, service):
    hook = app.extensions["fhir_ire.crd"].services[service]["hook"]
    body = build_request(hook, {"display": "Aetna"}, "commercial", [(CPT, "0600T"), (CPT, "0601T")],
                         ["C25.0"], ["I48.0"])
    assert list(SCHEMA.iter_errors(body)) == []
    answer = app.test_client().post(f"/cds-services/{service}", json=body)
    assert answer.status_code == 200, answer.get_json()


def test_console_coverage_type_is_read_back_as_the_chosen_line_of_business():
    table = load_data("crd/lines-of-business.json")
    for line in ("medicare", "medicare-advantage", "medicare-ffs", "medicaid", "commercial"):
        code = coverage_type(line)["coding"][0]["code"]
        assert line in table["sopt"][code]


class Links(HTMLParser):
    """A page's links, element ids, marked lines, and table rows as {column header: cell text}."""

    def __init__(self):
        super().__init__()
        self.hrefs, self.ids, self.marked = [], set(), set()
        self.rows: list[dict[str, str]] = []
        self.headers: list[str] = []
        self.cell: list[str] | None = None
        self.row: list[str] = []
        self.in_head = False
        self.text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("a", "link") and a.get("href"):
            self.hrefs.append(a["href"])
        if a.get("id"):
            self.ids.add(a["id"])
            if "marked" in (a.get("class") or "").split():
                self.marked.add(a["id"])
        if tag == "thead":
            self.in_head, self.headers = True, []
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = []

    def handle_data(self, data):
        self.text += data
        if self.cell is not None:
            self.cell.append(data)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            (self.headers if self.in_head else self.row).append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "thead":
            self.in_head = False
        elif tag == "tr" and not self.in_head and self.headers:
            self.rows.append(dict(zip(self.headers, self.row)))


def crawl(client, start: str, limit: int = 400):
    """Every page reachable from start under the same prefix: {path: parsed page}."""
    seen, queue, pages = set(), [start], {}
    while queue and len(pages) < limit:
        path = queue.pop()
        if path in seen:
            continue
        seen.add(path)
        answer = client.get(path)
        assert answer.status_code == 200, f"{path}: {answer.status_code}"
        if not answer.mimetype == "text/html":
            continue
        parsed = Links()
        parsed.feed(answer.get_data(as_text=True))
        pages[path] = parsed
        for href in parsed.hrefs:
            url = urlparse(urljoin("http://localhost" + path, href))
            if url.netloc == "localhost" and url.path.startswith(start.rstrip("/")) and "/hooks" not in url.path:
                queue.append(url.path + (f"?{url.query}" if url.query else ""))
    return pages


def line_anchors(pages: dict) -> int:
    """Every #L{n} link from one page to a source page lands on a marked line of it; how many there are."""
    anchors = 0
    for path, parsed in pages.items():
        for href in parsed.hrefs:
            target, fragment = urldefrag(urljoin("http://localhost" + path, href))
            if re.fullmatch(r"L\d+", fragment or "") and "/ui/sources/" in target and urlparse(target).path != path:
                page = pages[urlparse(target).path]
                assert fragment in page.ids and fragment in page.marked, f"{path} -> {href}"
                anchors += 1
    return anchors


def test_every_page_and_link_under_ui_answers_and_every_line_anchor_is_marked(app):
    pages = crawl(app.test_client(), "/ui")
    assert len(pages) > 30
    assert line_anchors(pages) > 20


def test_pages_mount_in_a_host_app_under_its_prefix():
    host = Flask("host")
    mount(host, {"BUNDLES": "bundles"}, prefix="/kb")
    client = host.test_client()
    pages = crawl(client, "/kb/ui", limit=60)
    assert "/kb/ui/coverage" in pages
    for parsed in pages.values():
        assert all(h.startswith(("/kb/", "#", "http", "data:")) for h in parsed.hrefs), parsed.hrefs
    console = client.get("/kb/ui/hooks?hook=order-sign&payer=Aetna&code=0600T").get_data(as_text=True)
    assert "HTTP 200" in console and "/kb/cds-services/order-sign-crd" in console
    assert client.get("/ui/coverage").status_code == 404


def test_card_links_point_to_the_quoted_line_of_a_source_page(app):
    client = app.test_client()
    body = build_request("order-sign", {"display": "Somebody"}, None, [(CPT, "0600T")], [], [])
    pages = crawl(client, "/ui/sources")
    for payer in [o.get("name") for o in app.extensions["fhir_ire.ui"].payers]:
        body["prefetch"]["coverage"]["entry"][0]["resource"]["payor"] = [{"display": payer}]
        cards = client.post("/cds-services/order-sign-crd", json=body).get_json()["cards"]
        for link in [lk["url"] for c in cards for lk in c.get("links") or []]:
            target, fragment = urldefrag(link)
            path = urlparse(target).path
            if path.startswith("/ui/sources/"):
                assert fragment in pages[path].marked, link
            else:
                assert not path.startswith("/fhir/DocumentReference"), link


def test_console_shows_the_refusal_when_hook_calls_need_a_signed_jwt(tmp_path):
    (tmp_path / "jwks.json").write_text('{"keys": []}')
    app = create_app({"BUNDLES": "bundles", "TRUST": {"https://ehr.example.org": str(tmp_path / "jwks.json")},
                      "JTI_STORE": f"sqlite:///{tmp_path / 'jti.sqlite'}"})
    page = app.test_client().get("/ui/hooks?hook=order-sign&payer=Somebody&code=0600T")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "HTTP 401" in text and "unauthorized" in text


def test_quotes_show_markdown_bold_and_escape_everything_else(app):
    emphasis = app.jinja_env.filters["emphasis"]
    assert str(emphasis("will **not** be <covered> & __paid__")) == \
        "will <strong>not</strong> be &lt;covered&gt; &amp; <strong>paid</strong>"
    assert str(emphasis("a ** b ** c")) == "a ** b ** c"  # stray asterisks are not emphasis


@pytest.fixture(scope="module")
def rebuilt_app(tmp_path_factory):
    """The seeds plus the synthetic documents (a criteria + prior-authorization policy, an investigational one,
    another guide and code reports), rebuilt: pages over knowledge they were not written against."""
    import shutil

    from fhir_ire.build.command import build_to
    from tests.conftest import ROOT

    seeds = tmp_path_factory.mktemp("seeds")
    for p in list((ROOT / "seeds").iterdir()) + list((ROOT / "tests/build/fixtures/synthetic").iterdir()):
        shutil.copy(p, seeds / p.name)
    out = tmp_path_factory.mktemp("bundles") / "bundles"
    build_to(seeds, out, ROOT / "tests/build/fixtures/nucc-sample.csv")
    return create_app({"BUNDLES": str(out)})


def test_pages_over_a_rebuild_with_more_policies(rebuilt_app):
    client = rebuilt_app.test_client()
    pages = crawl(client, "/ui")
    catalog = rebuilt_app.extensions["fhir_ire.ui"]
    labels = {cell.verdict[0] for cell in catalog.cells.values()}
    assert {"Not covered", "Prior authorization", "No policy"} <= labels
    pa = next(c for c in catalog.cells.values() if c.verdict[0] == "Prior authorization")
    page = client.get(f"/ui/coverage/{pa.payer}/{pa.code}").get_data(as_text=True)
    assert "Prior authorization required" in page and "Criteria and documentation" in page
    assert "read it in the source" in page
    assert len(pages) > len(catalog.sources) + len(catalog.payers)


def test_console_shows_why_the_service_refused_a_request(app):
    page = app.test_client().get("/ui/hooks?hook=order-sign&payer=A+payer+nobody+knows&code=0600T")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    status = re.search(r"HTTP (\d{3})", text).group(1)
    if status != "200":  # CRD hook-13: a payer the service does not handle may be refused; the page says why
        assert re.search(r'class="error-message">[^<]{10,}<', text)


def assert_cells_filled_where_the_data_exists(app, pages: dict) -> None:
    """No table cell is empty where the bundles hold what it shows: every matrix cell and payer row says a
    determination (and names the rule unless there is no policy); every identifier and alias of a payer is on its
    page; every source row has its kind, lines and hash, and its payer when its DocumentReference names an author or
    custodian or a payer's rule cites it alone; every QA row says what the source says, and where when it names a
    document; every map entry has its code and map, and the display when a code system holds one."""
    catalog, index = app.extensions["fhir_ire.ui"], app.extensions["fhir_ire.index"]
    matrix = pages["/ui/coverage"].rows
    assert len(matrix) == len(catalog.payers) and all(all(row.values()) for row in matrix)
    for payer in catalog.payers:
        page = pages[f"/ui/payers/{payer['id']}"]
        assert len(page.rows) == len(catalog.codes)
        for row in page.rows:
            assert row["Determination"] and bool(row["Rule"]) == (row["Determination"] != "No policy"), row
        shown = " ".join(page.text.split())
        for value in [i["value"] for i in payer.get("identifier") or []] + (payer.get("alias") or []):
            assert value in shown, (payer["id"], value)
    authored = {d["id"] for d in index.all("DocumentReference") if d.get("author") or d.get("custodian")}
    for rule in index.all("PlanDefinition"):
        docs = {(a.get("document") or {}).get("url", "").rsplit("/", 1)[-1] for a in rule.get("relatedArtifact") or []}
        if len(docs) == 1 and any((u.get("code") or {}).get("code") == "payer" for u in rule.get("useContext") or []):
            authored |= docs
    rows = pages["/ui/sources"].rows
    assert len(rows) == len(index.all("DocumentReference"))
    for src in catalog.sources.values():
        row = next(r for r in rows if r["Document"].endswith(", ".join(sorted(src.files))))
        assert row["Kind"] and row["Lines quoted"] and row["SHA-256"].strip("…"), row
        assert row["Payer"] or src.id not in authored, row
    findings = pages["/ui/qa"].rows
    assert len(findings) == len(catalog.findings)
    assert all(row["Severity"] and row["The source says"] for row in findings)
    assert sum(1 for row in findings if row["Where"]) >= sum(1 for f in catalog.findings if catalog.finding_document(f))
    finder = app.extensions["fhir_ire.ui.finder"]
    for path in [p for p in pages if p.startswith("/ui/codes/")]:
        for row in pages[path].rows:
            if "Map" in row:
                assert row["Map"] and row["Code"], (path, row)
                held = any(finder.display(s, row["Code"]) for s, _ in finder.find_code(row["Code"]))
                assert row["Display"] or not held, (path, row)


@pytest.mark.shared
def test_pages_over_the_real_world_documents(shared, tmp_path):
    """The seeds and the 35 real-world-layout documents of ../shared/real-docs, built and served together: every
    page reachable from /ui answers 200, every line anchor lands on a marked line, the matrix holds every payer the
    build published, the DTR questionnaires are shown, and no table cell is empty where the data exists."""
    import shutil

    from fhir_ire.build.command import build_to
    from tests.conftest import ROOT

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    real = sorted((shared / "real-docs").glob("*.txt"))
    assert len(real) >= 35
    for p in list((ROOT / "seeds").iterdir()) + real:
        shutil.copy(p, seeds / p.name)
    build_to(seeds, tmp_path / "bundles", shared / "reference" / "nucc_taxonomy_251.csv")
    app = create_app({"BUNDLES": str(tmp_path / "bundles")})
    catalog = app.extensions["fhir_ire.ui"]
    pages = crawl(app.test_client(), "/ui", limit=5000)
    assert len(pages) < 5000  # the crawl reached every page
    assert line_anchors(pages) > 100
    assert len(catalog.sources) == len(list(seeds.iterdir()))
    assert {f"/ui/payers/{p['id']}" for p in catalog.payers} <= set(pages)
    assert {f"/ui/sources/{s}" for s in catalog.sources} <= set(pages)
    assert {f"/ui/rules/{r.id}" for r in catalog.rules} <= set(pages)
    assert len({c.verdict[0] for c in catalog.cells.values()}) >= 4
    assert sum(1 for p in catalog.payers if p.get("identifier")) >= 1
    assert_cells_filled_where_the_data_exists(app, pages)
    assert_questionnaires_shown(app, tmp_path / "bundles")


def questionnaire_links(bundle_dir) -> dict[str, list[tuple[str, str]]]:
    """From the bundle files themselves: Questionnaire url -> [(rule id, action id)] of the actions linking it."""
    import json
    from pathlib import Path

    links: dict[str, list[tuple[str, str]]] = {}
    for path in sorted(Path(bundle_dir).glob("*.json")):
        for entry in json.loads(path.read_text()).get("entry") or []:
            res = entry["resource"]
            for act in res.get("action") or [] if res["resourceType"] == "PlanDefinition" else []:
                for sub in act.get("action") or []:
                    if "/Questionnaire/" in (sub.get("definitionCanonical") or ""):
                        links.setdefault(sub["definitionCanonical"], []).append((res["id"], act["id"]))
    return links


def assert_questionnaires_shown(app, bundle_dir) -> int:
    """Every Questionnaire a rule links is on the rule page and on each of the payer's cells for the rule's codes (its
    title linked to its page, every item's text and answer in words), and its page quotes each item at a marked line
    of its source; how many were checked."""
    client, catalog = app.test_client(), app.extensions["fhir_ire.ui"]
    sources = crawl(client, "/ui/sources")
    links = questionnaire_links(bundle_dir)
    for url, actions in links.items():
        q = app.extensions["fhir_ire.index"].canonical("Questionnaire", url)
        leaves = [i for g in q["item"] for i in (g.get("item") or [g])]
        page_url = f"/ui/resources/Questionnaire/{q['id']}"
        for rid, aid in actions:
            rule = catalog.rules_by_id[rid]
            pages = [f"/ui/rules/{rid}"] + [f"/ui/coverage/{rule.payer}/{c}" for _, c in rule.codes if rule.payer]
            for path in pages:
                html = client.get(path).get_data(as_text=True)
                block = html[html.index(f'id="action-{aid}"'):]
                block = block[block.index('class="questionnaire"'):]
                assert f'href="{page_url}"' in block[:400], path
                for item in leaves:
                    assert escape(item["text"]) in block, (path, item["text"])
                assert block.count('class="qtype"') >= len(leaves)
        own = client.get(page_url)
        assert own.status_code == 200
        parsed = Links()
        parsed.feed(own.get_data(as_text=True))
        for item in leaves:
            assert f"item-{item['linkId']}" in parsed.ids
        anchors = [urldefrag(h) for h in parsed.hrefs if h.startswith("/ui/sources/") and "#L" in h]
        assert len(anchors) >= len(leaves)
        assert all(fragment in sources[path].marked for path, fragment in anchors)
    return len(links)


def test_dtr_questionnaires_of_the_committed_bundles_are_on_their_rule_and_cell_pages(app):
    from tests.conftest import ROOT

    assert assert_questionnaires_shown(app, ROOT / "bundles") >= 1


def test_dtr_questionnaires_of_a_rebuild_with_criteria_ask_yes_or_no(rebuilt_app):
    catalog = rebuilt_app.extensions["fhir_ire.ui"]
    assert assert_questionnaires_shown(rebuilt_app, rebuilt_app.extensions["fhir_ire.config"]["BUNDLES"]) >= 2
    booleans = [q for q in rebuilt_app.extensions["fhir_ire.index"].all("Questionnaire")
                if any(i["type"] == "boolean" for g in q["item"] for i in g.get("item") or [])]
    assert booleans
    html = rebuilt_app.test_client().get(f"/ui/resources/Questionnaire/{booleans[0]['id']}").get_data(as_text=True)
    assert "yes or no; required" in html
    assert sum(catalog.forms.any_in(c.entries) for c in catalog.cells.values()) >= 2
