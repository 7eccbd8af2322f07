"""The generated README documents what the image needs, and the Dockerfile agrees with it.

A private package index is reached through a BuildKit secret, never a build argument:
the README's `docker build --secret` command uses the id the Dockerfile mounts, at the
path pip, uv and Poetry read, and says why credentials never go into the image history.
That the secret really reaches the build and leaves no trace is proven by building,
in tests/docker/test_build_supply_chain.py.
"""

import re
import shlex


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
