"""Every shell block of the generated README that is not marked as one that cannot run
here runs as written, for the default bake and for database=postgresql.

Each block's text goes verbatim to `bash -e`, in the project folder of a fresh copy of
the session's bake, on a pseudo-terminal as a user's shell would have it (so `-it`
works as written, and Ctrl-C is the terminal's), with a compose project name and a
free APP_PORT of this run in the environment. The test plays the user: where a block
starts a server in the foreground it waits for the server's own line saying it
listens, asks it for /health, and presses Ctrl-C; where it opens a prompt it types
into it. A block passes when bash exits 0 after all of that, so a server that does not
stop cleanly on Ctrl-C fails it. Which blocks run, in which order, and what the user
does meanwhile is BLOCKS; tests/test_readme_blocks.py checks it names every unmarked
block and nothing else (tests/readme_blocks.py has the rule).

Nothing in a block's text is changed. What the environment adds, as a user's own
shell would have it: COMPOSE_PROJECT_NAME and APP_PORT (so the run collides with no
other); Poetry on PATH (the tooling venv's, as tests/test_generated_project_suite.py
runs it, with this machine's index); and, for "Without Docker" with postgresql, the
DATABASE_URL of a PostgreSQL container the test starts, as the README asks. Two blocks
run in one shell, one after the other, where the README's second uses the first's DB
(Run.with_next). The fixed ports the blocks publish (5000, 5555, the bake's 8888) are
used as written: a port taken by something else fails the block, never passes it.
"""

import fcntl
import json
import os
import pty
import re
import shutil
import signal
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest

from harness.waits import WaitTimedOut, wait_for_http
from tests.docker.compose import Project, compose_project
from tests.docker.session import DockerSession
from tests.docker.waits import wait_until
from tests.helpers import DEFAULT_APP_NAME, dependencies, docker, tool
from tests.readme_blocks import Block, project_blocks

pytestmark = pytest.mark.docker

# Bounds, not clocks: each wait ends as soon as what it waits for appears.
STEP_TIMEOUT = 900  # seconds for a block to reach its next promise (cold builds included)
HEALTH_TIMEOUT = 60

# --- What the user does while a block runs -------------------------------------------


@dataclass(frozen=True)
class Prints:
    """The block prints this (a regex) next: what the README says the command does."""

    pattern: str


@dataclass(frozen=True)
class Serve:
    """The block starts a server in the foreground: its promise (a regex) appears, it
    answers /health (on a host port, or, unpublished, through its image's HEALTHCHECK:
    the container of image whose command has args, started during the block), and
    then Ctrl-C stops it."""

    promise: str
    port: int | None = None
    image: str | None = None
    args: str | None = None


@dataclass(frozen=True)
class Prompt:
    """The block opens an interactive prompt: when the prompt (a regex) appears, type a
    line and see what it prints, then leave, as a user would."""

    prompt: str
    line: str
    expect: str
    leave: str


@dataclass(frozen=True)
class Run:
    """A block by its name (tests.readme_blocks), and what the user does while it runs.
    with_next: the next block runs in the same shell, as a reader continues in the same
    terminal (the postgresql README defines DB once for both of its docker run blocks)."""

    name: str
    user: tuple[Prints | Serve | Prompt, ...] = ()
    with_next: bool = False
    # With postgresql: DATABASE_URL exported to "a PostgreSQL of yours", in this
    # block's shell only (compose reads it too, and would point db's clients at it).
    own_database: bool = False


PRODUCTION_LISTENS = r"Listening at: http://0\.0\.0\.0:{port}"
FLASK_LISTENS = r"Running on http://127\.0\.0\.1:{port}"
PYTHON_PROMPT = Prompt(r">>> ", "print(6 * 7)\r", "\n42", "exit()\r")
# The production image's user has no name: bash says "I have no name!@<host>:/app$ ".
BASH_PROMPT = Prompt(r"\$ $", "echo $((6 * 7)) from bash\r", "\n42 from bash", "exit\r")


def by_hand(port: int) -> tuple[Serve, ...]:
    """The block "Running the images by hand": production on its port, on 5555, development."""
    return (
        Serve(PRODUCTION_LISTENS.format(port=port), port=port),
        Serve(PRODUCTION_LISTENS.format(port=5555), port=5555),
        Serve(FLASK_LISTENS.format(port=port), port=port),
    )


def overriding(port: int) -> tuple[Prints | Serve | Prompt, ...]:
    """The block "Overriding the command or the entrypoint": a Python prompt, gunicorn
    --version, gunicorn with 4 workers (no published port: its HEALTHCHECK answers), a shell."""
    return (
        PYTHON_PROMPT,
        Prints(r"gunicorn \(version \d+\.\d+"),
        Serve(PRODUCTION_LISTENS.format(port=port), image=DEFAULT_APP_NAME, args="--workers 4"),
        BASH_PROMPT,
    )


# make dev and make run say where they serve; make test ends with pytest's summary.
QUICK_START = (
    Prints(r"^Serving on http://localhost:\d+ "),
    Prints(r"^=+ \d+ passed"),
    Prints(r"^Serving on http://localhost:\d+ "),
)
ADDING_A_DEPENDENCY = (
    Prints(r"^pyproject\.toml and poetry\.lock updated"),
    Prints(r"^Serving on http://localhost:\d+ "),
)

# In README order, except that a block that needs a running stack comes after one that
# starts it ("Backups" needs db: "Adding a dependency" ends with `make dev`).
BLOCKS = {
    "default": [
        Run("Quick start", QUICK_START),
        Run("Without Docker", (Serve(FLASK_LISTENS.format(port=5000), port=5000),)),
        Run("Running the images by hand", by_hand(8888), with_next=True),
        Run("Overriding the command or the entrypoint", overriding(8888)),
        Run("Adding a dependency", ADDING_A_DEPENDENCY),
    ],
    "postgresql": [
        Run("Quick start", QUICK_START),
        Run(
            "Without Docker",
            (Serve(FLASK_LISTENS.format(port=5000), port=5000),),
            own_database=True,
        ),
        Run("Running the images by hand", by_hand(8888), with_next=True),
        Run("Overriding the command or the entrypoint", overriding(8888)),
        Run("Adding a dependency", ADDING_A_DEPENDENCY),
        Run("Backups"),
    ],
}

# --- A shell on a pseudo-terminal -----------------------------------------------------

# What programs send a terminal besides text: colours, cursor moves, modes (CSI, with
# the private ones such as "?2004h" that Python's and bash's prompts send), and keypad
# modes ("ESC =", "ESC >").
TERMINAL_CODES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|[=>])")


class Terminal:
    """`bash -e -c TEXT` with a pseudo-terminal as its controlling terminal; what it
    prints is collected as it comes, without colour codes and carriage returns."""

    def __init__(self, text: str, cwd: Path, env: dict[str, str]):
        master, slave = pty.openpty()
        # Wide enough that no line the test looks for is wrapped.
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 250, 0, 0))
        self.master = master
        self.started = time.time()
        self.process = subprocess.Popen(
            ["bash", "-e", "-c", text],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=cwd,
            env=env,
            start_new_session=True,
            # The terminal becomes the new session's controlling one, so Ctrl-C typed
            # into it interrupts the foreground job, as in a user's shell.
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
        )
        os.close(slave)
        self.chunks: list[bytes] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.seen = 0  # how far the user has read

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: every process holding the terminal has exited
                return
            if not chunk:
                return
            self.chunks.append(chunk)

    @property
    def output(self) -> str:
        text = b"".join(self.chunks).decode(errors="replace")
        return TERMINAL_CODES.sub("", text).replace("\r", "")

    def wait_for(self, pattern: str, what: str, timeout: float = STEP_TIMEOUT) -> str:
        """Wait until pattern appears after what the user has read; read up to its end."""

        def found():
            match = re.search(pattern, self.output[self.seen :], re.MULTILINE)
            if match is None and self.process.poll() is not None:
                pytest.fail(
                    f"{what}: the block exited ({self.process.returncode}) first\n"
                    f"{self.output[-6000:]}",
                    pytrace=False,
                )
            return match

        match = wait_until(found, timeout, what, interval=0.2, explain=self.tail)
        self.seen += match.end()
        return match.group(0)

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def interrupt(self) -> None:
        self.type("\x03")  # Ctrl-C: the terminal sends SIGINT to the foreground job

    def tail(self) -> str:
        return self.output[-6000:]

    def finish(self, timeout: float = STEP_TIMEOUT) -> int:
        """bash's exit status, once it has exited (failing the test after timeout s)."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running after {timeout} s\n{self.tail()}", pytrace=False)

    def __enter__(self) -> "Terminal":
        return self

    def __exit__(self, *exc_info) -> None:
        """After a failure, kill whatever still runs."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        self.reader.join(timeout=10)
        os.close(self.master)


def play(terminal: Terminal, step: Prints | Serve | Prompt, where: str) -> None:
    """Do what the user does for one step of a running block."""
    if isinstance(step, Prints):
        terminal.wait_for(step.pattern, f"{where}: it prints {step.pattern!r}")
        return
    if isinstance(step, Prompt):
        terminal.wait_for(step.prompt, f"{where}: the prompt {step.prompt!r}")
        terminal.type(step.line)
        terminal.wait_for(re.escape(step.expect), f"{where}: {step.line.strip()!r} prints")
        terminal.type(step.leave)
        return
    terminal.wait_for(step.promise, f"{where}: the server says {step.promise!r}")
    if step.port is not None:
        try:
            response = wait_for_http(
                f"http://127.0.0.1:{step.port}/health", HEALTH_TIMEOUT,
                gone=lambda: terminal.process.poll() is not None,  # the server exited
            )  # fmt: skip
        except WaitTimedOut as timed_out:
            pytest.fail(f"{where}: /health on {step.port}: {timed_out.last}\n{terminal.tail()}")
        assert response.json() == {"status": "ok"}, (where, response.body)
    else:
        wait_until(
            lambda: any(
                container["State"].get("Health", {}).get("Status") == "healthy"
                and step.args in " ".join(container["Config"]["Cmd"])
                for container in containers_since(terminal.started, {step.image})
            ),
            HEALTH_TIMEOUT, f"{where}: its {step.image} container is healthy",
            explain=terminal.tail,
        )  # fmt: skip
    terminal.interrupt()


def containers_since(started: float, images: set[str]) -> list[dict]:
    """docker inspect of each container of these images created since started (a time):
    not one of an earlier run, nor, likely, one of another test's that runs the same
    build (an identical image has the same ID whatever its tag)."""
    ids = {
        container
        for image in images
        for container in docker(
            "ps", "--all", "--quiet", "--filter", f"ancestor={image}"
        ).stdout.split()
    }
    # check=False: one may be gone (--rm) between the two commands.
    found = json.loads(docker("inspect", *ids, check=False).stdout or "[]") if ids else []
    return [container for container in found if created(container) >= started]


def created(container: dict) -> float:
    # Docker gives nanoseconds; fromisoformat takes microseconds at most.
    stamp = re.sub(r"(\.\d{6})\d*", r"\1", container["Created"]).replace("Z", "+00:00")
    return datetime.fromisoformat(stamp).timestamp()


# --- The project, per answer ---------------------------------------------------------


@dataclass
class Readme:
    project: Project
    env: dict[str, str]
    database_url: str | None  # of "a PostgreSQL of yours", with postgresql
    blocks: dict[str, Block]
    # What the blocks tag with a fixed name (docker build -t NAME): removed before they
    # run, so an image left by an earlier run cannot make one pass, and afterwards.
    tags: set[str] = field(default_factory=set)


def fixed_tags(blocks: list[Block]) -> set[str]:
    return {
        tag if ":" in tag else f"{tag}:latest"
        for block in blocks
        for tag in re.findall(r"(?:^|\s)(?:-t|--tag)[ =](\S+)", block.text)
    }


def remove_images(tags: set[str]) -> None:
    for tag in sorted(tags):
        docker("image", "rm", "--force", tag, check=False)
        assert docker("image", "inspect", tag, check=False).returncode != 0, tag


def postgresql_of_yours(session: DockerSession) -> str:
    """For "Without Docker", "a PostgreSQL of yours": the postgres image, published on a
    loopback port; its DATABASE_URL, to a database whose name ends in _test."""
    name = session.name("postgres")
    session.containers.add(name)
    docker(
        "run", "--detach", "--name", name, "--publish", "127.0.0.1::5432",
        "--env", "POSTGRES_HOST_AUTH_METHOD=trust", "postgres:18",
    )  # fmt: skip
    wait_until(
        lambda: docker(
            "exec", name, "pg_isready", "--host=127.0.0.1", "--username=postgres", check=False
        ).returncode == 0,
        HEALTH_TIMEOUT, "the PostgreSQL of yours accepts connections",
    )  # fmt: skip
    published = docker("port", name, "5432/tcp").stdout.split()[0].rsplit(":", 1)[1]
    return f"postgresql://postgres@127.0.0.1:{published}/{DEFAULT_APP_NAME}_test"


@pytest.fixture(scope="module", params=["default", "postgresql"])
def readme(request, docker_session: DockerSession, tmp_path_factory) -> Iterator[Readme]:
    bake = request.getfixturevalue(
        "default_project" if request.param == "default" else "with_postgresql"
    )
    root = tmp_path_factory.mktemp(f"readme-{request.param}")
    directory = root / DEFAULT_APP_NAME
    shutil.copytree(bake, directory, symlinks=True)
    project = compose_project(docker_session, directory)
    # "Without Docker" wants Poetry on PATH: the tooling venv's, alone in a folder,
    # with its venv in the project and the index this machine reaches (as
    # tests/test_generated_project_suite.py runs it).
    bin_dir = root / "bin"
    bin_dir.mkdir()
    (bin_dir / "poetry").symlink_to(tool("poetry"))
    env = {name: value for name, value in project.env.items() if name != "VIRTUAL_ENV"}
    env |= {
        "PATH": f"{bin_dir}:{env['PATH']}",
        "POETRY_VIRTUALENVS_IN_PROJECT": "true",
        "POETRY_NO_INTERACTION": "1",
        "POETRY_PYPI_MIRROR_URL": os.environ["POETRY_PYPI_MIRROR_URL"],
        "TERM": "xterm",
    }
    database_url = postgresql_of_yours(docker_session) if request.param == "postgresql" else None
    blocks = {block.name: block for block in project_blocks(directory) if block.file == "README.md"}
    state = Readme(project, env, database_url, blocks, fixed_tags(list(blocks.values())))
    remove_images(state.tags)
    yield state
    project.down()
    remove_images(state.tags)


def test_every_unmarked_block_runs_as_written(readme: Readme, request):
    answer = request.node.callspec.params["readme"]
    runs = BLOCKS[answer]
    started = time.monotonic()
    timings = []
    index = 0
    while index < len(runs):
        # A block and those it continues into run in one shell.
        group = [runs[index]]
        while group[-1].with_next:
            index += 1
            group.append(runs[index])
        index += 1
        blocks = [readme.blocks[run.name] for run in group]
        where = " + ".join(block.where for block in blocks)
        began = time.monotonic()
        text = "".join(block.text for block in blocks)
        env = dict(readme.env)
        if readme.database_url and any(run.own_database for run in group):
            env["DATABASE_URL"] = readme.database_url
        with Terminal(text, readme.project.directory, env) as terminal:
            try:
                for step in (step for run in group for step in run.user):
                    play(terminal, step, where)
                status = terminal.finish()
            finally:
                # A `docker run` whose client was killed keeps running: stop it.
                if terminal.process.poll() is None or terminal.process.returncode != 0:
                    leftovers = containers_since(terminal.started, readme.tags)
                    if leftovers:
                        docker("rm", "--force", *(c["Id"] for c in leftovers), check=False)
            assert status == 0, f"{where} exited {status}\n{terminal.tail()}"
        timings.append(f"{where}: {time.monotonic() - began:.0f} s")
    print(f"{answer}: {time.monotonic() - started:.0f} s in all", *timings, sep="\n  ")
    # "Adding a dependency" did what it says.
    assert any(name.startswith("requests") for name in dependencies(readme.project.directory))
