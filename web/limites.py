"""Rate limits shared by every worker: counters live in the database.

Flask-Limiter's memory storage counts per process, so two gunicorn workers
would each allow the full limit. Without Redis, the app's own database
holds the counters (``RATELIMIT_STORAGE_URI = "offre+base://"``, the
default); a deployment with Redis may set ``redis://…`` instead.
"""

import ipaddress
import secrets
import time

from flask import Flask, current_app, request, session
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits.storage import Storage
from sqlalchemy import Engine, create_engine, delete, exc, insert, update
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from prescription.modeles import CompteurLimite


class StockageBase(Storage):
    """Fixed-window counters in the ``limites`` table (SQLite or PostgreSQL)."""

    STORAGE_SCHEME = ["offre+base"]
    moteurs: dict[str, Engine] = {}

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **_):
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        self.nom = (uri or "").split("://", 1)[-1] or "defaut"

    @property
    def engine(self) -> Engine:
        return self.moteurs[self.nom]

    @property
    def base_exceptions(self):
        return exc.SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        maintenant = time.time()
        with Session(self.engine) as db:
            # A finished window starts again from zero.
            db.execute(
                update(CompteurLimite)
                .where(CompteurLimite.cle == key, CompteurLimite.expire_a <= maintenant)
                .values(compte=0, expire_a=maintenant + expiry)
            )
            ajouter = (
                update(CompteurLimite)
                .where(CompteurLimite.cle == key)
                .values(compte=CompteurLimite.compte + amount)
                .returning(CompteurLimite.compte)
            )
            ligne = db.execute(ajouter).first()
            if ligne is None:
                try:
                    with db.begin_nested():
                        db.execute(
                            insert(CompteurLimite).values(
                                cle=key, compte=amount, expire_a=maintenant + expiry
                            )
                        )
                    ligne = (amount,)
                except exc.IntegrityError:
                    # Another worker created it first: count on its row.
                    ligne = db.execute(ajouter).first()
            db.commit()
            return ligne[0]

    def _ligne(self, key: str) -> CompteurLimite | None:
        with Session(self.engine) as db:
            ligne = db.get(CompteurLimite, key)
            if ligne is None or ligne.expire_a <= time.time():
                return None
            db.expunge(ligne)
            return ligne

    def get(self, key: str) -> int:
        ligne = self._ligne(key)
        return ligne.compte if ligne else 0

    def get_expiry(self, key: str) -> float:
        ligne = self._ligne(key)
        return ligne.expire_a if ligne else time.time()

    def check(self) -> bool:
        try:
            with self.engine.connect():
                return True
        except exc.SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with Session(self.engine) as db:
            n = db.execute(delete(CompteurLimite)).rowcount
            db.commit()
            return n

    def clear(self, key: str) -> None:
        with Session(self.engine) as db:
            db.execute(delete(CompteurLimite).where(CompteurLimite.cle == key))
            db.commit()


def par_adresse() -> str:
    """The client's address; for IPv6 its /64 network, which one subscriber
    gets whole (each of its addresses counted alone gave no limit at all)."""
    adresse = get_remote_address()
    try:
        ip = ipaddress.ip_address(adresse)
    except ValueError:
        return adresse
    if ip.version == 6 and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return adresse


def par_appareil() -> str:
    """The address and this browser's visit: a shared computer (CCAS, France
    Services) is not blocked by the people who used it before.

    The visit is a random id kept in the session cookie, renewed after each
    request sent (see ``nouvelle_visite``); a client without cookies gets a
    new one each time, so only the per-address ceiling counts it.
    """
    if "visite" not in session:
        nouvelle_visite()
    return f"{par_adresse()}|{session['visite']}"


def nouvelle_visite() -> None:
    """The next person on this computer starts with a fresh count."""
    session["visite"] = secrets.token_urlsafe(8)


CLES = {"adresse": par_adresse, "appareil": par_appareil}


def attente_en_mots() -> str:
    """How long until the broken limit opens again: « 12 minutes »."""
    limite = current_app.extensions["limiteur"].current_limit
    if limite is None:
        return "quelques minutes"
    minutes = max(1, round((limite.reset_at - time.time()) / 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def _envoi_accepte(reponse) -> bool:
    # A form sent back to be corrected, or a commune chosen with one tap
    # (the form comes back filled, not sent), is not a sending.
    return reponse.status_code != 422 and "commune_choisie" not in request.form


def init_app(app: Flask, limites: dict[str, list[tuple]]) -> Limiter:
    """One limiter per app; ``limites``: endpoint -> [(config key of its rate,
    methods counted or None for all, "adresse" or "appareil")]."""
    # Each app names its engine: tests build several apps in one process.
    nom = str(id(app))
    # Its own connection pool: a request holding one connection of the app's
    # pool must never wait for a second one to count itself.
    # No idle connections kept (NullPool): one short transaction per count.
    url = app.config["DATABASE_URL"]
    StockageBase.moteurs[nom] = create_engine(
        url,
        poolclass=NullPool,
        connect_args={"timeout": 30} if url.startswith("sqlite") else {},
    )
    uri = app.config.get("RATELIMIT_STORAGE_URI") or "offre+base://"
    if uri == "offre+base://":
        uri = f"offre+base://{nom}"
    limiter = Limiter(
        par_adresse,
        app=app,
        storage_uri=uri,
        default_limits=[],
        headers_enabled=True,
        # Counters live in the database: when it is down, the request itself
        # meets it and says so in French (web/pannes.py); a count made after
        # the answer (deduct_when) must not turn that into an error 500.
        swallow_errors=True,
    )
    for endpoint, regles in limites.items():
        vue = app.view_functions[endpoint]
        for cle, methodes, par in regles:
            vue = limiter.limit(
                lambda cle=cle: app.config[cle],
                methods=methodes,
                key_func=CLES[par],
                scope=f"{endpoint}:{par}",
                # A form sent back to be corrected (422) creates nothing:
                # a person fixing her typos is not counted for them. The
                # per-address ceiling still counts every try.
                deduct_when=_envoi_accepte if par == "appareil" else None,
            )(vue)
        app.view_functions[endpoint] = vue
    # No default limits: the other pages (the search first) skip the
    # limiter's work, a seventh of a kept search page's cost.
    limitees = frozenset(limites)
    limiter.request_filter(lambda: request.endpoint not in limitees)
    app.extensions["limiteur"] = limiter
    return limiter
