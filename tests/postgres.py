"""A throwaway PostgreSQL cluster for integration tests: Debian's `postgresql` (installed by tests/debian.py when
missing), initdb into a temporary folder, pg_ctl on a free loopback port, removed afterwards. As root the cluster
runs as the `postgres` user (PostgreSQL refuses to run as root)."""

import os
import pwd
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import free_port
from tests.debian import require

BIN_DIRS = ("/usr/lib/postgresql/*/bin",)


def _runner() -> tuple[list[str], int | None, int | None]:
    """The command prefix that runs a program as a user PostgreSQL accepts, and that user's uid and gid."""
    if os.geteuid() != 0:
        return [], None, None
    for name in ("postgres", "nobody"):
        try:
            user = pwd.getpwnam(name)
        except KeyError:
            continue
        return [shutil.which("runuser") or "runuser", "-u", name, "--"], user.pw_uid, user.pw_gid
    raise RuntimeError("running as root and no postgres or nobody user to run PostgreSQL as")


@contextmanager
def throwaway_cluster(user: str = "fhirire"):
    """Yields a postgresql:// URL of a new cluster (trust authentication on 127.0.0.1 only)."""
    initdb = require("initdb", "postgresql", extra_dirs=BIN_DIRS)
    pg_ctl = str(Path(initdb).resolve().parent / "pg_ctl")
    prefix, uid, gid = _runner()
    folder = Path(tempfile.mkdtemp(prefix="fhir-ire-pg-"))  # under /tmp, reachable by the postgres user
    if uid is not None:
        os.chown(folder, uid, gid)
    data, port = folder / "data", free_port()

    def run(*cmd):
        done = subprocess.run([*prefix, *cmd], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{Path(cmd[0]).name} failed: {done.stderr.strip()[-500:]}")

    try:
        run(initdb, "-D", str(data), "-U", user, "--auth=trust", "-E", "UTF8", "--no-instructions")
        run(pg_ctl, "-D", str(data), "-l", str(folder / "server.log"), "-w", "-t", "60", "-o",
            f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
        yield f"postgresql://{user}@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"], capture_output=True,
                           timeout=60)
        shutil.rmtree(folder, ignore_errors=True)
