"""One odd file never takes the portal down: it is reported, the rest loads.

Each way a fiche was seen to stop every worker booting (a date the calendar
refuses, 300 nested brackets, a complex key, a huge number, .inf) is here,
with the file, the line and the field the author must fix.
"""

import pytest

from catalogue.chargement import LISTE_MAX, TAILLE_MAX, charger_catalogue
from tests.fiches import STRUCTURES, derniere_ligne, ecrire_fiche

# (file, fields removed, raw YAML added at the end, field named, message part);
# the error is on the last line, where the raw YAML is.
CAS = [
    (
        "date-30-fevrier",
        "date_maj",
        "date_maj: 2024-02-30",
        "date_maj",
        "cette date n'existe pas : « 2024-02-30 »",
    ),
    (
        "date-mois-13",
        "date_maj",
        "date_maj: 2024-13-01",
        "date_maj",
        "cette date n'existe pas : « 2024-13-01 »",
    ),
    ("date-en-mots", "date_maj", "date_maj: hier", "date_maj", "au format AAAA-MM-JJ"),
    (
        "crochets-imbriques",
        "documents",
        "documents: " + "[" * 300 + "]" * 300,
        "",
        "imbrication trop profonde",
    ),
    ("cle-complexe", None, "? [a, b]\n: valeur", "", "clé invalide"),
    (
        "places-enormes",
        None,
        "places_restantes: 99999999999999999999999",
        "places_restantes",
        "inférieur ou égal à 100000",
    ),
    (
        "heures-infinies",
        None,
        "volume_horaire_hebdomadaire: .inf",
        "volume_horaire_hebdomadaire",
        "nombre fini",
    ),
    (
        "capacite-nan",
        "capacite",
        "capacite: {nombre: .nan, unite: places}",
        "capacite.nombre",
        "nombre fini",
    ),
    (
        "latitude-moins-infinie",
        "lieux",
        "lieux:\n  - code_insee: '61001'\n    latitude: -.inf",
        "lieux[0].latitude",
        "nombre fini",
    ),
    (
        "courriel-bcc",
        None,
        "courriel: contact@exemple.fr?bcc=espion@exemple.com",
        "courriel",
        "adresse électronique invalide",
    ),
    (
        "courriel-bcc-local",
        None,
        "courriel: contact?bcc=espion@exemple.com",
        "courriel",
        "adresse électronique invalide",
    ),
    ("telephone-court", None, "telephone: 02 33", "telephone", "numéro de téléphone"),
    (
        "site-javascript",
        None,
        "site_web: javascript:alert(1)",
        "site_web",
        "adresse web invalide",
    ),
    (
        # Places are kept by start date: the two would share one count.
        "deux-sessions-le-meme-jour",
        "sessions",
        "sessions:\n  - debut: 2027-01-15\n    places: 2\n"
        "  - debut: 2027-01-15\n    places: 8",
        "sessions",
        "deux sessions commencent le 15/01/2027",
    ),
    (
        "imbrication-en-blocs",
        "documents",
        "documents:\n" + "".join(" " * i + "-\n" for i in range(1, 40)),
        "",
        "imbrication trop profonde",
    ),
]


def _ecrire(dossier, nom, retires, brut):
    retraits = {retires: None} if retires else {}
    ecrire_fiche(dossier, nom, brut=brut, **retraits)


@pytest.mark.parametrize(("nom", "retires", "brut", "champ", "extrait"), CAS)
def test_une_fiche_cassee_est_signalee_et_les_autres_se_chargent(
    tmp_path, nom, retires, brut, champ, extrait
):
    _ecrire(tmp_path, nom, retires, brut)
    ecrire_fiche(tmp_path, "atelier-valide")
    catalogue = charger_catalogue(tmp_path / "fiches", STRUCTURES, racine=tmp_path)
    assert list(catalogue.fiches) == ["atelier-valide"]
    (erreur,) = catalogue.erreurs
    assert erreur.fichier == f"fiches/{nom}.yaml"
    assert erreur.champ == champ
    assert extrait in erreur.message
    # The line where the problem starts: the raw YAML added at the end.
    premiere = derniere_ligne(tmp_path, nom) - brut.count("\n")
    assert premiere <= erreur.ligne <= derniere_ligne(tmp_path, nom)


def test_un_alias_qui_se_multiplie_est_refuse(tmp_path):
    """« Billion laughs »: nine aliases of nine aliases would be a billion values."""
    brut = 'a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]\n'
    for i in "bcdefgh":
        precedent = chr(ord(i) - 1)
        brut += f"{i}: &{i} [{', '.join(['*' + precedent] * 9)}]\n"
    ecrire_fiche(tmp_path, "alias", brut=brut.rstrip())
    catalogue = charger_catalogue(tmp_path / "fiches", STRUCTURES, racine=tmp_path)
    (erreur,) = catalogue.erreurs
    assert "trop de valeurs" in erreur.message
    assert erreur.fichier == "fiches/alias.yaml"


def test_un_fichier_trop_gros_ou_une_liste_trop_longue_est_refuse(tmp_path):
    ecrire_fiche(tmp_path, "gros", description="x" * TAILLE_MAX)
    ecrire_fiche(tmp_path, "longue", documents=["papier"] * (LISTE_MAX + 1))
    catalogue = charger_catalogue(tmp_path / "fiches", STRUCTURES, racine=tmp_path)
    messages = {e.fichier: e for e in catalogue.erreurs}
    assert "fichier trop gros" in messages["fiches/gros.yaml"].message
    longue = messages["fiches/longue.yaml"]
    assert "liste trop longue" in longue.message
    assert longue.ligne is not None


def test_un_courriel_un_telephone_et_un_site_valides_sont_gardes_tels_quels(tmp_path):
    ecrire_fiche(
        tmp_path,
        "contacts",
        courriel="contact.emploi@exemple.fr",
        telephone="+33 2 33 29 46 44",
        site_web="https://exemple.fr/atelier?ville=alencon",
    )
    catalogue = charger_catalogue(tmp_path / "fiches", STRUCTURES, racine=tmp_path)
    assert catalogue.erreurs == []
    fiche = catalogue.fiches["contacts"]
    assert fiche.courriel == "contact.emploi@exemple.fr"
    assert fiche.telephone == "+33 2 33 29 46 44"
    assert fiche.site_web == "https://exemple.fr/atelier?ville=alencon"


def test_le_portail_demarre_et_le_verificateur_liste_tout_sans_trace(
    tmp_path, creer_app
):
    for nom, retires, brut, _, _ in CAS:
        _ecrire(tmp_path, nom, retires, brut)
    ecrire_fiche(tmp_path, "atelier-valide", courriel="contact@exemple.fr")
    app = creer_app(FICHES_DIR=str(tmp_path / "fiches"), STRUCTURES_DIR=str(STRUCTURES))

    client = app.test_client()
    page = client.get("/fiches/atelier-valide")
    assert page.status_code == 200
    assert 'href="mailto:contact@exemple.fr"' in page.text
    assert client.get("/fiches/date-30-fevrier").status_code == 404

    sortie = app.test_cli_runner().invoke(args=["fiches", "verifier"])
    assert sortie.exit_code == 1
    assert "Traceback" not in sortie.output
    for nom, *_ in CAS:
        assert f"fiches/{nom}.yaml:" in sortie.output
    assert f"{len(CAS)} problème(s)" in sortie.output


def test_un_crochet_jamais_ferme_est_signale_a_sa_ligne_et_a_son_champ(tmp_path):
    # PyYAML gives up on the next line; the author looks for the bracket.
    brut = "documents: [Pièce d'identité, justificatif\nsite_web: https://exemple.fr"
    ecrire_fiche(tmp_path, "crochet-ouvert", brut=brut)
    catalogue = charger_catalogue(tmp_path / "fiches", STRUCTURES, racine=tmp_path)
    (erreur,) = catalogue.erreurs
    assert (erreur.ligne, erreur.champ) == (
        derniere_ligne(tmp_path, "crochet-ouvert") - 1,
        "documents",
    )
    assert "syntaxe YAML invalide" in erreur.message


def test_un_guillemet_ouvert_dans_une_liste_nomme_la_liste_et_l_element(tmp_path):
    # The error was at the right line with no field: « documents[1] » says
    # which list, and which of its items, to look at.
    brut = (
        "documents:\n  - Pièce d'identité\n  - \"Justificatif de domicile\n"
        "  - RIB\nsite_web: https://exemple.fr"
    )
    ecrire_fiche(tmp_path, "guillemet-liste", brut=brut)
    catalogue = charger_catalogue(tmp_path / "fiches", STRUCTURES, racine=tmp_path)
    (erreur,) = catalogue.erreurs
    assert (erreur.ligne, erreur.champ) == (
        derniere_ligne(tmp_path, "guillemet-liste") - 2,
        "documents[1]",
    )


def test_une_copie_qui_prend_l_identifiant_d_une_fiche_ne_la_remplace_pas(tmp_path):
    # « 00-copie.yaml », a copy kept its id and sorted first: it was
    # published, and the fiche's own file was the one set aside.
    fiches = ecrire_fiche(tmp_path, "atelier-cv", nom="Atelier CV")
    (fiches / "00-copie.yaml").write_text(
        (fiches / "atelier-cv.yaml").read_text().replace("Atelier CV", "Copie"),
        encoding="utf-8",
    )
    catalogue = charger_catalogue(fiches, STRUCTURES, racine=tmp_path)
    assert catalogue.fiches["atelier-cv"].nom == "Atelier CV"
    (erreur,) = catalogue.erreurs
    assert str(erreur).startswith("fiches/00-copie.yaml:1 [id] : identifiant")
    assert "fiches/atelier-cv.yaml existe déjà : ce fichier en est-il une copie" in (
        erreur.message
    )


def test_une_fiche_porte_le_nom_de_son_fichier_et_son_extension(tmp_path):
    # « zz-nom.yaml » holding « id: atelier-cv » loaded, and the export wrote
    # its online edits to a new « atelier-cv.yaml »: two files, one id. And
    # « atelier.yml » was never read, nor named.
    fiches = ecrire_fiche(tmp_path, "atelier-cv", nom="Atelier CV")
    (fiches / "atelier-cv.yaml").rename(fiches / "zz-nom.yaml")
    (fiches / "atelier.yml").write_text("id: atelier\n", encoding="utf-8")
    catalogue = charger_catalogue(fiches, STRUCTURES, racine=tmp_path)
    assert catalogue.fiches == {}
    assert sorted(map(str, catalogue.erreurs)) == [
        "fiches/atelier.yml : fichier non lu : renommez-le « atelier.yaml » "
        "(extension « .yaml »)",
        "fiches/zz-nom.yaml:1 [id] : identifiant « atelier-cv » : le fichier doit "
        "s'appeler atelier-cv.yaml",
    ]


@pytest.mark.parametrize(
    ("brut", "cle"),
    [
        # Valid YAML: the key became more words of the text above it, and
        # the fiche lost it without a word.
        (
            "publics_precisions: >-\n  Toute personne au RSA.\n"
            "  conditions_acces: Être orienté par son référent.",
            "conditions_acces",
        ),
        (
            "publics_precisions: |\n  Toute personne au RSA.\n"
            '  zone_eligibilite: ["61"]',
            "zone_eligibilite",
        ),
    ],
)
def test_une_cle_trop_indentee_sous_un_texte_est_signalee_a_sa_ligne(
    tmp_path, brut, cle
):
    ecrire_fiche(tmp_path, "indentee", brut=brut)
    ecrire_fiche(
        tmp_path,
        "saine",
        # Prose may start a line with a word that is a key too: not flagged.
        brut="publics_precisions: |\n  Lire : à voir.\n  note: pas une clé.\n"
        "  documents: une pièce d'identité.\n  frais: aucun.",
    )
    catalogue = charger_catalogue(tmp_path / "fiches", STRUCTURES, racine=tmp_path)
    (erreur,) = catalogue.erreurs
    assert erreur.fichier == "fiches/indentee.yaml"
    assert erreur.ligne == derniere_ligne(tmp_path, "indentee")
    assert erreur.champ == cle
    assert f"« {cle}: » est lu comme du texte de « publics_precisions »" in (
        erreur.message
    )
    assert sorted(catalogue.fiches) == ["saine"]


@pytest.mark.parametrize(
    ("brut", "champ", "message"),
    [
        # A year typo (2099): its places won over the board's at every start.
        ("places_maj_le: 2099-01-01", "places_maj_le", "le 01/01/2099 n'est pas"),
        (
            "duree: {texte: Un an., mois_min: 12, mois_max: 2}",
            "duree.mois_max",
            "moins que mois_min (12) : les deux inversés ?",
        ),
    ],
)
def test_une_date_a_venir_ou_une_duree_a_l_envers_est_refusee(
    tmp_path, brut, champ, message
):
    fiches = ecrire_fiche(tmp_path, "atelier-cv", brut)
    catalogue = charger_catalogue(fiches, STRUCTURES, racine=tmp_path)
    (erreur,) = catalogue.erreurs
    assert (erreur.ligne, erreur.champ) == (
        derniere_ligne(tmp_path, "atelier-cv"),
        champ,
    )
    assert message in erreur.message


def test_une_cle_de_tous_les_jours_avalee_par_un_texte_est_dite_a_sa_ligne(tmp_path):
    # « categorie: » (a word prose may begin with, so not looked for in every
    # block) indented under a text: « champ obligatoire absent » at line 1.
    fiches = ecrire_fiche(tmp_path, "avalee")
    chemin = fiches / "avalee.yaml"
    lignes = chemin.read_text(encoding="utf-8").splitlines()
    [categorie] = [x for x in lignes if x.startswith("categorie:")]
    lignes.remove(categorie)
    lignes += ["publics_precisions: >-", "  Toute personne au RSA.", f"  {categorie}"]
    chemin.write_text("\n".join(lignes) + "\n", encoding="utf-8")
    catalogue = charger_catalogue(fiches, STRUCTURES, racine=tmp_path)
    (erreur,) = catalogue.erreurs
    assert (erreur.ligne, erreur.champ) == (len(lignes), "categorie")
    assert erreur.message.startswith(
        "« categorie: » est lu comme du texte de « publics_precisions »"
    )
