"""The generated CI workflow publishes the image, and Dependabot keeps every pin current.

The workflow and dependabot.yml are read as data (their schema and actionlint are
checked too, and the workflow's in test_linting_generated_project.py): pull requests
build both platforms and push nothing; pushes to main and version tags push to the
name the Kubernetes manifests deploy, with the layer cache, provenance and an SBOM;
only the publishing job may write packages.
"""

import re
from pathlib import Path

import pytest
import yaml

from tests.docker.workflow_runner import substitute
from tests.helpers import bake_ok, run, tool

WORKFLOW = ".github/workflows/ci.yml"
DEPENDABOT = ".github/dependabot.yml"


@pytest.fixture(scope="module")
def project(cookies_session) -> Path:
    return bake_ok(cookies_session, github_owner="acme-corp", github_actions=True)


@pytest.fixture(scope="module")
def workflow(project) -> dict:
    # PyYAML reads the key `on` as True (YAML 1.1).
    return yaml.safe_load((project / WORKFLOW).read_text(encoding="utf-8"))


def steps_using(job: dict, action: str) -> list[dict]:
    return [step for step in job["steps"] if step.get("uses", "").startswith(f"{action}@")]


# `uses: owner/name@<full commit SHA> # vX.Y.Z`: Dependabot moves the SHA and the comment
# together. A tag can be moved to other code; a commit cannot.
PINNED_USES = re.compile(
    r"^\s*(?:- )?uses: (?P<action>[\w.-]+/[\w.-]+)@(?P<sha>[0-9a-f]{40})"
    r" # (?P<version>v\d+\.\d+\.\d+)$"
)


def test_every_action_is_pinned_by_commit_sha_with_its_version_in_a_comment(project):
    lines = (project / WORKFLOW).read_text(encoding="utf-8").splitlines()
    uses = [line for line in lines if re.match(r"^\s*(?:- )?uses:", line)]
    assert len(uses) == 8
    assert [line for line in uses if not PINNED_USES.match(line)] == []
    # One pin per action: the three checkouts are the same commit.
    pins: dict[str, set] = {}
    for match in map(PINNED_USES.match, uses):
        pins.setdefault(match["action"], set()).add((match["sha"], match["version"]))
    assert all(len(versions) == 1 for versions in pins.values()), pins


def test_no_checkout_leaves_the_token_in_git_config(any_workflow):
    jobs = any_workflow["jobs"].values()
    checkouts = [step for job in jobs for step in steps_using(job, "actions/checkout")]
    assert len(checkouts) == len(jobs)
    assert all(step.get("with", {}).get("persist-credentials") is False for step in checkouts)


def permission_lines(text: str) -> list[str]:
    """Every line of the workflow's text that grants a permission (under a `permissions:`)."""
    found, block = [], None
    for line in text.splitlines():
        indent = len(line) - len(line.lstrip())
        if block is not None and line.strip() and not line.lstrip().startswith("#"):
            if indent > block:
                found.append(line)
                continue
            block = None
        if re.match(r"^\s*permissions:\s*(#.*)?$", line):
            block = indent
    return found


def test_the_workflow_grants_nothing_and_each_job_only_what_it_needs(workflow):
    assert workflow["permissions"] == {}
    assert {name: job.get("permissions") for name, job in workflow["jobs"].items()} == {
        "lint-and-test": {"contents": "read"},
        "smoke-test": {"contents": "read"},
        "publish": {"contents": "read", "packages": "write"},
    }


def test_every_permission_says_why_on_its_line(project):
    lines = permission_lines((project / WORKFLOW).read_text(encoding="utf-8"))
    assert len(lines) == 4
    assert [line for line in lines if not re.search(r"\S\s+# \w", line)] == []


def test_pushes_to_main_and_version_tags_and_pull_requests_trigger_it(workflow):
    triggers = workflow[True]
    assert triggers["push"] == {"branches": ["main"], "tags": ["v*"]}
    assert "pull_request" in triggers


def test_only_the_publishing_job_may_write_packages(workflow):
    jobs = workflow["jobs"]
    writers = [name for name, job in jobs.items() if "packages" in job.get("permissions", {})]
    assert writers == ["publish"]
    assert jobs["publish"]["permissions"] == {"contents": "read", "packages": "write"}


def test_the_image_name_is_the_one_the_manifests_deploy(project, workflow):
    kustomization = yaml.safe_load((project / "deploy/kubernetes/kustomization.yaml").read_text())
    [image] = kustomization["images"]
    assert workflow["env"]["IMAGE"] == image["newName"] == "ghcr.io/acme-corp/my-flask-service"


def test_publish_builds_both_platforms_and_pushes_only_outside_pull_requests(workflow):
    publish = workflow["jobs"]["publish"]
    assert steps_using(publish, "docker/setup-qemu-action")
    assert steps_using(publish, "docker/setup-buildx-action")
    [login] = steps_using(publish, "docker/login-action")
    assert login["if"] == "github.event_name != 'pull_request'"
    assert login["with"]["registry"] == "ghcr.io"
    [build] = steps_using(publish, "docker/build-push-action")
    settings = build["with"]
    assert settings["platforms"] == "linux/amd64,linux/arm64"
    assert settings["push"] == "${{ github.event_name != 'pull_request' }}"
    assert settings["target"] == "production"
    assert settings["provenance"] == "mode=max"
    assert settings["sbom"] is True
    assert settings["tags"] == "${{ steps.meta.outputs.tags }}"


# The github context of each event that runs publish, as far as the workflow reads it.
EVENTS = {
    "push to main": {"event_name": "push", "ref": "refs/heads/main", "workflow": "CI"},
    "second push to main": {"event_name": "push", "ref": "refs/heads/main", "workflow": "CI"},
    "version tag": {"event_name": "push", "ref": "refs/tags/v1.2.3", "workflow": "CI"},
    "pull request": {"event_name": "pull_request", "ref": "refs/pull/7/merge", "workflow": "CI"},
}


def for_each_event(text: str) -> dict[str, str]:
    return {event: substitute(text, {"github": github}) for event, github in EVENTS.items()}


def test_publishing_runs_once_at_a_time_per_ref_and_a_running_one_is_never_cancelled(workflow):
    concurrency = workflow["jobs"]["publish"]["concurrency"]
    # Cancelling a push half way could leave some tags on the new image, some on the old.
    assert concurrency["cancel-in-progress"] is False
    groups = for_each_event(concurrency["group"])
    assert groups["push to main"] == groups["second push to main"]
    assert len({groups["push to main"], groups["version tag"], groups["pull request"]}) == 3


def test_only_a_push_to_main_writes_the_build_cache_that_publishing_restores(workflow):
    [build] = steps_using(workflow["jobs"]["publish"], "docker/build-push-action")
    restores = for_each_event(build["with"]["cache-from"])
    writes = for_each_event(build["with"]["cache-to"])
    assert set(restores.values()) == {"type=gha,scope=publish"}
    assert writes == {
        "push to main": "type=gha,scope=publish,mode=max",
        "second push to main": "type=gha,scope=publish,mode=max",
        "version tag": "",
        "pull request": "",
    }


# An expression from what whoever opens a pull request (or pushes a branch) chose: a title,
# a body, a branch name. Pasted into a script, it is code.
UNTRUSTED_INPUT = re.compile(r"\$\{\{[^}]*\b(?:github\.event\.|github\.head_ref\b)")


def untrusted_input_in_scripts(workflow: dict) -> list[str]:
    return [
        f"{name}: {step['run']}"
        for name, job in workflow["jobs"].items()
        for step in job["steps"]
        if "run" in step and UNTRUSTED_INPUT.search(step["run"])
    ]


def test_no_run_script_expands_an_events_untrusted_input(any_workflow):
    assert untrusted_input_in_scripts(any_workflow) == []


def test_the_untrusted_input_check_refuses_a_title_and_a_branch_name_but_not_the_event_name():
    steps = [
        {"run": 'echo "${{ github.event.pull_request.title }}"'},
        {"run": "git switch ${{github.head_ref}}"},
        {"run": "echo ${{ github.event_name }} ${{ github.sha }}"},
        {"run": 'echo "$TITLE"', "env": {"TITLE": "${{ github.event.pull_request.title }}"}},
    ]
    found = untrusted_input_in_scripts({"jobs": {"job": {"steps": steps}}})
    assert found == [f"job: {step['run']}" for step in steps[:2]]


def test_tags_are_semver_the_short_sha_and_the_branch(workflow):
    [meta] = steps_using(workflow["jobs"]["publish"], "docker/metadata-action")
    assert meta["with"]["images"] == "${{ env.IMAGE }}"
    tags = meta["with"]["tags"].split()
    assert tags == [
        "type=semver,pattern={{version}}",
        "type=semver,pattern={{major}}.{{minor}}",
        "type=sha",
        "type=ref,event=branch",
    ]


@pytest.fixture(scope="module", params=["none", "postgresql"])
def any_workflow(request, cookies_session) -> dict:
    project = bake_ok(cookies_session, database=request.param, github_actions=True)
    return yaml.safe_load((project / WORKFLOW).read_text(encoding="utf-8"))


def test_ci_runs_the_projects_own_make_targets_and_nothing_else(any_workflow):
    jobs = any_workflow["jobs"]
    commands = {
        name: [step.get("uses", "").split("@")[0] or step["run"] for step in jobs[name]["steps"]]
        for name in ("lint-and-test", "smoke-test")
    }
    assert commands == {
        "lint-and-test": ["actions/checkout", "make lint", "make test"],
        "smoke-test": ["actions/checkout", "make smoke"],
    }
    # The tests' database is the one compose starts, as on a laptop.
    assert not any("services" in job for job in jobs.values())
    assert jobs["smoke-test"]["needs"] == "lint-and-test"
    assert jobs["publish"]["needs"] == "smoke-test"


# --- Dependabot -----------------------------------------------------------------------


@pytest.fixture(scope="module", params=["none", "postgresql"])
def any_project(request, cookies_session) -> Path:
    return bake_ok(cookies_session, database=request.param, github_actions=True)


def dependabot_updates(project: Path) -> dict[str, dict]:
    config = yaml.safe_load((project / DEPENDABOT).read_text(encoding="utf-8"))
    return {update["package-ecosystem"]: update for update in config["updates"]}


def test_dependabot_config_matches_its_schema(any_project):
    run(tool("check-jsonschema"), "--builtin-schema", "vendor.dependabot", any_project / DEPENDABOT)


def test_dependabot_covers_the_lock_the_actions_and_every_image(any_project):
    updates = dependabot_updates(any_project)
    assert {"pip", "github-actions", "docker"} <= set(updates)
    # Every folder with a Dockerfile in the project is watched.
    folders = {
        path.parent.relative_to(any_project).as_posix() for path in any_project.rglob("Dockerfile")
    }  # fmt: skip
    assert folders == {".", "docker/edge"}
    assert set(updates["docker"]["directories"]) == {"/", "/docker/edge"}


def test_dependabot_watches_compose_only_where_compose_names_an_image(any_project):
    compose = yaml.safe_load((any_project / "compose.yaml").read_text(encoding="utf-8"))
    images = [service["image"] for service in compose["services"].values() if "image" in service]
    updates = dependabot_updates(any_project)
    # database=postgresql names postgres:18; with no database, every service is built.
    if images:
        assert images == ["postgres:18"]
        assert updates["docker-compose"]["directory"] == "/"
    else:
        assert "docker-compose" not in updates


def test_dependabot_waits_a_week_before_proposing_a_new_release(any_project):
    # A release that is withdrawn or found malicious within days never reaches a pull request.
    for ecosystem, update in dependabot_updates(any_project).items():
        assert update.get("cooldown") == {"default-days": 7}, ecosystem


def test_dependabot_groups_weekly_updates(project):
    config = yaml.safe_load((project / DEPENDABOT).read_text(encoding="utf-8"))
    for update in config["updates"]:
        assert update["schedule"]["interval"] == "weekly", update["package-ecosystem"]
        [group] = update["groups"].values()
        assert group["patterns"] == ["*"], update["package-ecosystem"]


def test_no_github_files_without_github_actions(cookies):
    project = bake_ok(cookies, github_actions=False)
    assert not (project / ".github").exists()
