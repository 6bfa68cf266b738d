"""Regenerate the commune referential in data/territoires/ from npm packages.

Usage:
    python scripts/territoires.py DECOUPAGE_DIR [BBOX_DIR] [--out data/territoires]

DECOUPAGE_DIR is the unpacked ``@etalab/decoupage-administratif`` package
(the folder containing ``data/communes.json``), BBOX_DIR the unpacked
``@etalab/fr-bounding-boxes`` package (the folder containing
``dist/communes.json``). Without BBOX_DIR, latitude/longitude are left empty.

Stdlib only. See data/territoires/SOURCE.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import defaultdict
from pathlib import Path

CURRENT = "commune-actuelle"
MUNICIPAL_DISTRICT = "arrondissement-municipal"
# Former communes merged into a current one: their territory is part of it.
MERGED = ("commune-deleguee", "commune-associee")

BBox = tuple[float, float, float, float]  # (west, south, east, north)
LatLon = tuple[float, float]


def load_json(path: Path):
    with path.open(encoding="utf-8") as f:
        return json.load(f)


def write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def load_bboxes(bbox_dir: Path) -> dict[str, BBox]:
    """INSEE code -> bounding box, from fr-bounding-boxes (ids 'fr:commune:XXXXX')."""
    return {
        item["id"].rsplit(":", 1)[1]: tuple(item["bbox"])
        for item in load_json(bbox_dir / "dist" / "communes.json")
    }


def union(boxes: list[BBox]) -> BBox:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def centres(entries: list[dict], bboxes: dict[str, BBox]) -> dict[str, LatLon]:
    """Approximate centre (lat, lon) of each current commune / municipal district.

    1. Centre of the bounding box of the commune's territory: the union of the
       boxes of its own code, of its former codes (``anciensCodes``) and of the
       communes déléguées/associées attached to it, which covers communes
       nouvelles created after the bounding boxes were computed.
    2. Communes re-established since then have no box: mean of the centres of
       the communes sharing one of their postal codes.
    3. Municipal districts (Paris, Lyon, Marseille) have no box: centre of
       their parent commune.
    """
    current = {e["code"] for e in entries if e["type"] == CURRENT}
    parts: dict[str, set[str]] = defaultdict(set)
    for e in entries:
        if e["type"] == CURRENT:
            parts[e["code"]].add(e["code"])
            # A former code that is a current commune again was re-established.
            former = e.get("anciensCodes", [])
            parts[e["code"]].update(c for c in former if c not in current)
        elif e["type"] in MERGED and e.get("chefLieu"):
            parts[e["chefLieu"]].add(e["code"])

    result: dict[str, LatLon] = {}
    for code, codes in parts.items():
        boxes = [bboxes[c] for c in codes if c in bboxes]
        if boxes:
            west, south, east, north = union(boxes)
            result[code] = ((south + north) / 2, (west + east) / 2)

    by_postcode: dict[str, list[LatLon]] = defaultdict(list)
    for e in entries:
        if e["type"] == CURRENT and e["code"] in result:
            for postcode in e.get("codesPostaux", []):
                by_postcode[postcode].append(result[e["code"]])
    for e in entries:
        if e["type"] == CURRENT and e["code"] not in result:
            postcodes = e.get("codesPostaux", [])
            near = [p for pc in postcodes for p in by_postcode.get(pc, [])]
            if near:
                result[e["code"]] = (
                    sum(p[0] for p in near) / len(near),
                    sum(p[1] for p in near) / len(near),
                )

    for e in entries:
        if e["type"] == MUNICIPAL_DISTRICT and e["commune"] in result:
            result[e["code"]] = result[e["commune"]]
    return result


def build(decoupage_dir: Path, bbox_dir: Path | None, out_dir: Path) -> dict[str, int]:
    data = decoupage_dir / "data"
    entries = load_json(data / "communes.json")
    epcis = load_json(data / "epci.json")
    departements = load_json(data / "departements.json")

    epci_of: dict[str, str] = {}
    for epci in epcis:
        for member in epci["membres"]:
            epci_of[member["code"]] = epci["code"]

    coords = centres(entries, load_bboxes(bbox_dir)) if bbox_dir else {}

    communes = []
    for e in entries:
        if e["type"] == CURRENT:
            epci = epci_of.get(e["code"], "")
        elif e["type"] == MUNICIPAL_DISTRICT:
            epci = epci_of.get(e["commune"], "")
        else:
            continue
        lat, lon = coords.get(e["code"], (None, None))
        communes.append(
            [
                e["code"],
                e["nom"],
                " ".join(e.get("codesPostaux", [])),
                e["departement"],
                epci,
                e.get("population", ""),
                "" if lat is None else f"{lat:.4f}",
                "" if lon is None else f"{lon:.4f}",
            ]
        )
    communes.sort(key=lambda row: row[0])

    out_dir.mkdir(parents=True, exist_ok=True)
    write_csv(
        out_dir / "communes.csv",
        [
            "code_insee",
            "nom",
            "codes_postaux",
            "departement",
            "epci",
            "population",
            "latitude",
            "longitude",
        ],
        communes,
    )
    write_csv(
        out_dir / "epci.csv",
        ["code", "nom", "type"],
        sorted([e["code"], e["nom"], e["type"]] for e in epcis),
    )
    write_csv(
        out_dir / "departements.csv",
        ["code", "nom", "region"],
        sorted([d["code"], d["nom"], d["region"]] for d in departements),
    )
    return {
        "communes": len(communes),
        "communes_sans_coordonnees": sum(1 for row in communes if not row[6]),
        "epci": len(epcis),
        "departements": len(departements),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "decoupage_dir",
        type=Path,
        help="unpacked @etalab/decoupage-administratif package",
    )
    parser.add_argument(
        "bbox_dir",
        type=Path,
        nargs="?",
        help="unpacked @etalab/fr-bounding-boxes package (coordinates)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent.parent / "data" / "territoires",
        help="output folder (default: data/territoires)",
    )
    args = parser.parse_args(argv)
    counts = build(args.decoupage_dir, args.bbox_dir, args.out)
    for name, count in counts.items():
        print(f"{name}: {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
