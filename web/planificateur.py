"""The scheduler: one long-lived process (`flask --app app planificateur`) that
runs the timed jobs, each on its own interval.

- relances : reminders to prestataires, then expiry (the place goes back);
- messages : the outbox of e-mails and SMS (a sender down is retried);
- index : places changed but not yet in the search index;
- resumes : the daily digest of the structures that chose one;
- rgpd : the retention purge (anonymisation, old audit lines).

A job that fails is logged and tried again sooner (``REESSAI_S``); the others
keep running. SIGTERM or SIGINT stops the loop after the job in progress.
"""

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlmodel import Session

from catalogue import places
from prescription import demandes, notifications
from web.cli_rgpd import purger_maintenant
from web.prescription import LiensWeb
from web.securite import en_production

logger = logging.getLogger("planificateur")

# After a failure, the job is tried again this soon (or at its interval).
REESSAI_S = 60.0


def relancer_et_expirer(app: Flask) -> str:
    app.extensions["preparer"]()  # the fiches' places into the database
    with app.test_request_context(base_url=app.config["URL_PUBLIQUE"]):
        with Session(app.extensions["db"]) as db:
            relances, expirees = demandes.relancer_et_expirer(
                db,
                app.extensions["catalogue"].fiches,
                LiensWeb(db),
                app.config["PRESCRIPTION_RELANCE_JOURS"],
                app.config["PRESCRIPTION_EXPIRATION_JOURS"],
            )
            db.commit()
    publier_les_places(app)
    return f"{relances} relance(s), {expirees} demande(s) expirée(s)"


def envoyer_les_messages(app: Flask) -> str:
    envoyes, echecs = notifications.envoyer_en_attente(
        app.extensions["db"],
        notifications.expediteurs_depuis_config(app.config, discret=en_production(app)),
    )
    return f"{envoyes} message(s) envoyé(s), {echecs} en échec (nouvel essai plus tard)"


def publier_les_places(app: Flask) -> str:
    # Whole documents: a fiche validated meanwhile goes out as validated.
    n = places.publier(
        app.extensions["db"],
        app.extensions["recherche"],
        documents=app.extensions["publication"].documents,
    )
    return f"{n} fiche(s) mise(s) à jour dans l'index"


def envoyer_les_resumes(app: Flask) -> str:
    with Session(app.extensions["db"]) as db:
        n = notifications.envoyer_les_resumes(db)
        db.commit()
    return f"{n} résumé(s) mis en file"


def purger_rgpd(app: Flask) -> str:
    bilan = purger_maintenant(app)
    return (
        f"{bilan.personnes_anonymisees} personne(s) anonymisée(s), "
        f"{bilan.audits_supprimes} ligne(s) d'audit effacée(s)"
    )


@dataclass
class Tache:
    nom: str
    intervalle_s: float
    fonction: Callable[[Flask], str]
    prochaine: float = 0.0  # monotonic time of the next run; 0: at once
    echecs: int = 0


@dataclass
class Planificateur:
    app: Flask
    taches: list[Tache]
    horloge: Callable[[], float] = time.monotonic
    arret: threading.Event = field(default_factory=threading.Event)

    def tic(self) -> dict[str, bool]:
        """Run every job that is due; job name -> succeeded."""
        faits = {}
        for tache in self.taches:
            if self.arret.is_set():
                break
            if self.horloge() < tache.prochaine:
                continue
            faits[tache.nom] = self._lancer(tache)
        return faits

    def _lancer(self, tache: Tache) -> bool:
        try:
            with self.app.app_context():
                bilan = tache.fonction(self.app)
        except Exception:  # noqa: BLE001 - one job's failure never stops the others
            tache.echecs += 1
            logger.exception(
                "Tâche « %s » en échec (%d fois de suite) : nouvel essai plus tard",
                tache.nom,
                tache.echecs,
            )
            tache.prochaine = self.horloge() + min(REESSAI_S, tache.intervalle_s)
            return False
        tache.echecs = 0
        tache.prochaine = self.horloge() + tache.intervalle_s
        logger.info("Tâche « %s » : %s", tache.nom, bilan)
        return True

    def tourner(self) -> None:
        """The loop: until ``arreter`` (SIGTERM, SIGINT)."""
        logger.info(
            "Planificateur démarré : %s",
            ", ".join(f"{t.nom} toutes les {t.intervalle_s:g} s" for t in self.taches),
        )
        while not self.arret.is_set():
            self.tic()
            prochaine = min(t.prochaine for t in self.taches)
            self.arret.wait(max(0.0, min(prochaine - self.horloge(), 60.0)))
        logger.info("Planificateur arrêté")

    def arreter(self, *_signal) -> None:
        self.arret.set()

    def arreter_au_signal(self, *_signal) -> None:
        """SIGTERM, SIGINT. The handler runs in the main thread, which may be
        inside ``arret.wait`` holding its lock: setting the event there hung
        the scheduler for good (seen in CI, the test waiting on it). Set by
        another thread, which takes the lock once the wait lets it go."""
        threading.Thread(target=self.arret.set, name="arret", daemon=True).start()


def taches_depuis_config(config) -> list[Tache]:
    return [
        Tache("relances", config["PLANIFICATEUR_RELANCES_S"], relancer_et_expirer),
        Tache("messages", config["PLANIFICATEUR_MESSAGES_S"], envoyer_les_messages),
        Tache("index", config["PLANIFICATEUR_INDEX_S"], publier_les_places),
        Tache("resumes", config["PLANIFICATEUR_RESUMES_S"], envoyer_les_resumes),
        Tache("rgpd", config["PLANIFICATEUR_RGPD_S"], purger_rgpd),
    ]


@click.command("planificateur")
@with_appcontext
@click.option(
    "--une-fois",
    is_flag=True,
    help="Lance chaque tâche une fois puis s'arrête (pour un cron).",
)
def planificateur_cli(une_fois: bool):
    """Relances, expirations, messages en file, index et purge RGPD, chacun à son
    rythme ; une tâche en échec est notée et réessayée, les autres continuent."""
    app = current_app._get_current_object()
    p = Planificateur(app, taches_depuis_config(app.config))
    if une_fois:
        faits = p.tic()
        raise SystemExit(0 if all(faits.values()) else 1)
    signal.signal(signal.SIGTERM, p.arreter_au_signal)
    signal.signal(signal.SIGINT, p.arreter_au_signal)
    p.tourner()
