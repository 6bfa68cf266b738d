"""Days and months on the département's clock, moments kept in UTC."""

from datetime import UTC, date, datetime

import pytest

from catalogue import heure
from web import affichage


@pytest.fixture
def reunion():
    heure.regler("Indian/Reunion")
    yield
    heure.regler(heure.FUSEAU_DEFAUT)


def test_a_minuit_et_demi_a_paris_on_est_deja_le_lendemain():
    nuit = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    assert heure.jour(nuit) == date(2026, 12, 1)
    assert heure.mois(nuit) == "2026-12"
    # Stored naive by SQLite: read as UTC.
    assert heure.jour(nuit.replace(tzinfo=None)) == date(2026, 12, 1)
    assert affichage.moment_fr(nuit) == "01/12/2026 à 00:30"
    assert affichage.date_fr(nuit) == "1er décembre 2026"
    # In summer Paris is 2 hours ahead; a day alone is never shifted.
    assert affichage.moment_fr(datetime(2026, 7, 14, 22, 15)) == "15/07/2026 à 00:15"
    assert affichage.date_fr("2026-07-14") == "14 juillet 2026"
    assert heure.debut_du_mois(2026, 13) == datetime(2026, 12, 31, 23, tzinfo=UTC)
    assert heure.est_debut_de_mois(datetime(2026, 11, 30, 23, tzinfo=UTC))
    assert not heure.est_debut_de_mois(datetime(2026, 12, 1, tzinfo=UTC))


def test_un_departement_d_outre_mer_a_son_propre_fuseau(reunion):
    # 21:30 UTC is already the next day at La Réunion (UTC+4).
    assert heure.jour(datetime(2026, 11, 30, 21, 30, tzinfo=UTC)) == date(2026, 12, 1)
    with pytest.raises(ValueError, match="fuseau horaire inconnu : « Europe/Alencon »"):
        heure.regler("Europe/Alencon")
