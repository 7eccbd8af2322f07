"""The generated README's shell blocks and Makefile run on macOS as well as on Linux.

macOS has the BSD sed, grep, readlink and date, which refuse or misread GNU-only
forms: `sed -i` with no suffix attached (BSD takes the next word for the suffix; the
form both accept is `sed -i.bak ... && rm FILE.bak`), `grep -P` (BSD grep has no Perl
regular expressions), `readlink -f` and `date -d`. For both database answers, every
command in the README's fenced shell blocks and in the Makefile's recipes and
$(shell ...) calls is checked, and each refusal names the file, the line and the form.
"""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import bake_ok
from tests.readme_blocks import blocks_in

# For each command, the GNU-only option words (an option cluster such as -Ei counts)
# and how the refusal names the form.
GNU_ONLY = {
    "sed": (r"-[A-Za-z]*i|--in-place", "sed -i without a suffix attached (sed -i.bak)"),
    "grep": (r"-[A-Za-z]*P[A-Za-z]*|--perl-regexp", "grep -P"),
    "readlink": (r"-[A-Za-z]*f[A-Za-z]*|--canonicalize", "readlink -f"),
    "date": (r"-[A-Za-z]*d[A-Za-z]*|--date(=.*)?", "date -d"),
}
# Where one simple command ends and the next begins (well enough for a lint), and the
# words that may come before a command's name.
COMMAND_SEPARATORS = re.compile(r"[;&|()`{}]|\$\(|\b(?:then|do|else)\b")
PREFIXES = {"shell", "if", "elif", "while", "until", "!", "sudo", "exec", "command", "env"}
ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=\S*")


def gnu_only_forms(command_line: str) -> list[str]:
    """The GNU-only forms command_line uses: a command's options are the words that
    start with a dash between its name and its first other word."""
    forms = []
    for command in COMMAND_SEPARATORS.split(command_line):
        words = command.split()
        while words and (words[0] in PREFIXES or ASSIGNMENT.fullmatch(words[0])):
            words.pop(0)
        if not words or words[0].rsplit("/", 1)[-1] not in GNU_ONLY:
            continue
        pattern, form = GNU_ONLY[words[0].rsplit("/", 1)[-1]]
        for option in words[1:]:
            if not option.startswith("-"):
                break
            if re.fullmatch(pattern, option):
                forms.append(form)
    return forms


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(number, line) for each line, lines continued with a backslash joined to their
    first, which gives the number."""
    start, parts = 0, []
    for number, line in enumerate(text.splitlines(), start=1):
        start = start or number
        parts.append(line.removesuffix("\\"))
        if not line.endswith("\\"):
            yield start, " ".join(parts)
            start, parts = 0, []


def readme_commands(text: str) -> Iterator[tuple[int, str]]:
    """The lines of the fenced shell blocks (as tests.readme_blocks finds them), a
    console prompt's `$ ` taken off."""
    for block in blocks_in(text):
        body = "\n".join(line.removeprefix("$ ") for line in block.text.splitlines())
        for number, line in logical_lines(body):
            yield block.line + number, line


def makefile_commands(text: str) -> Iterator[tuple[int, str]]:
    """The recipe lines (a tab first) and the lines that call $(shell ...)."""
    for number, line in logical_lines(text):
        if line.startswith("\t") or "$(shell " in line:
            yield number, line


def refusals(project: Path) -> list[str]:
    readers = {"README.md": readme_commands, "Makefile": makefile_commands}
    return [
        f"{name}:{number}: {form}: {line.strip()}"
        for name, commands in readers.items()
        for number, line in commands((project / name).read_text(encoding="utf-8"))
        for form in gnu_only_forms(line)
    ]


@pytest.mark.parametrize(
    ("command_line", "forms"),
    [
        ("sed -i 's/^A=.*/A=b/' .env", ["sed -i without a suffix attached (sed -i.bak)"]),
        ("sed -Ei 's/a+/b/' f", ["sed -i without a suffix attached (sed -i.bak)"]),
        ("sed -i '' 's/a/b/' f", ["sed -i without a suffix attached (sed -i.bak)"]),
        ("sed -i.bak 's/a/b/' f && rm f.bak", []),
        ("A ?= $(shell sed -n 's/^A=//p' .env 2>/dev/null)", []),
        ("docker logs app | grep -oP 'id=\\d+'", ["grep -P"]),
        ("grep -qE '^v?2\\.' version", []),
        ('cd "$(dirname "$(readlink -f "$0")")"', ["readlink -f"]),
        ("readlink /usr/bin/python3", []),
        ("tag=$(date -d yesterday +%F)", ["date -d"]),
        ("date -u +%Y-%m-%dT%H:%M:%SZ", []),
        (
            "echo sed -i is GNU && /usr/bin/sed -i s/a/b/ f",
            ["sed -i without a suffix attached (sed -i.bak)"],
        ),
        ("if grep -P x f; then LC_ALL=C date -d now; fi", ["grep -P", "date -d"]),
    ],
)
def test_the_check_refuses_each_gnu_only_form_and_passes_the_portable_ones(command_line, forms):
    assert gnu_only_forms(command_line) == forms


def test_the_check_reads_the_readmes_shell_blocks_and_the_makefiles_recipes():
    readme = "Text: sed -i here is prose.\n```sh\nmake run\nsed -i \\\n  s/a/b/ f\n```\n"
    assert list(readme_commands(readme)) == [(3, "make run"), (4, "sed -i    s/a/b/ f")]
    makefile = "X := $(shell date -d now)\n# sed -i\nrun:\n\tsed -i s/a/b/ f\n"
    assert [number for number, _ in makefile_commands(makefile)] == [1, 4]


@pytest.mark.parametrize("database", ["none", "postgresql"])
def test_the_readme_and_the_makefile_use_no_gnu_only_forms(cookies, database):
    project = bake_ok(cookies, database=database)
    refused = refusals(project)
    assert not refused, "GNU-only forms, which macOS refuses:\n" + "\n".join(refused)
