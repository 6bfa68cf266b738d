"""Every acronym a person reads is explained: walk the pages each role sees.

A page passes when each capitalised abbreviation in its visible text is
either inside an ``<abbr title=…>`` (the glossary explained it, in words the
first time), or the proper name of an organisation (listed below, on
purpose). A new acronym in a fiche or a template makes this test list it,
with the page where it was read.
"""

import html
import re
from html.parser import HTMLParser

from prescription.modeles import Prescription
from tests.prescription.conftest import PERSONNE, poster, se_connecter
from web.affichage import GLOSSAIRE

# Names, not abbreviations to explain: the organisation is called so.
NOMS_PROPRES = {
    "AAES", "ADEN", "AIDE", "ARS", "ASI", "BAC", "COACH", "ETS", "OCEAN", "SAS",
    "ADIE", "AFAD", "AFB", "AGIR", "AMFD", "APE", "APSH", "ASDIES", "ATRE",
    "CIAT", "CIENE", "COORACE", "EMILE", "ESNOV", "GAPE", "IGLOO", "INALTA",
    "IRFA", "MCE", "M3S", "NAJE", "NEXEM", "SAP91", "SESI", "SESIT",
}  # fmt: skip
# Not acronyms: words written in capitals, units and file formats people know.
AUTRES = {"CSV", "JSON", "OK", "PDF", "SMS", "CEDEX"}
# Names of levels and licences, not abbreviations: « niveau A1 », « licence MIT ».
AUTRES |= {"A1", "A2", "B1", "AA", "AAA", "MIT", "BSD"}
_CAPITALES = re.compile(r"(?<![\w-])[A-ZÀ-Ý][A-Z0-9À-Ý]+(?![\w-])")


class _Lecteur(HTMLParser):
    """The visible text of a page, abbreviations already explained left out."""

    # A textarea holds the fiche's own words being edited: explaining them
    # there would change the data.
    CACHES = {"script", "style", "abbr", "title", "template", "textarea"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.morceaux: list[str] = []
        self.caches = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.CACHES:
            self.caches += 1

    def handle_endtag(self, tag):
        if tag in self.CACHES:
            self.caches -= 1

    def handle_data(self, data):
        if not self.caches:
            self.morceaux.append(data)


def _texte_visible(page: str) -> str:
    lecteur = _Lecteur()
    lecteur.feed(page)
    return html.unescape(" ".join(lecteur.morceaux))


def sigles_inexpliques(page: str) -> dict[str, str]:
    """Each unexplained abbreviation, with the words around its first use."""
    texte = _texte_visible(page)
    # « … de Lons Agglomération (ECLA) »: a name's own short form, after it.
    texte = re.sub(r"\((?:[A-Z0-9À-Ý]+[ -]?)+\)", " ", texte)
    trouves: dict[str, str] = {}
    for m in _CAPITALES.finditer(texte):
        sigle = m.group()
        if sigle in NOMS_PROPRES or sigle in AUTRES or sigle.isdigit():
            continue
        # « FLE (français langue étrangère) »: spelt out in place.
        if texte[m.end() : m.end() + 2] == " (":
            continue
        autour = " ".join(texte[max(0, m.start() - 40) : m.end() + 40].split())
        trouves.setdefault(sigle, autour)
    return trouves


def lire(client, url: str, trouves: dict[str, dict[str, str]], statut=200) -> str:
    reponse = client.get(url)
    assert reponse.status_code == statut, url
    page = reponse.get_data(as_text=True)
    for sigle, autour in sigles_inexpliques(page).items():
        trouves.setdefault(sigle, {})[url] = autour
    return page


def rapport(trouves: dict[str, dict[str, str]]) -> str:
    lignes = []
    for sigle, urls in sorted(trouves.items()):
        quoi = (
            "du glossaire, mais sans explication" if sigle in GLOSSAIRE else "inconnu"
        )
        premiere = sorted(urls)[0]
        autres = f" (et {len(urls) - 1} autres pages)" if len(urls) > 1 else ""
        lignes.append(
            f"« {sigle} » ({quoi}) : {premiere}{autres} : « {urls[premiere]} »"
        )
    return "\n".join(lignes)


def test_le_detecteur_voit_un_sigle_sans_explication_et_accepte_l_explique():
    assert set(sigles_inexpliques("<p>Le CCAS vous reçoit.</p>")) == {"CCAS"}
    assert not sigles_inexpliques('<p>Le <abbr title="centre">CCAS</abbr>.</p>')
    assert set(sigles_inexpliques("<p>Un ZORGLUB passe.</p>")) == {"ZORGLUB"}
    assert not sigles_inexpliques("<p>L'ADIE prête. Fichier CSV.</p>")
    assert not sigles_inexpliques("<script>var RSA = 1</script>")
    assert not sigles_inexpliques("<option>Atelier FLE (français)</option>")
    assert not sigles_inexpliques("<p>Revenu de solidarité active (RSA)</p>")
    assert set(sigles_inexpliques("<p>Le RSA (voir plus bas)</p><p>Le CCAS</p>")) == {
        "CCAS"
    }


def test_une_personne_lit_chaque_sigle_explique_sur_le_site_public(app, client):
    catalogue = app.extensions["catalogue"]
    trouves: dict[str, dict[str, str]] = {}
    for url in ("/", "/?q=rsa", "/?q=emploi", "/glossaire", "/accessibilite",
                "/mentions-legales", "/connexion"):  # fmt: skip
        lire(client, url, trouves)
    # Error pages and a broken personal link: read by anyone, someday.
    for url, statut in (("/nexiste-pas", 404), ("/suivi/abimé", 410),
                        ("/?rayon_km=abc", 200), ("/deconnexion", 405)):  # fmt: skip
        lire(client, url, trouves, statut)
    for fiche_id in catalogue.fiches:
        lire(client, f"/fiches/{fiche_id}", trouves)
        if catalogue.fiches[fiche_id].auto_prescription:
            lire(client, f"/fiches/{fiche_id}/inscription", trouves)
    assert not trouves, "Sigles à expliquer :\n" + rapport(trouves)


def test_les_professionnels_lisent_chaque_sigle_explique(app):
    catalogue = app.extensions["catalogue"]
    trouves: dict[str, dict[str, str]] = {}

    referent = se_connecter(app.test_client(), "referent")
    for url in ("/pro/", "/pro/prescriptions"):
        lire(referent, url, trouves)
    for fiche_id in catalogue.fiches:
        lire(referent, f"/fiches/{fiche_id}", trouves)
        lire(referent, f"/fiches/{fiche_id}/prescrire", trouves)
    # One request on every fiche, so each prestataire has one to read.
    for fiche_id in catalogue.fiches:
        poster(
            referent,
            f"/fiches/{fiche_id}/prescrire",
            {**PERSONNE, "motif": "Pour reprendre pied", "engagement": "oui"},
        )

    structures = {f.structure for f in catalogue.fiches.values()}
    for cle in sorted(structures):
        prestataire = se_connecter(app.test_client(), "prestataire", structure=cle)
        for url in ("/pro/", "/pro/demandes", "/pro/places", "/pro/pilotage"):
            lire(prestataire, url, trouves)
        for fiche_id, fiche in catalogue.fiches.items():
            if fiche.structure == cle:
                lire(prestataire, f"/pro/fiches/{fiche_id}/modifier", trouves)
                lire(prestataire, f"/pro/fiches/{fiche_id}/attente", trouves)

    departement = se_connecter(app.test_client(), "departement")
    for url in ("/pro/", "/pro/pilotage", "/pro/structures", "/pro/modifications",
                "/pro/rgpd"):  # fmt: skip
        lire(departement, url, trouves)

    with app.app_context():
        from sqlmodel import select

        from web.prescription import db

        ids = list(db().exec(select(Prescription.id)))
    assert ids, "les demandes du référent n'ont pas été enregistrées"
    for pid in ids:
        lire(referent, f"/pro/prescriptions/{pid}", trouves)
    assert not trouves, "Sigles à expliquer :\n" + rapport(trouves)


def test_avant_d_entrer_ne_se_dit_qu_une_fois(client):
    """« Avant d'entrer : un entretien avec la structure avant l'entrée »: no."""
    page = client.get("/fiches/61-edith-bonnem-velo-ecole").get_data(as_text=True)
    texte = _texte_visible(page)
    assert "Avant d'entrer : un entretien avec la structure." in texte
    assert "avant l'entrée" not in texte
