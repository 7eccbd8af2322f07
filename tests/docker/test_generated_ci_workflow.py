"""The generated CI workflow, run for real: a project's first push and its first pull
request go green, for each database answer.

Every job that needs neither GitHub nor a registry runs here, from a git checkout of the
baked project, as GitHub's runner would run it (tests/docker/workflow_runner.py): in
the order of its needs, each step's script with `bash -e` as UID 1001 in the docker
group, on this machine's engine. Each job starts from a fresh checkout and leaves
nothing running behind it, as each job on GitHub gets a fresh machine. Publishing is
the one job left out.
"""

import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.docker.session import DockerSession, remove_compose_project
from tests.docker.workflow_runner import Runner, give_to_runner, runner_problem, step_title
from tests.helpers import run

pytestmark = pytest.mark.docker

WORKFLOW = ".github/workflows/ci.yml"
LEFT_OUT = {"publish": "it logs in to GitHub's registry and pushes both platforms"}


@pytest.fixture(scope="module")
def runner_user() -> None:
    if problem := runner_problem():
        pytest.fail(problem)


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    """A folder the runner's user can reach (pytest's own tmp is root's alone)."""
    with tempfile.TemporaryDirectory(prefix="workflow-") as folder:
        Path(folder).chmod(0o755)
        yield Path(folder)


@pytest.fixture(
    scope="module", params=["none", "postgresql"], ids=lambda value: f"database={value}"
)
def repository(request, default_project, with_postgresql, scratch) -> tuple[Path, str]:
    """The baked project as a git repository with one commit on main, and that commit."""
    baked = {"none": default_project, "postgresql": with_postgresql}[request.param]
    repo = scratch / f"repository-{request.param}"
    subprocess.run(["cp", "-a", f"{baked}/.", str(repo)], check=True)
    git = ["git", "-C", str(repo), "-c", "user.name=CI test", "-c", "user.email=ci@example.com"]
    run(*git, "init", "--quiet", "--initial-branch=main")
    run(*git, "add", ".")
    run(*git, "commit", "--quiet", "--message", "Initial commit")
    return repo, run(*git, "rev-parse", "HEAD").stdout.strip()


@pytest.mark.parametrize("event", ["push", "pull_request"])
def test_every_job_but_publishing_passes(
    runner_user, repository, event, scratch, docker_session: DockerSession
):
    repo, sha = repository
    workflow = yaml.safe_load((repo / WORKFLOW).read_text(encoding="utf-8"))
    # The checkout's folder name is the compose project's: unique to this run, so that
    # whatever a job leaves behind is removed after it, and after the session.
    name = docker_session.compose_project(repo)

    def checkout(workspace: Path) -> None:
        run("git", "clone", "--quiet", repo, workspace)
        give_to_runner(workspace)

    runner = Runner(
        workflow, event, repository=f"acme/{name}", sha=sha, root=scratch / f"{name}-{event}",
        checkout=checkout, left_out=LEFT_OUT,
        after_job=lambda workspace: remove_compose_project(name),
    )  # fmt: skip
    ran = runner.run()

    assert ran == [job for job in workflow["jobs"] if job not in LEFT_OUT]
    # Each of their steps ran and passed, none was skipped.
    expected = [
        f"{job} / {step_title(step, number)}: ok"
        for job in ran for number, step in enumerate(workflow["jobs"][job]["steps"], 1)
    ]  # fmt: skip
    assert runner.log == expected
