"""An author's mistake in a fiche is explained in French, never in the
parser's English, with the file, the line and the field."""

import re

import pytest

from catalogue.chargement import charger_catalogue
from tests.fiches import STRUCTURES, derniere_ligne, ecrire_fiche

# (file, field removed, raw YAML added at the end, lines after the last one
# where the error is, field named (written on that line), French message)
CAS = [
    ("crochet-ouvert", "publics", "publics: [demandeurs-emploi", 0, "publics",
     "syntaxe YAML invalide : il manque une virgule ou un « ] »"),
    ("accolade-ouverte", "capacite", "capacite: {nombre: 3", 0, "capacite",
     "syntaxe YAML invalide : il manque une virgule ou une « } »"),
    ("guillemet-ouvert", "description", 'description: "Atelier', 0, "description",
     "syntaxe YAML invalide : le fichier finit avant la fin d'une valeur : "
     "un guillemet n'est pas refermé ?"),
    # Closed lines below, by the next value's quote: found where it opens.
    ("guillemet-ferme-plus-loin", "description",
     'description: "Atelier\nsite_web: "https://exemple.fr"', -1, "description",
     "syntaxe YAML invalide : un guillemet n'est pas refermé sur sa ligne"),
    # A quoted value may run over two lines: the error is further down.
    ("guillemet-sur-deux-lignes", "description",
     'description: "Accompagnement vers\n  la création"\nstatut: [active', 0,
     "statut", "syntaxe YAML invalide : il manque une virgule ou un « ] »"),
    # « \\" » is a backslash, then the closing quote.
    ("barre-oblique-echappee", "description",
     'description: "Atelier \\\\"\nsite_web: "https://exemple.fr', 0, "site_web",
     "syntaxe YAML invalide : le fichier finit avant la fin d'une valeur"),
    # French apostrophes between the open quote and where the parser stops.
    ("apostrophes-entre-deux", "description",
     'description: "Atelier\nresume: l\'atelier d\'insertion\nsite_web: "https://x.fr"',
     -2, "description",
     "syntaxe YAML invalide : un guillemet n'est pas refermé sur sa ligne"),
    # A quote in a comment above is no open quote.
    ("commentaire-avec-apostrophe", None,
     "site_web: 'https://x.fr' # c'est\nstatut: \"active\" x", 0, "statut",
     "syntaxe YAML invalide : "),
    # An apostrophe in a plain value above is no open quote.
    ("apostrophe-avant", "description",
     "description: L'atelier du mardi\ndocuments: [CV, lettre\nsite_web: x", -1,
     "documents", "syntaxe YAML invalide : il manque une virgule ou un « ] »"),
    ("deux-points", "nom", "nom: Atelier : CV", 0, "nom",
     "syntaxe YAML invalide : deux-points en trop : mettez une valeur qui "
     "contient « : » entre guillemets"),
    ("tabulation", "nom", "nom:\t\x60Atelier\x60", 0, "nom",
     "syntaxe YAML invalide : caractère inattendu (tabulation, « @ » ou « ` » ?)"),
    ("alias-sans-ancre", "nom", "nom: *atelier", 0, "nom",
     "syntaxe YAML invalide : alias « * » sans ancre « & » du même nom"),
    ("ancre-sans-nom", "nom", "nom: & Atelier", 0, "nom",
     "syntaxe YAML invalide : une ancre « & » ou un alias « * » doit être suivi "
     "d'un nom"),
    ("echappement", "nom", 'nom: "C:\\qui"', 0, "nom",
     "syntaxe YAML invalide : « \\ » suivi d'un caractère inconnu entre "
     "guillemets doubles : utilisez des guillemets simples"),
    ("deux-documents", None, "---\nid: autre", -1, "",
     "syntaxe YAML invalide : un seul document par fichier : retirez « --- »"),
    ("etiquette-python", "nom", "nom: !!python/object:os.system x", 0, "nom",
     "syntaxe YAML invalide : étiquette « ! » non autorisée : retirez-la"),
    ("etiquette-fausse", None, "nombre_semaines: !!int huit", 0, "",
     "une étiquette « !!… » ne convient pas à sa valeur : retirez-la"),
    ("cle-vide", None, "~: rien", 0, "",
     "clé invalide : une clé doit être un simple mot"),
    ("mauvaise-cle-yaml", None, "documents:\n  - a\n b: c", 0, "b",
     "syntaxe YAML invalide : "),
    ("entier-decimal", None, "nombre_semaines: 2.5", 0, "nombre_semaines",
     "doit être un nombre entier"),
    ("oui-non", None, "lieux:\n  - code_insee: '61001'\n    itinerant: peut-etre", 0,
     "lieux[0].itinerant", "doit valoir true ou false"),
]  # fmt: skip
ANGLAIS = re.compile(
    r"\b(found|expected|could not|not allowed|should|invalid|error|input|value|"
    r"the|character|codec|byte|stream)\b",
    re.IGNORECASE,
)


@pytest.mark.parametrize(
    ("nom", "retire", "brut", "decalage", "champ", "message"),
    CAS,
    ids=[c[0] for c in CAS],
)
def test_chaque_faute_d_auteur_est_dite_en_francais(
    tmp_path, nom, retire, brut, decalage, champ, message
):
    surcharges = {retire: None} if retire else {}
    if nom == "oui-non":
        surcharges["lieux"] = None
    fiches = ecrire_fiche(tmp_path, nom, brut=brut, **surcharges)
    catalogue = charger_catalogue(fiches, STRUCTURES, racine=tmp_path)
    [erreur] = catalogue.erreurs
    assert erreur.fichier == f"fiches/{nom}.yaml"
    assert erreur.champ == champ
    assert erreur.message.startswith(message), erreur.message
    assert not ANGLAIS.search(erreur.message), erreur.message
    if nom not in ("mauvaise-cle-yaml", "oui-non"):
        assert erreur.ligne == derniere_ligne(tmp_path, nom) + decalage


def test_un_fichier_qui_n_est_pas_en_utf8_est_dit_en_francais(tmp_path):
    fiches = ecrire_fiche(tmp_path, "valide")
    (fiches / "latin1.yaml").write_bytes("id: x\nnom: Caf\xe9\n".encode("latin-1"))
    (fiches / "controle.yaml").write_text("id: x\nnom: a\x00b\n", encoding="utf-8")
    catalogue = charger_catalogue(fiches, STRUCTURES, racine=tmp_path)
    messages = {str(e) for e in catalogue.erreurs}
    assert messages == {
        "fiches/latin1.yaml:2 : le fichier n'est pas enregistré en UTF-8 : "
        "enregistrez-le en UTF-8",
        "fiches/controle.yaml:2 : caractère interdit (code U+0000) : retirez-le ou "
        "retapez la ligne",
    }
    assert list(catalogue.fiches) == ["valide"]
