"""compose.yaml, run for real: its config validates, and each service comes up healthy.

`docker compose config` resolves both profiles, publishing APP_PORT on loopback
only, from the dev service and from the edge, never from app;
`docker compose --profile P up --build --wait` starts that profile's services,
healthy, with the expected server as PID 1. The prod service's hardening is in
test_compose_prod_hardening.py; the Makefile's use of Compose in
test_makefile_finds_compose.py and test_make_targets.py.
"""

import json

import pytest

from harness.containers import BUILD_ENV
from harness.waits import free_port
from tests.docker.compose import write_env
from tests.docker.session import APP_PORT, proc_cmdline
from tests.docker.waits import wait_for_http
from tests.helpers import docker

pytestmark = pytest.mark.docker


# Each published service, and the port inside its container that APP_PORT maps to.
PUBLISHED_TARGETS = {"dev": APP_PORT, "edge": 8080}


def test_compose_config_validates_and_publishes_app_port_on_loopback(project_copy):
    write_env(project_copy)  # compose reads .env, which make writes
    port = free_port()
    result = docker(
        "compose", "--profile", "dev", "--profile", "prod", "config", "--format", "json",
        cwd=project_copy, env={**BUILD_ENV, "APP_PORT": str(port)},
    )  # fmt: skip
    services = json.loads(result.stdout)["services"]
    assert set(services) == {"app", "dev", "edge"}
    for name, target in PUBLISHED_TARGETS.items():
        [published] = services[name]["ports"]
        assert published["host_ip"] == "127.0.0.1"
        assert (published["published"], published["target"]) == (str(port), target)
    assert "ports" not in services["app"]
    assert services["app"]["build"]["target"] == "production"
    assert services["dev"]["build"]["target"] == "development"
    docker("compose", "config", "--quiet", cwd=project_copy)


@pytest.mark.parametrize(
    ("profile", "servers"),
    [
        pytest.param("dev", {"dev": "/opt/venv/bin/flask"}, id="dev-profile"),
        pytest.param(
            "prod",
            {"edge": "caddy", "app": "/opt/venv/bin/gunicorn"},
            id="prod-profile-edge-and-app",
        ),
    ],
)
def test_compose_up_wait_brings_the_profile_up_healthy(new_project, profile, servers):
    project = new_project("plugin")
    project.make(".env")  # compose reads .env and mounts the secrets, which make writes
    docker(
        "compose", "--profile", profile, "up", "--build", "--wait",
        cwd=project.directory, env=project.env,
    )  # fmt: skip
    containers = {service: project.containers(service) for service in servers}
    for service, server in servers.items():
        [container] = containers[service]
        health = docker("inspect", "-f", "{{.State.Health.Status}}", container).stdout
        assert health == "healthy\n", service
        argv = proc_cmdline(container)
        assert server in argv[:2], (service, argv)
    response = wait_for_http(project.url(), timeout=30)
    assert response.json() == {"status": "ok"}
    # Only that profile's services run.
    assert sorted(project.containers()) == sorted(c for [c] in containers.values())
