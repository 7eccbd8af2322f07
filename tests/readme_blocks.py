"""The shell blocks of a generated project's documentation, and the rule they follow.

A block is a fenced ```sh, ```bash, ```shell, ```console or ```zsh block in any .md file the
project ships. Each one a user is told to run is either run by
tests/docker/test_readme_blocks.py, which knows it by its name (the heading it sits
under), or marked, by an HTML comment on the line just before its fence, as one that
cannot run on the test machine:

    <!-- not run by the template's tests: needs a cluster -->

with one of REASONS, and after it, in parentheses, what exactly it needs if that helps
the reader. tests/test_readme_blocks.py checks every block against that rule.
"""

import re
from dataclasses import dataclass
from pathlib import Path

SHELL_LANGUAGES = ("sh", "bash", "shell", "console", "zsh")
MARKER_PREFIX = "not run by the template's tests:"
# What this machine (and CI) cannot have: everything else runs.
REASONS = ("a domain", "a cluster", "GitHub", "a cloud account")

FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
HEADING = re.compile(r"^#{1,6} +(?P<title>.+?) *#* *$")
COMMENT = re.compile(r"^\s*<!--\s*(?P<text>.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    file: str  # relative to the project
    line: int  # of the opening fence, 1-based
    language: str
    text: str
    name: str  # block_name()
    marker: str | None  # the comment's text after MARKER_PREFIX, if marked

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line} ({self.name})"

    @property
    def first_command(self) -> str:
        lines = [line.strip() for line in self.text.splitlines()]
        return next((line for line in lines if line and not line.startswith("#")), "")


def blocks_in(text: str, file: str = "README.md") -> list[Block]:
    """Every shell block of a Markdown text, in order, with its name and marker."""
    lines = text.splitlines()
    found: list[Block] = []
    heading = "(top)"
    per_heading: dict[str, int] = {}
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            if title := HEADING.match(lines[index]):
                heading = title["title"]
            index += 1
            continue
        fence, indent = opening["fence"], len(opening["indent"])
        end = index + 1
        while end < len(lines) and not re.match(rf"^ *{fence[0]}{{{len(fence)},}} *$", lines[end]):
            end += 1
        language = opening["info"].strip().split(" ")[0] if opening["info"].strip() else ""
        if language in SHELL_LANGUAGES:
            per_heading[heading] = per_heading.get(heading, 0) + 1
            count = per_heading[heading]
            body = "\n".join(line[indent:] for line in lines[index + 1 : end]) + "\n"
            found.append(
                Block(
                    file=file,
                    line=index + 1,
                    language=language,
                    text=body,
                    name=block_name(file, heading, count),
                    marker=marker_before(lines, index),
                )
            )
        index = end + 1
    return found


def block_name(file: str, heading: str, count: int) -> str:
    """The heading a block sits under; "#2" on a section's second block; and the file's
    name before it, outside README.md."""
    name = heading if count == 1 else f"{heading} #{count}"
    return name if file == "README.md" else f"{file}: {name}"


def marker_before(lines: list[str], fence_index: int) -> str | None:
    """The marker comment's reason text on the line just before the fence, if any."""
    if fence_index == 0:
        return None
    comment = COMMENT.match(lines[fence_index - 1])
    if not comment or not comment["text"].startswith(MARKER_PREFIX):
        return None
    return comment["text"][len(MARKER_PREFIX) :].strip()


def project_blocks(project: Path) -> list[Block]:
    """The shell blocks of every .md file in a baked project."""
    return [
        block
        for path in sorted(project.rglob("*.md"))
        for block in blocks_in(
            path.read_text(encoding="utf-8"), path.relative_to(project).as_posix()
        )
    ]


def problems(blocks: list[Block], run_by_test: list[str]) -> list[str]:
    """What breaks the rule: a block neither marked nor run, a marker without one of
    REASONS, a marked block the Docker test also runs, and a name the Docker test runs
    that no unmarked block has (a stale entry)."""
    found = []
    names = {block.name for block in blocks}
    for block in blocks:
        if block.marker is None:
            if block.name not in run_by_test:
                found.append(f"{block.where}: neither run nor marked: {block.first_command}")
            continue
        reason = re.fullmatch(r"needs (?P<reason>[^(]+?)(?: \(.+\))?", block.marker)
        if reason is None or reason["reason"] not in REASONS:
            found.append(
                f"{block.where}: the marker's reason {block.marker!r} is not 'needs' one of "
                f"{', '.join(REASONS)}"
            )
        if block.name in run_by_test:
            found.append(f"{block.where}: marked as not run, but the Docker test runs it")
    for name in run_by_test:
        if name not in names:
            found.append(f"the Docker test runs {name!r}, which no block is called")
    return found
