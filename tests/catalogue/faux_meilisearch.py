"""A stand-in for Meilisearch's HTTP API, on pytest-httpserver.

It answers with the JSON shapes Meilisearch 1.x sends (tasks enqueued then
succeeded or failed, documents/fetch pages, search responses), keeps the
documents it receives and records every request, so tests can check what
the client sent. It does not search: a test gives the search response, or
a function that answers each search body (``chercher``).
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from werkzeug import Request, Response

DATE = "2026-11-23T10:00:00.000000Z"


@dataclass
class FauxMeilisearch:
    index: dict[str, dict[str, dict]] = field(default_factory=dict)
    requetes: list[tuple[str, str, object]] = field(default_factory=list)
    taches: dict[int, dict] = field(default_factory=dict)
    # The next task fails with this error (Meilisearch's error object).
    echec: dict | None = None
    reponse_recherche: dict = field(default_factory=dict)
    chercher: Callable[[dict], dict] | None = None
    en_panne: bool = False

    def installer(self, httpserver) -> str:
        httpserver.expect_request(re.compile(".*")).respond_with_handler(self.repondre)
        return httpserver.url_for("/").rstrip("/")

    def envoyes(self, methode: str, chemin: str) -> list:
        return [c for m, p, c in self.requetes if m == methode and p == chemin]

    def repondre(self, request: Request) -> Response:
        corps = json.loads(request.data) if request.data else None
        self.requetes.append((request.method, request.path, corps))
        if self.en_panne:
            return _json(
                {
                    "message": "Service indisponible",
                    "code": "internal",
                    "type": "internal",
                    "link": "",
                },
                503,
            )
        route = (request.method, *request.path.strip("/").split("/"))
        match route:
            case ("GET", "tasks", uid):
                return _json(self.taches[int(uid)])
            case ("GET", "indexes", nom):
                if nom not in self.index:
                    return _introuvable(nom)
                return _json(
                    {
                        "uid": nom,
                        "primaryKey": "id",
                        "createdAt": DATE,
                        "updatedAt": DATE,
                    }
                )
            case ("POST", "indexes"):
                self.index.setdefault(corps["uid"], {})
                return self._tache("indexCreation", corps["uid"])
            case ("DELETE", "indexes", nom):
                existait = self.index.pop(nom, None) is not None
                erreur = None if existait else _erreur_introuvable(nom)
                return self._tache("indexDeletion", nom, erreur)
            case ("PATCH", "indexes", nom, "settings"):
                return self._tache("settingsUpdate", nom)
            case ("POST", "swap-indexes"):
                a, b = corps[0]["indexes"]
                self.index[a], self.index[b] = self.index[b], self.index[a]
                return self._tache("indexSwap", None)
            case ("POST", "indexes", nom, "documents", "fetch"):
                return self._page(nom, corps)
            case ("POST" | "PUT", "indexes", nom, "documents"):
                return self._ecrire(request, nom, corps)
            case ("POST", "indexes", nom, "documents", "delete"):
                for i in _ids(corps["filter"]):
                    self.index.get(nom, {}).pop(i, None)
                return self._tache("documentDeletion", nom)
            case ("POST", "indexes", nom, "search"):
                if nom not in self.index:
                    return _introuvable(nom)
                return _json(self._chercher(corps))
            case ("POST", "multi-search"):
                if any(q["indexUid"] not in self.index for q in corps["queries"]):
                    return _introuvable(corps["queries"][0]["indexUid"])
                return _json(
                    {
                        "results": [
                            {"indexUid": q["indexUid"], **self._chercher(q)}
                            for q in corps["queries"]
                        ]
                    }
                )
        return _json({"message": f"route inconnue {route}"}, 404)

    def _chercher(self, corps: dict) -> dict:
        return self.chercher(corps) if self.chercher else self.reponse_recherche

    def _ecrire(self, request, nom, docs) -> Response:
        index = self.index.setdefault(nom, {})
        for doc in docs:
            if request.method == "POST":
                index[doc["id"]] = doc
            elif doc["id"] in index:
                index[doc["id"]].update(doc)
            elif request.args.get("skipCreation") != "true":
                index[doc["id"]] = doc
        return self._tache("documentAdditionOrUpdate", nom)

    def _page(self, nom, corps) -> Response:
        if nom not in self.index:
            return _introuvable(nom)
        docs = list(self.index[nom].values())
        if corps.get("filter"):
            docs = [d for d in docs if d["id"] in _ids(corps["filter"])]
        debut, limite = corps.get("offset", 0), corps.get("limit", 20)
        champs = corps.get("fields")
        page = [{k: d.get(k) for k in champs} if champs else d for d in docs]
        return _json(
            {
                "results": page[debut : debut + limite],
                "offset": debut,
                "limit": limite,
                "total": len(docs),
            }
        )

    def _tache(self, genre: str, nom: str | None, erreur: dict | None = None):
        uid = len(self.taches)
        erreur, self.echec = erreur or self.echec, None
        self.taches[uid] = {
            "uid": uid,
            "indexUid": nom,
            "status": "failed" if erreur else "succeeded",
            "type": genre,
            "details": {},
            "error": erreur,
            "duration": "PT0.01S",
            "enqueuedAt": DATE,
            "startedAt": DATE,
            "finishedAt": DATE,
        }
        enfilee = {
            "taskUid": uid,
            "indexUid": nom,
            "status": "enqueued",
            "type": genre,
            "enqueuedAt": DATE,
        }
        return _json(enfilee, 202)


def _ids(filtre) -> set[str]:
    """The ids of a filter made of `id = "…"` conditions."""
    return set(re.findall(r'id = \\"([^"\\]+)\\"', json.dumps(filtre)))


def _erreur_introuvable(nom: str) -> dict:
    return {
        "message": f"Index `{nom}` not found.",
        "code": "index_not_found",
        "type": "invalid_request",
        "link": "https://docs.meilisearch.com/errors#index_not_found",
    }


def _introuvable(nom: str) -> Response:
    return _json(_erreur_introuvable(nom), 404)


def _json(donnees, status: int = 200) -> Response:
    return Response(json.dumps(donnees), status, content_type="application/json")
