"""Reading input files safely, for the build's documents and the server's bundles alike: regular files only (never a
FIFO, device or socket, even behind a symbolic link) and never more than a size limit, checked before reading."""

import os
import stat
from pathlib import Path

from fhir_ire.errors import IreError

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
         (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))


class FileRefused(IreError):
    """A file that cannot be read safely; str() says what is wrong, the caller names the file."""


def kind_of(mode: int) -> str:
    return next((name for is_kind, name in KINDS if is_kind(mode)), "not a regular file")


def read_limited(path: str | Path, limit: int = MAX_DOCUMENT_BYTES) -> bytes:
    """The bytes of a regular file of at most limit bytes. Opened without blocking (a FIFO would wait for a writer)
    and checked on the open descriptor, so a link swapped in between cannot point elsewhere."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as e:
        raise FileRefused(f"cannot read: {e.strerror}") from None
    with os.fdopen(fd, "rb", buffering=0) as f:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(f"not a regular file ({kind_of(info.st_mode)})")
        if info.st_size > limit:
            raise FileRefused(f"too large: {info.st_size:,} bytes, the limit is {limit:,}")
        try:
            data = _read_upto(f, limit + 1)
        except OSError as e:
            raise FileRefused(f"cannot read: {e.strerror}") from None
    if len(data) > limit:  # it grew while we read it
        raise FileRefused(f"too large: more than {limit:,} bytes")
    return data


def _read_upto(f, size: int) -> bytes:
    parts, left = [], size
    while left > 0:
        chunk = f.read(min(left, 1 << 20))
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)
