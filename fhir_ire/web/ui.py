"""Pages under /ui (Jinja templates, one stylesheet): coverage matrix, payers and rules, code explorer, sources with
their quoted lines, QA report, hook console. They read the loaded index (through ui_catalog) and call the same plain
functions as the API ($lookup/$translate, the CDS service); errors are pages, unknown ids 404 pages."""

import json
import logging
import re

from flask import Blueprint, abort, current_app, render_template, request, url_for
from markupsafe import Markup, escape
from werkzeug.exceptions import HTTPException

from fhir_ire.citations import cited_page, line_span
from fhir_ire.uris import CPT
from fhir_ire.web import ui_hooks
from fhir_ire.web.ui_catalog import Catalog
from fhir_ire.web.ui_codes import CodeFinder
from fhir_ire.web.ui_forms import item_words
from fhir_ire.web.ui_rules import describe, determination, needs, verdict
from fhir_ire.web.ui_search import WINDOW

log = logging.getLogger("fhir_ire.ui")
SEVERITIES = ("fatal", "error", "warning", "information")
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")


def init(app, index, config, prefix="/ui", root=""):
    """Register the pages under prefix; root is where the FHIR and CDS Hooks blueprints are mounted."""
    catalog = Catalog(index)
    finder = CodeFinder(app.extensions["fhir_ire.registry"])
    engine = app.extensions["fhir_ire.crd"]
    bp = Blueprint("ui", __name__, template_folder="templates", static_folder="static", static_url_path="/static")

    @bp.app_template_global("page_of")
    def page_of(rtype: str, rid: str) -> str:
        if rtype == "PlanDefinition" and rid in catalog.rules_by_id:
            return url_for("ui.rule", rid=rid)
        if rtype == "Organization" and catalog.payer(rid):
            return url_for("ui.payer", pid=rid)
        if rtype == "finding":
            return url_for("ui.qa", _anchor=f"kind-{rid}")
        return url_for("ui.resource", rtype=rtype, rid=rid)

    @bp.app_template_global("cited")
    def cited(artifact: dict) -> str | None:
        return cited_page(url_for("ui.home").rstrip("/"), artifact)

    @bp.app_template_filter("emphasis")
    def emphasis(text: str | None) -> Markup:
        """Markdown emphasis (**bold**, __bold__) in quotes and card text shown as bold; everything else escaped."""
        return Markup(_BOLD.sub(r"<strong>\2</strong>", str(escape(text or ""))))

    @bp.app_template_global("span_of")
    def span_of(text: str | None):
        return line_span(text)

    @bp.app_template_global("quoted")
    def quoted(display: str | None) -> str:
        """The quote of a Provenance entity display ('file.txt:4-5: "the quote"')."""
        return (display or "").split(": ", 1)[-1].strip('"') if line_span(display) else (display or "")

    @bp.app_template_global("source_title")
    def source_title(span) -> str:
        src = span and catalog.source_by_file.get(span[0])
        return src.title if src else (span[0] if span else "")

    @bp.context_processor
    def helpers():
        return {"catalog": catalog, "describe": lambda e: describe(e, catalog.names), "determination": determination,
                "verdict": verdict, "needs": needs, "item_words": item_words, "source_by_file": catalog.source_by_file,
                "api_root": request.script_root + root}

    def on_http_error(err):
        return render_template("ui/error.html", status=err.code, title=err.name, message=err.description), err.code

    bp.register_error_handler(HTTPException, on_http_error)
    for status in (400, 404, 405):  # the app's own handlers for these codes would win over a class handler
        bp.register_error_handler(status, on_http_error)

    @bp.errorhandler(Exception)
    def on_unexpected(err):  # a page, never a stack trace
        log.exception("unexpected error on %s %s", request.method, request.path)
        return render_template("ui/error.html", status=500, title="Internal error",
                               message="The page could not be built; the server log has the details."), 500

    @bp.get("")
    @bp.get("/")
    def home():
        return render_template("ui/home.html")

    @bp.get("/coverage")
    def coverage():
        return render_template("ui/coverage.html")

    @bp.get("/coverage/<pid>/<code>")
    def cell(pid, code):
        cell = catalog.cells.get((pid, code)) or abort(404, f"No coverage cell for payer '{pid}' and code '{code}'")
        return render_template("ui/cell.html", cell=cell, payer=catalog.payer(pid),
                               general=catalog.cross_payer_rules(code))

    @bp.get("/payers/<pid>")
    def payer(pid):
        org = catalog.payer(pid) or abort(404, f"No payer '{pid}' in the loaded bundles")
        return render_template("ui/payer.html", payer=org, rules=catalog.payer_rules(pid))

    @bp.get("/rules/<rid>")
    def rule(rid):
        found = catalog.rules_by_id.get(rid) or abort(404, f"No rule (PlanDefinition) '{rid}' in the loaded bundles")
        return render_template("ui/rule.html", rule=found)

    @bp.get("/codes")
    def codes():
        query, system = request.args.get("q", "").strip(), request.args.get("system", "").strip()
        found = finder.search(query, system or None) if query else None
        return render_template("ui/codes.html", query=query, system=system, found=found, name=finder.name,
                               window=WINDOW)

    @bp.get("/codes/<code>")
    def code(code):
        found = finder.find_code(code, request.args.get("system"))
        shown = {c for _, c in found} or {code}
        findings = [f for c in sorted(shown) for f in catalog.findings_by_code.get(c, [])]
        rules = [r for c in shown for r in catalog.naming.get(c, [])]
        if not found and not findings:  # a string a rule's condition compares with is not a code by itself
            abort(404, f"No code '{code}' in the code systems this service holds")
        return render_template("ui/code.html", code=code, views=[finder.view(s, c) for s, c in found], rules=rules,
                               payments=[p for c in shown for p in catalog.payments(c)], findings=findings)

    @bp.get("/sources")
    def sources():
        return render_template("ui/sources.html", sources=catalog.sources.values())

    @bp.get("/sources/<doc_id>")
    def source(doc_id):
        src = catalog.sources.get(doc_id) or abort(404, f"No source document '{doc_id}' in the loaded bundles")
        return render_template("ui/source.html", src=src)

    @bp.get("/qa")
    def qa():
        severity, document = request.args.get("severity", ""), request.args.get("document", "")
        shown = [f for f in catalog.findings if (not severity or f.get("severity") == severity)
                 and (not document or catalog.finding_document(f) == document)]
        return render_template("ui/qa.html", groups=catalog.group_findings(shown), severity=severity,
                               document=document, severities=SEVERITIES, total=len(catalog.findings))

    @bp.get("/hooks")
    def hooks():
        form = request.args
        services = sorted(engine.services.values(), key=lambda s: s["id"])
        hook = form.get("hook", "")
        service = next((s for s in services if hook in (s["hook"], s["id"])), None)
        result = run_console(service, form) if service and ui_hooks.split_codes(form.getlist("code")) else None
        lines = sorted(catalog.names["%linesOfBusiness"].items(), key=lambda kv: kv[1])
        return render_template("ui/hooks.html", services=services, service=service, form=form, result=result,
                               lines=lines, codes=ui_hooks.split_codes(form.getlist("code")))

    def run_console(service, form):
        payer = catalog.payor(form.get("payer", "").strip())
        orders = [(_system_of(c), c) for c in ui_hooks.split_codes(form.getlist("code"))]
        body = ui_hooks.build_request(service["hook"], payer, form.get("lob") or None, orders,
                                      ui_hooks.split_codes(form.getlist("dx")),
                                      ui_hooks.split_codes(form.getlist("condition")))
        path = f"{root}/cds-services/{service['id']}"
        answer = current_app.test_client().post(path, json=body, base_url=request.host_url.rstrip("/") +
                                                request.script_root)
        response = answer.get_json(silent=True) or {}
        return {"request": body, "status": answer.status_code, "response": response, "path": path,
                "rows": ui_hooks.coverage_rows(response), "pretty": json.dumps,
                "error": _error_text(response) if answer.status_code >= 400 else None}

    def _error_text(response: dict) -> str:
        """The message of an error answer: CDS Hooks {"error": ...} or an OperationOutcome's diagnostics."""
        issues = [i.get("diagnostics") or (i.get("details") or {}).get("text") or i.get("code")
                  for i in response.get("issue") or []]
        return response.get("error") or "; ".join(i for i in issues if i) or "the service refused the request"

    def _system_of(code):
        """The code system of an ordered code: the first that holds it among the procedure code systems, else CPT."""
        found = [s for s, _ in finder.find_code(code) if s in catalog.procedure_systems]
        return found[0] if found else CPT

    @bp.get("/resources/<rtype>/<rid>")
    def resource(rtype, rid):
        res = index.get(rtype, rid) or abort(404, f"No {rtype}/{rid} in the loaded bundles")
        return render_template("ui/resource.html", res=res, pretty=json.dumps(res, indent=2, ensure_ascii=False),
                               provenance=catalog.provenance_of(f"{rtype}/{rid}"))

    @bp.get("/<path:rest>")
    def unknown(rest):
        abort(404, f"There is no page at /{rest} under the pages")

    app.extensions["fhir_ire.ui"] = catalog
    app.extensions["fhir_ire.ui.finder"] = finder
    app.register_blueprint(bp, url_prefix=prefix)
