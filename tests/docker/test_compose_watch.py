"""`docker compose watch` and `make watch` rebuild the dev image when pyproject.toml changes.

The watched dev service answers, then an edit to pyproject.toml makes Compose
rebuild the image and replace the container with one that answers again.
"""

import json
import time

import pytest

from tests.docker.background import Background
from tests.docker.compose import answers_health
from tests.helpers import docker

pytestmark = pytest.mark.docker


def started_container(events: str, other_than: str) -> str | None:
    """The ID of the first container whose start `docker events` reported, other than
    the given one."""
    for line in events.splitlines():
        event = json.loads(line)
        if event["Action"] == "start" and event["id"] != other_than:
            return event["id"]
    return None


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["docker", "compose", "--profile", "dev", "watch", "dev"], id="compose-watch"),
        pytest.param(["make", "watch"], id="make-watch"),
    ],
)
def test_watch_rebuilds_the_dev_image_when_pyproject_changes(new_project, command):
    project = new_project("plugin")
    if command[0] == "docker":
        project.make(".env")  # make watch writes it itself; compose alone needs it first
    watcher = Background(command, cwd=project.directory, env=project.env)
    try:
        watcher.wait_for(
            lambda: answers_health(project) and "Watch enabled" in watcher.output,
            timeout=300,
            what="the watched dev service answers",
        )
        assert "won't be monitored" not in watcher.output
        [first] = project.containers("dev")
        first_image = docker("inspect", "-f", "{{.Image}}", first).stdout

        # The engine's event stream, replayed from before the edit, says when watch has
        # started the replacement container.
        events = Background([
            "docker", "events", "--since", str(time.time()), "--format", "{{json .}}",
            "--filter", "type=container", "--filter", "event=start",
            "--filter", f"label=com.docker.compose.project={project.name}",
            "--filter", "label=com.docker.compose.service=dev",
        ])  # fmt: skip
        try:
            # A comment leaves the lock's content-hash valid, but the image copies the file.
            with (project.directory / "pyproject.toml").open("a", encoding="utf-8") as file:
                file.write("# changed while watching\n")
            second = events.wait_for(
                lambda: started_container(events.output, other_than=first),
                timeout=300, what="watch starts a rebuilt dev container",
            )  # fmt: skip
        finally:
            events.stop()
        watcher.wait_for(
            lambda: answers_health(project), timeout=120, what="the rebuilt dev container answers"
        )
        assert project.containers("dev") == [second]
        assert docker("inspect", "-f", "{{.Image}}", second).stdout != first_image
        assert 'Rebuilding service(s) ["dev"] after changes were detected' in watcher.output
    finally:
        watcher.stop()
