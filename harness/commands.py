"""Running a command and capturing what it printed."""

import contextlib
import subprocess
from collections.abc import Sequence
from pathlib import Path


class CommandFailed(Exception):
    """A command exited non-zero; result holds its exit code and what it printed."""

    def __init__(self, command: Sequence, result: subprocess.CompletedProcess, output: str):
        self.command = [str(part) for part in command]
        self.result = result
        # stdout and stderr together where they were merged (or written to a log), else stdout.
        self.output = output
        super().__init__(f"{' '.join(self.command)} exited {result.returncode}")


def run(
    command: Sequence, *, check: bool = True, log: Path | None = None, merge: bool = False,
    **kwargs,
) -> subprocess.CompletedProcess:  # fmt: skip
    """Run command (its parts made strings), its output captured as text: stdout and
    stderr apart, or merged into stdout (merge), or both written to log instead. With
    check, raise CommandFailed if it exits non-zero."""
    with open(log, "w") if log else contextlib.nullcontext() as out:
        if log or merge:
            kwargs.update(stdout=out or subprocess.PIPE, stderr=subprocess.STDOUT)
        else:
            kwargs.update(capture_output=True)
        result = subprocess.run([str(part) for part in command], text=True, **kwargs)
    if check and result.returncode != 0:
        output = Path(log).read_text() if log else result.stdout
        raise CommandFailed(command, result, output)
    return result
