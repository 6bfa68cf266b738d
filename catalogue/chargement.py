"""Load the catalogue from YAML, reporting every problem with file, line and field.

A broken file never stops the others: it is left out and its errors listed.
"""

import difflib
import gc
import multiprocessing
import os
import re
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from catalogue.fiche import Fiche, Structure
from catalogue.territoires import Referentiel, referentiel

# The C parser is several times faster; construction stays in Python so we
# can record line numbers.
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LineDict(dict):
    __slots__ = ("ligne", "lignes")


class LineList(list):
    __slots__ = ("ligne", "lignes")


class _Loader(_BaseLoader):
    pass


# Limits that keep one odd file from exhausting memory, stack or patience.
TAILLE_MAX = 256 * 1024  # bytes: the longest real fiche is under 20 KB
PROFONDEUR_MAX = 12  # a fiche nests 4 levels (sessions, lieux, capacité)
LISTE_MAX = 2000  # items in one list (zone_eligibilite lists communes)
ELEMENTS_MAX = 50_000  # values in one file, aliases counted each time
CROCHETS_MAX = 64  # raw [ and { nesting, checked before the recursive parser


class _ProblemeYaml(Exception):
    """A file we refuse before validation: the message is French, for authors."""

    def __init__(self, message, ligne=None, champ=""):
        super().__init__(message)
        self.message, self.ligne, self.champ = message, ligne, champ


class _DuplicateKey(Exception):
    def __init__(self, cle, ligne):
        self.cle, self.ligne = cle, ligne


def _descendre(loader, node) -> None:
    """One level deeper; constructors nest as the YAML does."""
    loader.profondeur = getattr(loader, "profondeur", 0) + 1
    if loader.profondeur > PROFONDEUR_MAX:
        raise _ProblemeYaml(
            f"imbrication trop profonde (au plus {PROFONDEUR_MAX} niveaux)",
            node.start_mark.line + 1,
        )


def _mapping(loader, node):
    _descendre(loader, node)
    loader.flatten_mapping(node)
    result = LineDict()
    result.ligne = node.start_mark.line + 1
    result.lignes = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise _ProblemeYaml(
                "clé invalide : une clé doit être un simple mot (pas une liste "
                "ni un ensemble de clés)",
                key_node.start_mark.line + 1,
            )
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise _DuplicateKey(key, key_node.start_mark.line + 1)
        result[key] = loader.construct_object(value_node, deep=True)
        result.lignes[key] = key_node.start_mark.line + 1
    loader.profondeur -= 1
    return result


def _sequence(loader, node):
    _descendre(loader, node)
    if len(node.value) > LISTE_MAX:
        raise _ProblemeYaml(
            f"liste trop longue ({len(node.value)} éléments, au plus {LISTE_MAX})",
            node.start_mark.line + 1,
        )
    result = LineList(loader.construct_object(n, deep=True) for n in node.value)
    result.ligne = node.start_mark.line + 1
    result.lignes = [n.start_mark.line + 1 for n in node.value]
    loader.profondeur -= 1
    return result


def _date(loader, node):
    """A date YAML recognises but the calendar refuses (2024-02-30) stays text:
    validation then says which field and line is wrong."""
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _date)


def _imbrication_des_crochets(texte: str) -> int | None:
    """The line where [ and { nest deeper than allowed, if they do.

    Checked on the raw text before parsing: the parser and the constructor
    recurse, so 300 nested brackets would exhaust their stack.
    """
    if texte.count("[") + texte.count("{") <= CROCHETS_MAX:
        return None  # every real fiche: counted in C, no loop
    profondeur = 0
    for numero, ligne in enumerate(texte.splitlines(), 1):
        for caractere in ligne:
            if caractere in "[{":
                profondeur += 1
                if profondeur > CROCHETS_MAX:
                    return numero
            elif caractere in "]}" and profondeur:
                profondeur -= 1
    return None


def _compter_les_valeurs(data: object) -> None:
    """Aliases repeat a value without repeating its text: nine aliases of nine
    aliases are a billion values (« billion laughs ») to validate. Count them."""
    a_voir, vues = [data], 0
    while a_voir:
        valeur = a_voir.pop()
        vues += 1
        if vues > ELEMENTS_MAX:
            raise _ProblemeYaml(f"trop de valeurs (au plus {ELEMENTS_MAX})")
        if isinstance(valeur, list):
            a_voir.extend(valeur)
        elif isinstance(valeur, dict):
            a_voir.extend(valeur.values())


@dataclass(frozen=True)
class Erreur:
    fichier: str
    ligne: int | None
    champ: str
    message: str

    def __str__(self) -> str:
        ou = f"{self.fichier}:{self.ligne}" if self.ligne else self.fichier
        champ = f" [{self.champ}]" if self.champ else ""
        return f"{ou}{champ} : {self.message}"


@dataclass
class Catalogue:
    fiches: dict[str, Fiche] = field(default_factory=dict)
    structures: dict[str, Structure] = field(default_factory=dict)
    erreurs: list[Erreur] = field(default_factory=list)
    fichiers: dict[str, Path] = field(default_factory=dict)
    # Where the errors' file names start from.
    racine: Path | None = None


# Keys prose never starts a line with: an underscore, or a word of the
# trade (« documents: », « frais: », « nom: » may well begin a sentence, and
# the fiche would be set aside for it).
SANS_PROSE = frozenset({"capacite", "thematiques", "prescripteurs", "financeurs"})


@cache
def cles_sans_prose(model) -> frozenset[str]:
    return frozenset(c for c in model.model_fields if "_" in c or c in SANS_PROSE)


_ENTETE_DE_BLOC = re.compile(r"([A-Za-z_]\w*):[ \t]*[>|][-+0-9]*[ \t]*(?:#.*)?")


@cache
def _candidates(cles: frozenset[str], apres_un_saut: bool = False) -> re.Pattern:
    # After a line break, a literal the engine jumps to: 7 µs a fiche,
    # where « ^ » tried at every character took 19.
    debut = "\n" if apres_un_saut else "^"
    return re.compile(
        debut + r"[ \t]+(" + "|".join(sorted(cles)) + r"):(?:[ \t]|$)", re.MULTILINE
    )


def _cles_dans_les_blocs(texte: str, cles: frozenset[str]) -> list[tuple]:
    """(line, key, text key) for each line of a block of text (``>-``,
    ``|``) that reads as a key of the file: indented too far, YAML takes it
    as more of that text, silently, and the key is gone."""
    if not _candidates(cles, apres_un_saut=True).search(texte):  # the usual case
        return []
    trouvees, bloc = [], None
    for numero, ligne in enumerate(texte.splitlines(), 1):
        if not ligne.strip():
            continue
        if ligne[0] not in " \t":  # a key (or comment) at the line's start
            m = _ENTETE_DE_BLOC.fullmatch(ligne)
            bloc = m[1] if m else None
        elif bloc and (m := _candidates(cles).match(ligne)):
            trouvees.append((numero, m[1], bloc))
    return trouvees


def _message_avalee(cle: str, bloc: str) -> str:
    return (
        f"« {cle}: » est lu comme du texte de « {bloc} » : sa ligne est sans doute "
        "trop indentée (une clé commence au début de la ligne)"
    )


def _cles_avalees(path: Path, erreurs: list[Erreur]) -> list[Erreur]:
    """A key said missing that a block of text above it swallowed (« nom: »,
    « categorie: », too like prose to be looked for in every file): said at
    its line, not at line 1."""
    absentes = {e.champ for e in erreurs if e.message == _MESSAGES["missing"]}
    absentes = frozenset(c for c in absentes if c.isidentifier())
    if not absentes:
        return erreurs
    texte = path.read_text(encoding="utf-8")
    avalees = {c: (n, bloc) for n, c, bloc in _cles_dans_les_blocs(texte, absentes)}
    return [
        Erreur(
            e.fichier,
            avalees[e.champ][0],
            e.champ,
            _message_avalee(e.champ, avalees[e.champ][1]),
        )
        if e.champ in avalees and e.message == _MESSAGES["missing"]
        else e
        for e in erreurs
    ]


def lire_yaml(
    path: Path, nom_affiche: str, cles: frozenset[str] = frozenset()
) -> tuple[object, list[Erreur]]:
    """The file's data, or its problems in French. ``cles``: the keys of
    the model it holds, never to be found inside a block of text."""
    try:
        taille = path.stat().st_size
        if taille > TAILLE_MAX:
            message = f"fichier trop gros ({taille // 1024} Kio, au plus "
            message += f"{TAILLE_MAX // 1024} Kio)"
            return None, [Erreur(nom_affiche, None, "", message)]
        texte = path.read_text(encoding="utf-8")
        ligne = _imbrication_des_crochets(texte)
        if ligne is not None:
            message = f"imbrication trop profonde (au plus {PROFONDEUR_MAX} niveaux)"
            return None, [Erreur(nom_affiche, ligne, "", message)]
        try:
            data = yaml.load(texte, Loader=_Loader)
        except (ValueError, TypeError, AttributeError) as e:
            # A tag forcing a type its value does not have (!!int x,
            # !!timestamp demain): the constructor fails without a mark.
            raise _ProblemeYaml(
                "une étiquette « !!… » ne convient pas à sa valeur : retirez-la",
                _premiere_ligne_avec(texte, "!"),
            ) from e
        if "*" in texte and "&" in texte:  # aliases: only then can values multiply
            _compter_les_valeurs(data)
        if cles and (dans_les_blocs := _cles_dans_les_blocs(texte, cles)):
            return None, [
                Erreur(nom_affiche, ligne, cle, _message_avalee(cle, bloc))
                for ligne, cle, bloc in dans_les_blocs
            ]
        return data, []
    except _ProblemeYaml as e:
        return None, [Erreur(nom_affiche, e.ligne, e.champ, e.message)]
    except RecursionError:
        message = f"imbrication trop profonde (au plus {PROFONDEUR_MAX} niveaux)"
        return None, [Erreur(nom_affiche, None, "", message)]
    except _DuplicateKey as e:
        return None, [Erreur(nom_affiche, e.ligne, str(e.cle), "clé en double")]
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        ouverture = bool(
            e.context_mark and re.search(r"flow|quoted|simple key", e.context or "")
        )
        if ouverture:
            # Where the bracket or the quote was opened, not the next line,
            # where the parser gave up waiting for it to close.
            mark = e.context_mark
        ligne = mark.line + 1 if mark else None
        detail = _detail_yaml(e.problem or e.context or "")
        if not ouverture and (ouvert := _guillemet_ouvert(texte, ligne)) is not None:
            # « nom: "Atelier » runs on to the next quote, lines below,
            # where the parser stops: the author looks for the open one.
            ligne, detail = ouvert, "un guillemet n'est pas refermé sur sa ligne"
        msg = "syntaxe YAML invalide : " + (
            detail or "vérifiez l'indentation, les guillemets et les crochets"
        )
        return None, [Erreur(nom_affiche, ligne, _cle_de_la_ligne(texte, ligne), msg)]
    except yaml.reader.ReaderError as e:
        ligne = texte[: e.position].count("\n") + 1 if e.position is not None else None
        code = e.character if isinstance(e.character, int) else ord(e.character)
        msg = f"caractère interdit (code U+{code:04X}) : retirez-le ou retapez la ligne"
        return None, [Erreur(nom_affiche, ligne, "", msg)]
    except UnicodeDecodeError as e:
        ligne = e.object[: e.start].count(b"\n") + 1
        msg = "le fichier n'est pas enregistré en UTF-8 : enregistrez-le en UTF-8"
        return None, [Erreur(nom_affiche, ligne, "", msg)]
    except OSError as e:
        return None, [Erreur(nom_affiche, None, "", _erreur_systeme(e))]


def _cle_de_la_ligne(texte: str, ligne: int | None) -> str:
    """The field written on that line (« nom: [… »), if any."""
    lignes = texte.splitlines()
    if ligne is None or not 0 < ligne <= len(lignes):
        return ""
    cle = re.match(r"\s*(?:-\s+)?([A-Za-z_][\w-]*)\s*:", lignes[ligne - 1])
    if cle:
        return cle[1]
    # A list item (« - 'texte… »): the list's field, and which item.
    item = re.match(r"(\s*)-\s", lignes[ligne - 1])
    if not item:
        return ""
    rang = 0
    for precedente in reversed(lignes[: ligne - 1]):
        marge = len(precedente) - len(precedente.lstrip())
        if (
            not precedente.strip()
            or precedente.lstrip().startswith("#")
            or marge > len(item[1])  # the item before, on several lines
        ):
            continue
        if marge == len(item[1]) and precedente.lstrip().startswith("- "):
            rang += 1
        elif marge < len(item[1]) or not precedente.lstrip().startswith("- "):
            parent = re.match(r"\s*(?:-\s+)?([A-Za-z_][\w-]*)\s*:", precedente)
            return f"{parent[1]}[{rang}]" if parent else ""
    return ""


# PyYAML's explanations, said for authors; the first matching start wins.
_DETAILS_YAML = (
    ("did not find expected ',' or ']'", "il manque une virgule ou un « ] »"),
    ("did not find expected ',' or '}'", "il manque une virgule ou une « } »"),
    ("expected ',' or ']'", "il manque une virgule ou un « ] »"),
    ("expected ',' or '}'", "il manque une virgule ou une « } »"),
    ("found unexpected end of stream", "le fichier finit avant la fin d'une valeur : "
     "un guillemet n'est pas refermé ?"),
    ("mapping values are not allowed", "deux-points en trop : mettez une valeur qui "
     "contient « : » entre guillemets"),
    ("did not find expected key", "clé attendue : alignez les clés d'un même niveau, "
     "et rien après un texte entre guillemets"),
    ("did not find expected '-' indicator", "élément de liste attendu (« - ») : "
     "alignez les tirets d'une même liste"),
    ("expected <block end>", "indentation incohérente : alignez les clés d'un même "
     "niveau"),
    ("did not find expected <document start>", "texte en trop après la fin de la "
     "fiche"),
    ("expected <document start>", "texte en trop après la fin de la fiche"),
    ("but found another document", "un seul document par fichier : retirez « --- »"),
    ("expected a single document", "un seul document par fichier : retirez « --- »"),
    ("found incompatible YAML document", "version de YAML inconnue (ligne « %YAML »)"),
    ("found unknown directive name", "directive inconnue (ligne qui commence par "
     "« % ») : mettez la valeur entre guillemets"),
    ("found character that cannot start any token", "caractère inattendu "
     "(tabulation, « @ » ou « ` » ?) : indentez avec des espaces, mettez la valeur "
     "entre guillemets"),
    ("found a tab character", "tabulation : indentez avec des espaces"),
    ("found undefined alias", "alias « * » sans ancre « & » du même nom"),
    ("found duplicate anchor", "ancre « & » donnée deux fois"),
    ("did not find expected alphabetic or numeric character", "une ancre « & » ou "
     "un alias « * » doit être suivi d'un nom : mettez la valeur entre guillemets"),
    ("expected alphabetic or numeric character", "une ancre « & » ou un alias "
     "« * » doit être suivi d'un nom : mettez la valeur entre guillemets"),
    ("found unknown escape character", "« \\ » suivi d'un caractère inconnu entre "
     "guillemets doubles : utilisez des guillemets simples"),
    ("could not find expected ':'", "il manque « : » après une clé (ou un "
     "guillemet n'est pas refermé)"),
    ("could not determine a constructor for the tag", "étiquette « ! » non "
     "autorisée : retirez-la"),
    ("found undefined tag handle", "étiquette « ! » non autorisée : retirez-la"),
    ("failed to decode base64", "étiquette « !!binary » illisible : retirez-la"),
    ("expected a mapping", "étiquette « !! » mal employée : retirez-la"),
    ("expected a sequence", "étiquette « !! » mal employée : retirez-la"),
    ("found unhashable key", "clé invalide : une clé doit être un simple mot"),
    ("expected the node content", "valeur attendue"),
    ("expected a comment or a line break", "texte inattendu après une valeur : "
     "mettez toute la valeur entre guillemets"),
)  # fmt: skip


def _detail_yaml(probleme: str) -> str:
    """PyYAML's problem in French, or nothing (never its English)."""
    return next((fr for en, fr in _DETAILS_YAML if probleme.startswith(en)), "")


def _guillemet_ouvert(texte: str, avant: int | None, essais: int = 3) -> int | None:
    """The nearest line before ``avant`` whose value starts with a quote it
    does not close, and which, closed, lets the file be read past ``avant``:
    the quote that ran on until the parser stopped. Checked by reading the
    file again, so a value rightly quoted over two lines, an apostrophe
    (« d'insertion ») or a quote in a comment is never accused."""
    lignes = texte.splitlines()
    if avant is None or not 1 < avant <= len(lignes):
        return None
    for numero in range(avant - 1, 0, -1):
        valeur = re.match(r"\s*(?:-\s+)?(?:[\w-]+\s*:\s*)?(.*)", lignes[numero - 1])[1]
        quote = re.match(r"[\[{]?\s*([\"'])", valeur)
        if not quote:
            continue
        essais -= 1
        corrige = lignes.copy()
        corrige[numero - 1] += quote[1]
        try:
            for _evenement in yaml.parse("\n".join(corrige), Loader=yaml.SafeLoader):
                pass  # read, not built: syntax only
            return numero
        except yaml.MarkedYAMLError as e:
            if e.problem_mark and e.problem_mark.line + 1 > avant:
                return numero
        except yaml.YAMLError:
            pass
        if not essais:
            return None
    return None


def _premiere_ligne_avec(texte: str, motif: str) -> int | None:
    for numero, ligne in enumerate(texte.splitlines(), 1):
        if motif in ligne:
            return numero
    return None


def _erreur_systeme(e: OSError) -> str:
    if isinstance(e, PermissionError):
        return "fichier illisible : accès refusé"
    if isinstance(e, FileNotFoundError):
        return "fichier introuvable (supprimé pendant la lecture ?)"
    if isinstance(e, IsADirectoryError):
        return "c'est un dossier, pas un fichier"
    return f"fichier illisible (erreur système {e.errno})"


_MESSAGES = {
    "missing": "champ obligatoire absent",
    "string_type": "doit être un texte",
    "int_type": "doit être un nombre entier",
    "int_parsing": "doit être un nombre entier",
    "int_from_float": "doit être un nombre entier",
    "float_type": "doit être un nombre",
    "float_parsing": "doit être un nombre",
    "bool_type": "doit valoir true ou false",
    "bool_parsing": "doit valoir true ou false",
    "date_type": "doit être une date au format AAAA-MM-JJ",
    "date_parsing": "doit être une date au format AAAA-MM-JJ",
    "date_from_datetime_parsing": "doit être une date au format AAAA-MM-JJ",
    "date_from_datetime_inexact": "doit être une date sans heure",
    "list_type": "doit être une liste",
    "dict_type": "doit être un ensemble de clés et de valeurs",
    "model_type": "doit être un ensemble de clés et de valeurs",
    "model_attributes_type": "doit être un ensemble de clés et de valeurs",
    "string_pattern_mismatch": "format invalide",
    "finite_number": "doit être un nombre fini (ni .inf ni .nan)",
    "int_too_big": "nombre trop grand",
    "invalid_key": "clé invalide : une clé doit être un simple mot",
    "set_type": "doit être une liste",
    "tuple_type": "doit être une liste",
    "datetime_type": "doit être une date au format AAAA-MM-JJ",
    "datetime_parsing": "doit être une date au format AAAA-MM-JJ",
    "none_required": "doit rester vide",
    "recursion_loop": "valeur qui se contient elle-même (alias « * » en boucle)",
    "string_unicode": "doit être un texte",
}


_DATES = {"date_parsing", "date_from_datetime_parsing", "datetime_parsing"}
_JOUR = re.compile(r"\d{4}-\d{2}-\d{2}")

_BORNES = {
    "greater_than_equal": ("supérieur ou égal à", "ge"),
    "greater_than": ("supérieur à", "gt"),
    "less_than_equal": ("inférieur ou égal à", "le"),
    "less_than": ("inférieur à", "lt"),
}


def _message(err: dict, model: type[BaseModel]) -> str:
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "extra_forbidden":
        cle = str(err["loc"][-1])
        proches = difflib.get_close_matches(cle, _all_field_names(model), n=1)
        aide = f" ; vouliez-vous dire « {proches[0]} » ?" if proches else ""
        return f"clé inconnue « {cle} »{aide}"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    if kind == "string_too_short":
        return f"trop court (au moins {ctx['min_length']} caractères)"
    if kind == "string_too_long":
        return f"trop long (au plus {ctx['max_length']} caractères)"
    if kind == "too_short":
        return f"doit contenir au moins {ctx['min_length']} élément"
    if kind == "too_long":
        return f"doit contenir au plus {ctx['max_length']} éléments"
    if kind in _BORNES:
        mots, cle = _BORNES[kind]
        return f"doit être {mots} {ctx[cle]}"
    if kind == "literal_error":
        return f"valeur attendue : {ctx.get('expected', '')}"
    if kind in _DATES and _JOUR.fullmatch(str(err.get("input", ""))):
        # Written right, but not in the calendar: « 2022-02-30 ».
        return f"cette date n'existe pas : « {err['input']} »"
    # Never pydantic's English: a kind not listed yet still reads in French.
    return _MESSAGES.get(kind, f"valeur invalide ({kind})")


def _all_field_names(model: type[BaseModel]) -> list[str]:
    names: set[str] = set(model.model_fields)
    for f in model.model_fields.values():
        for sub in getattr(f.annotation, "__args__", ()) + (f.annotation,):
            if isinstance(sub, type) and issubclass(sub, BaseModel):
                names |= set(sub.model_fields)
    return sorted(names)


def _ligne(data: object, loc: Iterable) -> int | None:
    """The line of the deepest part of ``loc`` that exists in the YAML."""
    ligne = getattr(data, "ligne", None)
    for part in loc:
        if isinstance(data, LineDict) and part in data:
            ligne, data = data.lignes[part], data[part]
        elif isinstance(data, LineList) and isinstance(part, int) and part < len(data):
            ligne, data = data.lignes[part], data[part]
        else:
            break
    return ligne


def _ligne_cle_non_texte(data: object, loc: list) -> int | None:
    try:
        for part in loc:
            data = data[part]
    except (KeyError, IndexError, TypeError):
        return None
    lignes = getattr(data, "lignes", None)
    if isinstance(lignes, dict):
        return next((n for k, n in lignes.items() if not isinstance(k, str)), None)
    return getattr(data, "ligne", None)


def _champ(loc: Iterable) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def valider(model: type[BaseModel], data: object, nom: str):
    """Validate one YAML document; returns (object or None, errors)."""
    if not isinstance(data, dict):
        msg = "le fichier doit contenir des clés et des valeurs (une fiche)"
        return None, [Erreur(nom, getattr(data, "ligne", 1), "", msg)]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        erreurs = []
        for err in exc.errors():
            # Union members add their type name to loc; it is noise for authors.
            loc = [p for p in err["loc"] if not (isinstance(p, str) and "[" in p)]
            if err["type"] == "invalid_key":
                # A key YAML read as a number or as nothing (12:, ~:): its line,
                # in the mapping that holds it.
                erreurs.append(
                    Erreur(nom, _ligne_cle_non_texte(data, loc[:-1]), _champ(loc[:-1]),
                           _message(err, model))
                )  # fmt: skip
                continue
            erreurs.append(
                Erreur(nom, _ligne(data, loc), _champ(loc), _message(err, model))
            )
        return None, erreurs


# Above this many files, reading and validating is spread over the CPUs.
PARALLELE_A_PARTIR_DE = 2000


def _lire_et_valider(model, fichiers: list[tuple[Path, str]]) -> list[tuple]:
    resultats = []
    for path, nom in fichiers:
        data, obj, ligne_id = None, None, None
        try:
            data, erreurs = lire_yaml(path, nom, cles_sans_prose(model))
            if not erreurs:
                obj, erreurs = valider(model, data, nom)
                erreurs = _cles_avalees(path, erreurs)
            ligne_id = _ligne(data, ["id"]) if obj is not None else None
        except Exception as e:  # noqa: BLE001 - one odd file never stops the others
            # The class names the fault for developers; its text is English.
            obj, message = None, f"fichier illisible (erreur {type(e).__name__})"
            erreurs = [Erreur(nom, None, "", message)]
        resultats.append((path, nom, obj, erreurs, ligne_id))
    return resultats


def _lire_tout(model, fichiers: list[tuple[Path, str]]) -> list[tuple]:
    workers = os.cpu_count() or 1
    if len(fichiers) < PARALLELE_A_PARTIR_DE or workers < 2:
        return _lire_et_valider(model, fichiers)
    # fork: workers inherit the loaded vocabularies and commune referential.
    taille = -(-len(fichiers) // workers)
    paquets = [fichiers[i : i + taille] for i in range(0, len(fichiers), taille)]
    contexte = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=contexte) as pool:
        return [
            r
            for paquet in pool.map(_lire_et_valider, [model] * len(paquets), paquets)
            for r in paquet
        ]


def _charger_dossier(dossier: Path, model, racine: Path, catalogue: Catalogue):
    objets = {}
    paths = sorted(dossier.glob("*.yaml")) if dossier.is_dir() else []
    for autre in sorted(dossier.glob("*.yml")) if dossier.is_dir() else []:
        # Not read, and not a word said: the action never showed.
        catalogue.erreurs.append(
            Erreur(
                _relatif(autre, racine),
                None,
                "",
                f"fichier non lu : renommez-le « {autre.stem}.yaml » (extension "
                "« .yaml »)",
            )
        )
    fichiers = [(path, _relatif(path, racine)) for path in paths]
    for path, nom, obj, erreurs, ligne_id in _lire_tout(model, fichiers):
        if obj is not None and obj.id != path.stem:
            # One file per id, named after it: the online edits are written
            # back to « <id>.yaml », a second file beside this one. So no two
            # files of a folder can share an id either (a copy kept its id).
            propre = path.with_name(f"{obj.id}.yaml")
            message = (
                f"identifiant « {obj.id} » : le fichier doit s'appeler {propre.name}"
            )
            if propre.exists():
                message += (
                    f" ; {_relatif(propre, racine)} existe déjà : ce fichier en "
                    "est-il une copie ?"
                )
            erreurs, obj = [Erreur(nom, ligne_id, "id", message)], None
        if obj is not None:
            objets[obj.id] = obj
            catalogue.fichiers[f"{model.__name__}:{obj.id}"] = path
        catalogue.erreurs.extend(erreurs)
    return objets


def _relatif(path: Path, racine: Path) -> str:
    try:
        return str(path.relative_to(racine))
    except ValueError:
        return str(path)


def charger_catalogue(
    fiches_dir: Path,
    structures_dir: Path,
    ref: Referentiel | None = None,
    racine: Path | None = None,
) -> Catalogue:
    """Load structures then fiches; check every cross-reference and code."""
    ref = ref or referentiel()
    racine = racine or Path.cwd()
    catalogue = Catalogue(racine=racine)
    # Loading allocates many small objects that all live on: the cyclic GC
    # would rescan them again and again for nothing.
    gc_actif = gc.isenabled()
    gc.disable()
    try:
        return _charger(fiches_dir, structures_dir, ref, racine, catalogue)
    finally:
        if gc_actif:
            gc.enable()


def _charger(fiches_dir, structures_dir, ref, racine, catalogue) -> Catalogue:
    catalogue.structures = _charger_dossier(
        Path(structures_dir), Structure, racine, catalogue
    )
    for structure in list(catalogue.structures.values()):
        path = catalogue.fichiers[f"Structure:{structure.id}"]
        erreurs = _verifier_adresse(structure, [], path, racine, ref)
        if erreurs:
            catalogue.erreurs.extend(erreurs)
            del catalogue.structures[structure.id]
    fiches = _charger_dossier(Path(fiches_dir), Fiche, racine, catalogue)
    for fiche in fiches.values():
        path = catalogue.fichiers[f"Fiche:{fiche.id}"]
        erreurs = _verifier_fiche(fiche, catalogue, path, racine, ref)
        if erreurs:
            catalogue.erreurs.extend(erreurs)
        else:
            catalogue.fiches[fiche.id] = fiche
    return catalogue


def _reload_lines(path: Path) -> object:
    data, _ = lire_yaml(path, str(path))
    return data


def _verifier_adresse(obj, loc, path, racine, ref, data=None) -> list[Erreur]:
    """INSEE code exists, postal code belongs to it; fill missing coordinates."""
    erreurs = []
    if obj.code_insee is None:
        return erreurs
    commune = ref.communes.get(obj.code_insee)
    nom = _relatif(path, racine)
    if commune is None:
        data = data if data is not None else _reload_lines(path)
        champ = [*loc, "code_insee"]
        msg = f"code INSEE « {obj.code_insee} » inconnu du Code officiel géographique"
        return [Erreur(nom, _ligne(data, champ), _champ(champ), msg)]
    if obj.code_postal and obj.code_postal not in commune.codes_postaux:
        data = data if data is not None else _reload_lines(path)
        champ = [*loc, "code_postal"]
        msg = (
            f"« {obj.code_postal} » n'est pas un code postal de la commune "
            f"{commune.nom} ({', '.join(commune.codes_postaux)})"
        )
        erreurs.append(Erreur(nom, _ligne(data, champ), _champ(champ), msg))
    if obj.latitude is None and commune.latitude is not None:
        obj.latitude, obj.longitude = commune.latitude, commune.longitude
    if obj.commune is None:
        obj.commune = commune.nom
    return erreurs


def _verifier_fiche(fiche, catalogue, path, racine, ref) -> list[Erreur]:
    nom = _relatif(path, racine)
    data = None
    erreurs: list[Erreur] = []

    def erreur(loc, message):
        nonlocal data
        data = data if data is not None else _reload_lines(path)
        erreurs.append(Erreur(nom, _ligne(data, loc), _champ(loc), message))

    if fiche.structure not in catalogue.structures:
        erreur(
            ["structure"],
            f"aucune structure ne porte l'identifiant « {fiche.structure} »",
        )
    for i, p in enumerate(fiche.prestataires):
        if p.structure not in catalogue.structures:
            erreur(
                ["prestataires", i, "structure"],
                f"aucune structure ne porte l'identifiant « {p.structure} »",
            )
    for i, code in enumerate(fiche.zone_eligibilite):
        if not ref.code_zone_valide(code):
            erreur(
                ["zone_eligibilite", i],
                f"« {code} » n'est ni une commune, ni un EPCI, ni un département",
            )
    for i, lieu in enumerate(fiche.lieux):
        for e in _verifier_adresse(lieu, ["lieux", i], path, racine, ref, data):
            erreurs.append(e)
    return erreurs
