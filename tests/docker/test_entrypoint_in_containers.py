"""The entrypoint's quoting rule, in a real production container.

docker/entrypoint.sh expands $NAME and ${NAME} in the command, turns $$ into $,
and passes everything else through untouched and unexecuted. Each case runs
`printf '[%s]\\n' ARGS...` through it, so every argument comes back framed and
any splitting, joining or mangling shows. The default CMD's `0.0.0.0:$PORT`
following `-e PORT=...` is tested in test_production_runtime_contract.py
(test_port_variable_moves_the_listening_port); the same rule under the host's own
dash and bash, without Docker, in tests/test_entrypoint_quoting_rule.py.
"""

import pytest

from tests.docker.session import APP_PORT
from tests.helpers import docker

pytestmark = pytest.mark.docker

CANARY = "/tmp/pwned"  # inside the throwaway container


def run_printf(tag: str, *args: str, env: dict[str, str] | None = None, check: bool = True):
    options = [f"--env={name}={value}" for name, value in (env or {}).items()]
    return docker("run", "--rm", *options, tag, "printf", r"[%s]\n", *args, check=check)


def framed(*args: str) -> str:
    return "".join(f"[{arg}]\n" for arg in args)


# (arguments given, environment, arguments that must arrive)
CASES = {
    "dollar-name": (["$PORT"], {}, [str(APP_PORT)]),
    "dollar-name-from-run-env": (["$PORT"], {"PORT": "5555"}, ["5555"]),
    "braced-name": (["${NAME}"], {"NAME": "value"}, ["value"]),
    "names-inside-words": (
        ["0.0.0.0:$PORT", "x${NAME}y", "$NAME.$NAME", "$NAME-tail"],
        {"NAME": "v"},
        [f"0.0.0.0:{APP_PORT}", "xvy", "v.v", "v-tail"],
    ),
    "spaces": (["a b", "  padded  ", "tab\there"], {}, ["a b", "  padded  ", "tab\there"]),
    "empty-argument": (["", "after"], {}, ["", "after"]),
    "single-quotes": (["it's", "'quoted'"], {}, ["it's", "'quoted'"]),
    "double-quotes": (['say "hi"', '"'], {}, ['say "hi"', '"']),
    "parentheses": (["app:create_app()", "(a) (b"], {}, ["app:create_app()", "(a) (b"]),
    "backslashes": (["a\\b", "\\n", "end\\", "\\\\"], {}, ["a\\b", "\\n", "end\\", "\\\\"]),
    "backslash-does-not-escape-a-reference": (["\\$PORT"], {}, [f"\\{APP_PORT}"]),
    "newlines": (["line1\nline2", "\n"], {}, ["line1\nline2", "\n"]),
    "globs-and-operators": (
        ["*", "a;b", "a|b", "a&&b", "<x>"],
        {},
        ["*", "a;b", "a|b", "a&&b", "<x>"],
    ),
    "value-with-spaces-stays-one-argument": (["$SPACED"], {"SPACED": "a  b"}, ["a  b"]),
    "value-is-not-globbed": (["$GLOB"], {"GLOB": "/*"}, ["/*"]),
    "value-is-not-re-expanded": (["$CODE"], {"CODE": "$PORT $(id) `id`"}, ["$PORT $(id) `id`"]),
    "empty-value": (["$EMPTY", "x${EMPTY}y"], {"EMPTY": ""}, ["", "xy"]),
    "double-dollar-is-literal-dollar": (
        ["$$", "$$5", "$$PORT", "$${PORT}", "$$$PORT"],
        {},
        ["$", "$5", "$PORT", "${PORT}", f"${APP_PORT}"],
    ),
    "default-operator-stays-literal": (
        ["${NAME:-x}", "${UNSET:-x}", "${#NAME}", "${NAME%a}"],
        {"NAME": "ab"},
        ["${NAME:-x}", "${UNSET:-x}", "${#NAME}", "${NAME%a}"],
    ),
    "lone-dollar-and-special-parameters": (
        ["$", "a$", "$1", "$@", "$?", "$-"],
        {},
        ["$", "a$", "$1", "$@", "$?", "$-"],
    ),
    "command-substitution-stays-literal": (["$(id -u)", "`id -u`"], {}, ["$(id -u)", "`id -u`"]),
}


@pytest.mark.parametrize("case", CASES)
def test_arguments_arrive_as_the_rule_says(production, case):
    given, env, expected = CASES[case]
    result = run_printf(production, *given, env=env)
    assert result.stdout == framed(*expected)


# Each payload would create the canary if the entrypoint let a shell execute it.
PAYLOADS = {
    "command-substitution": (f"$(touch {CANARY})", {}),
    "backticks": (f"`touch {CANARY}`", {}),
    "inside-default-operator": (f"${{UNSET:-$(touch {CANARY})}}", {}),
    "breaking-out-of-double-quotes": (f'"; touch {CANARY}; echo "', {}),
    "breaking-out-with-backslash": (f'\\"; touch {CANARY}; echo \\"', {}),
    "in-a-variable-value": ("$EVIL", {"EVIL": f"$(touch {CANARY})"}),
}
# Runs after the entrypoint, in the same container: the canary must not exist yet.
INSPECT = f'if [ -e {CANARY} ]; then echo EXECUTED; exit 1; fi; printf "[%s]\\n" "$1"'


@pytest.mark.parametrize("payload", PAYLOADS)
def test_injected_commands_are_never_executed(production, payload):
    argument, env = PAYLOADS[payload]
    options = [f"--env={name}={value}" for name, value in env.items()]
    result = docker(
        "run", "--rm", *options, production, "sh", "-c", INSPECT, "inspect", argument, check=False
    )  # fmt: skip
    assert (result.returncode, result.stdout) == (0, framed(env.get("EVIL", argument)))


def test_canary_would_reveal_an_executed_payload(production):
    """The check above can fail: the container's user can create the canary."""
    script = f"touch {CANARY}; {INSPECT}"
    result = docker("run", "--rm", production, "sh", "-c", script, "inspect", "x", check=False)
    assert (result.returncode, result.stdout) == (1, "EXECUTED\n")


@pytest.mark.parametrize(
    "reference",
    [
        pytest.param("$NO_SUCH_VARIABLE", id="dollar-name"),
        pytest.param("${NO_SUCH_VARIABLE}", id="braced-name"),
        pytest.param("a${NO_SUCH_VARIABLE}b", id="inside-a-word"),
    ],
)
def test_unset_variable_stops_the_container_with_an_error(production, reference):
    result = run_printf(production, "before", reference, check=False)
    assert result.returncode != 0
    assert result.stdout == ""
    assert "NO_SUCH_VARIABLE" in result.stderr
