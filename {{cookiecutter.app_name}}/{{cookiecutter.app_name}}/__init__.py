"""The application factory, called by `flask run` and by gunicorn."""

from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import api, {% if cookiecutter.database == "postgresql" %}database, {% endif %}errors
{%- if cookiecutter.database == "postgresql" %}, items{% endif %}


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create and configure the app.

    Settings come from FLASK_* environment variables (FLASK_SECRET_KEY sets
    SECRET_KEY), or from `test_config` in the tests. FLASK_SECRET_KEY_FILE names
    a file holding the key (a compose or Kubernetes secret), and wins.
{%- if cookiecutter.database == "postgresql" %}
    The database's settings are DATABASE_* variables (database.py).
{%- endif %}
    """
    app = Flask(__name__)
    app.config.from_mapping(TRUSTED_PROXIES=0)
    if test_config is None:
        app.config.from_prefixed_env()
    else:
        app.config.from_mapping(test_config)

    if key_file := app.config.get("SECRET_KEY_FILE"):
        # A file keeps the key out of the environment, where `docker inspect`,
        # crash reports and child processes would see it.
        try:
            secret_key = Path(key_file).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise RuntimeError(
                f"FLASK_SECRET_KEY_FILE={key_file} cannot be read: {error.strerror}"
            ) from error
        app.config["SECRET_KEY"] = secret_key
    if not app.config.get("SECRET_KEY"):
        # Fail at start-up, loudly, rather than sign sessions with a guessable key.
        raise RuntimeError(
            "No secret key: neither FLASK_SECRET_KEY_FILE nor FLASK_SECRET_KEY is set "
            "(or the file is empty). Refusing to start. Generate one with "
            "`python -c 'import secrets; print(secrets.token_hex(32))'` (make run "
            "keeps one in secrets/flask_secret_key)."
        )

    trusted_proxies = int(app.config["TRUSTED_PROXIES"])
    if trusted_proxies:
        # Believe X-Forwarded-* only from as many proxies as were configured.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=trusted_proxies,
            x_proto=trusted_proxies,
            x_host=trusted_proxies,
            x_prefix=trusted_proxies,
        )

    app.register_blueprint(api.bp)
{%- if cookiecutter.database == "postgresql" %}
    database.init_app(app)
    app.register_blueprint(items.bp)
{%- endif %}
    errors.register(app)
    return app
