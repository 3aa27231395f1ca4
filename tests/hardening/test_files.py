"""Input files are read safely: FIFOs, devices and oversized documents are refused by name, never read or waited on."""

import os

import pytest

from fhir_ire.cli import main
from fhir_ire.errors import BuildError
from fhir_ire.files import FileRefused, read_limited
from fhir_ire.sources import read_sources
from fhir_ire.sources.document import read_document


def test_read_limited_reads_a_regular_file(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"hello")
    assert read_limited(path, 5) == b"hello"


def test_read_limited_refuses_a_file_over_the_limit_before_reading(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * 101)
    with pytest.raises(FileRefused, match="too large: 101 bytes, the limit is 100"):
        read_limited(path, 100)


def test_read_limited_refuses_a_fifo_without_waiting_for_a_writer(tmp_path):
    path = tmp_path / "pipe.json"
    os.mkfifo(path)
    with pytest.raises(FileRefused, match="not a regular file \\(a FIFO\\)"):
        read_limited(path)


def test_read_limited_refuses_a_link_to_a_device(tmp_path):
    path = tmp_path / "zero.json"
    path.symlink_to("/dev/zero")
    with pytest.raises(FileRefused, match="a character device"):
        read_limited(path)


def test_a_document_above_the_size_limit_is_a_build_error_naming_it(tmp_path):
    path = tmp_path / "huge.txt"
    path.write_bytes(b"Summary & Overview\n" * 100)
    with pytest.raises(BuildError, match=r"huge.txt: document too large: 1,900 bytes, the limit is 1,000"):
        read_document(path, limit=1000)


def test_a_fifo_among_the_documents_is_refused_not_skipped(tmp_path):
    os.mkfifo(tmp_path / "000-report.txt")
    with pytest.raises(BuildError, match=r"000-report.txt: document not a regular file \(a FIFO\)"):
        read_sources(tmp_path)


def test_build_refuses_a_device_document_with_one_line(tmp_path, capsys):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "doc.txt").symlink_to("/dev/zero")
    assert main(["build", "--seeds", str(seeds), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "doc.txt: document not a regular file (a character device)" in err
    assert not (tmp_path / "out").exists()
