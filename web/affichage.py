"""How the catalogue speaks to people: plain labels, dates, places, acronyms.

No Flask here: views and templates call these helpers; tests call them directly.
"""

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from urllib.parse import quote

from markupsafe import Markup, escape

from catalogue import heure
from catalogue.fiche import Fiche, Structure
from catalogue.recherche import VOCABULAIRE_DES_FACETTES
from catalogue.territoires import distance_km, referentiel
from catalogue.vocabulaires import vocabulaire

AVERTISSEMENT_SECOURS = (
    "La recherche fonctionne en mode dégradé : les résultats peuvent être "
    "incomplets pendant quelques minutes."
)
MOIS = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet",
    "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip

# Acronyms met in the fiches, expanded in plain words. Ambiguous ones (ARS is
# an association in one département and the health agency elsewhere) stay out.
GLOSSAIRE = {
    "AAH": "allocation aux adultes handicapés",
    "ACI": "atelier et chantier d'insertion",
    "AI": "association intermédiaire",
    "AM": "permis des scooters de 50 cm³ et des voiturettes",
    "ASE": "aide sociale à l'enfance",
    "ASL": "atelier sociolinguistique : apprendre le français utile dans la vie "
    "de tous les jours",
    "ASLLIP": "accompagnement social lié au logement et à l'insertion professionnelle",
    "ASS": "allocation de solidarité spécifique",
    "BEP": "brevet d'études professionnelles, un diplôme de métier",
    "BRSA": "personne qui touche le revenu de solidarité active",
    "BTP": "bâtiment et travaux publics",
    "CAARUD": "centre d'accueil et d'accompagnement à la réduction des risques "
    "pour usagers de drogues",
    "CADA": "centre d'accueil des demandeurs d'asile",
    "CAF": "caisse d'allocations familiales",
    "CAP": "certificat d'aptitude professionnelle, un premier diplôme de métier",
    "CCAS": "centre communal d'action sociale",
    "CDD": "contrat à durée déterminée",
    "CDDI": "contrat à durée déterminée d'insertion",
    "CDI": "contrat à durée indéterminée",
    "CDDU": "contrat à durée déterminée d'usage",
    "CDPS": "centre départemental de prévention et de santé",
    "CER": "contrat d'engagement réciproque, signé avec votre référent pour le "
    "revenu de solidarité active",
    "CHRS": "centre d'hébergement et de réinsertion sociale",
    "CIDFF": "centre d'information sur les droits des femmes et des familles",
    "CIP": "conseiller en insertion professionnelle",
    "CLLAJ": "comité local pour le logement autonome des jeunes",
    "CNSA": "caisse nationale de solidarité pour l'autonomie",
    "CPAM": "caisse primaire d'assurance maladie",
    "CUA": "communauté urbaine d'Alençon",
    "CV": "curriculum vitae : la page qui présente votre parcours",
    "DDETS": "direction départementale de l'emploi, du travail et des "
    "solidarités (services de l'État)",
    "DGEFP": "délégation générale à l'emploi et à la formation professionnelle "
    "(services de l'État)",
    "DILF": "diplôme initial de langue française",
    "DTAS": "direction territoriale d'action sociale du Département",
    "E2C": "école de la deuxième chance",
    "EDI": "espace dynamique d'insertion",
    "EEI": "espace emploi insertion",
    "EHPAD": "maison de retraite médicalisée",
    "EI": "entreprise d'insertion",
    "ETP": "équivalent temps plein",
    "ETTI": "entreprise de travail temporaire d'insertion",
    "FDAJ": "fonds départemental d'aide aux jeunes",
    "FLE": "français langue étrangère : cours de français pour les personnes "
    "dont ce n'est pas la langue maternelle",
    "GEIQ": "groupement d'employeurs pour l'insertion et la qualification",
    "HLM": "habitation à loyer modéré : un logement social",
    "IAE": "insertion par l'activité économique : un emploi accompagné pour "
    "reprendre pied",
    "IOD": "intervention sur l'offre et la demande : une méthode qui met en "
    "relation directe avec des employeurs",
    "MDEF": "maison départementale de l'emploi et de la formation",
    "MDPH": "maison départementale des personnes handicapées",
    "MDS": "maison départementale des solidarités",
    "MSA": "mutualité sociale agricole",
    "OFII": "office français de l'immigration et de l'intégration",
    "OPCO": "opérateur de compétences : il aide les entreprises à payer les formations",
    "PDI": "programme départemental d'insertion",
    "PLICS": "programme local d'insertion et de cohésion sociale",
    "PLIE": "plan local pour l'insertion et l'emploi",
    "PMI": "protection maternelle et infantile",
    "PMSMP": "période de mise en situation en milieu professionnel : un stage "
    "court en entreprise",
    "POEC": "préparation opérationnelle à l'emploi collective",
    "PPAE": "projet personnalisé d'accès à l'emploi",
    "QPV": "quartier prioritaire de la politique de la ville",
    "RGPD": "règlement général sur la protection des données personnelles",
    "ROME": "répertoire des métiers de France Travail",
    "RQTH": "reconnaissance de la qualité de travailleur handicapé",
    "RSA": "revenu de solidarité active",
    "SAO": "service d'accueil et d'orientation",
    "SIAE": "structure d'insertion par l'activité économique",
    "SIAO": "service intégré d'accueil et d'orientation",
    "SMIC": "salaire minimum",
    "SPIE": "service public de l'insertion et de l'emploi",
    "SPIP": "service pénitentiaire d'insertion et de probation",
    "TAD": "transport à la demande",
    "TAPAJ": "travail alternatif payé à la journée : quelques heures de travail "
    "payées le jour même, sans engagement",
    "TISF": "technicien de l'intervention sociale et familiale : une personne "
    "qui aide la famille à la maison",
    "UDAF": "union départementale des associations familiales",
}
_SIGLES = "|".join(sorted(GLOSSAIRE, key=len, reverse=True))
_SIGLE = re.compile(rf"\b({_SIGLES})\b")
# In a highlighted result the acronym may be a searched word: « <mark>RSA</mark> ».
_SIGLE_SURLIGNE = re.compile(rf"\b({_SIGLES})\b(</mark>)?")

# Thematic categories (data·inclusion) in words a beneficiary uses.
THEMES = {
    "choisir-un-metier": "Choisir un métier",
    "creer-une-entreprise": "Créer son entreprise",
    "difficultes-administratives-ou-juridiques": "Papiers et droits",
    "difficultes-financieres": "Argent et dettes",
    "equipement-et-alimentation": "Nourriture, vêtements, équipement",
    "famille": "Famille et enfants",
    "lecture-ecriture-calcul": "Lire, écrire, compter, parler français",
    "logement-hebergement": "Logement",
    "mobilite": "Se déplacer, permis",
    "numerique": "Ordinateur et internet",
    "preparer-sa-candidature": "CV, lettre, entretien",
    "remobilisation": "Reprendre confiance",
    "sante": "Santé",
    "se-former": "Se former",
    "souvrir-a-linternational": "Partir à l'étranger",
    "trouver-un-emploi": "Trouver un emploi",
}

# Words a person says, where the national vocabulary says something else.
LIBELLES_SIMPLES = {
    ("modes_accueil", "en-presentiel"): "Sur place",
    ("modes_accueil", "a-distance"): "À distance (téléphone, internet)",
    ("mobilisable_par", "usagers"): "Je peux m'inscrire moi-même",
    ("mobilisable_par", "professionnels"): "Par mon référent ou un conseiller",
}


def libelle(facette: str, valeur: str) -> str:
    """The French label of one facet value."""
    if facette == "categories_thematiques":
        return THEMES.get(valeur, valeur)
    if (facette, valeur) in LIBELLES_SIMPLES:
        return LIBELLES_SIMPLES[facette, valeur]
    return vocabulaire(VOCABULAIRE_DES_FACETTES.get(facette, facette)).libelle(valeur)


def date_fr(jour: date | datetime | str | None) -> str:
    """« 3 février 2026 »; an ISO string is accepted (from the search index)."""
    if jour is None:
        return ""
    if isinstance(jour, str):
        jour = (
            datetime.fromisoformat(jour) if len(jour) > 10 else date.fromisoformat(jour)
        )
    if isinstance(jour, datetime):  # a moment: its day in the département
        jour = heure.jour(jour)
    premier = "1er" if jour.day == 1 else str(jour.day)
    return f"{premier} {MOIS[jour.month - 1]} {jour.year}"


def jour(moment: datetime) -> date:
    """The moment's day in the département (templates: a date field's min)."""
    return heure.jour(moment)


def jour_fr(moment: datetime) -> str:
    """« 07/12/2026 »: the moment's day in the département."""
    return f"{heure.jour(moment):%d/%m/%Y}"


def moment_fr(moment: datetime) -> str:
    """« 07/12/2026 à 05:47 », on the département's clock."""
    local = heure.local(moment)
    return f"{local:%d/%m/%Y} à {local:%H:%M}"


def distance_fr(km: float | None) -> str:
    if km is None:
        return ""
    if km < 1:
        return "à moins de 1 km"
    return f"à {km:.0f} km" if km >= 10 else f"à {km:.1f} km".replace(".", ",")


# Said to a person, not to the prestataire: what to do, in plain words.
NON_SUIVIES = "Demandez à la structure s'il reste des places"


@dataclass(frozen=True)
class Places:
    """What to say about the places left: ``etat`` is a CSS-friendly key."""

    etat: str  # "libres", "complet", "illimitees", "non-suivies"
    texte: str
    nombre: int | None = None
    maj_le: str = ""


def places(
    fiche: Fiche,
    restantes: int | None = None,
    maj_le: object = None,
    suivies: bool = True,
) -> Places:
    """The places left: the live figure (database, search index) if given."""
    if suivies and restantes is None and maj_le is None:
        restantes, maj_le = fiche.places_restantes, fiche.places_maj_le
    quand = date_fr(maj_le) if maj_le else ""
    if fiche.capacite.illimitee:
        return Places("illimitees", "Pas de limite de places", maj_le=quand)
    if restantes is None:
        return Places("non-suivies", NON_SUIVIES, maj_le=quand)
    if restantes == 0:
        return Places("complet", "Complet pour le moment", 0, quand)
    pluriel = "s" if restantes > 1 else ""
    return Places(
        "libres", f"{restantes} place{pluriel} libre{pluriel}", restantes, quand
    )


def qui_peut_s_inscrire(fiche: Fiche) -> str:
    moi = "usagers" in fiche.mobilisable_par
    pro = "professionnels" in fiche.mobilisable_par
    if moi and pro:
        return "Vous pouvez vous inscrire vous-même, ou passer par votre référent."
    if moi:
        return "Vous pouvez vous inscrire vous-même."
    return "Il faut passer par votre référent ou un conseiller."


def quand(fiche: Fiche, aujourd_hui: date | None = None) -> str:
    """The next start, in one short phrase."""
    if fiche.statut != "active":
        # « Terminée », « suspendue »: nobody enters, whatever its rhythm.
        return "On ne peut pas y entrer en ce moment"
    session = fiche.prochaine_session(aujourd_hui)
    if session:
        return f"Prochaine session le {date_fr(session.debut)}"
    if fiche.mode_entree == "sessions":
        return "Pas de session prévue pour le moment"
    return vocabulaire("modes_entree").libelle(fiche.mode_entree)


def communes(
    fiche: Fiche,
    structure: Structure | None,
    pres_de: tuple[float, float] | None = None,
) -> list[str]:
    """Where it happens: the lieux' communes, else the porteur's.

    ``pres_de``: the point a distance is measured from; the nearest lieu's
    commune then comes first, the one the distance shown is about."""
    lieux = list(fiche.lieux)
    if pres_de:
        # Stable sort: lieux without coordinates keep their order, last.
        lieux.sort(
            key=lambda lieu: (
                distance_km(*pres_de, lieu.latitude, lieu.longitude)
                if lieu.latitude is not None and lieu.longitude is not None
                else math.inf
            )
        )
    noms = [lieu.commune for lieu in lieux if lieu.commune]
    if not noms and structure and structure.commune:
        noms = [structure.commune]
    return list(dict.fromkeys(noms))


def zone(fiche: Fiche, au_plus: int = 3, d_abord: Iterable[str] = ()) -> str:
    """Where people must live to come: « Essonne », « CU d'Alençon, Sées ».

    ``d_abord``: the codes covering the town searched, named first (« Paris,
    Seine-et-Marne, Yvelines et autres » hid the Essonne that let it in)."""
    ref = referentiel()
    devant = set(d_abord)
    codes = sorted(fiche.zone_eligibilite, key=lambda code: code not in devant)
    noms = [ref.libelle_zone(code) for code in codes]
    return ", ".join(noms[:au_plus]) + (" et autres" if len(noms) > au_plus else "")


def de(nom: str) -> str:
    """« de Bruno », « d'Élodie », « d'Yves »: the elision French makes."""
    premiere = unicodedata.normalize("NFD", nom[:1])[:1].lower()
    return f"d'{nom}" if premiere in "aeiouy" and premiere else f"de {nom}"


def nombre_fr(nombre: float) -> str:
    """« 20 », « 11,2 »: a French decimal comma, no trailing zero."""
    return f"{nombre:g}".replace(".", ",")


def heures(nombre: float) -> str:
    """« 24 heures », « 1,5 heure »."""
    return f"{nombre_fr(nombre)} heure{'s' if nombre >= 2 else ''}"


def duree_en_mois(mois: int) -> str:
    """« 2 ans », « 18 mois », « 1 an »: how long data is kept, said simply."""
    if mois % 12 == 0:
        ans = mois // 12
        return f"{ans} an{'s' if ans > 1 else ''}"
    return f"{mois} mois"


def sessions_a_venir(fiche: Fiche, aujourd_hui: date | None = None) -> list:
    jour = aujourd_hui or heure.aujourd_hui()
    return sorted(
        (s for s in fiche.sessions if (s.fin or s.debut) >= jour),
        key=lambda s: s.debut,
    )


def lien_carte(lieu) -> str | None:
    """An OpenStreetMap search on the address (coordinates may be a town centre)."""
    morceaux = [lieu.adresse, lieu.code_postal, lieu.commune]
    texte = " ".join(m for m in morceaux if m)
    if not texte:
        return None
    return "https://www.openstreetmap.org/search?query=" + quote(texte)


def telephone_lien(numero: str) -> str:
    """A ``tel:`` URI: digits only, international prefix kept."""
    return "tel:" + re.sub(r"[^\d+]", "", numero)


class Sigles:
    """Explains each acronym, in visible words, the first time a block uses it.

    One instance per block a person reads on its own (a result card, a
    section of the fiche): the first « RSA » becomes
    « <abbr title=…>RSA</abbr> (revenu de solidarité active) », the next ones
    in the same block only carry the <abbr> title.
    """

    def __init__(self) -> None:
        self.deja_vus: set[str] = set()

    def __call__(self, texte: str | None) -> Markup:
        if not texte:
            return Markup("")
        sur = str(escape(texte))
        return Markup(_SIGLE_SURLIGNE.sub(lambda m: self._remplacer(m, sur), sur))

    def _remplacer(self, match: re.Match, texte: str) -> str:
        sigle = match.group(1)
        sens = GLOSSAIRE[sigle]
        # Only the searched word stays highlighted, not its explanation.
        abbr = f'<abbr title="{escape(sens)}">{sigle}</abbr>{match.group(2) or ""}'
        if sigle in self.deja_vus:
            return abbr
        self.deja_vus.add(sigle)
        if _deja_explique(texte, match, sens):
            return abbr
        return f"{abbr} ({escape(sens)})"


def sens_court(sigle: str) -> str:
    """« FLE » -> « français langue étrangère » (the glossary's words before
    their own explanation)."""
    return GLOSSAIRE[sigle].split(" : ")[0]


def en_clair(texte: str | None) -> str:
    """Plain text where no markup may go (a list's option, a chart's label):
    « Atelier FLE » -> « Atelier FLE (français langue étrangère) »."""
    if not texte:
        return ""
    vus: set[str] = set()

    def remplacer(m: re.Match) -> str:
        sigle = m.group(1)
        if sigle in vus or _deja_explique(texte, m, GLOSSAIRE[sigle]):
            return sigle
        vus.add(sigle)
        return f"{sigle} ({sens_court(sigle)})"

    return _SIGLE.sub(remplacer, texte)


def _deja_explique(texte: str, match: re.Match, sens: str) -> bool:
    """The text spells it out: « RSA (revenu de solidarité active) » or
    « revenu de solidarité active (RSA) »; « des BRSA (TISF) » does not."""
    mot = str(escape(sens)).split()[0].casefold()
    if texte[match.end() : match.end() + 2] == " (":
        fin = texte.find(")", match.end())
        return mot in texte[match.end() : fin].casefold()
    if texte[match.end() : match.end() + 1] == ")" and texte[match.start() - 1] == "(":
        return mot in texte[max(0, match.start() - 80) : match.start()].casefold()
    return False


@cache
def themes_tries() -> tuple[str, ...]:
    return tuple(sorted(THEMES, key=lambda slug: THEMES[slug]))
