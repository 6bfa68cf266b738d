"""The web layer: pages, API, errors, command line. Domain packages sit below."""

from flask import Flask


def init_app(app: Flask) -> None:
    from flask_wtf.csrf import CSRFProtect

    from web import (
        admin,
        api,
        api_di,  # noqa: F401 - its routes join the API blueprint
        cli,
        cli_prescription,
        cli_rgpd,
        connexion,
        donnees,
        fiches_pro,
        journal_gunicorn,
        limites,
        pages,
        pannes,
        pilotage,
        planificateur,
        prescription,
        rgpd,  # noqa: F401 - its routes join the prescription blueprint
        site,
    )

    site.init_app(app)
    pannes.init_app(app)
    journal_gunicorn.masquer_le_journal_werkzeug()
    app.teardown_appcontext(donnees.fermer)
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(prescription.bp)
    app.register_blueprint(fiches_pro.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(connexion.bp)
    connexion.init_app(app)
    # Every state-changing request carries the token, htmx ones in a header.
    CSRFProtect(app)
    limites.init_app(app, prescription.LIMITES)
    cli.register(app)
    app.cli.add_command(cli_prescription.prescriptions_cli)
    app.cli.add_command(cli_rgpd.rgpd_cli)
    app.cli.add_command(planificateur.planificateur_cli)
    pilotage.init_app(app)
