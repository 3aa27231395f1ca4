"""What keeps the build linear and fast at scale gives the same output: bundles written with orjson are the text
json.dumps wrote, documents read in worker processes give the build one process gives, payers are found through
one index of their names, bundles are read with orjson as json read them."""

import json
import shutil
from datetime import date

import pytest

from fhir_ire.build.command import output_files
from fhir_ire.build.context import BuildContext
from fhir_ire.build.parallel import map_in_processes
from fhir_ire.build.payers import build_organizations, names_index, payer_id
from fhir_ire.errors import BuildError
from fhir_ire.r4 import dump, dump_bytes
from fhir_ire.store import read_resource

from .conftest import AS_OF, SEEDS


def _json_text(data) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_bundles_are_written_as_json_dumps_writes_them(seed_build):
    for data in seed_build[0].values():
        assert dump(data) == _json_text(data)
    odd = {"z": [], "a": {}, "é": "line\nbreak \"quoted\" \\ tab\t \u2028 ✓", "n": [1, 2.5, -0.0, None, True]}
    assert dump_bytes(odd) == _json_text(odd).encode("utf-8")


def test_what_orjson_refuses_is_still_written():
    data = {"big": 2 ** 70}
    assert dump(data) == _json_text(data)


def _square(n: int) -> int:
    if n < 0:
        raise BuildError("negative", f"item-{n}", 3)
    return n * n


def test_map_in_processes_keeps_the_input_order():
    assert map_in_processes(_square, list(range(50)), jobs=2) == [n * n for n in range(50)]


def test_an_error_in_a_worker_arrives_whole():
    with pytest.raises(BuildError, match="^item--1:3: negative$") as raised:
        map_in_processes(_square, [1, 2, -1, 4], jobs=2)
    assert (raised.value.file, raised.value.line) == ("item--1", 3)


def test_documents_read_in_two_processes_give_the_same_build(nucc_sample):
    one = output_files(SEEDS, nucc_sample, as_of=AS_OF, jobs=1)[0]
    two = output_files(SEEDS, nucc_sample, as_of=AS_OF, jobs=2)[0]
    assert {k: dump(v) for k, v in one.items()} == {k: dump(v) for k, v in two.items()}


def test_an_unreadable_document_read_by_a_worker_is_named(tmp_path, nucc_sample):
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    (seeds / "zz-broken.txt").write_bytes(b"\x00\x01\x02binary")
    with pytest.raises(BuildError, match="zz-broken.txt") as raised:
        output_files(seeds, nucc_sample, as_of=AS_OF, jobs=2)
    assert raised.value.file and raised.value.file.endswith("zz-broken.txt")


def _payer(pid: str, name: str, aliases: list[str]) -> dict:
    return {"id": pid, "name": name, "aliases": aliases, "sources": [], "policies": [], "entry": None}


def test_a_name_two_payers_share_is_an_alias_of_neither_and_finds_the_first():
    payers = {p["id"]: p for p in (_payer("north-plan", "North Plan", ["Acme Care", "NP"]),
                                   _payer("acme-plan", "Acme Plan", ["Acme Care"]))}
    ctx = BuildContext(documents=[], base="http://example.org/fhir", nucc=None, mapping_policy="correct",
                       as_of=date(2026, 1, 15))
    orgs = {o["id"]: o for o in build_organizations(ctx, payers)}
    assert orgs["north-plan"]["alias"] == ["NP"] and "alias" not in orgs["acme-plan"]
    names = names_index(payers)
    assert payer_id(names, "ACME CARE") == "acme-plan"  # the first id in order, as before the index
    assert payer_id(names, "north plan inc") == "north-plan"


def test_bundles_are_read_as_json_reads_them(tmp_path, root):
    for path in sorted((root / "bundles").glob("*.json")):
        assert read_resource(path) == json.loads(path.read_text(encoding="utf-8"))
    odd = tmp_path / "odd.json"  # what orjson refuses is read as json reads it
    odd.write_text('{"resourceType": "Basic", "id": "x", "n": NaN}', encoding="utf-8")
    assert str(read_resource(odd)["n"]) == "nan"
