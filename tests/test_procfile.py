"""The Procfile's web process, run as production runs it: its access log
never keeps the secret of a personal link."""

import logging
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from web.journal_gunicorn import FiltreMasque

ROOT = Path(__file__).resolve().parents[1]


def _commande_web(port: int) -> list[str]:
    ligne = next(
        ligne.split(":", 1)[1]
        for ligne in (ROOT / "Procfile").read_text().splitlines()
        if ligne.startswith("web:")
    )
    mots = shlex.split(ligne.replace("${PORT:-5000}", str(port)))
    mots[mots.index("--workers") + 1] = "1"
    # The venv's gunicorn, whatever the PATH.
    return [sys.executable, "-m", *mots]


def _commande_make_run(port: int) -> list[str]:
    """`make run`'s development server (werkzeug), as the Makefile starts it."""
    ligne = next(
        ligne.split(":=", 1)[1]
        for ligne in (ROOT / "Makefile").read_text().splitlines()
        if ligne.startswith("FLASK :=")
    )
    mots = shlex.split(ligne)
    assert mots[0] == "$(BIN)/flask"
    return [sys.executable, "-m", "flask", *mots[1:], "run", "--port", str(port)]


@pytest.mark.parametrize("commande", [_commande_web, _commande_make_run])
def test_le_journal_d_acces_masque_les_liens_personnels(tmp_path, commande):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "FLASK_SECRET_KEY": "une-longue-cle-aleatoire-pour-l-essai",
        "FLASK_URL_PUBLIQUE": "https://offre.exemple.fr",
        "FLASK_ENVOI_CONSOLE_AUTORISE": "true",
        "FLASK_DATABASE_URL": f"sqlite:///{tmp_path / 'offre.sqlite3'}",
        "FLASK_SEARCH_PATH": str(tmp_path / "index"),
    }
    journal = tmp_path / "journal.txt"
    with journal.open("w") as sortie:
        # Its own process group: `flask run --debug`'s reloader runs the
        # server in a child, which must stop with it.
        serveur = subprocess.Popen(
            commande(port),
            cwd=ROOT,
            env=env,
            stdout=sortie,
            stderr=sortie,
            start_new_session=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            fin = time.monotonic() + 60
            while True:  # up when it answers
                try:
                    # `flask run` prepares the index at its first request.
                    requests.get(base + "/glossaire", timeout=60)
                    break
                except requests.ConnectionError:
                    assert serveur.poll() is None, journal.read_text()
                    assert time.monotonic() < fin, journal.read_text()
                    time.sleep(0.1)
            jeton = "AbCdEf0123456789.SECRETsecret-42"
            requests.get(f"{base}/suivi/{jeton}", timeout=30)
            requests.get(
                f"{base}/glossaire",
                headers={"Referer": f"{base}/places/{jeton}"},
                timeout=30,
            )
            requests.get(f"{base}/pro/places/velos-alencon", timeout=30)
            # The same route, written otherwise (a link rewriter, a trick).
            requests.get(f"{base}/%73uivi/{jeton}", timeout=30)
            requests.get(f"{base}/suivi%2F{jeton}", timeout=30)
            requests.get(f"{base}/glossaire?r=%252Fplaces%252F{jeton}", timeout=30)
        finally:
            os.killpg(serveur.pid, signal.SIGTERM)
            serveur.wait(timeout=30)
    texte = journal.read_text()
    assert "GET /suivi/••• HTTP/1.1" in texte
    assert "/places/•••" in texte  # the Referer of a page it loaded
    assert "SECRET" not in texte
    assert "/pro/places/velos-alencon" in texte  # an action's id is no secret
    # werkzeug's colours around a masked line were shown as text.
    assert "%1B" not in texte


def _ligne_werkzeug(message: str, *args) -> str:
    ligne = logging.LogRecord("werkzeug", logging.INFO, "", 0, message, args, None)
    FiltreMasque().filter(ligne)
    return ligne.getMessage()


def test_une_ligne_masquee_du_serveur_de_developpement_perd_ses_couleurs():
    rouge = "\x1b[31m\x1b[1mGET /suivi/AbCdEf0123 HTTP/1.1\x1b[0m"
    assert _ligne_werkzeug('"%s" %s %s', rouge, "410", "-") == (
        '"GET /suivi/••• HTTP/1.1" 410 -'
    )
    # A line with no secret keeps them, for the terminal.
    jaune = "\x1b[33mGET /rien HTTP/1.1\x1b[0m"
    assert _ligne_werkzeug('"%s" %s %s', jaune, "404", "-") == f'"{jaune}" 404 -'


def test_une_ligne_forgee_reste_encodee_sans_ses_couleurs():
    forgee = "\x1b[31mGET /suivi/Ab%0A127.0.0.1 - faux%1B]0;titre%07 HTTP/1.1\x1b[0m"
    ligne = _ligne_werkzeug('"%s" %s %s', forgee, "410", "-")
    assert ligne == '"GET /suivi/•••%0A127.0.0.1 - faux%1B]0;titre%07 HTTP/1.1" 410 -'
