"""With preload the app is built before fork(): nothing may be half-built then. The ICD-10-CM word index is built by
a thread; serve waits for it (textindex.finish_builds) before the workers are forked, so a worker inherits the
built index instead of a build its process does not have."""

import json
import os
import time

from fhir_ire.terminology.textindex import TextIndex, finish_builds

TITLES = [("C25.0", "Malignant neoplasm of head of pancreas"), ("C25.1", "Malignant neoplasm of body of pancreas")]


def test_a_forked_worker_inherits_the_built_index_and_does_not_build_again():
    builds = []

    def entries():
        builds.append(os.getpid())
        time.sleep(0.3)  # still building when finish_builds is called
        return iter(TITLES)

    index = TextIndex(entries, background=True)
    finish_builds()
    assert builds == [os.getpid()] and len(index) == 2
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the worker: answer a search, report the builds its process ran, and leave at once
        try:
            os.write(write, json.dumps({"found": index.search("malig head"), "builds": builds}).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        seen = json.loads(pipe.read())
    os.waitpid(child, 0)
    assert seen == {"found": [0], "builds": [os.getpid()]}  # the parent's build only
