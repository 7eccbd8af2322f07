import runpy
from pathlib import Path

import pytest

CONF = Path(__file__).parents[1] / "gunicorn.conf.py"


def test_defaults_fit_a_small_container(monkeypatch) -> None:
    for name in ("WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_GRACEFUL_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    conf = runpy.run_path(str(CONF))
    assert (conf["workers"], conf["threads"]) == (2, 4)
    assert conf["accesslog"] == "-"
    assert conf["graceful_timeout"] < 10  # finish before Docker's SIGKILL


def test_workers_and_threads_come_from_environment(monkeypatch) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "5")
    monkeypatch.setenv("GUNICORN_THREADS", "1")
    conf = runpy.run_path(str(CONF))
    assert (conf["workers"], conf["threads"]) == (5, 1)


def without_secret_key(monkeypatch) -> None:
    for name in ("FLASK_SECRET_KEY", "FLASK_SECRET_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)


def test_the_master_starts_when_the_settings_are_valid(monkeypatch) -> None:
    without_secret_key(monkeypatch)
    monkeypatch.setenv("FLASK_SECRET_KEY", "test")
    on_starting = runpy.run_path(str(CONF))["on_starting"]
    on_starting(None)


def test_the_master_refuses_a_missing_secret_key_in_one_line(monkeypatch) -> None:
    without_secret_key(monkeypatch)
    on_starting = runpy.run_path(str(CONF))["on_starting"]
    # Gunicorn prints a RuntimeError from on_starting as "Error: ..." and exits 1.
    with pytest.raises(RuntimeError, match="FLASK_SECRET_KEY") as refused:
        on_starting(None)
    assert "\n" not in str(refused.value)
{%- if cookiecutter.database == "postgresql" %}


def test_the_master_refuses_a_missing_database_url_in_one_line(monkeypatch) -> None:
    without_secret_key(monkeypatch)
    monkeypatch.setenv("FLASK_SECRET_KEY", "test")
    for name in ("DATABASE_URL", "DATABASE_HOST"):
        monkeypatch.delenv(name, raising=False)
    on_starting = runpy.run_path(str(CONF))["on_starting"]
    with pytest.raises(RuntimeError, match="DATABASE_URL") as refused:
        on_starting(None)
    assert "\n" not in str(refused.value)
{%- endif %}
