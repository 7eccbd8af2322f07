"""docker/entrypoint.sh follows the rule written at its top, under dash and bash.

The rule, for each argument of the container's command:
  $NAME and ${NAME}  expand to the variable's value, as one argument, never split;
                     an unset variable stops the container with an error
  $$                 is a literal $ (as in Compose files)
  everything else    arrives as written: quotes, spaces, backslashes, (), and
                     $(...), `...` or ${NAME:-default} are never executed
and the command then replaces the shell (exec), so it is PID 1 in the container.

The script runs here with the host's shells, no Docker needed: `sh` is dash on
Debian and Ubuntu, as in the python:*-slim images, and bash is the other common one.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SHELLS = ["sh", "bash"]
# Prints its arguments as a JSON list, so each one can be compared exactly.
SHOW_ARGUMENTS = [sys.executable, "-c", "import json, sys; print(json.dumps(sys.argv[1:]))"]
ENVIRONMENT = {
    "PORT": "8080",
    "HOST": "0.0.0.0",
    "GREETING": "hello   big world",
    "PATTERN": "*",
    "SUBSTITUTION": "$(touch from-a-value)",
    "EMPTY": "",
}

# (argument as written in CMD, what the command receives)
EXPANDS = [
    pytest.param("$PORT", "8080", id="dollar-name"),
    pytest.param("${PORT}", "8080", id="braced-name"),
    pytest.param("0.0.0.0:$PORT", "0.0.0.0:8080", id="bind-address"),
    pytest.param("${HOST}:${PORT}", "0.0.0.0:8080", id="two-names"),
    pytest.param("$PORT.txt", "8080.txt", id="name-ends-at-a-dot"),
    pytest.param("${PORT}x", "8080x", id="braces-end-the-name"),
    pytest.param("$GREETING", "hello   big world", id="value-with-spaces-not-split"),
    pytest.param("$PATTERN", "*", id="value-not-globbed"),
    pytest.param("$SUBSTITUTION", "$(touch from-a-value)", id="value-not-evaluated"),
    pytest.param("$EMPTY", "", id="empty-value-is-one-empty-argument"),
    # Only $$ escapes a dollar: a backslash stays, and the name after it still expands.
    pytest.param("\\$PORT", "\\8080", id="backslash-does-not-escape"),
]
LITERAL = [
    pytest.param("app:create_app()", id="factory-call"),
    pytest.param("""say "double" and 'single'""", id="quotes"),
    pytest.param("back\\slash \\\\ \\n \\t", id="backslashes"),
    pytest.param("two\nlines", id="newline"),
    pytest.param("Zoë Ñandú 日本 🚀", id="non-ascii"),
    pytest.param("a  b\tc", id="whitespace"),
    pytest.param("*", id="glob"),
    pytest.param("~", id="tilde"),
    pytest.param("a;b|c&d>e<f", id="operators"),
    pytest.param("${NAME:-default}", id="default-expansion-literal"),
    pytest.param("${#PORT}", id="length-expansion-literal"),
    pytest.param("$1 ${1} $@ $* $? $!", id="special-parameters-literal"),
    pytest.param("$", id="lone-dollar"),
    pytest.param("cost: 5$", id="trailing-dollar"),
    pytest.param("${PORT", id="unclosed-brace"),
    pytest.param("", id="empty-argument"),
    pytest.param("-n", id="option-like"),
]
DOUBLE_DOLLAR = [
    pytest.param("$$", "$", id="double-dollar"),
    pytest.param("$$PORT", "$PORT", id="escaped-name"),
    pytest.param("$${PORT}", "${PORT}", id="escaped-braced-name"),
    pytest.param("5$$ or $$$$", "5$ or $$", id="several"),
    pytest.param("$$$PORT", "$8080", id="escaped-dollar-then-name"),
]
NOT_EXECUTED = [
    pytest.param("$(touch {marker})", id="command-substitution"),
    pytest.param("`touch {marker}`", id="backticks"),
    pytest.param("x; touch {marker}", id="semicolon"),
    pytest.param("$(touch {marker})$PORT", id="substitution-beside-a-name"),
    pytest.param('"; touch {marker}; "', id="quote-breakout"),
    pytest.param('\\"$(touch {marker})', id="escaped-quote-breakout"),
]


@pytest.fixture(scope="module")
def entrypoint(default_project) -> Path:
    return default_project / "docker" / "entrypoint.sh"


def run_entrypoint(shell: str, entrypoint: Path, *command: str, cwd: Path, **env: str):
    return subprocess.run(
        [shell, str(entrypoint), *command],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PATH": os.environ["PATH"], **ENVIRONMENT, **env},
        timeout=30,
    )


def arguments_received(shell: str, entrypoint: Path, *arguments: str, cwd: Path) -> list[str]:
    result = run_entrypoint(shell, entrypoint, *SHOW_ARGUMENTS, *arguments, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize(("argument", "expected"), EXPANDS)
def test_variables_expand_to_exactly_one_argument(shell, entrypoint, argument, expected, tmp_path):
    (tmp_path / "a-file").touch()  # what an unquoted * would expand to
    assert arguments_received(shell, entrypoint, argument, cwd=tmp_path) == [expected]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a-file"]


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("argument", LITERAL)
def test_everything_else_arrives_as_written(shell, entrypoint, argument, tmp_path):
    (tmp_path / "a-file").touch()
    assert arguments_received(shell, entrypoint, argument, cwd=tmp_path) == [argument]


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize(("argument", "expected"), DOUBLE_DOLLAR)
def test_double_dollar_is_a_literal_dollar(shell, entrypoint, argument, expected, tmp_path):
    assert arguments_received(shell, entrypoint, argument, cwd=tmp_path) == [expected]


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("template", NOT_EXECUTED)
def test_command_syntax_is_never_executed(shell, entrypoint, template, tmp_path):
    marker = tmp_path / "executed"
    argument = template.format(marker=marker)
    received = arguments_received(shell, entrypoint, argument, cwd=tmp_path)
    assert not marker.exists(), f"{argument!r} ran a command"
    assert received == [argument.replace("$PORT", "8080")]


@pytest.mark.parametrize("shell", SHELLS)
def test_many_arguments_keep_their_order_and_boundaries(shell, entrypoint, tmp_path):
    arguments = ["gunicorn", "--bind", "0.0.0.0:$PORT", "app:create_app()", "", "a b", "$$"]
    assert arguments_received(shell, entrypoint, *arguments, cwd=tmp_path) == [
        "gunicorn",
        "--bind",
        "0.0.0.0:8080",
        "app:create_app()",
        "",
        "a b",
        "$",
    ]


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("argument", ["$NOT_SET", "${NOT_SET}", "x-$NOT_SET-y"])
def test_an_unset_variable_stops_with_an_error_before_the_command_runs(
    shell, entrypoint, argument, tmp_path
):
    marker = tmp_path / "ran"
    result = run_entrypoint(shell, entrypoint, "touch", str(marker), argument, cwd=tmp_path)
    assert result.returncode != 0
    assert "NOT_SET" in result.stderr
    assert not marker.exists()


@pytest.mark.parametrize("shell", SHELLS)
def test_the_command_replaces_the_shell(shell, entrypoint, tmp_path):
    # `$$$$` is `$$` after the entrypoint's own rule, which the inner sh expands to its PID.
    process = subprocess.Popen(
        [shell, str(entrypoint), "sh", "-c", "echo $$$$"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"]},
    )
    stdout, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert int(stdout) == process.pid


@pytest.mark.parametrize("shell", SHELLS)
def test_the_exit_status_is_the_commands(shell, entrypoint, tmp_path):
    result = run_entrypoint(shell, entrypoint, "sh", "-c", "exit 7", cwd=tmp_path)
    assert result.returncode == 7
