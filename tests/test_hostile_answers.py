"""Property: whatever text a user types for the free-text answers, the result is safe.

For any project_name, description and author_name, made of quotes, backslashes,
newlines, any Unicode (astral planes included), shell and Jinja metacharacters,
baking either
  - is refused cleanly, with nothing left on disk: the pre-generation hook's
    refusal, or (only for an answer with Jinja syntax in it) cookiecutter's own
    error rendering that answer; or
  - gives a project whose every file parses, with the answers written exactly.

What "exactly" means, honestly: cookiecutter renders every answer as a Jinja
template once, when it resolves the context (in no-input mode too), so the
answer `{{ 7*7 }}` becomes the value `49`. That is cookiecutter's documented
behaviour, the same as for cookiecutter.json's defaults, and it is not a hole:
only the person running cookiecutter types the answers. The template's job is to
write the resolved value as data, never rendering it a second time: an answer
without Jinja syntax arrives exactly as typed, and one with Jinja syntax arrives
exactly as cookiecutter resolved it (its replay file is the record of that).
"""

import json
import string
import tempfile
from pathlib import Path

import jinja2
import yaml
from cookiecutter.exceptions import FailedHookException, UndefinedVariableInTemplate
from cookiecutter.main import cookiecutter
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from tests.helpers import TEMPLATE_DIR, assert_every_file_parses

JINJA_OPENERS = ("{{", "{%", "{#")
# Characters and snippets that break naive quoting somewhere (TOML, YAML, shell,
# Python, Jinja), all of which a valid answer may contain.
PRINTABLE_METACHARACTERS = [
    *"\"'\\`$;|&()<>*?~!#%{}[]=,:",
    "}}",
    "%}",
    "#}",
    "{{ 7*7 }}",
    "{{ '{{' }}",
    "{# note #}",
    "{% raw %}{{{% endraw %}",
    "$(id)",
    "${HOME}",
    "'''",
    '"""',
    "\\u0000",
    "\\n",
    "\ufeff",
    "🚀",
    "👩\u200d🚀",
    "\U0001d11e",
    "\U00020000",
    "é",
    "日本",
]
# What no single-line answer may contain, and Jinja openers left unclosed.
CONTROL_CHARACTERS = [*"\n\r\t\x00\x1b\x7f\x85\u2028\u2029"]
LONE_OPENERS = list(JINJA_OPENERS)


def joined(*fragments: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(st.one_of(*fragments), max_size=8).map("".join)


words = st.text(alphabet=string.ascii_letters + " ", min_size=1, max_size=8)
# Printable text: any Unicode but control characters and line separators.
printable_text = joined(
    st.sampled_from(PRINTABLE_METACHARACTERS),
    words,
    st.text(st.characters(exclude_categories=["Cc", "Cs", "Zl", "Zp"]), max_size=4),
)
# Anything at all (but lone surrogates, which no text file can hold).
any_text = joined(
    st.sampled_from(PRINTABLE_METACHARACTERS + CONTROL_CHARACTERS + LONE_OPENERS),
    words,
    st.text(max_size=4),
)
# Two answers in three printable, so that a fair share of the bakes succeed.
hostile_text = st.sampled_from([printable_text, printable_text, any_text]).flatmap(
    lambda strategy: strategy
)

FIELDS = ("project_name", "description", "author_name")


def bake(answers: dict, workdir: Path) -> tuple[Path | None, Exception | None, dict | None]:
    """Bake with the Python API as a user's script would; return (project, error, replay)."""
    config = workdir / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {"cookiecutters_dir": str(workdir / "c"), "replay_dir": str(workdir / "replay")}
        ),
        encoding="utf-8",
    )
    output = workdir / "out"
    output.mkdir()
    try:
        project = cookiecutter(
            str(TEMPLATE_DIR),
            no_input=True,
            extra_context=answers,
            output_dir=str(output),
            config_file=str(config),
        )
    except (FailedHookException, UndefinedVariableInTemplate, jinja2.TemplateError) as error:
        return None, error, None
    (replay,) = (workdir / "replay").glob("*.json")
    return Path(project), None, json.loads(replay.read_text(encoding="utf-8"))["cookiecutter"]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(project_name=hostile_text, description=hostile_text, author_name=hostile_text)
@example(project_name="Seven", description="{{ 7*7 }}", author_name="A")
@example(
    project_name="Twice", description="{{ '{{ 7*7 }}' }}", author_name="{% raw %}{%{% endraw %}"
)
@example(project_name="Quotes", description='"\'"""\\', author_name="$(id) `id` ; | & ( )")
@example(project_name="{{", description="x", author_name="x")
@example(project_name="Line\nBreak", description="x", author_name="x")
def test_hostile_answers_are_refused_cleanly_or_written_exactly(
    project_name, description, author_name
):
    answers = {"project_name": project_name, "description": description, "author_name": author_name}
    with tempfile.TemporaryDirectory() as workdir:
        project, error, resolved = bake(answers, Path(workdir))

        event("baked" if error is None else f"refused: {type(error).__name__}")
        if error is not None:
            left = list((Path(workdir) / "out").rglob("*"))
            assert left == [], f"{type(error).__name__} left {left}"
            if not isinstance(error, FailedHookException):
                # Only an answer with Jinja syntax can fail to render.
                assert any(opener in answers[field] for field in FIELDS for opener in JINJA_OPENERS)
            return

        pyproject = assert_every_file_parses(project)
        written = {
            "description": pyproject["project"]["description"],
            "author_name": pyproject["project"]["authors"][0]["name"],
        }
        for field, value in written.items():
            # Written once, as cookiecutter resolved it: never rendered a second time.
            assert value == resolved[field]
            if not any(opener in answers[field] for opener in JINJA_OPENERS):
                assert value == answers[field]  # no Jinja syntax: exactly as typed
        assert resolved["author_name"] in (project / "LICENSE").read_text(encoding="utf-8")


def test_an_answer_is_rendered_by_cookiecutter_once_and_written_as_data():
    """The behaviour the property relies on, spelled out on the classic example."""
    with tempfile.TemporaryDirectory() as workdir:
        project, error, resolved = bake(
            {"description": "{{ 7*7 }} and {{ '{{ 6*7 }}' }}"}, Path(workdir)
        )
        assert error is None
        pyproject = assert_every_file_parses(project)
        assert resolved["description"] == "49 and {{ 6*7 }}"
        assert pyproject["project"]["description"] == "49 and {{ 6*7 }}"
