"""A redis-server of a test's own, on its own port, that the test can stop and start again."""

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest


class RedisProcess:
    def __init__(self, port: int, directory: Path):
        self.port = port
        self.directory = directory
        self.process = None
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed (Debian package redis-server)")
        self.process = subprocess.Popen(  # noqa: S603
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
             "--appendonly", "yes", "--save", "", "--daemonize", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


def redis_fixture(port: int):
    @pytest.fixture
    def _redis(tmp_path):
        server = RedisProcess(port, tmp_path)
        server.start()
        yield server
        server.stop()

    return _redis
