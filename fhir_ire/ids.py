"""Random identifiers (card uuids, coverage-assertion ids, request ids, expansion identifiers): version 4 UUIDs from
the operating system's random source, as uuid.uuid4(), drawn in blocks (one system call per 256 ids, not one each)
and written as text a block at a time, without building UUID objects. A forked worker starts with no ids ready,
never its parent's."""

import os
import re
import threading

BLOCK = 4096  # bytes drawn from os.urandom at a time: 256 ids
_ready: list[str] = []  # ids as 32 hexadecimal digits; list.pop() hands each to one caller, whatever the thread
_dashed: list[str] = []  # ids as text with dashes (8-4-4-4-12), likewise
_lock = threading.Lock()
_GROUPS = re.compile(r"(.{8})(.{4})(.{4})(.{4})(.{12})")


def _after_fork() -> None:
    global _lock
    _ready.clear()  # the parent's ids would be drawn by both processes
    _dashed.clear()
    _lock = threading.Lock()  # a lock held by another thread at fork() would never be released in the child


os.register_at_fork(after_in_child=_after_fork)


def _block() -> str:
    """256 ids as hexadecimal text, from one block of random bytes: the version (4) and variant (RFC 4122) bits set
    in the whole block at once, as uuid.uuid4() sets them in each."""
    block = bytearray(os.urandom(BLOCK))
    block[6::16] = bytes(b & 0x0F | 0x40 for b in block[6::16])
    block[8::16] = bytes(b & 0x3F | 0x80 for b in block[8::16])
    return block.hex()


def new_uuid_hex() -> str:
    """A random (version 4) UUID as 32 hexadecimal digits, as uuid.uuid4().hex."""
    try:
        return _ready.pop()
    except IndexError:
        with _lock:
            if not _ready:
                text = _block()
                _ready.extend(text[i:i + 32] for i in range(0, len(text), 32))
        return new_uuid_hex()


def new_uuid() -> str:
    """A random (version 4) UUID as text, as str(uuid.uuid4()); the dashes put in a block at a time."""
    try:
        return _dashed.pop()
    except IndexError:
        with _lock:
            if not _dashed:
                _dashed.extend(_GROUPS.sub(r"\1-\2-\3-\4-\5 ", _block()).split())
        return new_uuid()
