"""Gunicorn settings, read from the environment so one image fits every host.

Gunicorn loads ./gunicorn.conf.py by itself, and with PORT set (Cloud Run sets
it) binds 0.0.0.0:$PORT by itself too; the CMD's --bind says so explicitly.
"""

import os

from {{ cookiecutter.app_name }} import create_app

# Processes and threads per process. Gunicorn reads WEB_CONCURRENCY itself, but
# its default of one worker would leave a multi-core host idle.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# In-flight requests get this long to finish after SIGTERM; keep it below the
# orchestrator's grace period (compose.yaml: stop_grace_period, Docker's default 10 s).
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "8"))

# Logs go to the container's stdout/stderr, where `docker logs` finds them.
accesslog = "-"
errorlog = "-"

# The root filesystem may be read-only: keep the worker heartbeat files and the
# control socket on /dev/shm, a memory filesystem every container has.
worker_tmp_dir = "/dev/shm"  # noqa: S108 - private to the container
control_socket = "/dev/shm/gunicorn.ctl"  # noqa: S108 - mode 0600, owner only

# X-Forwarded-* headers are trusted only from FORWARDED_ALLOW_IPS (gunicorn's
# own variable, default 127.0.0.1); see also FLASK_TRUSTED_PROXIES.

# Production never runs in debug mode, whatever the environment says: with
# FLASK_DEBUG=1, Flask lets a view's exception escape its JSON error handler and
# gunicorn answers an HTML 500. The development image runs `flask run --debug`.
raw_env = ["FLASK_DEBUG=0"]


# The app's own checks, in the master before it forks: gunicorn prints a bad
# setting's RuntimeError as one "Error: ..." line and exits 1, where every
# worker would fail with a traceback of its own.
def on_starting(server: object) -> None:
    create_app()
