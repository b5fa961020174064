"""``kubectl`` as ``vault-aio verify`` and ``vault-aio upgrade-vault`` use it: the operator's own binary,
context and credentials, exactly like ``scripts/init-vault.sh``.

Secrets never go on a command line: a Vault token is passed to :meth:`Kubectl.exec` as ``stdin`` and read by
the shell in the pod (``VAULT_TOKEN="$(cat)"``), so it appears neither in ``kubectl``'s argv nor in the pod's
process list, and nothing here prints what it sent.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: The only in-pod snippet that carries a token: it reads it from stdin (the same as scripts/lib/common.sh).
TOKEN_WRAPPER = 'VAULT_TOKEN="$(cat)" exec vault "$@"'


@dataclass(frozen=True)
class Result:
    rc: int
    out: str
    err: str

    @property
    def ok(self) -> bool:
        return self.rc == 0

    def summary(self, limit: int = 300) -> str:
        """The error on one line: klog noise and ``command terminated with exit code`` dropped."""
        lines = [
            line.strip()
            for line in self.err.splitlines()
            if line.strip()
            and not line.startswith("command terminated with exit code")
            and not (len(line) > 5 and line[0] in "EWI" and line[1:5].isdigit())
        ]
        if not lines:
            lines = self.out.strip().splitlines()[-1:]
        text = " ".join(lines) or f"exit code {self.rc}"
        return text if len(text) <= limit else text[: limit - 3] + "..."

    def json(self) -> Any:
        return json.loads(self.out)


#: Runs one kubectl invocation: (argv without "kubectl", stdin bytes or None, extra environment) -> Result.
Runner = Callable[[Sequence[str], bytes | None, Mapping[str, str]], Result]


def subprocess_runner(timeout: float) -> Runner:
    def run(argv: Sequence[str], stdin: bytes | None, env: Mapping[str, str]) -> Result:
        try:
            proc = subprocess.run(
                ["kubectl", *argv],
                input=stdin if stdin is not None else b"",
                capture_output=True,
                timeout=timeout,
                env={**os.environ, **env} if env else None,
                check=False,
            )
        except FileNotFoundError:
            return Result(127, "", "kubectl not found on PATH: install it and point it at the cluster")
        except subprocess.TimeoutExpired:
            return Result(124, "", f"kubectl {' '.join(argv[:3])} did not finish within {timeout:.0f} s")
        return Result(
            proc.returncode, proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")
        )

    return run


class Kubectl:
    """kubectl with a fixed ``--context`` (optional)."""

    def __init__(self, runner: Runner, context: str | None = None) -> None:
        self.runner = runner
        self.context = context

    def run(self, *argv: str, stdin: bytes | None = None, env: Mapping[str, str] | None = None) -> Result:
        head = ["--context", self.context] if self.context else []
        return self.runner([*head, *argv], stdin, env or {})

    def get_json(self, namespace: str | None, *what: str) -> tuple[Any, Result]:
        """``kubectl get WHAT -o json`` (in ``namespace``); the parsed document or None, and the result."""
        ns = ["-n", namespace] if namespace else []
        res = self.run("get", *what, *ns, "-o", "json")
        if not res.ok:
            return None, res
        try:
            return res.json(), res
        except ValueError:
            return None, Result(1, res.out, f"kubectl get {' '.join(what)} printed no JSON")

    def pods(self, namespace: str, selector: str) -> tuple[list[Mapping[str, Any]], Result]:
        doc, res = self.get_json(namespace, "pods", "-l", selector)
        items: list[Mapping[str, Any]] = sorted(
            (doc or {}).get("items") or [], key=lambda p: _ordinal_key(p["metadata"]["name"])
        )
        return items, res

    def exec(
        self,
        namespace: str,
        pod: str,
        container: str,
        command: Sequence[str],
        *,
        stdin: bytes | None = None,
    ) -> Result:
        """Run ``command`` in a container; ``stdin`` (a token, never printed) is forwarded with ``-i``."""
        flags = ["-i"] if stdin is not None else []
        return self.run("exec", *flags, "-n", namespace, pod, "-c", container, "--", *command, stdin=stdin)


def _ordinal_key(name: str) -> tuple[str, int]:
    base, _, tail = name.rpartition("-")
    return (base, int(tail)) if tail.isdigit() else (name, -1)


def pod_ready(pod: Mapping[str, Any]) -> bool:
    if (pod.get("status") or {}).get("phase") != "Running" or pod["metadata"].get("deletionTimestamp"):
        return False
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return bool(cond.get("status") == "True")
    return False


def pod_running(pod: Mapping[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running" and not pod["metadata"].get(
        "deletionTimestamp"
    )
