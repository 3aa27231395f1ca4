"""Random identifiers (fhir_ire/ids.py): version 4 UUIDs, distinct, and never the same in a forked worker as in its
parent (the block of random bytes is not inherited)."""

import os
import uuid

from fhir_ire.ids import new_uuid, new_uuid_hex


def test_ids_are_version_4_uuids_and_distinct():
    ids = [new_uuid() for _ in range(1000)] + [new_uuid_hex() for _ in range(1000)]
    parsed = [uuid.UUID(i) for i in ids]
    assert all(u.version == 4 and u.variant == uuid.RFC_4122 for u in parsed)
    assert all(str(u) == i for u, i in zip(parsed[:1000], ids)) and all(u.hex == i for u, i in
                                                                        zip(parsed[1000:], ids[1000:]))
    assert len(set(parsed)) == len(ids)


def test_a_forked_process_draws_other_ids_than_its_parent():
    new_uuid()  # the parent holds a block of random bytes
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next id, to the parent
        os.write(write, new_uuid().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 100).decode()
    os.close(read)
    assert len(child) == 36 and child != new_uuid()
