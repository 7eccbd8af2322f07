"""Slow clients: many connections that never finish their request headers, while a
normal client asks for /health (the edge tests use it, and the benchmark measures it)."""

import asyncio
import time
from dataclasses import dataclass

from harness.waits import http_get


@dataclass
class SiegeResult:
    """What a normal client saw while slow clients held connections open."""

    tried: int
    answered: int  # status 200 within the normal client's timeout
    slowest: float  # seconds, of the answered requests
    failures: list[str]
    slow_held_peak: int  # slow connections open at once, at the most
    slow_opened: int  # slow connections opened in all (the server may close them)


async def _slow_client(port: int, interval: float, stop: asyncio.Event, state: dict) -> None:
    """Start a request and send one more header line every `interval` seconds, never
    the blank line that ends the headers; reconnect when the server hangs up."""
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.5)
            continue
        state["opened"] += 1
        state["held"] += 1
        state["peak"] = max(state["peak"], state["held"])
        try:
            writer.write(b"GET /health HTTP/1.1\r\nHost: localhost\r\n")
            while not stop.is_set():
                await writer.drain()
                try:
                    # Anything from the server (an error page, or EOF) ends this connection.
                    await asyncio.wait_for(reader.read(1), timeout=interval)
                    break
                except TimeoutError:
                    writer.write(b"X-Still-Coming: 1\r\n")
        except OSError:
            pass
        finally:
            state["held"] -= 1
            writer.close()


def _normal_request(url: str, timeout: float) -> tuple[float, str | None]:
    started = time.monotonic()
    try:
        status = http_get(url, timeout=timeout).status
        problem = None if status == 200 else f"status {status}"
    except OSError as error:
        problem = repr(error)
    return time.monotonic() - started, problem


async def _siege(
    port: int, slow: int, duration: float, interval: float, every: float, timeout: float
) -> SiegeResult:
    stop = asyncio.Event()
    state = {"opened": 0, "held": 0, "peak": 0}
    slow_tasks = [
        asyncio.create_task(_slow_client(port, interval, stop, state)) for _ in range(slow)
    ]
    # Every slow connection is open before the normal client starts asking.
    deadline = time.monotonic() + 30
    while state["held"] < slow and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    url = f"http://127.0.0.1:{port}/health"
    seen: list[tuple[float, str | None]] = []
    end = time.monotonic() + duration
    while time.monotonic() < end:
        seen.append(await asyncio.to_thread(_normal_request, url, timeout))
        await asyncio.sleep(every)
    stop.set()
    for task in slow_tasks:
        task.cancel()
    await asyncio.gather(*slow_tasks, return_exceptions=True)
    answered = [seconds for seconds, problem in seen if problem is None and seconds < timeout]
    return SiegeResult(
        tried=len(seen),
        answered=len(answered),
        slowest=max(answered, default=0.0),
        failures=[problem for _, problem in seen if problem][:5],
        slow_held_peak=state["peak"],
        slow_opened=state["opened"],
    )


def slow_client_siege(
    port: int,
    slow: int = 1000,
    duration: float = 30,
    interval: float = 10,
    every: float = 0.5,
    timeout: float = 2,
) -> SiegeResult:
    """Hold `slow` connections on 127.0.0.1:port with unfinished request headers (one
    more header line every `interval` s), and meanwhile GET /health every `every` s
    for `duration` s, each with `timeout` s to answer. Bounded: it stops by itself."""
    return asyncio.run(_siege(port, slow, duration, interval, every, timeout))
