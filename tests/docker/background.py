"""A command left running while a test watches its output (make dev, compose watch)."""

import os
import signal
import subprocess
import threading
from collections.abc import Callable

import pytest

from tests.docker.waits import wait_until
from tests.helpers import ANSI


class Background:
    """A command running in its own process group, its output collected as it comes."""

    def __init__(self, command: list[str], **kwargs):
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
            start_new_session=True,
            **kwargs,
        )
        self.chunks: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.chunks.append(line)

    @property
    def output(self) -> str:
        return ANSI.sub("", "".join(self.chunks))

    def wait_for(self, condition: Callable[[], object], timeout: float, what: str):
        """wait_until condition holds, failing at once (with the output) if the process exits."""

        def met():
            if (value := condition()) or self.process.poll() is None:
                return value
            exited = self.process.poll()
            pytest.fail(f"{what}: the process exited ({exited})\n{self.output[-6000:]}")

        return wait_until(met, timeout, what, interval=0.5, explain=lambda: self.output[-6000:])

    def stop(self) -> str:
        """Interrupt the whole process group, as Ctrl-C would, then kill it if it lingers."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.reader.join(timeout=10)
        return self.output
