"""Start processes in order, wait until each is healthy, restart the ones that die (with
back-off), stop them all in reverse order."""

import logging
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from gatewatch.errors import GatewatchError

log = logging.getLogger(__name__)
DEBIAN_PACKAGES = {"prometheus": "prometheus", "prometheus-alertmanager": "prometheus-alertmanager"}


@dataclass
class Component:
    name: str
    command: list[str]
    url: str
    health_path: str
    log_file: Path
    depends_on: tuple[str, ...] = ()
    environment: dict[str, str] = field(default_factory=dict)  # added to the inherited one
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = 0.0
    next_start: float = 0.0
    backoff: float = field(default=1.0)
    held: bool = False

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None


class MissingBinary(GatewatchError):
    """A component's program is not installed."""


def check_binaries(components: list[Component]) -> None:
    for component in components:
        program = component.command[0]
        if shutil.which(program) is None:
            package = DEBIAN_PACKAGES.get(program, program)
            raise MissingBinary(
                f"{program} not found (needed for {component.name})",
                hint=f"install the Debian package {package}: make setup",
            )


HEALTHY_RUN = 30.0  # a component up this long starts its back-off afresh


class Supervisor:
    def __init__(
        self,
        components: list[Component],
        ready_timeout: float = 60.0,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.components = components
        self.ready_timeout = ready_timeout
        self.stopping = threading.Event()
        self.on_change = on_change

    def _spawn(self, component: Component) -> None:
        component.log_file.parent.mkdir(parents=True, exist_ok=True)
        with component.log_file.open("ab") as out:
            component.process = subprocess.Popen(
                component.command,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=os.environ | component.environment if component.environment else None,
            )
        component.started_at = time.monotonic()

    def _wait_healthy(self, component: Component) -> None:
        if not component.health_path:
            return
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            assert component.process is not None
            if component.process.poll() is not None:
                tail = component.log_file.read_text()[-2000:]
                raise GatewatchError(
                    f"{component.name} exited with {component.process.returncode}:\n{tail}",
                    hint=f"see {component.log_file}",
                )
            try:
                if httpx.get(component.url + component.health_path, timeout=1).is_success:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise GatewatchError(
            f"{component.name} not healthy after {self.ready_timeout:.0f}s",
            hint=f"see {component.log_file}",
        )

    def start_all(self) -> None:
        check_binaries(self.components)
        for component in self.components:
            self._spawn(component)
            self._wait_healthy(component)

    def component(self, name: str) -> Component:
        for component in self.components:
            if component.name == name:
                return component
        known = ", ".join(c.name for c in self.components)
        raise GatewatchError(f"no component {name!r} in the stack", hint=f"known: {known}")

    def hold(self, name: str) -> None:
        """Stop a component and keep it stopped (drills take a gateway down this way)."""
        component = self.component(name)
        component.held = True
        self._terminate(component)
        self.on_change()

    def release(self, name: str) -> None:
        """Start a held component, wait until it is healthy, then restart its dependents."""
        component = self.component(name)
        self._spawn(component)
        self._wait_healthy(component)
        component.held = False
        for dependent in self.components:
            if name in dependent.depends_on and not dependent.held:
                dependent.held = True
                self._terminate(dependent)
                self._spawn(dependent)
                self._wait_healthy(dependent)
                dependent.held = False
        self.on_change()

    def watch(self, poll: float = 0.5) -> None:
        """Until stopped: restart any component that died, backing off 1s, 2s, 4s … 30s."""
        while not self.stopping.wait(poll):
            now = time.monotonic()
            for component in self.components:
                process = component.process
                if process is None or component.held:
                    continue
                if process.poll() is None:
                    if now - component.started_at > HEALTHY_RUN:
                        component.backoff = 1.0
                    continue
                if now < component.next_start:
                    continue
                log.warning(
                    "%s exited with %s; restarting (back-off %.0fs)",
                    component.name,
                    process.returncode,
                    component.backoff,
                )
                component.restarts += 1
                component.next_start = now + component.backoff
                component.backoff = min(component.backoff * 2, 30.0)
                self._spawn(component)
                self.on_change()

    @staticmethod
    def _terminate(component: Component) -> None:
        process = component.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop_all(self) -> None:
        self.stopping.set()
        for component in reversed(self.components):
            self._terminate(component)
