"""Display languages: which language a request wants (displayLanguage, Accept-Language, the value set's own
expansion parameters) and which display of a concept answers it."""

import re

from fhir_ire.terminology.codesystems import STANDARDS_STATUS
from fhir_ire.terminology.outcome import TxError

EXPANSION_PARAMETER = "http://hl7.org/fhir/StructureDefinition/valueset-expansion-parameter"


def value_set_parameters(vs: dict) -> dict:
    """Expansion parameters a value set carries in compose (valueset-expansion-parameter extensions)."""
    out = {}
    for ext in ((vs or {}).get("compose") or {}).get("extension") or []:
        if ext.get("url") != EXPANSION_PARAMETER:
            continue
        parts = {e.get("url"): next((v for k, v in e.items() if k.startswith("value")), None)
                 for e in ext.get("extension") or []}
        if parts.get("name"):
            out[parts["name"]] = parts.get("value")
    return out


LANGUAGE_TAG = re.compile(r"^(\*|[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*)$")


def _preferences(value: str | None) -> list[tuple[str, float]]:
    """'de, en;q=0.8, *; q=0' -> [('de', 1.0), ('en', 0.8), ('*', 0.0)]; a malformed tag is a 400."""
    out = []
    for part in (value or "").split(","):
        tag, _, params = part.partition(";")
        tag, q = tag.strip(), 1.0
        if not tag:
            continue
        if not LANGUAGE_TAG.match(tag):
            raise TxError(f"Invalid displayLanguage: '{tag}'", code="processing", tx_type="invalid-display",
                          message_id="INVALID_DISPLAY_NAME")
        name, _, number = params.partition("=")
        if name.strip() == "q":
            try:
                q = float(number)
            except ValueError:
                raise TxError(f"Invalid displayLanguage: '{part.strip()}'", code="processing",
                              tx_type="invalid-display", message_id="INVALID_DISPLAY_NAME") from None
        out.append((tag, q))
    return out


def parse_languages(value: str | None) -> list[str]:
    """'de, en;q=0.8, *' -> ['de', 'en', '*'] (languages given q=0 are not wanted)."""
    return [tag for tag, q in _preferences(value) if q > 0]


def is_hard(value: str | None) -> bool:
    """'*; q=0' refuses every language not listed: no fallback to the default display."""
    return any(tag == "*" and q == 0 for tag, q in _preferences(value))


def echo_languages(value: str) -> str:
    """The displayLanguage as the reference server echoes it: items separated by ', '."""
    return ", ".join(part.strip() for part in value.split(",") if part.strip())


def _same(a: str | None, b: str) -> bool:
    return bool(a) and (a.lower() == b.lower() or a.lower().split("-")[0] == b.lower().split("-")[0])


def pick_display(cs, concept, languages: list[str], hard: bool = False) -> str | None:
    """The concept's display in the first wanted language it has; its own display otherwise (none when hard)."""
    own = (cs.resource or {}).get("language") if cs.resource else None
    for lang in languages:
        if lang == "*":
            return concept.display
        if _same(own, lang):
            return concept.display
        for d in concept.designations:
            if _same(d.get("language"), lang) and d.get("value") and _is_display(d):
                return d["value"]
        if own is None:  # a display of unknown language may be in any language
            return concept.display
    return None if hard and languages else concept.display


DISPLAY_USES = {"display", "preferredForLanguage", "900000000000013009", "900000000000003001"}


def _is_display(designation: dict) -> bool:
    """Designations without a use, or used as a display, can stand for the concept's display."""
    use = designation.get("use")
    return not isinstance(use, dict) or use.get("code") in DISPLAY_USES


def candidates(cs, concept, languages: list[str]) -> list[tuple[str, str | None]]:
    """(display, language) pairs valid for the wanted languages; all of them when none is wanted."""
    own = (cs.resource or {}).get("language") if cs.resource else None
    pairs = [(concept.display, own)] if concept.display else []
    pairs += [(d.get("value"), d.get("language")) for d in concept.designations
              if d.get("value") and _is_display(d) and not _retired(d)]
    if not languages or "*" in languages:
        return pairs
    return [(v, lang) for v, lang in pairs if lang is None or any(_same(lang, w) for w in languages)]


def _listed(pairs) -> str:
    shown = [f"'{v}'" + (f" ({lang})" if lang else "") for v, lang in pairs]
    if len(shown) == 1:
        return f"Valid display is {shown[0]}"
    return f"Valid display is one of {len(shown)} choices: " + " or ".join([", ".join(shown[:-1]), shown[-1]])


def _retired(designation: dict) -> bool:
    """A designation marked deprecated or withdrawn is no longer a correct display."""
    return any(e.get("url") == STANDARDS_STATUS and e.get("valueCode") in ("deprecated", "withdrawn")
               for e in designation.get("extension") or [] if isinstance(e, dict))


def check_display(cs, concept, display: str, languages: list[str], lenient: bool = False):
    """None when the display is right for the wanted languages, else (severity, tx-issue-type, message id, text)."""
    wanted = ",".join(languages) if languages else "--"
    norm = display.strip().lower()
    every = candidates(cs, concept, [])
    fitting = candidates(cs, concept, languages)
    if languages and not fitting:
        if norm in {v.strip().lower() for v, _ in every}:
            return ("information", "invalid-display", "NO_VALID_DISPLAY_FOUND_NONE_FOR_LANG_OK", f"There are no valid "
                    f"display names found for the code {cs.url}#{concept.code} for language(s) '{wanted}'. The display "
                    f"is '{display}' which is a valid display for the default language")
        return ("error", "invalid-display", "NO_VALID_DISPLAY_FOUND_NONE_FOR_LANG_ERR", f"Wrong Display Name "
                f"'{display}' for {cs.url}#{concept.code}. There are no valid display names found for language(s) "
                f"'{wanted}'. Default display is '{concept.display}'")
    if norm in {v.strip().lower() for v, _ in fitting}:
        return None
    retired = [d for d in concept.designations if _retired(d) and (d.get("value") or "").strip().lower() == norm]
    if retired:
        current = ", ".join(f'"{v}"' for v, _ in fitting)
        return ("warning", "display-comment", "INACTIVE_DISPLAY_FOUND", f"'{display}' is no longer considered a "
                f"correct display for code '{concept.code}' (status = deprecated). The correct display is one of "
                f"{current}.")
    squeezed = " ".join(norm.split())
    spaces_only = squeezed in {" ".join(v.lower().split()) for v, _ in fitting}
    return ("warning" if lenient else "error", "invalid-display",
            "Display_Name_WS_for__should_be_one_of__instead_of" if spaces_only else
            "Display_Name_for__should_be_one_of__instead_of",
            f"Wrong Display Name '{display}' for {cs.url}#{concept.code}. {_listed(fitting)} (for the language(s) "
            f"'{wanted}')")
