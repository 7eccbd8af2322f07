import runpy
from pathlib import Path

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
