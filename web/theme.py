"""A département's look: its name, logo and colours, made safe and readable.

Colours come from configuration, so they are checked (hex only, nothing that
could break out of the CSS) and paired with a text colour that keeps the
WCAG AA contrast ratio of 4.5:1.
"""

import re

RE_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")
BLANC, NOIR = "#ffffff", "#161616"
DEFAUTS = {"THEME_COULEUR": "#1f4e79", "THEME_COULEUR_ACCENT": "#b34700"}


def _rgb(couleur: str) -> tuple[int, int, int]:
    h = couleur.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def luminance(couleur: str) -> float:
    def canal(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (canal(c) for c in _rgb(couleur))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contraste(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def texte_sur(fond: str) -> str:
    """White or near-black, whichever reads best on ``fond``."""
    return BLANC if contraste(fond, BLANC) >= contraste(fond, NOIR) else NOIR


def assombrir(couleur: str, cible: float = 4.5) -> str:
    """The colour, darkened until it reads as text on white."""
    r, g, b = _rgb(couleur)
    while contraste(f"#{r:02x}{g:02x}{b:02x}", BLANC) < cible:
        r, g, b = (int(c * 0.9) for c in (r, g, b))
    return f"#{r:02x}{g:02x}{b:02x}"


def couleur(config: dict, cle: str) -> str:
    valeur = config.get(cle) or ""
    return valeur if RE_HEX.fullmatch(valeur) else DEFAUTS[cle]


def site(config: dict, url_statique) -> dict:
    """Everything base.html needs to dress the page for one département."""
    principale = couleur(config, "THEME_COULEUR")
    accent = couleur(config, "THEME_COULEUR_ACCENT")
    logo = config.get("THEME_LOGO")
    if logo and not logo.startswith(("http://", "https://", "/")):
        logo = url_statique(logo)
    departement = config.get("DEPARTEMENT_NOM") or "Département"
    return {
        "nom": f"Offre d'insertion – {departement}",
        "departement": departement,
        "logo": logo,
        "couleur": principale,
        "couleur_texte": texte_sur(principale),
        "couleur_lien": assombrir(principale),
        "accent": accent,
        "accent_texte": texte_sur(accent),
    }
