"""`build --out` never deletes a file it did not write: a marker lists what the last build wrote."""

import pytest

from fhir_ire.build.output import MARKER, diff_tree, write_atomically
from fhir_ire.cli import main
from fhir_ire.errors import BuildError

FILES = {"01-a.json": {"resourceType": "Bundle"}, "facts/x.json": {"facts": []}}


def test_a_new_folder_is_written_with_a_marker_listing_the_files(tmp_path):
    out = tmp_path / "out"
    write_atomically(out, FILES)
    assert (out / MARKER).read_text().splitlines()[1:] == ["01-a.json", "facts/x.json"]


def test_a_previous_build_output_is_replaced_and_its_stale_files_go(tmp_path):
    out = tmp_path / "out"
    write_atomically(out, {**FILES, "old.json": {}})
    write_atomically(out, FILES)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == \
        [MARKER, "01-a.json", "facts/x.json"]


def test_a_folder_holding_a_users_file_is_refused_and_kept_as_it_was(tmp_path):
    out = tmp_path / "out"
    write_atomically(out, FILES)
    (out / "my-notes.txt").write_text("mine")
    with pytest.raises(BuildError, match=r"did not write \(my-notes.txt\)"):
        write_atomically(out, FILES)
    assert (out / "my-notes.txt").read_text() == "mine"


def test_a_folder_without_marker_is_replaced_only_when_it_holds_just_the_builds_own_files(tmp_path):
    out = tmp_path / "out"
    (out / "facts").mkdir(parents=True)
    (out / "01-a.json").write_text("{}")
    write_atomically(out, FILES)  # the same names as this build writes: a build output from before markers
    (out / MARKER).unlink()
    (out / "photo.jpg").write_bytes(b"\xff")
    with pytest.raises(BuildError, match="photo.jpg"):
        write_atomically(out, FILES)


def test_a_file_given_as_out_is_refused(tmp_path):
    out = tmp_path / "out"
    out.write_text("not a folder")
    with pytest.raises(BuildError, match="output is not a folder"):
        write_atomically(out, FILES)
    assert out.read_text() == "not a folder"


def test_check_ignores_the_marker(tmp_path):
    out = tmp_path / "out"
    write_atomically(out, FILES)
    assert diff_tree(out, FILES) == []


def test_build_cli_keeps_a_users_folder_and_says_why_in_one_line(tmp_path, root, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.docx").write_bytes(b"years of work")
    assert main(["build", "--seeds", str(root / "seeds"), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did not write (thesis.docx)" in err
    assert [p.name for p in out.iterdir()] == ["thesis.docx"]
