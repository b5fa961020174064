"""What each pinned image ships, so every command ``vault-aio verify`` runs in a pod uses a tool it has.

No debug container and no extra image is ever started: a check that needs a tool the stack's images lack is
skipped (or run from another pod of the stack that has it and that the NetworkPolicies let through).

The contents come from each image's Dockerfile at the pinned version (``vaultaio_constructs/versions.py``):

* ``hashicorp/vault``: ``alpine:3`` + libcap su-exec dumb-init tzdata (``Dockerfile``, target ``default``).
  Used: the ``vault`` CLI, ``cat``, ``sh``.
* ``quay.io/prometheus/prometheus`` and ``quay.io/prometheus/alertmanager``: ``quay.io/prometheus/busybox``
  (``busybox:glibc`` plus CA certificates). Used: busybox ``wget``.
* ``grafana/grafana``: ``alpine`` + ca-certificates bash curl tzdata musl-utils (``Dockerfile``, final stage).
  Used: ``curl``, ``bash`` and busybox ``timeout``, ``base64``, ``tr``.
* ``grafana/loki``: ``gcr.io/distroless/static:debug``, busybox in ``/busybox`` (``cmd/loki/Dockerfile``).
  Used: busybox ``wget``.
* ``grafana/tempo``: ``gcr.io/distroless/static-debian12`` (``cmd/tempo/Dockerfile``): no shell, no tools;
  Tempo's API is asked from another pod that the NetworkPolicies let through.
* ``grafana/alloy``: ``ubuntu:noble`` + ca-certificates libsystemd0 tzdata (``Dockerfile``): no curl or wget.
  Used: ``bash`` (``/dev/tcp``) and coreutils ``timeout``.
* ``dockurr/chrony``: ``alpine:edge`` + chrony-nts bash tzdata (``Dockerfile``). Used: ``chronyc``, ``bash``.

An image overridden to a repository not listed here is treated as having no tools.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class Http(StrEnum):
    """How a pod can make an HTTP request."""

    CURL = "curl"
    WGET = "wget"  # busybox wget: GET only, the status only when it fails
    BASH = "bash"  # bash's /dev/tcp: plain HTTP/1.0, GET and POST


@dataclass(frozen=True)
class Toolbox:
    """The tools of one image that verify relies on."""

    #: Base image and packages, as its Dockerfile says.
    contents: str
    #: The HTTP client, if any.
    http: Http | None
    #: bash and timeout: a bare TCP connection test (``exec 3<>/dev/tcp/HOST/PORT``).
    tcp_probe: bool


TOOLBOXES: Final[dict[str, Toolbox]] = {
    "hashicorp/vault": Toolbox(contents="alpine:3 (busybox) + vault CLI", http=Http.WGET, tcp_probe=False),
    "prometheus/prometheus": Toolbox(contents="prometheus/busybox", http=Http.WGET, tcp_probe=False),
    "prometheus/alertmanager": Toolbox(contents="prometheus/busybox", http=Http.WGET, tcp_probe=False),
    "grafana/grafana": Toolbox(contents="alpine + bash curl", http=Http.CURL, tcp_probe=True),
    "grafana/loki": Toolbox(contents="distroless/static:debug (busybox)", http=Http.WGET, tcp_probe=False),
    "grafana/tempo": Toolbox(contents="distroless/static-debian12", http=None, tcp_probe=False),
    "grafana/alloy": Toolbox(contents="ubuntu:noble (bash, coreutils)", http=Http.BASH, tcp_probe=True),
    "dockurr/chrony": Toolbox(contents="alpine:edge + chrony bash", http=Http.WGET, tcp_probe=True),
}

NO_TOOLS: Final = Toolbox(contents="unknown image", http=None, tcp_probe=False)


def repository(image: str) -> str:
    """``docker.io/grafana/loki:3.7.6`` -> ``grafana/loki``; ``quay.io/prometheus/prometheus:v3`` likewise."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)
    if ":" in last[-1]:
        name = name[: name.rindex(":")]
    parts = name.split("/")
    if len(parts) > 2 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    if parts[0] == "library":
        parts = parts[1:]
    return "/".join(parts)


def toolbox(image: str) -> Toolbox:
    return TOOLBOXES.get(repository(image), NO_TOOLS)


# ---- commands run in pods --------------------------------------------------------------------------------

#: A TCP connection and nothing else: exit 0 when connected (bash's /dev/tcp), under ``timeout``.
TCP_CONNECT: Final = 'exec 3<>"/dev/tcp/$1/$2"'

#: Plain HTTP/1.0 over bash's /dev/tcp: METHOD PATH to HOST PORT with a JSON body (may be empty); prints the
#: raw response. Arguments: host port method path body.
BASH_HTTP: Final = (
    'exec 3<>"/dev/tcp/$1/$2" || exit 7; '
    'printf "%s %s HTTP/1.0\\r\\nHost: %s:%s\\r\\nContent-Type: application/json\\r\\n'
    'Content-Length: %s\\r\\nConnection: close\\r\\n\\r\\n%s" "$3" "$4" "$1" "$2" "${#5}" "$5" >&3; '
    "cat <&3"
)

#: curl with HTTP basic credentials read from two files in the pod (Grafana's mounted admin Secret). The
#: credentials go to curl on stdin as a config file (``-K -``): they are in no process's argv, and never leave
#: the pod. Arguments: user-file password-file timeout url.
CURL_BASIC_AUTH: Final = (
    'u=$(cat "$1") && p=$(cat "$2") || exit 3; '
    "b=$(printf '%s:%s' \"$u\" \"$p\" | base64 | tr -d '\\n'); "
    'printf \'header = "Authorization: Basic %s"\\n\' "$b" | '
    'curl -sS -m "$3" -K - -w "\\n%{http_code}" "$4"'
)


def http_get(tool: Http, host: str, port: int, path: str, timeout: int) -> list[str]:
    """The command that GETs ``http://host:port/path`` with ``tool``."""
    url = f"http://{host}:{port}{path}"
    if tool is Http.CURL:
        return ["curl", "-sS", "-m", str(timeout), "-w", "\n%{http_code}", url]
    if tool is Http.WGET:
        return ["wget", "-q", "-T", str(timeout), "-O", "-", url]
    return ["timeout", str(timeout), "bash", "-c", BASH_HTTP, "bash", host, str(port), "GET", path, ""]


def http_post_json(host: str, port: int, path: str, body: str, timeout: int) -> list[str]:
    """POST a JSON body with bash (the one tool every image that receives OTLP here has)."""
    return ["timeout", str(timeout), "bash", "-c", BASH_HTTP, "bash", host, str(port), "POST", path, body]


def tcp_connect(host: str, port: int, timeout: int) -> list[str]:
    return ["timeout", str(timeout), "bash", "-c", TCP_CONNECT, "bash", host, str(port)]


def parse_http(tool: Http, rc: int, out: str, err: str) -> tuple[int, str]:
    """(status, body) of a request made by :func:`http_get`; status 0 when nothing answered."""
    if tool is Http.CURL:
        body, _, code = out.rpartition("\n")
        return (int(code) if code.strip().isdigit() else 0), body
    if tool is Http.WGET:
        if rc == 0:
            return 200, out
        match = re.search(r"HTTP/\d(?:\.\d)? (\d{3})", err)
        return (int(match.group(1)) if match else 0), out
    parts = re.split(r"\r?\n\r?\n", out, maxsplit=1)
    head, body = parts[0], parts[1] if len(parts) > 1 else ""
    match = re.search(r"\AHTTP/\d(?:\.\d)? (\d{3})", head)
    return (int(match.group(1)), body) if match else (0, out)
