"""The production compose service is hardened, and the hardening holds.

`docker compose --profile prod up --wait` (the edge and app) runs once for the
module; every claim about app is then checked on the real container: what
`docker inspect` says is in force (read-only root, no-new-privileges, every
capability dropped, the limits compose.yaml sets, the restart policy, a stop
grace period longer than gunicorn's), and what the running service actually does
(healthy, quiet logs, every process as UID 10001 with no capability). The edge's
own hardening is in test_edge_proxy.py, the image's contents in
test_production_image_contents.py, and the linters' gate (hadolint at warning
level with DL3057, shellcheck) in tests/test_linting_generated_project.py.
"""

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.containers import BUILD_ENV
from harness.waits import free_port, http_get
from tests.docker.compose import write_env
from tests.docker.session import UID_GID, DockerSession, inspect, logs, proc_status, worker_pids
from tests.docker.waits import wait_for_http, wait_until
from tests.helpers import DEFAULT_APP_NAME, docker

pytestmark = pytest.mark.docker

# Log lines a healthy start and a few good requests must never produce.
TROUBLE = re.compile(r"error|warn|traceback|exception|denied|read-only|critical", re.IGNORECASE)


def gunicorn_setting(container: str, name: str) -> str:
    """A setting as gunicorn itself resolves it inside container (config file + environment)."""
    printed = docker(
        "exec", container, "gunicorn", "--print-config", f"{DEFAULT_APP_NAME}:create_app()"
    ).stdout
    match = re.search(rf"^{name}\s*=\s*(.+)$", printed, re.MULTILINE)
    assert match, f"gunicorn --print-config has no {name}:\n{printed}"
    return match.group(1).strip()


@pytest.fixture(scope="module")
def compose_service(
    docker_session: DockerSession, default_project: Path, tmp_path_factory
) -> Iterator[dict]:
    """`docker compose --profile prod up --build --wait`, once for this module; the
    requests go through the edge, the only published service.

    It runs from a copy of the project in pytest's own temporary directory, which
    outlives the session, so DockerSession's final `compose down` always has its
    working directory; this fixture also takes the service down when the module ends.
    """
    project_dir = tmp_path_factory.mktemp("compose") / DEFAULT_APP_NAME
    shutil.copytree(default_project, project_dir, symlinks=True)
    write_env(project_dir)  # compose reads .env and mounts the secret key, which make writes
    project = docker_session.compose_project(project_dir)
    port = free_port()
    env = {**BUILD_ENV, "APP_PORT": str(port)}
    compose = ("compose", "--project-name", project, "--profile", "prod")
    try:
        docker(*compose, "up", "--build", "--detach", "--wait", cwd=project_dir, env=env)
        container = docker(*compose, "ps", "--quiet", "app", cwd=project_dir, env=env)
        config = docker(*compose, "config", "--format", "json", cwd=project_dir, env=env)
        yield {
            "container": container.stdout.strip(),
            "url": f"http://127.0.0.1:{port}",
            "config": json.loads(config.stdout)["services"]["app"],
        }
    finally:
        docker(*compose, "down", "--volumes", cwd=project_dir, env=env, check=False)


def test_compose_service_is_healthy_and_logs_no_trouble_on_a_read_only_filesystem(
    compose_service,
):
    container, url = compose_service["container"], compose_service["url"]
    assert inspect(container)["State"]["Health"]["Status"] == "healthy"
    health = wait_for_http(f"{url}/health", container=container)
    assert health.json() == {"status": "ok"}
    for number in range(5):
        assert http_get(f"{url}/health?request={number}").status == 200
    assert http_get(f"{url}/").status == 200

    # The root filesystem refuses writes even from root; /tmp, a tmpfs, takes them.
    refused = docker("exec", "--user", "0", container, "touch", "/probe", check=False)
    assert refused.returncode != 0
    assert "Read-only file system" in refused.stderr
    docker("exec", container, "python", "-c", "open('/tmp/probe', 'w').write('ok')")

    stdout, stderr = wait_until(
        lambda: (out := logs(container)) and "GET /health?request=4 " in out[0] and out,
        timeout=10,
        what="the last request is in the access log",
    )
    assert "Booting worker" in stderr and "Control socket listening" in stderr
    trouble = [line for line in (stdout + stderr).splitlines() if TROUBLE.search(line)]
    assert trouble == []


def test_compose_service_has_every_hardening_option_in_force(compose_service):
    info = inspect(compose_service["container"])
    host, config = info["HostConfig"], compose_service["config"]
    assert host["ReadonlyRootfs"] is True
    assert "no-new-privileges:true" in host["SecurityOpt"]
    assert host["CapDrop"] == ["ALL"]
    assert not host["CapAdd"]
    assert host["Privileged"] is False
    # The limits are set, and to what compose.yaml says.
    assert host["Memory"] == int(config["mem_limit"]) > 0
    assert host["NanoCpus"] == int(float(config["cpus"]) * 1e9) > 0
    assert host["PidsLimit"] == int(config["pids_limit"]) > 0
    assert host["RestartPolicy"]["Name"] == "unless-stopped"
    assert "/tmp" in host["Tmpfs"]
    assert info["Config"]["User"] == UID_GID


def test_compose_stop_grace_period_outlasts_gunicorns_graceful_timeout(compose_service):
    """Docker's SIGKILL must never cut gunicorn's graceful shutdown short."""
    container = compose_service["container"]
    stop_timeout = inspect(container)["Config"]["StopTimeout"]
    assert stop_timeout == 15
    graceful_timeout = float(gunicorn_setting(container, "graceful_timeout"))
    assert 0 < graceful_timeout < stop_timeout


def test_compose_service_processes_run_as_uid_10001(compose_service):
    container = compose_service["container"]
    pids = [1, *worker_pids(container)]
    assert len(pids) >= 2
    for pid in pids:
        ids = proc_status(container, pid)
        assert ids["Uid"] == ["10001"] * 4, (pid, ids["Uid"])
        assert ids["Gid"] == ["10001"] * 4, (pid, ids["Gid"])
        assert ids["CapEff"] == ["0000000000000000"], (pid, ids["CapEff"])
