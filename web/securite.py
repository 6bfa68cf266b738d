"""HTTP hygiene: security headers, long-cached static files, public URLs.

Every response carries the headers; static files get a one-year cache only
when the URL carries their content hash (``?v=…``, added by ``url_for``);
absolute URLs come from ``URL_PUBLIQUE``, never from the Host header.
"""

import hashlib
import math
import re
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, request, url_for
from limits import parse_many
from werkzeug.routing import IntegerConverter

from catalogue import stockage
from web import theme
from web.cli import ErreurCommande

# No inline script or style anywhere: every script and style is a file.
CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: https:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
UN_AN = 365 * 24 * 3600
# Longer query strings are refused (414) before anything reads them.
LONGUEUR_REQUETE_MAX = 4096
# The largest id a table holds (PostgreSQL INTEGER); beyond it, no such row.
ID_MAX = 2**31 - 1
CLES_PAR_DEFAUT = {None, "", "dev", "changeme", "secret"}
# Shorter, a production key is guessed (« 1 », « True » were accepted).
LONGUEUR_CLE_MIN = 16
URL_PUBLIQUE_LOCALE = "http://127.0.0.1:5000"


class ConfigurationInvalide(ErreurCommande):
    """The app must not serve traffic with this configuration.

    `flask …` prints the French message alone (no traceback) and exits with 1.
    """


NOMBRE = re.compile(r"[0-9]+(\.[0-9]+)?", re.ASCII)
NOMBRE_MAX = 1_000_000
# Tighter bounds where a larger value means nothing or breaks a computation.
BORNES = {
    "SMTP_PORT": 65535,
    "RGPD_CONSERVATION_MOIS": 1200,
    "RGPD_AUDIT_CONSERVATION_MOIS": 1200,
    "PRESCRIPTION_LIEN_JOURS": 3650,
    "PLACES_LIEN_JOURS": 3650,
    "PROXIES_DEVANT": 5,
}
# Settings of text with no default (None): a number typed there
# (FLASK_SMTP_MOT_DE_PASSE=12345678) is read as the text it is.
TEXTES = (
    "SMTP_UTILISATEUR",
    "SMTP_MOT_DE_PASSE",
    "DEPARTEMENT_CODE",
    "MEILI_URL",
    "MEILI_API_KEY",
    "PROCONNECT_CLIENT_ID",
    "PROCONNECT_CLIENT_SECRET",
    "SMS_CLE_API",
    "THEME_LOGO",
)
VRAI = {"true", "1", "oui", "yes", "on"}
FAUX = {"false", "0", "non", "no", "off", ""}


def lire_les_types(config, defauts: dict, tapes: dict | None = None) -> None:
    """Each setting read as the type of its default. FLASK_… values are read
    as JSON, so « FLASK_DEMO=False » stayed the string "False", which is
    true: the passwordless demo login opened in production. A yes/no in
    any usual spelling is read; a number must be finite, and positive where
    its default is; anything else stops the start, in French."""
    tapes = tapes or {}
    for cle, defaut in defauts.items():
        if cle in TEXTES or isinstance(defaut, str):
            if cle in tapes:  # a text, exactly as typed (« true », « 1.50 »)
                config[cle] = tapes[cle]
                continue
        if cle in TEXTES and config.get(cle) is not None:
            defaut = ""
        if cle not in config or defaut is None:
            continue
        valeur = config[cle]
        if isinstance(defaut, bool):
            config[cle] = _oui_ou_non(cle, valeur)
        elif isinstance(defaut, int | float):
            config[cle] = _nombre(cle, valeur, defaut)
        elif isinstance(defaut, str) and isinstance(valeur, int | float):
            config[cle] = str(valeur)  # FLASK_FUSEAU_HORAIRE=123: a name
        elif isinstance(defaut, str) and not isinstance(valeur, str):
            raise ConfigurationInvalide(
                f"{cle} vaut « {valeur} » : un texte est attendu (par défaut : "
                f"{defaut or 'vide'})."
            )


def _oui_ou_non(cle: str, valeur) -> bool:
    if isinstance(valeur, bool):
        return valeur
    texte = str(valeur).strip().lower() if isinstance(valeur, str | int) else None
    if texte not in VRAI | FAUX:
        raise ConfigurationInvalide(f"{cle} vaut « {valeur} » : écrivez true ou false.")
    return texte in VRAI


def _nombre(cle: str, valeur, defaut: int | float) -> int | float:
    try:
        if isinstance(valeur, bool) or not isinstance(valeur, str | int | float):
            raise ValueError
        if isinstance(valeur, str) and not NOMBRE.fullmatch(valeur.strip()):
            raise ValueError  # « 1_000 », « ١٢ »: Python reads them, people not
        if isinstance(defaut, int) and isinstance(valeur, float):
            if not valeur.is_integer():  # 1.5 days: not silently 1
                raise ValueError
            valeur = int(valeur)
        nombre = type(defaut)(valeur.strip() if isinstance(valeur, str) else valeur)
        if not math.isfinite(nombre) or nombre < 0 or (defaut > 0 and nombre <= 0):
            raise ValueError
        if nombre > BORNES.get(cle, max(NOMBRE_MAX, defaut * 1000)):
            # 10 000 000 days of link: every booking a 500 (date overflow).
            raise ValueError
    except (ValueError, OverflowError):
        sorte = "entier " if isinstance(defaut, int) else ""
        signe = "positif " if defaut > 0 else ""
        borne = BORNES.get(cle, max(NOMBRE_MAX, defaut * 1000))
        raise ConfigurationInvalide(
            f"{cle} vaut « {valeur} » : un nombre {sorte}{signe}d'au plus {borne} "
            f"est attendu (par défaut : {defaut})."
        ) from None
    return nombre


def en_production(app: Flask) -> bool:
    return not (app.debug or app.testing)


def verifier_configuration(app: Flask) -> None:
    """Production never runs with a default secret (sessions could be forged)."""
    cle = app.config.get("SECRET_KEY")
    if en_production(app) and (
        cle in CLES_PAR_DEFAUT or len(str(cle).strip()) < LONGUEUR_CLE_MIN
    ):
        raise ConfigurationInvalide(
            "SECRET_KEY est absente, trop courte (moins de 16 caractères) ou vaut "
            "une valeur par défaut : définissez "
            "FLASK_SECRET_KEY avec une longue valeur aléatoire (par exemple "
            '`python3 -c "import secrets; print(secrets.token_hex(32))"`), '
            "ou lancez l'application en mode développement (`flask --debug`)."
        )
    url = app.config.get("URL_PUBLIQUE") or ""
    if en_production(app) and (not url or url.rstrip("/") == URL_PUBLIQUE_LOCALE):
        raise ConfigurationInvalide(
            "URL_PUBLIQUE n'est pas définie : donnez l'adresse publique du site "
            "(par exemple FLASK_URL_PUBLIQUE=https://offre.mon-departement.fr) ; "
            "les liens envoyés par SMS et par courriel en partent."
        )
    console = [
        c for c in ("COURRIEL_ENVOI", "SMS_ENVOI") if app.config.get(c) == "console"
    ]
    if en_production(app) and console and not app.config.get("ENVOI_CONSOLE_AUTORISE"):
        verbe = "valent" if len(console) > 1 else "vaut"
        raise ConfigurationInvalide(
            f"{' et '.join(console)} {verbe} « console » : en production, les messages "
            "aux personnes ne partiraient pas (ils iraient au journal). Configurez "
            "l'envoi (FLASK_COURRIEL_ENVOI=smtp, FLASK_SMS_ENVOI=brevo : voir le "
            "README) ou, pour une démonstration sans aucun envoi, "
            "FLASK_ENVOI_CONSOLE_AUTORISE=true : le journal ne garde alors qu'un "
            "destinataire masqué, sans le message."
        )
    _verifier_les_choix(app.config)
    if en_production(app):
        _verifier_les_envois(app.config)
        if (app.config.get("SEARCH_BACKEND") == "meilisearch") and not app.config.get(
            "MEILI_URL"
        ):
            raise ConfigurationInvalide(
                "SEARCH_BACKEND vaut « meilisearch » mais MEILI_URL n'est pas "
                "définie : donnez l'adresse du serveur (FLASK_MEILI_URL), ou "
                "gardez le moteur embarqué (FLASK_SEARCH_BACKEND=embarque)."
            )
        # The session cookie never travels in clear once the site is in HTTPS.
        app.config["SESSION_COOKIE_SECURE"] = url.startswith("https://")


# Rate limits: an unreadable one would start and limit nothing.
LIMITES = (
    "PRESCRIPTION_LIMITE_INSCRIPTION",
    "PRESCRIPTION_LIMITE_INSCRIPTION_ADRESSE",
    "PRESCRIPTION_LIMITE_LIENS",
)
# Settings with a closed list of values: a typo (« brevoo ») would start,
# then fail at every message, or at every search.
CHOIX = {
    "COURRIEL_ENVOI": ("console", "smtp"),
    "SMS_ENVOI": ("console", "brevo"),
    "SEARCH_BACKEND": ("embarque", "meilisearch"),
}


def _verifier_la_base(config) -> None:
    """An unusable DATABASE_URL stopped every command with a traceback
    (even `fiches verifier`, which never opens the database)."""
    url = config.get("DATABASE_URL") or ""
    try:
        config["DATABASE_URL"] = stockage.adresse_de_la_base(url)
    except stockage.AdresseInvalide as e:
        raise ConfigurationInvalide(
            f"DATABASE_URL vaut « {stockage.sans_mot_de_passe(url)} » : {e}. "
            f"Écrivez {stockage.FORMES_ACCEPTEES}."
        ) from None


def _verifier_les_couleurs(config) -> None:
    """A colour the CSS cannot take was silently replaced by the default."""
    for cle, defaut in theme.DEFAUTS.items():
        valeur = config.get(cle)
        if valeur and not theme.RE_HEX.fullmatch(str(valeur)):
            raise ConfigurationInvalide(
                f"{cle} vaut « {valeur} » : écrivez une couleur en hexadécimal, "
                f"#rrggbb ou #rgb (par défaut : {defaut})."
            )


def _verifier_les_choix(config) -> None:
    _verifier_la_base(config)
    _verifier_les_couleurs(config)
    for cle, valeurs in CHOIX.items():
        if (valeur := config.get(cle)) not in valeurs:
            raise ConfigurationInvalide(
                f"{cle} vaut « {valeur} » : valeurs possibles : {', '.join(valeurs)}."
            )
    url = config.get("URL_PUBLIQUE") or ""
    morceaux = urlsplit(url)
    try:
        morceaux.port  # noqa: B018 - raises on « :99999 »
        port_lisible = True
    except ValueError:
        port_lisible = False
    if (
        morceaux.scheme not in ("https", "http")
        or not morceaux.hostname
        or not port_lisible
        or morceaux.query
        or morceaux.fragment
        or "?" in url
        or "#" in url
        or any(c.isspace() for c in url)
    ):
        raise ConfigurationInvalide(
            f"URL_PUBLIQUE vaut « {url} » : écrivez l'adresse entière, avec "
            "https:// (par exemple https://offre.mon-departement.fr)."
        )
    for cle in LIMITES:
        try:
            if any(limite.amount < 1 for limite in parse_many(config.get(cle) or "")):
                raise ValueError  # « 0 per hour » refused every sign-up
        except ValueError:
            raise ConfigurationInvalide(
                f"{cle} vaut « {config.get(cle)} » : écrivez une limite comme "
                "« 10 per hour » ou « 60 per minute »."
            ) from None


def _verifier_les_envois(config) -> None:
    """A real sender without what it needs would fail at the first message."""
    if config.get("SMS_ENVOI") == "brevo" and not config.get("SMS_CLE_API"):
        raise ConfigurationInvalide(
            "SMS_ENVOI vaut « brevo » mais SMS_CLE_API n'est pas définie : donnez "
            "la clé d'API SMS de Brevo (FLASK_SMS_CLE_API), sinon aucun SMS ne "
            "partirait."
        )
    expediteur = (config.get("COURRIEL_EXPEDITEUR") or "").strip()
    if config.get("COURRIEL_ENVOI") == "smtp" and (
        not expediteur or expediteur.endswith(".invalid")
    ):
        raise ConfigurationInvalide(
            "COURRIEL_ENVOI vaut « smtp » mais COURRIEL_EXPEDITEUR n'est pas une "
            f"vraie adresse (« {expediteur} ») : donnez l'adresse d'envoi du "
            "département (par exemple FLASK_COURRIEL_EXPEDITEUR="
            "ne-pas-repondre@mon-departement.fr)."
        )


@cache
def _empreinte(dossier: str, fichier: str) -> str | None:
    chemin = Path(dossier) / fichier
    try:
        return hashlib.sha256(chemin.read_bytes()).hexdigest()[:12]
    except OSError:
        return None


def empreinte_statique(fichier: str) -> str | None:
    """The content hash of a static file (read once per process)."""
    dossier = current_app.static_folder
    return _empreinte(dossier, fichier) if dossier else None


def _versionner(endpoint: str, values: dict) -> None:
    if endpoint == "static" and "filename" in values and "v" not in values:
        empreinte = empreinte_statique(values["filename"])
        if empreinte:
            values["v"] = empreinte


def _refuser_les_adresses_trop_longues() -> None:
    if len(request.query_string) > LONGUEUR_REQUETE_MAX:
        abort(414)


def _refuser_les_corps_trop_gros() -> None:
    # Said up front by Content-Length: refused even where nothing reads the body.
    limite = request.max_content_length
    if limite is not None and (request.content_length or 0) > limite:
        abort(413)


def _entetes(reponse):
    entetes = reponse.headers
    entetes.setdefault("Content-Security-Policy", CSP)
    entetes.setdefault("X-Content-Type-Options", "nosniff")
    entetes.setdefault("X-Frame-Options", "DENY")
    entetes.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if en_production(current_app):
        entetes.setdefault(
            "Strict-Transport-Security", "max-age=63072000; includeSubDomains"
        )
    if request.endpoint == "static" and reponse.status_code in (200, 304):
        fichier = (request.view_args or {}).get("filename", "")
        version = request.args.get("v")
        if version and version == empreinte_statique(fichier):
            # Flask marks every static file « no-cache »: that would make
            # the browser ask again each time, year or not.
            reponse.cache_control.no_cache = None
            reponse.cache_control.public = True
            reponse.cache_control.max_age = UN_AN
            reponse.cache_control.immutable = True
        else:
            reponse.cache_control.no_cache = True
            reponse.cache_control.max_age = None
    elif request.path.startswith("/pro/"):
        # Professional pages name people and staff: never kept by a cache.
        entetes["Cache-Control"] = "no-store, private"
    return reponse


def url_absolue(endpoint: str, **valeurs) -> str:
    """``URL_PUBLIQUE`` + the path: shared links never trust the Host header."""
    base = current_app.config["URL_PUBLIQUE"].rstrip("/")
    return base + url_for(endpoint, **valeurs)


class Identifiant(IntegerConverter):
    """``<int:…>`` in every route: a number beyond ``ID_MAX`` matches nothing
    (a 404), instead of overflowing the database's integer (a 500)."""

    def __init__(self, map, fixed_digits=0, min=None, max=ID_MAX, signed=False):
        super().__init__(map, fixed_digits, min, max, signed)


def init_app(app: Flask) -> None:
    # Before any blueprint adds its routes: none can forget the bound.
    app.url_map.converters["int"] = Identifiant
    app.url_defaults(_versionner)
    app.before_request(_refuser_les_adresses_trop_longues)
    app.before_request(_refuser_les_corps_trop_gros)
    app.after_request(_entetes)
