"""Opening hours typed in French, exported in the syntax data·inclusion asks."""

import opening_hours
import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalogue.horaires import en_osm


@pytest.mark.parametrize(
    ("ecrit", "osm"),
    [
        ("Du lundi au vendredi, de 9 h à 12 h", "Mo-Fr 09:00-12:00"),
        (
            "du lundi au vendredi de 9h à 12h et de 14h à 17h",
            "Mo-Fr 09:00-12:00,14:00-17:00",
        ),
        ("Le mercredi de 14h à 16h30", "We 14:00-16:30"),
        ("les mercredis de 14 h à 17 h", "We 14:00-17:00"),
        ("lundi, mardi et jeudi : 9h-12h", "Mo,Tu,Th 09:00-12:00"),
        ("de 9h à 12h du lundi au vendredi", "Mo-Fr 09:00-12:00"),
        ("Tous les jours de 8 h à 20 h.", "Mo-Su 08:00-20:00"),
        (
            "Du lundi au vendredi de 9h à 12h. Le samedi de 10h à 12h.",
            "Mo-Fr 09:00-12:00; Sa 10:00-12:00",
        ),
        (
            "Lundi et jeudi 9h00-12h30\nvendredi 14h-16h",
            "Mo,Th 09:00-12:30; Fr 14:00-16:00",
        ),
        # As prestataires typed them in the form, and read « illisibles »:
        # rules in one sentence, abbreviated days, ranges with a dash.
        (
            "du lundi au jeudi de 9h à 17h, le vendredi de 9h à 12h",
            "Mo-Th 09:00-17:00; Fr 09:00-12:00",
        ),
        (
            "le lundi de 9h à 12h et le mercredi de 14h à 17h",
            "Mo 09:00-12:00; We 14:00-17:00",
        ),
        ("lundi-vendredi 9h-17h", "Mo-Fr 09:00-17:00"),
        ("lun-ven 9h-12h", "Mo-Fr 09:00-12:00"),
        ("Lun. et jeu. : 9h-12h", "Mo,Th 09:00-12:00"),
        ("Lundi au vendredi 9h-12h / 14h-17h", "Mo-Fr 09:00-12:00,14:00-17:00"),
        # Written in OSM already (an operator who knows it): kept as is.
        ("Mo-Fr 08:30-12:30; PH off", "Mo-Fr 08:30-12:30; PH off"),
    ],
)
def test_les_horaires_ecrits_en_francais_se_lisent_en_osm(ecrit, osm):
    assert en_osm(ecrit) == osm


@pytest.mark.parametrize(
    "ecrit",
    [
        "Sur rendez-vous",
        "du lundi au vendredi de 9h à 12h (sauf pendant les vacances)",
        "lundi de 12h à 9h",  # ends before it starts
        "mardi de 25h à 26h",
        "Le matin",
        "lundi de 9h à 12h, mardi",  # mardi: at what time?
        "9h-12h lundi et mardi 14h-16h",
        # Valid OSM, but no hours in them: not hours to publish.
        "open",
        "off",
        '"sur rendez-vous"',
        "",
        None,
    ],
)
def test_ce_qui_n_est_pas_des_jours_et_des_heures_n_est_pas_devine(ecrit):
    # Never a wrong value in the open data: none rather than a guess.
    assert en_osm(ecrit) is None


@given(st.text(alphabet="lundimarcejvosh0123456789 à:,-;.\n", max_size=60))
def test_tout_ce_qui_sort_est_valide_pour_les_agregateurs(ecrit):
    osm = en_osm(ecrit)
    assert osm is None or opening_hours.validate(osm)
