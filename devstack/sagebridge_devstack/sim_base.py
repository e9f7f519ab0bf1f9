"""What the dev stack needs from any simulator it runs, store or ERP (store_sims.py, erp_sims.py):
its port, the process that serves it, a seed once it answers, and what the hub's services are
told about it. `Stack` calls `process()`, then `seed()` once every simulator answers, then
`service_env()` for every service it starts."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .processes import ManagedProcess

if TYPE_CHECKING:
    from .stack import Stack


class SimulatorSide:
    kind = ""
    name = ""              # the simulator's name in the CLI output and the live view
    port_name = ""         # the key of its port in `Stack.ports`

    def __init__(self, stack: "Stack") -> None:
        self.stack = stack

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.stack.ports[self.port_name]}"

    def state_files(self) -> list[Path]:
        """Files the simulator keeps between runs in the work dir (deleted unless --keep)."""
        return []

    def process(self) -> ManagedProcess:
        raise NotImplementedError

    def seed(self) -> None:
        """What the demo and the tests rely on beyond the simulator's own demo seed."""

    def service_env(self, service: str) -> dict[str, str]:
        return {}

    def describe(self) -> list[tuple[str, str]]:
        """(label, text) lines `sagebridge-dev up` prints."""
        return [(f"{self.name} simulator", self.url)]
