"""The README says what the commands do today: the configuration table is the option table, the first command needs
nothing beside the clone, and the load example's counts are those of the committed bundles."""

import json
import re
from collections import Counter

from fhir_ire.config_command import markdown_table

from ..conftest import ROOT

README = (ROOT / "README.md").read_text()


def test_configuration_table_is_the_option_table():
    table = README.split("tests/ops/test_readme.py -->\n", 1)[1].split("\n<!-- end of configuration table", 1)[0]
    assert table.strip() == markdown_table()


def test_the_first_command_needs_nothing_beside_the_clone():
    block = README.split("## Two commands", 1)[1].split("```bash\n", 1)[1].split("\n```", 1)[0]
    assert "../shared" not in block and "--nucc" not in block
    assert block.endswith("fhir-ire build && .venv/bin/fhir-ire serve")


def test_the_load_example_counts_are_those_of_the_bundles():
    per_file, per_type = {}, Counter()
    for path in sorted((ROOT / "bundles").glob("0*.json")):
        entries = json.loads(path.read_text())["entry"]
        per_file[path.name] = len(entries)
        per_type.update(e["resource"]["resourceType"] for e in entries)
    example = README.split("$ fhir-ire load --server http://localhost:8103/fhir/R4\n", 1)[1].split("\n\n", 1)[0]
    assert f"loading {len(per_file)} bundles ({sum(per_file.values())} resources)" in example
    for name, n in per_file.items():
        assert f"{name}: {n} resources, {n} created" in example
    for rtype, n in per_type.items():
        assert re.search(rf"^{rtype} +{n} +0 +0 +0$", example, re.M), rtype
    assert re.search(rf"^total +{sum(per_type.values())} ", example, re.M)
