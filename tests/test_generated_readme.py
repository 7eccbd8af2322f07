"""The generated README: it opens with the title and the description, once, and its
private-index command matches what the Dockerfile mounts.

A private package index is reached through a BuildKit secret, never a build argument:
the README's `docker build --secret` command uses the id the Dockerfile mounts, at the
path pip, uv and Poetry read, and passes no credential in a build argument. That the
secret really reaches the build and leaves no trace is proven by building, in
tests/docker/test_build_supply_chain.py.
"""

import re
import shlex
from urllib.parse import urlsplit

import pytest

from tests.helpers import DEFAULT_ANSWERS, bake_ok


def build_arguments(command: list[str]) -> dict[str, str]:
    """The --build-arg NAME=value pairs of a docker build command."""
    values = [command[i + 1] for i, word in enumerate(command) if word == "--build-arg"]
    return dict(value.split("=", 1) for value in values)


def secret_builds(readme: str) -> list[list[str]]:
    """Each `docker build` of the README that passes --secret, as its words."""
    return [
        shlex.split(block.replace("\\\n", " "))
        for block in re.findall(r"^docker build .*?(?<!\\)$", readme, re.MULTILINE | re.DOTALL)
        if "--secret" in block
    ]


def test_a_credential_in_a_build_argument_is_found():
    readme = (
        "docker build --secret id=netrc,src=n \\\n"
        "    --build-arg PYPI_INDEX_URL=https://user:token@mirror.example/simple .\n"
    )
    [command] = secret_builds(readme)
    url = urlsplit(build_arguments(command)["PYPI_INDEX_URL"])
    assert (url.username, url.password) == ("user", "token")


def test_readme_documents_a_private_index_through_a_buildkit_secret(default_project):
    readme = (default_project / "README.md").read_text(encoding="utf-8")
    dockerfile = (default_project / "Dockerfile").read_text(encoding="utf-8")
    commands = secret_builds(readme)
    assert commands, "the README shows no docker build with --secret"
    command = commands[0]
    secret = command[command.index("--secret") + 1]
    assert secret.startswith("id=netrc,src=")
    # The id is the one the Dockerfile mounts, at the path pip, uv and Poetry read.
    assert "--mount=type=secret,id=netrc,target=/root/.netrc" in dockerfile
    assert re.search(r"printf 'machine \S+ login \S+ password \S+\\n'", readme)
    # The index goes in as a build argument, and no credential with it, nor in the
    # Dockerfile's default.
    arguments = build_arguments(command)
    assert set(arguments) == {"PYPI_INDEX_URL"}
    [default] = re.findall(r"^ARG PYPI_INDEX_URL=(\S+)$", dockerfile, re.MULTILINE)
    for url in (arguments["PYPI_INDEX_URL"], default):
        assert (urlsplit(url).username, urlsplit(url).password) == (None, None), url


@pytest.mark.parametrize(
    "description",
    [
        pytest.param(None, id="default-description"),
        pytest.param("Bills customers every month.", id="own-description"),
    ],
)
def test_the_readme_opens_with_the_title_and_the_description_once(cookies, description):
    answers = {} if description is None else {"description": description}
    project = bake_ok(cookies, **answers)
    text = description or DEFAULT_ANSWERS["description"]
    readme = (project / "README.md").read_text(encoding="utf-8")
    title, blank, first, *_ = readme.splitlines()
    assert (title, blank, first) == (f"# {DEFAULT_ANSWERS['project_name']}", "", text)
    assert readme.count(text.rstrip(".")) == 1
