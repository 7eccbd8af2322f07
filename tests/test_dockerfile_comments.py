"""The generated Dockerfiles comment at uv's density: no paragraph of comments (comment
lines in a row) is longer than four lines; a longer reason belongs in the README's "How
the image is built". Structure only: what a comment says is not checked. A hadolint
directive counts as a line of the paragraph above its instruction.
"""

import re

import pytest

from tests.helpers import DOCKERFILE_STAGES

MAX_LINES = 4
ANSWERS = {"default": "default_project", "postgresql": "with_postgresql"}


def long_comment_paragraphs(text: str, limit: int = MAX_LINES) -> list[str]:
    """Where a run of more than `limit` comment lines starts, and how long it is."""
    found, start, length = [], 0, 0
    for number, line in enumerate([*text.splitlines(), ""], start=1):
        if re.match(r"^\s*#", line):
            start, length = (start, length + 1) if length else (number, 1)
            continue
        if length > limit:
            found.append(f"line {start}: {length} comment lines")
        length = 0
    return found


def test_a_paragraph_over_four_lines_is_found():
    dockerfile = "# one\n# two\nFROM x\n# 1\n# 2\n# 3\n# 4\n# 5\nRUN y\n# a\n# b\n# c\n# d\n# e"
    assert long_comment_paragraphs(dockerfile) == [
        "line 4: 5 comment lines",
        "line 10: 5 comment lines",
    ]


@pytest.mark.parametrize("answer", ANSWERS)
@pytest.mark.parametrize("dockerfile", DOCKERFILE_STAGES)
def test_no_comment_paragraph_in_a_dockerfile_is_longer_than_four_lines(
    request, answer, dockerfile
):
    project = request.getfixturevalue(ANSWERS[answer])
    text = (project / dockerfile).read_text(encoding="utf-8")
    assert text.count("\n#") >= 5, "hardly any comment: is this the right file?"
    assert long_comment_paragraphs(text) == []
