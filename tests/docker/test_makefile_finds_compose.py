"""The generated Makefile finds Docker Compose v2, plugin first, and refuses anything else.

Each flavour of Compose (tests/docker/compose.py: plugin, standalone,
plugin-and-standalone, v1-only, none) is a real environment for `make`: with the
plugin, make uses `docker compose`; with only a standalone v2, `docker-compose`;
with only the retired v1, or none, it refuses with a message that says what to
install, and starts nothing.
"""

import pytest

pytestmark = pytest.mark.docker


@pytest.mark.parametrize(
    ("flavour", "command"),
    [
        pytest.param("plugin", "docker compose", id="plugin"),
        pytest.param("plugin-and-standalone", "docker compose", id="plugin-and-standalone"),
        pytest.param("standalone", "docker-compose", id="standalone"),
    ],
)
def test_make_uses_the_plugin_first_then_a_standalone_compose_v2(
    new_project, flavours, flavour, command
):
    project = new_project(flavour)
    planned = project.make("-n", "run").stdout.splitlines()
    assert f"{command} --profile prod up --build --detach --wait" in planned
    if flavour == "plugin-and-standalone":
        assert flavours[flavour].calls() == []  # docker-compose was not even asked its version


@pytest.mark.parametrize(
    ("flavour", "message", "calls"),
    [
        pytest.param(
            "v1-only",
            "Found only docker-compose v1, retired since 2023: install Docker Compose v2",
            {"version --short"},  # asked its version, never to build or start anything
            id="v1-only",
        ),
        pytest.param("none", "Docker Compose v2 not found", set(), id="none"),
    ],
)
def test_make_refuses_to_run_without_compose_v2(new_project, flavours, flavour, message, calls):
    project = new_project(flavour)
    result = project.make("run", check=False)
    assert result.returncode != 0
    assert message in result.stderr
    assert project.containers() == []
    assert set(flavours[flavour].calls()) == calls
