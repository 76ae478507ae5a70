"""``cutout emulator`` as a subprocess: ready line, stats, signals, and its argument errors."""

from __future__ import annotations

import importlib.util
import os
import selectors
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.functional.aidge_testkit import KEY_NAME, KEY_SECRET, b64, product_photo, signed_params

CUTOUT = Path(sys.executable).parent / "cutout"
READY_WAIT_SECONDS = 60


def studio_engine_problem() -> str | None:
    """Why the default engine cannot be used yet, or ``None`` when it can."""
    if importlib.util.find_spec("cutout_tools.studio") is None:
        return "cutout_tools.studio does not exist yet"
    try:
        from cutout_tools.studio import StudioEngine

        StudioEngine()
    except Exception as error:  # noqa: BLE001 - any failure means the CLI cannot start its engine
        return f"the studio engine cannot be built yet: {error!r}"
    return None


needs_studio = pytest.mark.skipif(
    studio_engine_problem() is not None,
    reason=f"`cutout emulator` serves the studio engine: {studio_engine_problem()}",
)


def environment(**extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name != "CUTOUT_EMULATOR_KEY_SECRET"}
    return {**env, **extra}


def read_ready_line(process: subprocess.Popen[str]) -> str:
    """The first stdout line, waited for without blocking forever."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=READY_WAIT_SECONDS):
            process.kill()
            pytest.fail("`cutout emulator` printed nothing")
    return process.stdout.readline().strip()


@pytest.fixture
def cli_emulator() -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`cutout emulator` on port 0 with a certain 501 fault, the secret from the environment."""
    process = subprocess.Popen(
        [
            str(CUTOUT),
            "emulator",
            "--port",
            "0",
            "--key-name",
            KEY_NAME,
            "--fault",
            "501:1",
            "--seed",
            "3",
            "--verbose",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(CUTOUT_EMULATOR_KEY_SECRET=KEY_SECRET),
    )
    try:
        line = read_ready_line(process)
        yield process, line
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


@needs_studio
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_the_cli_serves_until_a_signal_and_exits_zero(
    cli_emulator: tuple[subprocess.Popen[str], str], stop_signal: signal.Signals
) -> None:
    # Given `cutout emulator --port 0` started with its secret in the environment
    process, line = cli_emulator
    # When its ready line is read and it is called
    url = line.split()[-1]
    assert line.startswith("Aidge emulator ready at http://127.0.0.1:")
    answer = httpx.post(
        f"{url}/rest/ai/image/cut/out",
        params=signed_params(),
        json={"imageBase64": b64(product_photo()), "backGroundType": "TRANSPARENT"},
        trust_env=False,
        timeout=30,
    ).json()
    stats = httpx.get(f"{url}/_emulator/stats", trust_env=False, timeout=30).json()
    # Then the flags applied (a certain 501 fault) and the stats count the call
    assert answer["resCode"] == 501
    assert (stats["calls"], stats["billed"], stats["faults"]) == (1, 0, {"501": 1})
    # And a signal stops it cleanly with exit status 0, without the secret in its output
    process.send_signal(stop_signal)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0
    assert KEY_SECRET not in stdout + stderr + line


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CUTOUT), *args], capture_output=True, text=True, env=environment(**env), timeout=60, check=False
    )


def test_the_cli_refuses_to_start_without_a_secret() -> None:
    # Given no --key-secret and no CUTOUT_EMULATOR_KEY_SECRET
    # When the emulator is started
    completed = run_cli("emulator", "--port", "0", "--key-name", KEY_NAME)
    # Then it exits 2 saying where the secret comes from
    assert completed.returncode == 2
    assert "CUTOUT_EMULATOR_KEY_SECRET" in completed.stderr


def test_the_cli_refuses_a_bad_fault() -> None:
    # Given a fault kind that does not exist
    # When the emulator is started with it
    completed = run_cli(
        "emulator", "--key-name", KEY_NAME, "--fault", "418:0.5", CUTOUT_EMULATOR_KEY_SECRET="s"
    )
    # Then argparse refuses it with the reason
    assert completed.returncode == 2
    assert "unknown fault kind" in completed.stderr


def test_the_cli_help_documents_the_flags() -> None:
    # Given the emulator's help
    # When it is printed
    completed = run_cli("emulator", "--help")
    # Then it lists every flag scripts use, and the secret's environment variable
    assert completed.returncode == 0
    for flag in ("--host", "--port", "--key-name", "--key-secret", "--latency-ms", "--fault", "--seed"):
        assert flag in completed.stdout
    assert "--timeout-seconds" in completed.stdout
    assert "CUTOUT_EMULATOR_KEY_SECRET" in completed.stdout


def test_the_cli_without_a_command_shows_usage() -> None:
    # Given no subcommand
    # When `cutout` runs
    completed = run_cli()
    # Then it exits 2 with the usage listing the emulator command
    assert completed.returncode == 2
    assert "emulator" in completed.stderr


def test_the_cli_reports_a_busy_port() -> None:
    # Given a port already bound by another socket
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # When the emulator is asked to serve on it
        completed = run_cli(
            "emulator", "--port", str(port), "--key-name", KEY_NAME, CUTOUT_EMULATOR_KEY_SECRET=KEY_SECRET
        )
    # Then it exits 1 with the reason (or, before the studio engine exists, with that reason)
    assert completed.returncode == 1
    assert "cutout emulator:" in completed.stderr
