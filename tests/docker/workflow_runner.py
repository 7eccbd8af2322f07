"""Run a GitHub Actions workflow's jobs here, as GitHub's runner would, for one event.

What it does as the runner does: jobs in the order their `needs:` give, each on a fresh
checkout; each job's `run:` steps in order with GitHub's default shell (`bash -e`), as
UID 1001 in the docker group; the workflow's, job's and step's `env`; `${{ }}`
expressions over `github.*`, `env.*`, `matrix.*` and `runner.*`, and `if:` conditions.
A `uses:` step runs only if a stand-in for that action is given: the stand-in does what
the action does on a runner. Anything it cannot do (an unknown action, key, context or
function) raises WorkflowError, so a workflow it does not understand fails the test.
"""

import itertools
import os
import pwd
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from harness.containers import BUILD_ENV

RUNNER_UID = 1001
# GitHub's default for a `run:` step on Linux that names no shell.
DEFAULT_SHELL = ["bash", "-e"]
JOB_KEYS = {"runs-on", "needs", "steps", "env", "if", "permissions", "strategy", "name",
            "timeout-minutes"}  # fmt: skip
STEP_KEYS = {"name", "id", "run", "uses", "with", "env", "if", "timeout-minutes"}


class WorkflowError(Exception):
    """The workflow asks for something this runner cannot do."""


class StepFailed(Exception):
    def __init__(self, job: str, step: str, returncode: int, output: str):
        self.job, self.step, self.output = job, step, output
        super().__init__(f"job {job!r}, step {step!r} exited {returncode}:\n{output[-6000:]}")


# --- Expressions ----------------------------------------------------------------------

TOKEN = re.compile(
    r"\s*(?:(?P<number>-?\d+(?:\.\d+)?)|'(?P<string>(?:[^']|'')*)'|(?P<op>==|!=|<=|>=|&&|\|\||[!<>().,\[\]])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))"
)


def tokens(text: str) -> list[tuple[str, str]]:
    found, position = [], 0
    while position < len(text.rstrip()):
        match = TOKEN.match(text, position)
        if not match:
            raise WorkflowError(f"cannot read the expression {text!r} at {text[position:]!r}")
        kind = match.lastgroup
        value = match[kind]
        found.append((kind, value.replace("''", "'") if kind == "string" else value))
        position = match.end()
    return found


def truthy(value) -> bool:
    return value not in (None, False, 0, "")


def equal(left, right) -> bool:
    # GitHub compares strings ignoring case.
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    return left == right


@dataclass
class Expression:
    """A `${{ }}` expression's text, evaluated against contexts (name -> mapping)."""

    text: str
    contexts: Mapping[str, Mapping]
    status: str = "success"
    position: int = 0
    parts: list = field(default_factory=list)

    def value(self):
        self.parts = tokens(self.text)
        result = self.either()
        if self.position != len(self.parts):
            raise WorkflowError(f"cannot read the expression {self.text!r}")
        return result

    def peek(self) -> str | None:
        """The next operator, if the next token is one."""
        if self.position < len(self.parts) and self.parts[self.position][0] == "op":
            return self.parts[self.position][1]
        return None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.position >= len(self.parts):
            raise WorkflowError(f"the expression {self.text!r} ends too early")
        kind, value = self.parts[self.position]
        if expected is not None and value != expected:
            raise WorkflowError(f"expected {expected!r} in {self.text!r}, found {value!r}")
        self.position += 1
        return kind, value

    def either(self):
        left = self.both()
        while self.peek() == "||":
            self.take()
            right = self.both()
            left = left if truthy(left) else right
        return left

    def both(self):
        left = self.comparison()
        while self.peek() == "&&":
            self.take()
            right = self.comparison()
            left = right if truthy(left) else left
        return left

    def comparison(self):
        left = self.unary()
        if self.peek() in ("==", "!="):
            _, operator = self.take()
            right = self.unary()
            return equal(left, right) == (operator == "==")
        if self.peek() in ("<", ">", "<=", ">="):
            raise WorkflowError(f"ordering comparisons are not supported: {self.text!r}")
        return left

    def unary(self):
        if self.peek() == "!":
            self.take()
            return not truthy(self.unary())
        return self.primary()

    def primary(self):
        kind, value = self.take()
        if value == "(":
            result = self.either()
            self.take(")")
            return result
        if kind == "number":
            return float(value) if "." in value else int(value)
        if kind == "string":
            return value
        if kind != "name":
            raise WorkflowError(f"unexpected {value!r} in {self.text!r}")
        if value in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[value]
        if self.peek() == "(":
            return self.call(value)
        if value not in self.contexts:
            raise WorkflowError(f"the context {value!r} is not known here: {self.text!r}")
        result = self.contexts[value]
        while self.peek() in (".", "["):
            if self.take()[1] == ".":
                key = self.take()[1]
            else:
                key = self.either()
                self.take("]")
            result = result.get(key) if isinstance(result, Mapping) else None
        return result

    def call(self, function: str):
        self.take("(")
        arguments = []
        while self.peek() != ")":
            arguments.append(self.either())
            if self.peek() == ",":
                self.take()
        self.take(")")
        statuses = {"success": self.status == "success", "failure": self.status == "failure",
                    "always": True, "cancelled": False}  # fmt: skip
        if function in statuses and not arguments:
            return statuses[function]
        texts = [str(argument).casefold() for argument in arguments]
        if function == "contains" and len(texts) == 2:
            return texts[1] in texts[0]
        if function == "startsWith" and len(texts) == 2:
            return texts[0].startswith(texts[1])
        if function == "endsWith" and len(texts) == 2:
            return texts[0].endswith(texts[1])
        raise WorkflowError(f"the function {function}() is not supported: {self.text!r}")


def as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def substitute(text: str, contexts: Mapping[str, Mapping]) -> str:
    """text with each ${{ expression }} replaced by its value, as the runner does."""
    return re.sub(
        r"\$\{\{(.*?)\}\}", lambda match: as_text(Expression(match[1], contexts).value()), text
    )


def condition(text, contexts: Mapping[str, Mapping], status: str) -> bool:
    """An `if:`: an expression with or without ${{ }}; none means success()."""
    if text is None:
        return status == "success"
    if isinstance(text, bool):
        return text
    text = str(text).strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    expression = Expression(text, contexts, status=status)
    result = truthy(expression.value())
    # As on GitHub: a condition without a status function still requires success.
    if not re.search(r"\b(success|failure|always|cancelled)\(", text):
        result = result and status == "success"
    return result


# --- Events ---------------------------------------------------------------------------


def github_context(event: str, repository: str, sha: str, workspace: Path) -> dict:
    """The github context of a push to main, or of a pull request into main."""
    common = {"event_name": event, "repository": repository, "sha": sha,
              "workspace": str(workspace), "actor": "runner", "repository_owner":
              repository.split("/")[0], "server_url": "https://github.com"}  # fmt: skip
    if event == "push":
        return common | {
            "ref": "refs/heads/main",
            "ref_name": "main",
            "head_ref": "",
            "base_ref": "",
        }
    if event == "pull_request":
        return common | {
            "ref": "refs/pull/1/merge", "ref_name": "1/merge",
            "head_ref": "a-change", "base_ref": "main",
        }  # fmt: skip
    raise WorkflowError(f"no such event here: {event}")


def triggered_by(workflow: dict, event: str) -> bool:
    triggers = workflow.get(True, workflow.get("on"))  # PyYAML reads `on` as True
    if isinstance(triggers, str):
        triggers = [triggers]
    if isinstance(triggers, list):
        return event in triggers
    if event not in triggers:
        return False
    branches = (triggers[event] or {}).get("branches")
    return branches is None or "main" in branches


def job_order(jobs: dict) -> list[str]:
    """The jobs, each after every job it needs."""
    ordered: list[str] = []
    while len(ordered) < len(jobs):
        ready = [
            name for name, job in jobs.items()
            if name not in ordered and set(needs_of(job)) <= set(ordered)
        ]  # fmt: skip
        if not ready:
            raise WorkflowError(f"the jobs' needs form a cycle: {sorted(set(jobs) - set(ordered))}")
        ordered.extend(ready)
    return ordered


def needs_of(job: dict) -> list[str]:
    needs = job.get("needs", [])
    return [needs] if isinstance(needs, str) else list(needs)


def matrix_combinations(job: dict) -> list[dict]:
    matrix = (job.get("strategy") or {}).get("matrix")
    if not matrix:
        return [{}]
    if not all(isinstance(values, list) for values in matrix.values()):
        raise WorkflowError("only a matrix of plain lists is supported (no include, exclude)")
    return [
        dict(zip(matrix, values, strict=True)) for values in itertools.product(*matrix.values())
    ]


def step_title(step: dict, number: int) -> str:
    """What the log and a failure call a step: its name, else its script or action."""
    return step.get("name") or step.get("run") or step.get("uses") or f"step {number}"


# --- The runner -----------------------------------------------------------------------

# A stand-in for an action: (workspace, its `with:` inputs) -> None.
StandIn = Callable[[Path, dict], None]


@dataclass
class Runner:
    """Runs a workflow's jobs for one event. checkout(workspace) makes the job's fresh
    checkout; stand_ins maps action names (owner/name) to what they do here."""

    workflow: dict
    event: str
    repository: str
    sha: str
    root: Path
    checkout: Callable[[Path], None]
    stand_ins: dict[str, StandIn] = field(default_factory=dict)
    left_out: dict[str, str] = field(default_factory=dict)
    # Called with each job's workspace once the job is over: what a fresh runner clears.
    after_job: Callable[[Path], None] = lambda workspace: None
    log: list[str] = field(default_factory=list)

    def run(self) -> list[str]:
        """Run every job not left out; return the jobs that ran. Raise StepFailed or
        WorkflowError at the first failure."""
        if not triggered_by(self.workflow, self.event):
            raise WorkflowError(f"the workflow does not run on {self.event}")
        jobs = self.workflow["jobs"]
        unknown = set(self.left_out) - set(jobs)
        if unknown:
            raise WorkflowError(f"no such jobs to leave out: {sorted(unknown)}")
        ran = []
        for name in job_order(jobs):
            if name in self.left_out:
                continue
            blocked = set(needs_of(jobs[name])) & set(self.left_out)
            if blocked:
                raise WorkflowError(f"job {name!r} needs {sorted(blocked)}, which is left out")
            for matrix in matrix_combinations(jobs[name]):
                if self.run_job(name, jobs[name], matrix):
                    ran.append(name)
        return ran

    def run_job(self, name: str, job: dict, matrix: dict) -> bool:
        if unsupported := sorted(set(job) - JOB_KEYS):
            raise WorkflowError(f"job {name!r}: not supported here: {unsupported}")
        workspace = self.root / f"{name}-{len(self.log)}" / self.repository.split("/")[1]
        workspace.parent.mkdir(parents=True)
        contexts = {
            "github": github_context(self.event, self.repository, self.sha, workspace),
            "runner": {"os": "Linux", "arch": "X64", "temp": str(workspace.parent)},
            "matrix": matrix,
            "env": {},
        }
        if not condition(job.get("if"), contexts, "success"):
            self.log.append(f"{name}: skipped by its if")
            return False
        env = self.evaluated_env(self.workflow.get("env"), contexts)
        env |= self.evaluated_env(job.get("env"), contexts | {"env": env})
        try:
            return self.run_steps(name, job, env, contexts, workspace)
        finally:
            self.after_job(workspace)

    def run_steps(self, name: str, job: dict, env: dict, contexts: dict, workspace: Path) -> bool:
        status = "success"
        failure: StepFailed | None = None
        for number, step in enumerate(job["steps"], 1):
            title = step_title(step, number)
            if unsupported := sorted(set(step) - STEP_KEYS):
                raise WorkflowError(f"{name} / {title}: not supported: {unsupported}")
            step_contexts = contexts | {"env": env}
            if not condition(step.get("if"), step_contexts, status):
                self.log.append(f"{name} / {title}: skipped by its if")
                continue
            step_env = env | self.evaluated_env(step.get("env"), step_contexts)
            step_contexts["env"] = step_env
            try:
                if "uses" in step:
                    self.use(name, title, step, workspace, step_contexts)
                else:
                    script = substitute(step["run"], step_contexts)
                    self.run_script(name, title, script, workspace, step_env)
                self.log.append(f"{name} / {title}: ok")
            except StepFailed as error:
                self.log.append(f"{name} / {title}: failed")
                status, failure = "failure", failure or error
        if failure:
            raise failure
        return True

    def evaluated_env(self, env: dict | None, contexts: dict) -> dict[str, str]:
        return {key: substitute(as_text(value), contexts) for key, value in (env or {}).items()}

    def use(self, job: str, title: str, step: dict, workspace: Path, contexts: dict) -> None:
        action = step["uses"].split("@")[0]
        inputs = self.evaluated_env(step.get("with"), contexts)
        if action == "actions/checkout":
            self.checkout(workspace)
            return
        if action not in self.stand_ins:
            raise WorkflowError(f"{job} / {title}: no stand-in for the action {action}")
        self.stand_ins[action](workspace, inputs)

    def run_script(self, job: str, title: str, script: str, workspace: Path, env: dict) -> None:
        """The step's script, run with `bash -e` as the runner's user, in the workspace."""
        user = pwd.getpwuid(RUNNER_UID)
        script_file = workspace.parent / f"step-{len(self.log)}.sh"
        script_file.write_text(script, encoding="utf-8")
        os.chmod(script_file, 0o644)
        base = {
            "PATH": BUILD_ENV["PATH"], "HOME": user.pw_dir, "USER": user.pw_name,
            "LANG": "C.UTF-8", "CI": "true", "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": self.event, "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_REPOSITORY": self.repository, "GITHUB_SHA": self.sha,
            "RUNNER_OS": "Linux", "RUNNER_TEMP": str(workspace.parent),
        }  # fmt: skip
        result = subprocess.run(
            [*as_runner(), *DEFAULT_SHELL, str(script_file)],
            cwd=workspace, env=base | env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, timeout=1800,
        )  # fmt: skip
        if result.returncode != 0:
            raise StepFailed(job, title, result.returncode, result.stdout)


def as_runner() -> list[str]:
    """The command prefix that runs a command as the runner's user (none if we are it)."""
    if os.getuid() == RUNNER_UID:
        return []
    group = pwd.getpwuid(RUNNER_UID).pw_gid
    return ["setpriv", f"--reuid={RUNNER_UID}", f"--regid={group}", "--init-groups"]


def give_to_runner(path: Path) -> None:
    """Make path (a folder tree) the runner user's, as its checkout is on GitHub."""
    user = pwd.getpwuid(RUNNER_UID)
    for item in [path, *path.rglob("*")]:
        os.lchown(item, user.pw_uid, user.pw_gid)


def runner_problem() -> str | None:
    """Why this machine cannot run jobs as GitHub's runner user, or None."""
    try:
        user = pwd.getpwuid(RUNNER_UID)
    except KeyError:
        return f"no user with UID {RUNNER_UID}: run test-machine/setup.sh up"
    if shutil.which("setpriv") is None:
        return "setpriv (util-linux) is missing"
    probe = subprocess.run(
        [*as_runner(), "docker", "compose", "version"],
        env={"PATH": BUILD_ENV["PATH"], "HOME": user.pw_dir}, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    if probe.returncode != 0:
        return f"the user {user.pw_name} cannot run docker compose: {probe.stderr.strip()}"
    return None
