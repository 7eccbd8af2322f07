"""`docker compose watch` and `make watch` rebuild the dev image when pyproject.toml changes.

The watched dev service answers, then an edit to pyproject.toml makes Compose
rebuild the image and replace the container with one that answers again.
"""

import pytest

from tests.docker.helpers import Background, answers_health, docker

pytestmark = pytest.mark.docker


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["docker", "compose", "--profile", "dev", "watch", "dev"], id="compose-watch"),
        pytest.param(["make", "watch"], id="make-watch"),
    ],
)
def test_watch_rebuilds_the_dev_image_when_pyproject_changes(new_project, command):
    project = new_project("plugin")
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

        # A comment leaves the lock's content-hash valid, but the image copies the file.
        with (project.directory / "pyproject.toml").open("a", encoding="utf-8") as file:
            file.write("# changed while watching\n")

        def rebuilt() -> str | None:
            listing = project.compose("ps", "--all", "--quiet", "dev", check=False)
            if listing.returncode != 0:  # watch removed a container ps had just listed
                return None
            containers = listing.stdout.split()
            if containers == [first] or len(containers) != 1 or not answers_health(project):
                return None
            return containers[0]

        second = watcher.wait_for(rebuilt, timeout=300, what="a rebuilt dev container answers")
        assert docker("inspect", "-f", "{{.Image}}", second).stdout != first_image
        assert 'Rebuilding service "dev"' in watcher.output
    finally:
        watcher.stop()
