"""Every shell block the generated project's documentation hands its user is run by the
Docker test, or marked, with a reason from the short list, as one that cannot run here.

The rule is tests/readme_blocks.py's; tests/docker/test_readme_blocks.py runs the blocks
its BLOCKS names. Here, without Docker: for each database answer, the blocks of every
.md file in the bake are each run or marked, and BLOCKS names no block that is gone.
"""

import pytest

from tests.docker.test_readme_blocks import BLOCKS
from tests.readme_blocks import blocks_in, problems, project_blocks

ANSWERS = {"default": "default_project", "postgresql": "with_postgresql"}


@pytest.mark.parametrize("answer", ANSWERS)
def test_every_block_is_run_by_the_docker_test_or_marked_with_a_reason(request, answer):
    project = request.getfixturevalue(ANSWERS[answer])
    blocks = project_blocks(project)
    assert blocks, "the bake has no shell block at all: the parser is broken"
    names = [run.name for run in BLOCKS[answer]]
    assert problems(blocks, names) == []


@pytest.mark.parametrize("answer", ANSWERS)
def test_the_docker_test_runs_each_block_once(answer):
    names = [run.name for run in BLOCKS[answer]]
    assert len(names) == len(set(names)), names


# --- The rule itself, on small READMEs --------------------------------------------------

README = """# A project

## Quick start

```sh
make dev
```

## Kubernetes

<!-- not run by the template's tests: needs a cluster -->
```bash
kubectl apply -k deploy/kubernetes
```

A diagram, not a command:

```
client -> edge -> app
```
"""


def test_a_run_block_and_a_marked_one_follow_the_rule():
    blocks = blocks_in(README)
    assert [(block.name, block.line, block.marker) for block in blocks] == [
        ("Quick start", 5, None),
        ("Kubernetes", 12, "needs a cluster"),
    ]
    assert problems(blocks, ["Quick start"]) == []


def test_a_new_block_neither_run_nor_marked_breaks_the_rule():
    readme = README + "\n## Logs\n\n```shell\nmake logs\n```\n"
    assert problems(blocks_in(readme), ["Quick start"]) == [
        "README.md:24 (Logs): neither run nor marked: make logs"
    ]


@pytest.mark.parametrize(
    "marker",
    [
        "<!-- not run by the template's tests: needs a GPU -->",
        "<!-- not run by the template's tests: too slow -->",
        "<!-- not run by the template's tests: needs -->",
    ],
)
def test_a_marker_whose_reason_is_not_on_the_list_breaks_the_rule(marker):
    readme = README.replace("<!-- not run by the template's tests: needs a cluster -->", marker)
    (problem,) = problems(blocks_in(readme), ["Quick start"])
    assert problem.startswith("README.md:12 (Kubernetes): the marker's reason")


def test_a_block_the_docker_test_no_longer_finds_is_a_stale_entry():
    assert problems(blocks_in(README), ["Quick start", "Backups"]) == [
        "the Docker test runs 'Backups', which no block is called"
    ]


def test_a_marked_block_the_docker_test_also_runs_breaks_the_rule():
    assert problems(blocks_in(README), ["Quick start", "Kubernetes"]) == [
        "README.md:12 (Kubernetes): marked as not run, but the Docker test runs it"
    ]


def test_blocks_in_a_list_item_and_console_blocks_count_too():
    readme = "## Steps\n\n1. Start:\n\n   ```console\n   $ make dev\n   ```\n"
    (block,) = blocks_in(readme)
    assert (block.language, block.text, block.first_command) == (
        "console", "$ make dev\n", "$ make dev",
    )  # fmt: skip


def test_a_marker_may_say_in_parentheses_what_exactly_is_needed():
    readme = README.replace("needs a cluster", "needs a cluster (kubectl's current context)")
    assert problems(blocks_in(readme), ["Quick start"]) == []


def test_a_block_in_another_document_is_named_after_its_file_too():
    (block,) = blocks_in("## Quick start\n\n```sh\nmake dev\n```\n", "docs/deploying.md")
    assert block.name == "docs/deploying.md: Quick start"
    assert problems([block], ["Quick start"]) == [
        "docs/deploying.md:3 (docs/deploying.md: Quick start): neither run nor marked: make dev",
        "the Docker test runs 'Quick start', which no block is called",
    ]
