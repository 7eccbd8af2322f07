"""Unusual but valid answers give a project whose every file parses, with them written.

Quotes, backslashes, shell metacharacters, Jinja-looking text, accents, emoji and
CJK in the free-text answers: each set is baked, every file is parsed by the
parser of its kind, and the answers come back exactly from pyproject.toml and
LICENSE. The property-based version is test_hostile_answers.py.
"""

import pytest

from tests.helpers import assert_every_file_parses, bake_ok

AWKWARD_ANSWERS = [
    pytest.param(
        {
            "project_name": 'The "Quoted" Service',
            "description": "It's \"double\" and 'single' quoted, even '''triple''' and \"\"\"",
            "author_name": 'O\'Brien "Bob"',
        },
        id="quotes",
    ),
    pytest.param(
        {
            "project_name": "Back\\slash Service",
            "description": r"C:\new\table \\server\share \u00e9 \x41 \ ",
            "author_name": "Back\\Slash\\",
        },
        id="backslashes",
    ),
    pytest.param(
        {
            "project_name": "Shell $HOME Service",
            "description": "$HOME ${PATH} $(id) `id` ; rm -rf / | cat & (sub) > out < in",
            "author_name": "$USER `whoami`",
        },
        id="shell-metacharacters",
    ),
    pytest.param(
        {
            "project_name": "Percent 100% Service",
            "description": "100% #1 {braces} % # { } {not jinja} [toml] = value # comment",
            "author_name": "Hash # Percent %",
        },
        id="jinja-ish-text",
    ),
    pytest.param(
        {
            "project_name": "Zoë Ñandú Service",
            "description": "Crème brûlée, naïve café, Ærøskøbing, İstanbul",
            "author_name": "Zoë Ñandú",
        },
        id="accented-letters",
    ),
    pytest.param(
        {
            "project_name": "Rocket 🚀 Service",
            "description": "Launches 🚀 fast 𝄞 𓂀 𠜎 (astral) ✨",
            "author_name": "Astronaut 👩‍🚀",
        },
        id="emoji",
    ),
    pytest.param(
        {
            "project_name": "日本語 Service",
            "description": "日本語の説明、中文说明、한국어 설명",
            "author_name": "山田 太郎",
        },
        id="cjk",
    ),
]


@pytest.mark.parametrize("answers", AWKWARD_ANSWERS)
def test_awkward_but_valid_answers_give_a_project_that_parses(cookies, answers):
    project = bake_ok(cookies, **answers)
    pyproject = assert_every_file_parses(project)
    assert pyproject["project"]["description"] == answers["description"]
    assert pyproject["project"]["authors"][0]["name"] == answers["author_name"]
    assert answers["author_name"] in (project / "LICENSE").read_text(encoding="utf-8")
    assert project.name.isidentifier() and project.name.isascii()
