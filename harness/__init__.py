"""The plain library that the tests and the benchmark share: running commands
(commands), Docker and its images (containers), HTTP probes and bounded waits
(waits), the slow-client siege (siege) and building for linux/arm64 (arm64).

Nothing here imports pytest. A failure is an exception (CommandFailed, WaitTimedOut,
StandInMissing); the tests turn it into pytest.fail and the benchmark into sys.exit.
"""
