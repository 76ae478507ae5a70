"""Fixtures of the e2e tests: `cutout local up` as a real subprocess, and boto3 clients for it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.e2e.support import STARTUP_TIMEOUT_SECONDS, cutout_command


def _stop(process: subprocess.Popen[bytes]) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            return process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
    return process.returncode


@pytest.fixture(scope="module")
def local_up_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the module's `cutout local up` writes: stdout.txt, stderr.txt, describe.json."""
    return tmp_path_factory.mktemp("local-up")


@pytest.fixture(scope="module")
def local_up(local_up_output: Path) -> Iterator[dict[str, Any]]:
    """`cutout local up --port 0 --describe FILE` running; yields the description it wrote.

    Its stdout and stderr go to separate files in ``local_up_output``. After SIGINT it must exit 0,
    say how long stopping took, and remove the --describe file (it names an endpoint that is gone).
    """
    folder = local_up_output
    describe = folder / "describe.json"
    log_path = folder / "stderr.txt"
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    with log_path.open("wb") as log, (folder / "stdout.txt").open("wb") as stdout:
        process = subprocess.Popen(
            cutout_command("local", "up", "--port", "0", "--describe", str(describe)),
            stdout=stdout,
            stderr=log,
            env=environment,
        )
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
            while not describe.exists():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        f"`cutout local up` did not get ready:\n{log_path.read_text()[-4000:]}"
                    )
                time.sleep(0.2)
            yield json.loads(describe.read_text(encoding="utf-8"))
        finally:
            returncode = _stop(process)
    # Then, after SIGINT, it stopped cleanly with exit code 0, said so, and removed the description
    assert returncode == 0, log_path.read_text()[-4000:]
    assert "cutout local: stopped in " in log_path.read_text(encoding="utf-8")
    assert not describe.exists()


@pytest.fixture(scope="module")
def aws_client(local_up: dict[str, Any]) -> Callable[[str], Any]:
    def client(service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=local_up["endpoint_url"],
            region_name=local_up["region"],
            aws_access_key_id="anything",
            aws_secret_access_key="anything",
        )

    return client
