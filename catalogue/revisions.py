"""Changes to a fiche proposed by its prestataire, kept as revisions.

A revision holds only the fields a prestataire may change (horaires, access
conditions, documents, contact, sessions, open/closed), validated by the same
model as the YAML loader. The département validates or refuses it; a
validated revision is laid over the YAML fiche, at start-up and at once.

Nothing is lost when two people edit the same fiche: each revision names the
number it was built on (``base``) and takes the next one; a database unique
constraint lets only one of two concurrent proposals take a number, and the
other is told which change came first.
"""

import json
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml
from sqlalchemy import Connection, Engine, UniqueConstraint, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, select

from catalogue import heure
from catalogue.chargement import (
    Catalogue,
    Erreur,
    cles_sans_prose,
    lire_yaml,
    valider,
)
from catalogue.fiche import Fiche
from catalogue.places import IndexAFaire, places_des_documents
from catalogue.recherche.documents import document

PROPOSEE = "proposee"
VALIDEE = "validee"
REFUSEE = "refusee"
# An older proposal a newer one took in (each starts from the one before).
REMPLACEE = "remplacee"
STATUTS = {
    PROPOSEE: "Proposée",
    VALIDEE: "Validée",
    REFUSEE: "Refusée",
    REMPLACEE: "Comprise dans une plus récente",
}

# The fields a prestataire may change; everything else stays the YAML's.
CHAMPS = (
    "horaires_accueil",
    "conditions_acces",
    "documents",
    "telephone",
    "courriel",
    "site_web",
    "sessions",
    "statut",
)
LIBELLES = {
    "horaires_accueil": "Horaires",
    "conditions_acces": "Conditions d'accès",
    "documents": "Pièces à fournir",
    "telephone": "Téléphone",
    "courriel": "Courriel",
    "site_web": "Site web",
    "sessions": "Sessions",
    "statut": "Ouverte ou fermée",
}


class RevisionFiche(SQLModel, table=True):
    __tablename__ = "fiches_revisions"
    __table_args__ = (UniqueConstraint("fiche_id", "numero"),)

    id: int | None = Field(default=None, primary_key=True)
    fiche_id: str = Field(index=True, max_length=100)
    # 1, 2, 3… per fiche; ``base`` is the number the author saw (0: the YAML).
    numero: int
    base: int
    auteur: str = Field(max_length=200)
    cree_le: datetime
    # JSON of the CHAMPS, as the fiche model dumps them.
    contenu: str
    statut: str = Field(default=PROPOSEE, max_length=20)
    decide_par: str | None = Field(default=None, max_length=200)
    decide_le: datetime | None = None
    # Why the département refused it: the prestataire reads it on the form.
    motif_refus: str = Field(default="", max_length=500)


class VersionFiches(SQLModel, table=True):
    """One row: how many times fiches were published from revisions.

    Raised in the same transaction as each validation, so reading it is the
    one cheap query every request makes to learn whether anything changed.
    """

    __tablename__ = "fiches_version"

    id: int = Field(default=1, primary_key=True)
    numero: int = 0


class DerniereVersion(SQLModel, table=True):
    """Each fiche as its YAML file was last read valid.

    A file broken later (a typo, a bad merge) then leaves this version on
    the site, and the requests already made for the action keep their page.
    """

    __tablename__ = "fiches_dernieres_versions"

    fiche_id: str = Field(primary_key=True, max_length=100)
    fichier: str = Field(max_length=1000)  # the YAML file's resolved path
    # The file's size and modification time: unchanged files are not re-read.
    empreinte: str = Field(max_length=64)
    contenu: str  # JSON of the whole fiche, as the model dumps it
    lue_le: datetime


class Depassee(ValueError):
    """A newer change of the fiche is already published."""


class Conflit(Exception):
    """The fiche changed since the author opened the form."""

    def __init__(self, autres: list[RevisionFiche]):
        super().__init__("la fiche a changé entre-temps")
        self.autres = autres


@dataclass(frozen=True)
class Proposition:
    revision: RevisionFiche | None
    erreurs: list[Erreur]


def maintenant_utc() -> datetime:
    return datetime.now(UTC)


def dernier_numero(db: Session, fiche_id: str) -> int:
    numero = db.exec(
        select(func.max(RevisionFiche.numero)).where(RevisionFiche.fiche_id == fiche_id)
    ).one()
    return numero or 0


def revisions(db: Session, fiche_id: str | None = None) -> list[RevisionFiche]:
    requete = select(RevisionFiche).order_by(RevisionFiche.id.desc())
    if fiche_id is not None:
        requete = requete.where(RevisionFiche.fiche_id == fiche_id)
    return list(db.exec(requete))


def a_valider(db: Session) -> list[RevisionFiche]:
    return list(
        db.exec(
            select(RevisionFiche)
            .where(RevisionFiche.statut == PROPOSEE)
            .order_by(RevisionFiche.id)
        )
    )


def contenu(revision: RevisionFiche) -> dict:
    return json.loads(revision.contenu)


def champs_de(fiche: Fiche) -> dict:
    """The editable fields of a fiche, as a revision stores them."""
    return fiche.model_dump(mode="json", include=set(CHAMPS))


def appliquer(fiche: Fiche, champs: dict) -> tuple[Fiche | None, list[Erreur]]:
    """The fiche with these fields, checked by the loader's model and messages."""
    donnees = fiche.model_dump(mode="json", exclude_unset=True)
    for cle in CHAMPS:
        if cle in champs:
            if champs[cle] in (None, [], ""):
                donnees.pop(cle, None)
            else:
                donnees[cle] = champs[cle]
    return valider(Fiche, donnees, fiche.id)


def proposer(
    db: Session,
    fiche: Fiche,
    champs: dict,
    auteur: str,
    base: int,
    maintenant: datetime | None = None,
) -> Proposition:
    """Store a proposed change (not committed); refused if ``base`` is stale.

    Raises Conflit with the revisions made since ``base``.
    """
    nouvelle, erreurs = appliquer(fiche, champs)
    if erreurs:
        return Proposition(None, erreurs)
    depuis = _depuis(db, fiche.id, base)
    if depuis:
        raise Conflit(depuis)
    revision = RevisionFiche(
        fiche_id=fiche.id,
        numero=base + 1,
        base=base,
        auteur=auteur,
        cree_le=maintenant or maintenant_utc(),
        contenu=json.dumps(champs_de(nouvelle), ensure_ascii=False),
    )
    db.add(revision)
    try:
        with db.begin_nested():
            db.flush()
    except IntegrityError:
        # Another proposal took this number between our read and our write.
        raise Conflit(_depuis(db, fiche.id, base)) from None
    # It holds the ones still waiting (the form starts from the newest, a
    # conflict joins them): the département decides on it alone. Left
    # waiting, an older one refused would still be published by this one.
    db.execute(
        update(RevisionFiche)
        .where(
            RevisionFiche.fiche_id == fiche.id,
            RevisionFiche.statut == PROPOSEE,
            RevisionFiche.numero < revision.numero,
        )
        .values(statut=REMPLACEE)
        .execution_options(synchronize_session="fetch")
    )
    return Proposition(revision, [])


def _depuis(db: Session, fiche_id: str, base: int) -> list[RevisionFiche]:
    return list(
        db.exec(
            select(RevisionFiche)
            .where(RevisionFiche.fiche_id == fiche_id, RevisionFiche.numero > base)
            .order_by(RevisionFiche.numero)
        )
    )


def revision_numero(db: Session, fiche_id: str, numero: int) -> RevisionFiche | None:
    return db.exec(
        select(RevisionFiche).where(
            RevisionFiche.fiche_id == fiche_id, RevisionFiche.numero == numero
        )
    ).first()


def contenu_au(db: Session, fiche_yaml: Fiche, numero: int) -> dict:
    """The editable fields as revision ``numero`` left them (0: the YAML's)."""
    revision = revision_numero(db, fiche_yaml.id, numero)
    return contenu(revision) if revision else champs_de(fiche_yaml)


def reunir(depart: dict, mien: dict, autre: dict) -> tuple[dict, list[str]]:
    """Two changes made from ``depart``: the other's, with mine laid over.

    Returns the joined fields and the fields both changed (mine is kept).
    """
    reunis, tous_deux = {}, []
    for cle in CHAMPS:
        if mien.get(cle) != depart.get(cle):
            reunis[cle] = mien.get(cle)
            if autre.get(cle) not in (depart.get(cle), mien.get(cle)):
                tous_deux.append(cle)
        else:
            reunis[cle] = autre.get(cle)
    return reunis, tous_deux


def decider(
    db: Session,
    revision: RevisionFiche,
    statut: str,
    qui: str,
    maintenant: datetime | None = None,
    motif: str = "",
) -> None:
    """Validate or refuse a proposed revision (not committed); ``motif``:
    why it is refused, for its author.

    Validating it takes in the older proposals of the fiche (each one starts
    from the one before); one older than a published change is Depassee."""
    if revision.statut != PROPOSEE:
        raise ValueError("cette modification a déjà été traitée")
    if statut not in (VALIDEE, REFUSEE):
        raise ValueError(f"décision inconnue « {statut} »")
    de_la_fiche = RevisionFiche.fiche_id == revision.fiche_id
    if statut == VALIDEE:
        publiee = db.exec(
            select(func.max(RevisionFiche.numero)).where(
                de_la_fiche, RevisionFiche.statut == VALIDEE
            )
        ).one()
        if publiee and publiee > revision.numero:
            raise Depassee(
                f"Une modification plus récente de cette fiche (n° {publiee}) est "
                "déjà publiée : celle-ci, plus ancienne, ne peut plus l'être. "
                "Refusez-la, ou demandez une nouvelle modification."
            )
    revision.statut = statut
    revision.decide_par = qui
    revision.decide_le = maintenant or maintenant_utc()
    if statut == REFUSEE:
        revision.motif_refus = motif.strip()[:500]
    db.add(revision)
    if statut == VALIDEE:
        db.execute(
            update(RevisionFiche)
            .where(
                de_la_fiche,
                RevisionFiche.statut == PROPOSEE,
                RevisionFiche.numero < revision.numero,
            )
            .values(statut=REMPLACEE, decide_par=qui, decide_le=revision.decide_le)
            .execution_options(synchronize_session="fetch")
        )
        # Through the places' outbox: the index learns it even if down now.
        db.add(IndexAFaire(fiche_id=revision.fiche_id, cree_le=revision.decide_le))
        # Every worker reads this number before each request.
        db.execute(
            update(VersionFiches)
            .where(VersionFiches.id == 1)
            .values(numero=VersionFiches.numero + 1)
        )


def _jour_de(revision: RevisionFiche):
    return heure.jour(revision.decide_le or revision.cree_le)


def fiche_validee(fiche: Fiche, revision: RevisionFiche) -> Fiche:
    """``fiche`` with a validated revision laid over it, dated by its decision."""
    champs = contenu(revision)
    nouvelle, erreurs = appliquer(fiche, champs)
    if erreurs:  # the model changed since: the YAML fiche stays as it was
        return fiche
    jour = _jour_de(revision)
    if jour > nouvelle.date_maj:
        nouvelle = nouvelle.model_copy(update={"date_maj": jour})
        nouvelle.model_fields_set.add("date_maj")
    return nouvelle


# Built once: it runs before every request.
_VERSION = select(VersionFiches.numero).where(VersionFiches.id == 1)


def _version(db: Session | Connection) -> int:
    return db.execute(_VERSION).scalar() or 0


class Publication:
    """The fiches as published: the YAML's, with validated revisions laid over.

    Each worker holds its own catalogue; the database says which revisions
    are validated. A worker that did not validate one learns it at its next
    request (one bare query) and lays it over the YAML fiche, so every
    worker shows the same fiche at once; the public pages, read most, ask
    at most once a second (see web/donnees.py).
    """

    def __init__(self, catalogue: Catalogue):
        self.catalogue = catalogue
        self._yaml = dict(catalogue.fiches)
        self._vues: int | None = None  # validated revisions laid over so far
        self._appliquees: set[int] = set()
        self._verrou = threading.Lock()
        self._lue_le: float | None = None  # the last version read (monotonic)
        self.horloge = time.monotonic

    @property
    def version(self) -> int | None:
        """The validated revisions laid over so far (changes with each one)."""
        return self._vues

    def a_jour(self, engine: Engine, au_plus_tous_les_s: float = 0.0) -> list[str]:
        """``synchroniser`` for every request: one bare query when nothing
        changed, and none if the last one is less than ``au_plus_tous_les_s``
        seconds old."""
        maintenant = self.horloge()
        if self._lue_le is not None and maintenant - self._lue_le < au_plus_tous_les_s:
            return []
        with engine.connect() as cnx:
            version = _version(cnx)
        self._lue_le = maintenant
        if version == self._vues:
            return []
        with Session(engine) as db:
            return self.synchroniser(db)

    def synchroniser(self, db: Session) -> list[str]:
        """Lay newly validated revisions over the catalogue; changed ids."""
        version = _version(db)
        if version == self._vues:
            return []
        with self._verrou:
            # Validated revisions never go back: only the fiches with one not
            # laid over yet are redone.
            validees = db.exec(
                select(RevisionFiche.id, RevisionFiche.fiche_id).where(
                    RevisionFiche.statut == VALIDEE
                )
            ).all()
            a_refaire = {f for i, f in validees if i not in self._appliquees}
            changees = []
            for fiche_id in sorted(a_refaire & set(self._yaml)):
                fiche = self._fiche_avec_ses_revisions(db, fiche_id)
                if self.catalogue.fiches.get(fiche_id) != fiche:
                    self.catalogue.fiches[fiche_id] = fiche
                    changees.append(fiche_id)
            self._appliquees.update(i for i, _ in validees)
            self._vues = version
            return changees

    def _fiche_avec_ses_revisions(self, db: Session, fiche_id: str) -> Fiche:
        fiche = yaml_ = self._yaml[fiche_id]
        for revision in db.exec(
            select(RevisionFiche)
            .where(RevisionFiche.fiche_id == fiche_id, RevisionFiche.statut == VALIDEE)
            .order_by(RevisionFiche.numero)
        ):
            # A YAML edited after this change (its date_maj says so) wins, as
            # for places.
            if yaml_.date_maj <= _jour_de(revision):
                fiche = fiche_validee(fiche, revision)
        return fiche

    def yaml(self, fiche_id: str) -> Fiche | None:
        """The fiche as its YAML file says, without any revision."""
        return self._yaml.get(fiche_id)

    def reprendre(self, db: Session) -> list[tuple[str, datetime]]:
        """Remember every fiche read valid, and put back on the site the last
        valid version of a fiche whose file is broken now (before the
        revisions are laid over it). The ids put back, with when they were
        read. Committed."""
        catalogue, maintenant = self.catalogue, maintenant_utc()
        connues = {
            i: (e, f)
            for i, e, f in db.exec(
                select(
                    DerniereVersion.fiche_id,
                    DerniereVersion.empreinte,
                    DerniereVersion.fichier,
                )
            )
        }
        for fiche_id, fiche in catalogue.fiches.items():
            chemin = catalogue.fichiers.get(f"Fiche:{fiche_id}")
            if chemin is None:
                continue
            etat = chemin.stat()
            empreinte = f"{etat.st_size}:{etat.st_mtime_ns}"
            fichier = str(chemin.resolve())
            if connues.get(fiche_id) != (empreinte, fichier):
                db.merge(
                    DerniereVersion(
                        fiche_id=fiche_id,
                        fichier=fichier,
                        empreinte=empreinte,
                        contenu=fiche.model_dump_json(),
                        lue_le=maintenant,
                    )
                )
        try:
            db.commit()
        except IntegrityError:
            db.rollback()  # another worker booting wrote the same rows
        # By file name: the fiches sit in one folder, which a new release
        # or container may move (the whole path then never matched).
        casses = {Path(e.fichier).name for e in catalogue.erreurs}
        reprises = []
        for fiche_id, (_, fichier) in connues.items():
            if Path(fichier).name in casses and fiche_id not in catalogue.fiches:
                version = db.get(DerniereVersion, fiche_id)
                fiche = Fiche.model_validate_json(version.contenu)
                catalogue.fiches[fiche_id] = self._yaml[fiche_id] = fiche
                reprises.append((fiche_id, version.lue_le))
        return reprises

    def documents(self, db: Session, ids: list[str], etat) -> list[dict]:
        """The published fiches' search documents, with the database's places.

        For the outbox drain (``places.publier``): the catalogue is brought in
        line first, so a fiche validated by another worker is indexed as
        validated, never as it was.
        """
        self.synchroniser(db)
        fiches, structures = self.catalogue.fiches, self.catalogue.structures
        en_places = places_des_documents(etat)
        return [
            document(
                fiches[i],
                structures.get(fiches[i].structure),
                en_places.get(i, (None, None)),
            )
            for i in ids
            if i in fiches
        ]


# --- Writing the fiches back as YAML ------------------------------------------


def _str_multiligne(dumper, valeur: str):
    style = "|" if "\n" in valeur else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", valeur, style=style)


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow=False, indentless=False):
        # "  - item" under its key, as the fiches are written by hand.
        return super().increase_indent(flow, False)


_Dumper.add_representer(str, _str_multiligne)


def en_yaml(fiche: Fiche) -> str:
    """The fiche as YAML the loader reads back to the same fiche.

    Only the keys the author wrote (or a revision set) are written, in the
    model's order; comments of the original file are not kept.
    """
    return _yaml(fiche.model_dump(mode="python", exclude_unset=True))


@dataclass
class ExportYaml:
    ecrites: list[str]
    inchangees: int
    # Files that do not read now: the author's edit is never written over.
    cassees: list[Erreur]
    # Fiches whose text, written, would not read back as published: nothing
    # written (a bug of the writer, never a silent change of a fiche).
    non_ecrites: list[Erreur] = field(default_factory=list)


# The keys a validated revision may change (and the day it is dated), and
# the day the file's places date from (see _places_datees).
CLES_REVISEES = (*CHAMPS, "date_maj", "places_maj_le")


def _lire_fiche(chemin: Path) -> tuple[Fiche | None, object, list[Erreur]]:
    data, erreurs = lire_yaml(chemin, str(chemin), cles_sans_prose(Fiche))
    if erreurs:
        return None, data, erreurs
    fiche, erreurs = valider(Fiche, data, str(chemin))
    return fiche, data, erreurs


def _valeurs(fiche: Fiche, cles) -> dict:
    return fiche.model_dump(mode="json", include=set(cles))


def _blocs_remplaces(texte: str, data, fiche: Fiche, cles: list[str]) -> str:
    """The file's text with only these top-level keys written anew, each in
    place of its own lines: comments and the author's layout stay."""
    lignes = texte.splitlines(keepends=True)
    debuts = sorted((ligne - 1, cle) for cle, ligne in data.lignes.items())
    fins = {}
    for (debut, cle), suivant in zip(
        debuts, [*debuts[1:], (len(lignes), None)], strict=True
    ):
        fin = suivant[0]
        # Comments and blank lines just above the next key belong to it (an
        # indented « # » line is text of a block, not a comment).
        while fin > debut + 1 and (
            not lignes[fin - 1].strip() or lignes[fin - 1].startswith("#")
        ):
            fin -= 1
        fins[cle] = (debut, fin)
    valeurs = fiche.model_dump(mode="python", exclude_unset=True)
    ajouts = []
    for cle in sorted(cles, key=lambda c: -fins.get(c, (len(lignes), 0))[0]):
        bloc = _yaml({cle: valeurs[cle]}) if cle in valeurs else ""
        if cle in fins:
            debut, fin = fins[cle]
            lignes[debut:fin] = [bloc]
        elif bloc:
            ajouts.append(bloc)
    texte = "".join(lignes)
    if ajouts and not texte.endswith("\n"):
        texte += "\n"
    return texte + "".join(ajouts)


def _sans_vides(valeur):
    """No « key: null »: an absent key reads the same, and reads better."""
    if isinstance(valeur, dict):
        return {k: _sans_vides(v) for k, v in valeur.items() if v is not None}
    if isinstance(valeur, list):
        return [_sans_vides(v) for v in valeur]
    return valeur


def _yaml(donnees: dict) -> str:
    return yaml.dump(
        _sans_vides(donnees),
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        width=88,
        default_flow_style=False,
    )


def _texte_relu(texte: str, fiche: Fiche, telle: Fiche) -> bool:
    """The edited text reads back to ``fiche`` where it differs from the
    file (``telle``), and to the file everywhere else."""
    with tempfile.TemporaryDirectory() as tmp:  # never among the fiches
        essai = Path(tmp) / f"{fiche.id}.yaml"
        essai.write_text(texte, encoding="utf-8")
        relue, _data, erreurs = _lire_fiche(essai)
    if erreurs or relue is None:
        return False
    autres = set(Fiche.model_fields) - set(CLES_REVISEES)
    return _valeurs(relue, CLES_REVISEES) == _valeurs(fiche, CLES_REVISEES) and (
        _valeurs(relue, autres) == _valeurs(telle, autres)
    )


def _places_datees(fiche: Fiche, yaml_: Fiche | None) -> Fiche:
    """The fiche, its written places still dated from the file's day.

    Places written in a file count from its ``places_maj_le`` (else its
    ``date_maj``), and win at the next start over a live count older than
    that. A validation moves ``date_maj`` to its own day: written so, the
    sessions' seats would count as fresh and wipe the places taken since
    the file's day."""
    a_des_places = fiche.places_restantes is not None or any(
        s.places is not None or s.places_restantes is not None for s in fiche.sessions
    )
    if yaml_ is None or fiche.places_maj_le is not None or not a_des_places:
        return fiche
    jour = yaml_.places_maj_le or yaml_.date_maj
    if jour == fiche.date_maj:
        return fiche
    datee = fiche.model_copy(update={"places_maj_le": jour})
    datee.model_fields_set.add("places_maj_le")
    return datee


def _pas_relue(chemin: Path) -> Erreur:
    return Erreur(
        chemin.name,
        None,
        "",
        "le texte à écrire ne se relit pas comme la fiche publiée : fichier "
        "laissé tel quel (signalez-le à l'équipe technique)",
    )


def exporter_yaml(
    catalogue: Catalogue,
    dossier: Path,
    telle_quelle: Callable[[str], Fiche | None] = lambda _id: None,
) -> ExportYaml:
    """Write each fiche's validated changes into its YAML file.

    A file that reads the same is left alone; one that differs gets only
    its changed keys rewritten (a ``git diff`` shows the change, nothing
    else); one that does not read now is left for its author to mend. A
    fiche with no file there is written whole."""
    dossier.mkdir(parents=True, exist_ok=True)
    resultat = ExportYaml([], 0, [])
    for fiche in catalogue.fiches.values():
        chemin = dossier / f"{fiche.id}.yaml"
        # ``telle_quelle``: the fiche as its source file reads, no revision.
        fiche = _places_datees(fiche, telle_quelle(fiche.id))
        if not chemin.exists():
            entier = en_yaml(fiche)
            if _texte_relu(entier, fiche, fiche):
                chemin.write_text(entier, encoding="utf-8")
                resultat.ecrites.append(chemin.name)
            else:
                resultat.non_ecrites.append(_pas_relue(chemin))
            continue
        telle, data, erreurs = _lire_fiche(chemin)
        if erreurs or telle is None:
            resultat.cassees.extend(erreurs[:1])
            continue
        avant, apres = _valeurs(telle, CLES_REVISEES), _valeurs(fiche, CLES_REVISEES)
        changees = [c for c in CLES_REVISEES if avant.get(c) != apres.get(c)]
        if not changees:
            resultat.inchangees += 1
            continue
        texte = chemin.read_text(encoding="utf-8")
        nouveau = _blocs_remplaces(texte, data, fiche, changees)
        if not _texte_relu(nouveau, fiche, telle):
            nouveau = en_yaml(fiche)  # an odd layout: written whole
            if not _texte_relu(nouveau, fiche, telle):
                resultat.non_ecrites.append(_pas_relue(chemin))
                continue
        # Its line endings kept: a file written on Windows stays so.
        fin_de_ligne = "\r\n" if b"\r\n" in chemin.read_bytes() else None
        chemin.write_text(nouveau, encoding="utf-8", newline=fin_de_ligne)
        resultat.ecrites.append(chemin.name)
    return resultat
