"""What the generated project's Markdown names exists: its links and anchors, the files of
its map, the make targets it tells you to run, and the environment variables of its
configuration tables, which are exactly the ones the code and compose read.

These check structure, never wording: each reads the bake as data. They run for both
database answers, with and without the CI workflow, since each answer adds or removes
sections, files, targets and variables. Each rule is also tried on a small broken input
first, so that a rule that can no longer fail shows up here.
"""

import posixpath
import re
import shlex
import shutil
from pathlib import Path

import pytest

from tests.helpers import bake_ok, run
from tests.readme_blocks import blocks_in

ANSWERS = {
    "none": {"database": "none", "github_actions": True},
    "postgresql": {"database": "postgresql", "github_actions": True},
    "none-without-ci": {"database": "none", "github_actions": False},
    "postgresql-without-ci": {"database": "postgresql", "github_actions": False},
}


@pytest.fixture(scope="module", params=ANSWERS)
def project(request, cookies_session) -> Path:
    return bake_ok(cookies_session, **ANSWERS[request.param])


def markdown_files(project: Path) -> dict[str, str]:
    return {
        path.relative_to(project).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(project.rglob("*.md"))
    }


# --- Reading Markdown ---------------------------------------------------------------

FENCE = re.compile(r"^ *(`{3,}|~{3,})")


def prose(text: str) -> str:
    """The text outside fenced blocks, with the blocks' lines blanked (line numbers stay)."""
    lines, fence = [], None
    for line in text.splitlines():
        opening = FENCE.match(line)
        if fence is None and opening:
            fence = opening[1]
            lines.append("")
        elif fence is not None:
            if re.match(rf"^ *{fence[0]}{{{len(fence)},}} *$", line):
                fence = None
            lines.append("")
        else:
            lines.append(line)
    return "\n".join(lines)


def github_anchors(text: str) -> set[str]:
    """The anchors GitHub gives the headings of a Markdown text: the heading's text,
    lowercased, with punctuation dropped and spaces turned to dashes; a repeated one
    gets -1, -2, ..."""
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for line in prose(text).splitlines():
        heading = re.match(r"^#{1,6} +(.+?) *#* *$", line)
        if not heading:
            continue
        title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading[1])  # a link: its text
        slug = re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def links(text: str) -> list[str]:
    """The targets of the inline links of a Markdown text, outside code."""
    without_code = re.sub(r"`[^`]*`", "", prose(text))
    return re.findall(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", without_code)


def broken_links(files: dict[str, str], exists) -> list[str]:
    """Each relative link whose file, or whose #anchor in that file, is not there.
    files: the Markdown texts by path; exists: whether a path of the project exists."""
    problems = []
    for name, text in files.items():
        for target in links(text):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:: not fetched here
                continue
            path, _, anchor = target.partition("#")
            linked = (
                posixpath.normpath(posixpath.join(posixpath.dirname(name), path)) if path else name
            )
            if path and not exists(linked):
                problems.append(f"{name}: {target}: no {linked}")
            elif anchor and anchor not in github_anchors(files.get(linked, "")):
                problems.append(f"{name}: {target}: no heading gives #{anchor}")
    return problems


def test_a_link_to_a_missing_heading_or_file_is_reported():
    readme = "# Title\n\n## The edge\n\nSee [it](#the-edge), [x](#the-core), [y](docs/a.md).\n"
    assert broken_links({"README.md": readme}, exists=lambda path: False) == [
        "README.md: #the-core: no heading gives #the-core",
        "README.md: docs/a.md: no docs/a.md",
    ]


def test_anchors_follow_githubs_rules():
    text = (
        "## Quick start\n\n### arm64: Apple Silicon, Graviton, Ampere\n\n"
        "## `make` it\n\n## Quick start\n"
    )
    assert github_anchors(text) == {
        "quick-start", "arm64-apple-silicon-graviton-ampere", "make-it", "quick-start-1",
    }  # fmt: skip


def test_a_heading_or_link_inside_a_code_block_does_not_count():
    readme = "```sh\n# Not a heading\necho '[a](#nowhere)'\n```\n"
    assert github_anchors(readme) == set()
    assert links(readme) == []


def test_every_relative_link_and_anchor_resolves(project):
    files = markdown_files(project)
    assert files, "the bake has no Markdown file"
    assert broken_links(files, exists=lambda path: (project / path).exists()) == []


# --- The file map ----------------------------------------------------------------------

MAP_HEADING = "Project layout"


def file_map(readme: str) -> list[str]:
    """The paths the README's map names: the first word of each line of the plain fenced
    block under its "Project layout" heading."""
    match = re.search(rf"^## {MAP_HEADING}\n+```\n(.*?)^```", readme, re.MULTILINE | re.DOTALL)
    assert match, f'no plain fenced block under "## {MAP_HEADING}"'
    return [line.split()[0] for line in match[1].splitlines() if line.strip()]


def test_the_file_map_is_read_from_its_block():
    readme = f"## {MAP_HEADING}\n\n```\nsrc/        the code\nMakefile    the commands\n```\n"
    assert file_map(readme) == ["src/", "Makefile"]


def test_every_path_in_the_file_map_exists(project, tmp_path):
    """After `make .env`, which every target runs first and which writes secrets/."""
    copy = tmp_path / project.name
    shutil.copytree(project, copy, symlinks=True)
    run("make", ".env", cwd=copy, timeout=60)
    paths = file_map((copy / "README.md").read_text(encoding="utf-8"))
    assert len(paths) >= 10, paths
    missing = [path for path in paths if not (copy / path).exists()]
    assert missing == []
    # A folder is named as one, a file as a file.
    assert [path for path in paths if path.endswith("/") != (copy / path).is_dir()] == []


# --- make targets ------------------------------------------------------------------------


def makefile_targets(makefile: str) -> set[str]:
    """The explicit targets of a Makefile (rule lines; not variable assignments)."""
    targets = set()
    for line in makefile.splitlines():
        rule = re.match(r"^([A-Za-z0-9_.%/$(){}-]+(?: +[A-Za-z0-9_.%/$(){}-]+)*) *::?(?!=)", line)
        if rule:
            targets.update(rule[1].split())
    return targets


def make_targets_named(text: str, file: str = "README.md") -> set[str]:
    """The targets of every `make ...` a Markdown text gives as code: a line of a shell
    block, or an inline code span. VAR=value and -options are skipped; a comment ends
    the command, and &&, ||, | and ; separate commands."""
    lines = [line for block in blocks_in(text, file) for line in block.text.splitlines()]
    lines += [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", prose(text))]
    named = set()
    for line in lines:
        for command in re.split(r"&&|\|\||[;|]", line.split(" #")[0]):
            try:
                words = shlex.split(command.replace("(", " "))
            except ValueError:  # an unbalanced quote: a fragment, not a command
                words = command.split()
            if "make" not in words:
                continue
            for word in words[words.index("make") + 1 :]:
                if "=" not in word and not word.startswith("-"):
                    named.add(word.rstrip(")"))
    return named


def test_make_targets_are_read_from_code_only():
    text = (
        "Run `make dev`, `APP_PORT=9000 make\nlogs` or `make add PKG=requests`; make it so.\n\n"
        "```sh\nmake .env               # once\nmake test && make down\n```\n"
    )
    assert make_targets_named(text) == {"dev", "logs", "add", ".env", "test", "down"}
    makefile = "X := 1\n.PHONY: a\nhelp: ## List\n\t@awk\n.env: | secrets/x\nsmoke: export D :=\n"
    assert makefile_targets(makefile) == {".PHONY", "help", ".env", "smoke"}


def test_every_make_target_the_docs_name_is_in_the_makefile(project):
    targets = makefile_targets((project / "Makefile").read_text(encoding="utf-8"))
    named = set()
    for name, text in markdown_files(project).items():
        named |= make_targets_named(text, name)
    assert {"dev", "run", "test", ".env"} <= named, named
    assert sorted(named - targets) == []


# --- The configuration tables ----------------------------------------------------------

CONFIGURATION_HEADING = "Configuration"
# Variables that a server reads itself, not this project's code, by the server the
# "Read by" column must name: gunicorn's FORWARDED_ALLOW_IPS (gunicorn/config.py,
# ForwardedAllowIPS) and Flask's FLASK_DEBUG (flask/cli.py and flask/helpers.py).
SERVERS_OWN = {"FORWARDED_ALLOW_IPS": "gunicorn", "FLASK_DEBUG": "Flask"}
NAME = r"[A-Z][A-Z0-9_]*[A-Z0-9]"


def configuration_rows(readme: str) -> dict[str, list[str]]:
    """The rows of the tables in the README's Configuration section, by the variable each
    names in its first cell (`FLASK_*` stands for a prefix): the rows' text."""
    section = re.search(
        rf"^## {CONFIGURATION_HEADING}\n(.*?)(?=^## )", readme, re.MULTILINE | re.DOTALL
    )
    assert section, f"no ## {CONFIGURATION_HEADING} section"
    rows = {}
    for line in section[1].splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|") or re.fullmatch(r"[-: ]*", cells[0]):
            continue
        for name in re.findall(rf"`({NAME}(?:_\*)?)`", cells[0]):
            rows.setdefault(name, []).append(line)
    return rows


def read_by_the_code(project: Path) -> set[str]:
    """The environment variables the project's code and compose.yaml read: os.environ and
    environ.get in its Python (the tests' aside), FLASK_<KEY> for each key the app reads
    (not writes) from a config filled by from_prefixed_env(), $NAME in the Dockerfiles'
    commands, and ${NAME} in compose.yaml."""
    names = set()
    for path in project.rglob("*.py"):
        if "tests" in path.relative_to(project).parts:
            continue
        code = path.read_text(encoding="utf-8")
        names |= set(re.findall(rf"environ(?:\.get\(|\[)\s*[\"']({NAME})[\"']", code))
        if "from_prefixed_env()" in code:
            names.add("FLASK_*")
        config_reads = rf"config(?:\.get\(\s*[\"']({NAME})[\"']|\[[\"']({NAME})[\"']\](?!\s*=[^=]))"
        for got, indexed in re.findall(config_reads, code):
            names.add(f"FLASK_{got or indexed}")
    for dockerfile in project.rglob("Dockerfile"):
        for command in re.findall(r"^(?:CMD|ENTRYPOINT) (.*)$", dockerfile.read_text(), re.M):
            names |= set(re.findall(rf"\$\{{?({NAME})", command))
    names |= set(re.findall(rf"\$\{{({NAME})", (project / "compose.yaml").read_text()))
    return names


def documented(readme: str) -> set[str]:
    """Every variable a configuration row names, in any cell (a row may name the
    variables that stand in for its own, as DATABASE_URL's names DATABASE_HOST)."""
    names = set(configuration_rows(readme))
    for rows in configuration_rows(readme).values():
        for row in rows:
            names |= set(re.findall(rf"`({NAME})(?:=[^`]*)?`", row))
    return names


def test_a_row_is_known_by_the_variables_of_its_first_cell():
    readme = (
        "## Configuration\n\n| Variable | Read by |\n|---|---|\n| `PORT` | entrypoint |\n"
        "| `FLASK_*` | the app, `FLASK_X` |\n\n## Next\n\n| `NOT_HERE` | |\n"
    )
    assert set(configuration_rows(readme)) == {"PORT", "FLASK_*"}


def test_a_variable_read_but_not_in_the_tables_is_found(project, tmp_path):
    copy = tmp_path / project.name
    shutil.copytree(project, copy, symlinks=True)
    (copy / "docker" / "extra.py").write_text('import os\nos.environ.get("UNDOCUMENTED")\n')
    readme = (copy / "README.md").read_text(encoding="utf-8")
    assert "UNDOCUMENTED" in read_by_the_code(copy) - documented(readme)


def test_every_variable_the_code_reads_is_in_the_configuration_tables(project):
    readme = (project / "README.md").read_text(encoding="utf-8")
    read = read_by_the_code(project)
    assert {"PORT", "WEB_CONCURRENCY", "APP_PORT", "FLASK_SECRET_KEY_FILE"} <= read, read
    assert sorted(read - documented(readme)) == []


def test_every_configuration_row_is_read_somewhere(project):
    rows = configuration_rows((project / "README.md").read_text(encoding="utf-8"))
    read = read_by_the_code(project)
    unread = []
    for name, lines in rows.items():
        if name in SERVERS_OWN:
            if not all(f"| {SERVERS_OWN[name]} |" in line for line in lines):
                unread.append(f"{name}: read by {SERVERS_OWN[name]}, which its row must say")
        elif name not in read:
            unread.append(name)
    assert unread == []
