"""The scheduler: one process that runs every timed job on its interval, keeps
going when one fails, and stops cleanly when asked (SIGTERM)."""

import logging
import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, select

from catalogue import places
from prescription.modeles import Beneficiaire, Notification, Prescription
from tests.prescription.conftest import PERSONNE, REGLAGES, poster, se_connecter
from web.planificateur import REESSAI_S, Planificateur, taches_depuis_config

ROOT = Path(__file__).resolve().parent.parent.parent


def prescrire(app, **personne) -> int:
    referent = se_connecter(app.test_client(), "referent", prescripteur="referent-rsa")
    poster(
        referent,
        "/fiches/velos-alencon/prescrire",
        {**PERSONNE, **personne, "motif": "Emploi", "engagement": "oui"},
    )
    with Session(app.extensions["db"]) as db:
        return db.exec(select(Prescription.id).order_by(Prescription.id.desc())).first()


def vieillir(app, pid: int, jours: int, statut: str | None = None) -> None:
    with Session(app.extensions["db"]) as db:
        p = db.get(Prescription, pid)
        p.maj_le = places.maintenant_utc() - timedelta(days=jours)
        p.statut = statut or p.statut
        db.add(p)
        db.commit()


class Horloge:
    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_un_tic_lance_chaque_tache(app_p):
    sans_reponse = prescrire(app_p)
    vieillir(app_p, sans_reponse, 6)
    ancienne = prescrire(app_p, nom="Sow", telephone="06 98 76 54 32")
    vieillir(app_p, ancienne, 3 * 365, statut="annulee")
    with Session(app_p.extensions["db"]) as db:
        # A place changed by hand, not yet in the index.
        places.fixer(db, "chantier-orne", 1, "essai")
        db.commit()
        assert places.en_attente(db) == 1

    faits = Planificateur(app_p, taches_depuis_config(app_p.config)).tic()

    assert faits == {
        "relances": True,
        "messages": True,
        "index": True,
        "resumes": True,
        "rgpd": True,
    }
    with Session(app_p.extensions["db"]) as db:
        assert db.get(Prescription, sans_reponse).relance_le is not None
        rappels = db.exec(
            select(Notification).where(Notification.sujet.startswith("Rappel"))
        ).all()
        assert rappels and all(n.envoye_le is not None for n in rappels)
        assert places.en_attente(db) == 0
        sow = db.get(Beneficiaire, db.get(Prescription, ancienne).beneficiaire_id)
        assert sow.telephone is None and sow.anonymise_le is not None


def test_une_tache_en_echec_n_arrete_pas_les_autres(app_p, caplog):
    pid = prescrire(app_p)
    vieillir(app_p, pid, 6)
    horloge = Horloge()
    taches = taches_depuis_config(app_p.config)
    relances = taches[0]
    vraie = relances.fonction

    def base_injoignable(app):
        raise ConnectionError("la base ne répond pas")

    relances.fonction = base_injoignable
    p = Planificateur(app_p, taches, horloge=horloge)
    with caplog.at_level(logging.INFO, logger="planificateur"):
        faits = p.tic()
    attendu = {"messages": True, "index": True, "resumes": True, "rgpd": True}
    assert faits == {"relances": False, **attendu}
    assert "Tâche « relances » en échec (1 fois de suite)" in caplog.text
    assert "Tâche « rgpd » : 0 personne(s) anonymisée(s)" in caplog.text

    # Not due yet: nothing runs; the failed job comes back sooner than its hour.
    horloge.t += 30
    assert p.tic() == {}
    relances.fonction = vraie
    horloge.t += REESSAI_S
    assert p.tic() == {"relances": True, "messages": True, "index": True}
    with Session(app_p.extensions["db"]) as db:
        assert db.get(Prescription, pid).relance_le is not None


def test_sigterm_arrete_le_planificateur_proprement(base_de_donnees, tmp_path):
    env = {
        **os.environ,
        "FLASK_TESTING": "true",
        "FLASK_SECRET_KEY": "test",
        "FLASK_DATABASE_URL": base_de_donnees(),
        "FLASK_SEARCH_PATH": str(tmp_path / "recherche"),
        "FLASK_FICHES_DIR": REGLAGES["FICHES_DIR"],
        "FLASK_STRUCTURES_DIR": REGLAGES["STRUCTURES_DIR"],
    }
    processus = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "planificateur"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lu = []
        for ligne in processus.stderr:
            lu.append(ligne)
            if "Tâche « rgpd »" in ligne:  # every job has run once: now it waits
                break
        assert any("Planificateur démarré" in ligne for ligne in lu), "".join(lu)
        processus.send_signal(signal.SIGTERM)
        reste = processus.stderr.read()
        assert processus.wait(timeout=60) == 0, reste
        assert "Planificateur arrêté" in reste
        assert "Traceback" not in "".join(lu) + reste
    finally:
        if processus.poll() is None:
            processus.kill()


def test_une_fois_pour_un_cron_chaque_tache_tourne_puis_s_arrete(app_p):
    pid = prescrire(app_p)
    vieillir(app_p, pid, 6)
    resultat = app_p.test_cli_runner().invoke(args=["planificateur", "--une-fois"])
    assert resultat.exit_code == 0, resultat.output
    with Session(app_p.extensions["db"]) as db:
        assert db.get(Prescription, pid).relance_le is not None


def test_le_signal_d_arret_ne_touche_pas_au_verrou_de_l_attente(app_p):
    """SIGTERM came while the main thread was inside ``arret.wait``: the
    handler, in that same thread, set the event and waited for a lock that
    thread already held. The scheduler hung for good (seen in CI)."""
    p = Planificateur(app_p, [])
    qui = []
    p.arret.set = lambda: qui.append(threading.current_thread())
    p.arreter_au_signal(signal.SIGTERM, None)
    for fil in threading.enumerate():
        if fil.name == "arret":
            fil.join(timeout=30)
    assert qui and qui[0] is not threading.main_thread()
