"""The generated README: it opens by saying what the project is, once, and documents
what the image needs, as the Dockerfile has it.

A private package index is reached through a BuildKit secret, never a build argument:
the README's `docker build --secret` command uses the id the Dockerfile mounts, at the
path pip, uv and Poetry read, and says why credentials never go into the image history.
That the secret really reaches the build and leaves no trace is proven by building,
in tests/docker/test_build_supply_chain.py.
"""

import re
import shlex

import pytest

from tests.helpers import DEFAULT_ANSWERS, bake_ok


def test_readme_documents_a_private_index_through_a_buildkit_secret(default_project):
    readme = (default_project / "README.md").read_text(encoding="utf-8")
    dockerfile = (default_project / "Dockerfile").read_text(encoding="utf-8")
    commands = [
        shlex.split(block.replace("\\\n", " "))
        for block in re.findall(r"^docker build .*?(?<!\\)$", readme, re.MULTILINE | re.DOTALL)
        if "--secret" in block
    ]
    assert commands, "the README shows no docker build with --secret"
    command = commands[0]
    secret = command[command.index("--secret") + 1]
    assert secret.startswith("id=netrc,src=")
    # The id is the one the Dockerfile mounts, at the path pip, uv and Poetry read.
    assert "--mount=type=secret,id=netrc,target=/root/.netrc" in dockerfile
    assert any(arg.startswith("PYPI_INDEX_URL=") for arg in command)
    assert re.search(r"printf 'machine \S+ login \S+ password \S+\\n'", readme)
    assert "recorded in the image history" in readme
    assert "never" in readme[readme.index("recorded in the image history") :][:200]


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
    # The rest of the opening says something else: not even the description's first
    # words again (the old README followed "A Flask service managed by Poetry..."
    # with "A Flask service managed by [Poetry]...").
    rest = readme.split("\n## ", 1)[0].replace(text, "").lower()
    assert " ".join(text.lower().split()[:3]) not in " ".join(rest.split())
