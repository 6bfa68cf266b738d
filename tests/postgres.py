"""A throwaway PostgreSQL cluster from Debian's packages, for the test run.

initdb refuses to run as root, so under root (CI) the server runs as the
``postgres`` user, in a temporary folder that user owns.
"""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def _bin(nom: str) -> str:
    dossiers = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version)
    for dossier in reversed(dossiers):
        if Path(dossier, nom).exists():
            return str(Path(dossier, nom))
    trouve = shutil.which(nom)
    if not trouve:
        raise RuntimeError(
            f"{nom} introuvable : installez PostgreSQL (apt-get install postgresql)"
        )
    return trouve


def _version(dossier: str) -> int:
    try:
        return int(Path(dossier).parent.name)
    except ValueError:
        return 0


def _port_libre() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Grappe:
    """initdb + pg_ctl start in a temp folder; ``arreter()`` removes it all."""

    def __init__(self) -> None:
        self.dossier = Path(tempfile.mkdtemp(prefix="offre-pg-"))
        self.port = _port_libre()
        self._en_tant_que: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dossier, "postgres", "postgres")
            self._en_tant_que = ["runuser", "-u", "postgres", "--"]
        donnees = self.dossier / "data"
        self._lancer(
            _bin("initdb"), "-D", str(donnees), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dossier} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=300"
        )
        self._lancer(
            _bin("pg_ctl"), "-D", str(donnees), "-l", str(self.dossier / "server.log"),
            "-w", "-t", "60", "-o", options, "start",
        )  # fmt: skip
        self._donnees = donnees

    def _lancer(self, *commande: str) -> None:
        subprocess.run(
            [*self._en_tant_que, *commande],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def url(self, base: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{base}"

    def executer(self, sql: str) -> None:
        import psycopg

        url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        with psycopg.connect(url, autocommit=True) as cnx:
            cnx.execute(sql)

    def arreter(self) -> None:
        try:
            self._lancer(
                _bin("pg_ctl"), "-D", str(self._donnees), "-m", "immediate", "-w",
                "stop",
            )  # fmt: skip
        finally:
            shutil.rmtree(self.dossier, ignore_errors=True)
