"""compose.yaml, run for real: its config validates, and each service comes up healthy.

`docker compose config` resolves both profiles, publishing APP_PORT on loopback
only; `docker compose --profile P up --build --wait S` starts exactly that service,
healthy, with the expected server as PID 1. The prod service's hardening is in
test_compose_prod_hardening.py; the Makefile's use of Compose in
test_makefile_finds_compose.py and test_make_targets.py.
"""

import json

import pytest

from tests.docker.helpers import APP_PORT, BUILD_ENV, docker, free_port, wait_for_http

pytestmark = pytest.mark.docker


def test_compose_config_validates_and_publishes_app_port_on_loopback(default_project):
    port = free_port()
    result = docker(
        "compose", "--profile", "dev", "--profile", "prod", "config", "--format", "json",
        cwd=default_project, env={**BUILD_ENV, "APP_PORT": str(port)},
    )  # fmt: skip
    services = json.loads(result.stdout)["services"]
    assert set(services) == {"app", "dev"}
    for service in services.values():
        [published] = service["ports"]
        assert published["host_ip"] == "127.0.0.1"
        assert (published["published"], published["target"]) == (str(port), APP_PORT)
    assert services["app"]["build"]["target"] == "production"
    assert services["dev"]["build"]["target"] == "development"
    docker("compose", "config", "--quiet", cwd=default_project)


@pytest.mark.parametrize(
    ("profile", "service", "server"),
    [
        pytest.param("dev", "dev", "/opt/venv/bin/flask", id="dev-profile-dev-service"),
        pytest.param("prod", "app", "/opt/venv/bin/gunicorn", id="prod-profile-app-service"),
    ],
)
def test_compose_up_wait_brings_the_service_up_healthy(new_project, profile, service, server):
    project = new_project("plugin")
    docker(
        "compose", "--profile", profile, "up", "--build", "--wait", service,
        cwd=project.directory, env=project.env,
    )  # fmt: skip
    [container] = project.containers(service)
    assert docker("inspect", "-f", "{{.State.Health.Status}}", container).stdout == "healthy\n"
    response = wait_for_http(project.url(), timeout=30, container=container)
    assert response.json() == {"status": "ok"}
    argv = docker("exec", container, "cat", "/proc/1/cmdline").stdout.split("\0")
    assert argv[1] == server
    # Only the asked-for service of that profile runs.
    assert project.containers() == [container]
