"""What keeps a large build's memory from growing with its output gives the same output: bundles spooled to disk as
the resources are made write the bytes of the bundles held whole; documents' text is dropped after reading and read
again (and refused if it changed) when the build writes it."""

import importlib.util
import shutil
from pathlib import Path

import pytest

from fhir_ire.build.bundle import SpooledBundle, transaction
from fhir_ire.build.command import build_to, output_files
from fhir_ire.build.context import BuildContext
from fhir_ire.build.output import Deferred, write_atomically, write_tree
from fhir_ire.errors import BuildError
from fhir_ire.r4 import dump_bytes

from fhir_ire.sources import read_source

from .conftest import AS_OF, SEEDS

BASE = "http://example.org/fhir"


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _dumped(files: dict) -> dict[str, bytes]:
    return {rel: dump_bytes(data) for rel, data in files.items()}


def test_a_spooled_build_of_the_seeds_writes_the_bytes_of_the_held_one(tmp_path, nucc_sample):
    held = output_files(SEEDS, nucc_sample, as_of=AS_OF)[0]
    spooled = output_files(SEEDS, nucc_sample, as_of=AS_OF, spool=True)[0]
    assert any(isinstance(b, SpooledBundle) for b in spooled.values())
    assert any(isinstance(f, Deferred) for f in spooled.values())
    write_tree(tmp_path, spooled)
    assert _tree(tmp_path) == _dumped(held)


def _corpus():
    spec = importlib.util.spec_from_file_location("corpus", Path(__file__).parents[2] / "benchmarks" / "corpus.py")
    corpus = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(corpus)
    return corpus


def test_a_generated_corpus_builds_to_the_same_bytes_spooled_or_held_whatever_the_jobs(tmp_path, nucc_sample):
    seeds = tmp_path / "seeds"
    _corpus().generate(seeds, 60, with_seeds=True)
    held = output_files(seeds, nucc_sample, as_of=AS_OF, jobs=1)[0]
    build_to(seeds, tmp_path / "out", nucc_sample, as_of=AS_OF, jobs=2)
    written = _tree(tmp_path / "out")
    written.pop(".fhir-ire-build")
    assert written == _dumped(held)
    assert len(held["03-coverage.json"]["entry"]) > 40  # the generated policies are in it


def test_an_empty_spooled_bundle_is_written_as_an_empty_transaction(tmp_path):
    spool = SpooledBundle("05-empty", BASE)
    spool.finish()
    spool.timestamp = "2026-01-15T00:00:00Z"
    spool.write_to(tmp_path / "b.json")
    assert (tmp_path / "b.json").read_bytes() == dump_bytes(transaction("05-empty", [], BASE)
                                                            | {"timestamp": "2026-01-15T00:00:00Z"})


def test_a_spooled_bundle_orders_its_entries_as_a_transaction_does(tmp_path):
    resources = [{"resourceType": "Provenance", "id": "p", "text": "line\nbreak é"},
                 {"resourceType": "Basic", "id": "a", "code": {"text": "x"}},
                 {"resourceType": "DocumentReference", "id": "z", "content": [{"attachment": {"size": 2 ** 70}}]},
                 {"resourceType": "DocumentReference", "id": "b", "status": "current"}]
    spool = SpooledBundle("b", BASE)
    for r in resources:
        spool.add(r)
    spool.finish()
    spool.write_to(tmp_path / "b.json")
    assert (tmp_path / "b.json").read_bytes() == dump_bytes(transaction("b", resources, BASE))
    assert spool.counts() == {"DocumentReference": 2, "Provenance": 1, "Basic": 1}


def test_two_spooled_resources_with_one_id_stop_the_build():
    spool = SpooledBundle("03-coverage", BASE)
    for _ in range(2):
        spool.add({"resourceType": "PlanDefinition", "id": "same"})
    with pytest.raises(BuildError, match=r"two resources share an id in bundle 03-coverage: \[\('PlanDefinition', "
                                         r"'same'\)\]"):
        spool.finish()


class _Failing:
    def write_to(self, path):
        path.write_bytes(b'{"half": ')
        raise BuildError("the disk went away half way")


def test_a_bundle_that_fails_half_written_leaves_the_output_as_it_was(tmp_path):
    out = tmp_path / "bundles"
    write_atomically(out, {"a.json": {"kept": True}})
    before = _tree(out)
    with pytest.raises(BuildError, match="half way"):
        write_atomically(out, {"a.json": {"kept": False}, "b.json": _Failing()})
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundles"]  # no temporary folder left beside it


def test_read_documents_come_back_without_their_text(nucc_sample):
    documents = output_files(SEEDS, nucc_sample, as_of=AS_OF, jobs=2)[1]
    assert documents and all(d.content == b"" for d in documents if d.status == "read")


def test_a_document_changed_while_the_build_ran_is_refused(tmp_path):
    path = tmp_path / "policy.txt"
    shutil.copy(next(SEEDS.glob("003_*")), path)
    doc = read_source(path)
    doc.content = b""
    ctx = BuildContext(documents=[doc], base=BASE, nucc=None, mapping_policy="correct", as_of=AS_OF, folder=tmp_path)
    assert ctx.content("policy.txt") == path.read_bytes()
    ctx = BuildContext(documents=[doc], base=BASE, nucc=None, mapping_policy="correct", as_of=AS_OF, folder=tmp_path)
    path.write_bytes(path.read_bytes() + b"one more line\n")
    with pytest.raises(BuildError, match="^policy.txt: the document changed while the build ran; build again$"):
        ctx.content("policy.txt")
