"""Real processes on loopback: gatewatch, Alertmanager and Prometheus, started and stopped."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Self

import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.support.auth import TOKENS
from tests.support.ports import free_port


def _wait_http(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url} not ready after {timeout}s:\n{log.read_text()}")


class LoopbackProcess:
    """A server process on a free loopback port: started, waited for, stopped or killed."""

    log_name = "process.log"
    ready_path = "/"

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / self.log_name
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self) -> Self:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(), cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT
            )
        _wait_http(f"{self.url}{self.ready_path}", self.process, self.log)
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flushing; what was committed must survive."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class GatewatchProcess(LoopbackProcess):
    """`gatewatch serve` in a subprocess, with a config file written for it."""

    log_name = "gatewatch.log"
    ready_path = "/readyz"

    def __init__(
        self,
        workdir: Path,
        config: dict[str, Any],
        clock_file: Path | None = None,
        workers: int = 1,
    ) -> None:
        super().__init__(workdir)
        self.config_path = workdir / "gatewatch.yml"
        self.config_path.write_text(yaml.safe_dump({**config, "listen": f"127.0.0.1:{self.port}"}))
        self.clock_file = clock_file
        self.workers = workers

    def command(self) -> list[str]:
        clock = ["--clock-file", str(self.clock_file)] if self.clock_file is not None else []
        return [
            sys.executable,
            "-m",
            "gatewatch",
            "serve",
            "--config",
            str(self.config_path),
            "--log-level",
            "warning",
            "--workers",
            str(self.workers),
            *clock,
        ]


def webhook_to_gatewatch(gatewatch_url: str, group_by: list[str]) -> dict[str, Any]:
    """An Alertmanager config sending every group, 1 s apart, to gatewatch's webhook."""
    return {
        "route": {
            "receiver": "gatewatch",
            "group_by": group_by,
            "group_wait": "1s",
            "group_interval": "1s",
            "repeat_interval": "1h",
        },
        "receivers": [
            {
                "name": "gatewatch",
                "webhook_configs": [
                    {
                        "url": f"{gatewatch_url}/api/v1/webhooks/alertmanager",
                        "send_resolved": True,
                        "http_config": {
                            "authorization": {"type": "Bearer", "credentials": TOKENS["ingest"]}
                        },
                    }
                ],
            }
        ],
    }


class AlertmanagerProcess(LoopbackProcess):
    """Debian's `prometheus-alertmanager`, state in a temp dir; alone, or a cluster member
    when `peers` is given (an empty list starts a cluster of one that others join)."""

    log_name = "alertmanager.log"
    ready_path = "/-/ready"

    def __init__(
        self,
        workdir: Path,
        config: dict[str, Any],
        peers: list[str] | None = None,
        peer_timeout: str = "15s",
    ) -> None:
        super().__init__(workdir)
        self.config_path = workdir / "alertmanager.yml"
        self.config_path.write_text(yaml.safe_dump(config))
        self.peers = peers
        self.peer_timeout = peer_timeout
        self.cluster_address = f"127.0.0.1:{free_port()}" if peers is not None else ""

    def command(self) -> list[str]:
        cluster = [f"--cluster.listen-address={self.cluster_address}"]
        if self.peers is not None:
            cluster += [f"--cluster.peer={peer}" for peer in self.peers]
            cluster += [
                f"--cluster.peer-timeout={self.peer_timeout}",
                "--cluster.settle-timeout=2s",
            ]
        return [
            "prometheus-alertmanager",
            f"--config.file={self.config_path}",
            f"--storage.path={self.workdir / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            *cluster,
            "--log.level=warn",
        ]

    def cluster_peers(self) -> int:
        """How many members (itself included) this Alertmanager sees in its cluster."""
        status = httpx.get(f"{self.url}/api/v2/status", timeout=5).json()
        return len(status["cluster"].get("peers") or [])

    def notifications_sent(self) -> float:
        """Notifications this Alertmanager has sent to its webhook receivers."""
        text = httpx.get(f"{self.url}/metrics", timeout=5).text
        return sum(
            sample.value
            for family in text_string_to_metric_families(text)
            if family.name == "alertmanager_notifications"
            for sample in family.samples
            if sample.name == "alertmanager_notifications_total"
            and sample.labels.get("integration") == "webhook"
        )


class PrometheusProcess(LoopbackProcess):
    """Debian's `prometheus` on loopback, scraping `targets` every second, with rule files."""

    log_name = "prometheus.log"
    ready_path = "/-/ready"

    def __init__(
        self,
        workdir: Path,
        targets: dict[str, list[str]],
        rule_files: list[Path],
        interval: str = "1s",
    ) -> None:
        super().__init__(workdir)
        self.config_path = workdir / "prometheus.yml"
        self.config_path.write_text(
            yaml.safe_dump(
                {
                    "global": {"scrape_interval": interval, "evaluation_interval": interval},
                    "rule_files": [str(path) for path in rule_files],
                    "scrape_configs": [
                        {"job_name": job, "static_configs": [{"targets": addresses}]}
                        for job, addresses in targets.items()
                    ],
                }
            )
        )

    def command(self) -> list[str]:
        return [
            "prometheus",
            f"--config.file={self.config_path}",
            f"--storage.tsdb.path={self.workdir / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--log.level=warn",
        ]

    def alerts(self) -> list[dict[str, Any]]:
        body = httpx.get(f"{self.url}/api/v1/alerts", timeout=5).json()
        alerts: list[dict[str, Any]] = body["data"]["alerts"]
        return alerts
