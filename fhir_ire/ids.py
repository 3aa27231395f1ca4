"""Random identifiers (card uuids, coverage-assertion ids, request ids, expansion identifiers): version 4 UUIDs from
the operating system's random source, as uuid.uuid4(), drawn in blocks (one system call per 256 ids, not one each)
and written as text without building UUID objects. A forked worker starts with an empty block, never its parent's."""

import os
import threading

BLOCK = 4096  # bytes drawn from os.urandom at a time: 256 ids
_pool = bytearray()
_lock = threading.Lock()


def _after_fork() -> None:
    global _lock
    _pool.clear()  # the parent's unused bytes would give both processes the same ids
    _lock = threading.Lock()  # a lock held by another thread at fork() would never be released in the child


os.register_at_fork(after_in_child=_after_fork)


def _random16() -> bytearray:
    with _lock:
        if len(_pool) < 16:
            _pool.extend(os.urandom(BLOCK))
        out = _pool[-16:]
        del _pool[-16:]
    return out


def new_uuid_hex() -> str:
    """A random (version 4) UUID as 32 hexadecimal digits, as uuid.uuid4().hex."""
    b = _random16()
    b[6], b[8] = b[6] & 0x0F | 0x40, b[8] & 0x3F | 0x80
    return b.hex()


def new_uuid() -> str:
    """A random (version 4) UUID as text, as str(uuid.uuid4())."""
    h = new_uuid_hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
