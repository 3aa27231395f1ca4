"""The CDS Hooks discovery document and the davinci-crd.configuration a call sends (CRD dev-4, dev-5, dev-14..17)."""

import copy
import logging

from fhir_ire.data import load as load_data

VERSIONS = ["2.0", "2.2"]
log = logging.getLogger("fhir_ire.crd")


def card_topics(rules, has_charge_items: bool) -> list[str]:
    """The card types this service can return: the topics of the rules' card actions (not the determinations,
    which go out as coverage-information only), payment benchmarks, and `guideline` (what could not be checked)."""
    topics = {((a.raw.get("code") or [{}])[0].get("coding") or [{}])[0].get("code")
              for rs in rules.by_code.values() for r in rs for a in r.actions if not a.determination}
    topics |= {"guideline"} | ({"cost"} if has_charge_items else set())
    return sorted(t for t in topics if t)


def load_services(topics: list[str]) -> dict:
    """The discovery document: every service carries the CRD versions and one boolean option for coverage-info
    and for each card type (dev-5), each with code, type, name, description and default (dev-4)."""
    doc = copy.deepcopy(load_data("crd/services.json"))
    doc.pop("about", None)
    types = load_data("crd/card-types.json")["types"]
    options = [{"code": code, "type": "boolean", "name": types[code]["name"],
                "description": types[code]["description"], "default": True}
               for code in ["coverage-info", *topics] if code in types]
    ext = doc.get("extension", {})
    ext["davinci-crd.configuration-options"] = options + ext.get("davinci-crd.configuration-options", [])
    for service in doc["services"]:
        service["extension"] = {**copy.deepcopy(ext), **service.get("extension", {})}
    return doc


def configuration(request: dict, options: list[dict]) -> dict:
    """The options this service announces, as sent; unknown codes (dev-17) and values of the wrong type (dev-6) are
    ignored (the latter logged), so a call never fails for its configuration (dev-15)."""
    sent = (request.get("extension") or {}).get("davinci-crd.configuration")
    if not isinstance(sent, dict):
        return {}
    out = {}
    for option in options:
        if option["code"] not in sent:
            continue
        value = sent[option["code"]]
        ok = isinstance(value, bool) if option["type"] == "boolean" else \
            isinstance(value, int) and not isinstance(value, bool) and value >= 0
        if ok:
            out[option["code"]] = value
        else:
            log.info("configuration option %s ignored: a %s is expected", option["code"], option["type"])
    return out
