"""A fake ``kubectl`` that plays a small Kubernetes namespace with a Vault StatefulSet, for the script tests.

It answers the kubectl verbs the operator scripts use (``get``, ``create secret generic``, ``delete
secret``, ``exec``, ``config current-context``) and, inside ``exec``, the commands they run in the Vault
container: the ``vault`` CLI (with the JSON shapes of Vault 2.0.4, from ``fixtures/``), the token wrapper
``sh -c 'VAULT_TOKEN="$(cat)" exec vault "$@"'``, ``ls``, ``cat``, ``rm -f`` and a ``sha256sum`` probe.
Anything else fails with exit code 127, so a script that drifts from what the fake knows fails loudly instead
of passing by accident.

The state is a JSON document (``FAKE_KUBECTL_STATE``) that the tests build with :func:`new_state` and read
back after the run. Every invocation is appended to the JSON-lines file ``FAKE_KUBECTL_LOG`` as
``{"argv": [...], "stdin": "..." | null}`` (stdin is recorded only when ``-i`` forwards it, as with the real
kubectl), so tests can assert what was called and that secrets travel on stdin only.

Run it as a program (``python fake_kubectl.py ARGS``); tests import :func:`new_state` and the constants.
"""

from __future__ import annotations

# Start-up time matters (the scripts call kubectl dozens of times per test): only cheap modules are imported
# at run time. The state and the log are marshal files, fixtures are loaded into the state by the tests, and
# JSON output is written by a small encoder (json, base64 and pathlib import re, enum and more).
import binascii
import marshal
import os
import sys

TYPE_CHECKING = False  # typing itself takes ~8 ms to import

if TYPE_CHECKING:
    from typing import Any

    State = dict[str, Any]

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
FIXTURE_FILES = (
    "status_uninitialized.json",
    "status_uninitialized_transit.json",
    "status_sealed.json",
    "status_unsealed_active.json",
    "status_unsealed_standby.json",
    "operator_init_shamir.json",
    "operator_init_recovery.json",
    "audit_list_stdout.json",
    "secrets_list.json",
    "secrets_list_pki_entry.json",
    "auth_list.json",
    "auth_list_kubernetes_entry.json",
    "pki_root_generate.json",
    "pki_cert_ca.json",
    "token_lookup.json",
)

#: The label selector of the Vault pods (the contract with the Vault construct).
VAULT_SELECTOR = "app.kubernetes.io/name=vault,app.kubernetes.io/instance=vault-aio"
#: The only in-pod shell snippet that may carry a token: it reads the token from stdin.
TOKEN_WRAPPER = 'VAULT_TOKEN="$(cat)" exec vault "$@"'
#: Prefix of every error a Vault API call returns through the CLI.
API_ERROR = (
    "Error making API request.\n\nURL: {method} https://127.0.0.1:8200/v1/{path}\n"
    + "Code: {code}. Errors:\n\n* {msg}"
)


class Result:
    """What one invocation prints and returns."""

    def __init__(self, rc: int = 0, out: bytes | str = b"", err: str = "") -> None:
        self.rc = rc
        self.out = out.encode() if isinstance(out, str) else out
        self.err = err


def fixture(name: str) -> Any:
    """Parse ``fixtures/<name>`` (JSON); used by the tests, which load every fixture into the state."""
    import json

    with open(os.path.join(FIXTURES, name)) as f:
        return json.load(f)


def _read(path: str) -> str:
    with open(path) as f:
        return f.read()


def load_state(path: str | os.PathLike[str]) -> State:
    with open(path, "rb") as f:
        data: State = marshal.load(f)
    return data


def save_state(path: str | os.PathLike[str], state: State) -> None:
    with open(path, "wb") as f:
        marshal.dump(state, f)


def read_log(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The logged invocations: ``{"argv": [...], "stdin": str | None}`` each."""
    calls = []
    with open(path, "rb") as f:
        while True:
            try:
                calls.append(marshal.load(f))
            except EOFError:
                return calls


def _fx(state: State, name: str) -> Any:
    """A deep copy of a fixture from the state."""
    data: Any = marshal.loads(marshal.dumps(state["fixtures"][name]))
    return data


def to_json(data: Any, indent: str = "") -> str:
    """JSON as Vault's CLI prints it (two-space indentation); :func:`out_json` adds the final newline."""
    from _json import encode_basestring

    if data is None:
        return "null"
    if data is True:
        return "true"
    if data is False:
        return "false"
    if isinstance(data, int | float):
        return repr(data)
    if isinstance(data, str):
        return str(encode_basestring(data))
    inner = indent + "  "
    if isinstance(data, list):
        if not data:
            return "[]"
        return "[\n" + ",\n".join(inner + to_json(v, inner) for v in data) + "\n" + indent + "]"
    if not data:
        return "{}"
    items = (inner + str(encode_basestring(k)) + ": " + to_json(v, inner) for k, v in data.items())
    return "{\n" + ",\n".join(items) + "\n" + indent + "}"


def out_json(data: Any) -> str:
    return to_json(data) + "\n"


def new_state(
    *,
    namespace: str = "vault-aio",
    pods: int = 1,
    seal: str = "shamir",
    initialized: bool = False,
    sealed: bool = True,
    secrets: dict[str, dict[str, str]] | None = None,
) -> State:
    """A namespace with the Vault StatefulSet and ``pods`` Running pods.

    ``initialized=True`` means a cluster initialised earlier with the fixture's keys and root token (all pods
    are members); ``sealed`` then says whether the pods are sealed. Tests tweak the returned dict further.
    """
    init_fixture = "operator_init_shamir.json" if seal == "shamir" else "operator_init_recovery.json"
    init_output = fixture(init_fixture)
    names = [f"vault-{i}" for i in range(pods)]
    policies = sorted(os.listdir(os.path.join(FIXTURES, "policies")))
    with open(os.path.join(FIXTURES, "raft.snap"), "rb") as f:
        snapshot = f.read()
    return {
        "fixtures": {name: fixture(name) for name in FIXTURE_FILES},
        "snapshot_bytes": snapshot,
        "reachable": True,
        "forbidden": False,
        "namespaces": ["default", "kube-system", namespace],
        "namespace": namespace,
        "statefulset": True,
        "secrets": dict(secrets or {}),
        # secretName of each cert-manager Certificate in the namespace (None: cert-manager not installed)
        "certificates": None,
        # Secrets of the other namespaces that exist (the node namespace): namespace -> name -> data
        "other_secrets": {},
        # DaemonSets in any namespace, each {"namespace", "name", "labels"} (scenery: another stack's Alloy
        # carries the same labels, which is why the scripts never look for it)
        "daemonsets": [],
        # NetworkPolicy objects (as in dist/) in any namespace: allow-vault-from-alloy in the stack's
        # namespace names the node namespace; "networkpolicies_forbidden": the user may not get them
        "networkpolicies": [],
        "networkpolicies_forbidden": False,
        "pods": {
            name: {
                "phases": ["Running"],
                "sealed": sealed if initialized else True,
                "member": initialized,
                "progress": [],
                "api_down": 0,
            }
            for name in names
        },
        "pod_files": {name: {} for name in names},
        "policy_files": {p: _read(os.path.join(FIXTURES, "policies", p)) for p in policies},
        "has_sha256sum": True,
        "corrupt_copy": False,
        # `kubectl exec` whose remote command contains ``exec_drop["match"]`` runs, then the stream breaks:
        # only the first ``keep_bytes`` of its stdout arrive and kubectl fails with "unexpected EOF"
        "exec_drop": None,
        # `vault ... -format=json` prints each document on one line instead of the vault CLI's own layout
        # (Go's json.MarshalIndent), so the scripts read all of it with jq, not bash (common.sh vault_json)
        "vault_json_compact": False,
        # EndpointSlices of Service ``kubernetes`` in namespace ``default`` (the API server's addresses)
        "kube_api_endpointslices": [
            {
                "addressType": "IPv4",
                "endpoints": [{"addresses": ["192.0.2.10"], "conditions": {"ready": True}}],
                "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}],
            }
        ],
        "vault": {
            "seal": seal,
            "initialized": initialized,
            "init_fixture": init_fixture,
            "init_output": init_output if initialized else None,
            "active": names[0] if initialized and not sealed else None,
            "tokens": {init_output["root_token"]: "root"} if initialized else {},
            "audit": {},
            "policies": {"default": 'path "auth/token/lookup-self" {\n  capabilities = ["read"]\n}\n'},
            "mounts": [],
            "auths": [],
            "writes": {},
            "tunes": {},
            "snapshot_error": None,
            # a root CA in pki/ (also true once pki/root/generate/internal was written)
            "pki_ca": False,
        },
    }


# --------------------------------------------------------------------------------------------------------
# kubectl argument parsing

_VALUE_FLAGS = {
    "-n": "namespace",
    "--namespace": "namespace",
    "--context": "context",
    "-c": "container",
    "--container": "container",
    "-o": "output",
    "--output": "output",
    "-l": "selector",
    "--selector": "selector",
    "--from-file": "from_file",
    "--from-literal": "from_literal",
    "--request-timeout": "request_timeout",
    "--type": "type",
    "-k": "kustomize",
    "--kustomize": "kustomize",
    "--wait": "wait",
}
_BOOL_FLAGS = {
    "-i": "stdin",
    "--stdin": "stdin",
    "-t": "tty",
    "--tty": "tty",
    "-q": "quiet",
    "--quiet": "quiet",
    "-A": "all_namespaces",
    "--all-namespaces": "all_namespaces",
}
_MULTI = {"from_file", "from_literal"}


class Usage(Exception):
    """A kubectl usage error (exit 1)."""


def parse_kubectl(argv: list[str]) -> tuple[list[str], dict[str, Any], list[str]]:
    """Split argv into positional words, flags and the remote command after ``--``."""
    words: list[str] = []
    flags: dict[str, Any] = {"from_file": [], "from_literal": []}
    remote: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            remote = argv[i + 1 :]
            break
        if arg.startswith("-"):
            name, eq, value = arg.partition("=")
            if name in _BOOL_FLAGS and not eq:
                flags[_BOOL_FLAGS[name]] = True
            elif name in _VALUE_FLAGS:
                if not eq:
                    if i + 1 >= len(argv):
                        raise Usage(f"error: flag needs an argument: {name}")
                    i += 1
                    value = argv[i]
                key = _VALUE_FLAGS[name]
                if key in _MULTI:
                    flags[key].append(value)
                else:
                    flags[key] = value
            else:
                raise Usage(f"error: unknown flag: {name}")
        else:
            words.append(arg)
        i += 1
    return words, flags, remote


def unreachable() -> Result:
    return Result(
        1,
        err=(
            'E0914 08:00:00.000000   4242 memcache.go:265] "Unhandled Error" err="couldn\'t get current'
            " server"
            ' API group list: Get \\"https://127.0.0.1:6443/api?timeout=32s\\": dial tcp 127.0.0.1:6443:'
            ' connect: connection refused"\n'
            "The connection to the server 127.0.0.1:6443 was refused"
            " - did you specify the right host or port?"
        ),
    )


def not_found(kind: str, name: str) -> Result:
    return Result(1, err=f'Error from server (NotFound): {kind} "{name}" not found')


def kubectl(state: State, argv: list[str], stdin: bytes | None) -> Result:
    """Run one kubectl invocation against ``state``."""
    try:
        words, flags, remote = parse_kubectl(argv)
    except Usage as exc:
        return Result(1, err=str(exc))
    if words[:2] == ["config", "current-context"]:
        return Result(0, "fake-context\n")
    if not state["reachable"]:
        return unreachable()
    ns = flags.get("namespace", "default")
    if not words:
        return Result(1, err="error: You must specify the type of resource to get.")
    verb = words[0]
    if verb == "get":
        return kubectl_get(state, words[1:], flags, ns)
    if verb == "create":
        return kubectl_create(state, words[1:], flags, ns)
    if verb == "delete" and not state.get("cluster"):
        return kubectl_delete(state, words[1:], ns)
    if verb == "exec":
        return kubectl_exec(state, words[1:], flags, ns, remote, stdin)
    if state.get("cluster") and verb in ("delete", "diff"):
        import fake_cluster

        if verb == "delete":
            return fake_cluster.delete(state, words[1:], ns)  # type: ignore[no-any-return]
        return fake_cluster.diff(state, flags)  # type: ignore[no-any-return]
    return Result(127, err=f"fake kubectl: unsupported verb {verb!r}")


def kubectl_get(state: State, words: list[str], flags: dict[str, Any], ns: str) -> Result:
    if not words:
        return Result(1, err="error: You must specify the type of resource to get.")
    kind = words[0]
    name = words[1] if len(words) > 1 else None
    output = flags.get("output", "")
    if state.get("cluster") and output == "json":
        import fake_cluster

        return fake_cluster.get(state, words, flags, ns)  # type: ignore[no-any-return]
    in_ns = ns == state["namespace"]
    if kind in ("namespace", "namespaces", "ns") and name:
        if name not in state["namespaces"]:
            return not_found("namespaces", name)
        return Result(0, f"namespace/{name}\n" if output == "name" else f"{name}   Active   42d\n")
    if kind in ("statefulset", "statefulsets", "sts", "statefulset.apps") and name:
        if state["forbidden"]:
            return Result(
                1,
                err=(
                    'Error from server (Forbidden): statefulsets.apps "vault" is forbidden: User "alice"'
                    " cannot"
                    f' get resource "statefulsets" in API group "apps" in the namespace "{ns}"'
                ),
            )
        if not (in_ns and state["statefulset"] and name == "vault"):
            return not_found("statefulsets.apps", name)
        return Result(0, "statefulset.apps/vault\n" if output == "name" else "vault   1/1   42d\n")
    if kind in ("secret", "secrets") and name:
        secrets = _secrets(state, ns)
        if secrets is None or name not in secrets:
            return not_found("secrets", name)
        if output.startswith("jsonpath={.data.") and output.endswith("}"):
            key = output[len("jsonpath={.data.") : -1].replace("\\.", ".")
            value = secrets[name].get(key)
            return Result(0, binascii.b2a_base64(value.encode(), newline=False) if value is not None else b"")
        return Result(0, f"secret/{name}\n" if output == "name" else f"{name}   Opaque   3   1d\n")
    if kind == "certificates.cert-manager.io" and not name:
        # state["certificates"]: secretName of each Certificate in the namespace; None: no cert-manager CRDs
        if state.get("certificates") is None:
            return Result(1, err='error: the server doesn\'t have a resource type "certificates"')
        if output != 'jsonpath={range .items[*]}{.spec.secretName}{"\\n"}{end}':
            return Result(127, err=f"fake kubectl: unsupported output {output!r} for certificates")
        return Result(0, "".join(f"{n}\n" for n in state["certificates"]) if in_ns else "")
    if kind in ("endpointslice", "endpointslices", "endpointslice.discovery.k8s.io"):
        return get_endpointslices(state, flags, ns)
    if kind in ("networkpolicy", "networkpolicies", "netpol", "networkpolicies.networking.k8s.io") and name:
        return get_networkpolicy(state, name, output, ns)
    if kind in ("pod", "pods", "po"):
        if name:
            pod = state["pods"].get(name) if in_ns else None
            if pod is None or pod["phases"][0] == "Absent":
                if pod is not None and len(pod["phases"]) > 1:
                    pod["phases"].pop(0)
                return not_found("pods", name)
            phase = pod["phases"][0]
            if len(pod["phases"]) > 1:
                pod["phases"].pop(0)
            if output == "jsonpath={.status.phase}":
                return Result(0, phase)
            if output == "name":
                return Result(0, f"pod/{name}\n")
            return Result(127, err=f"fake kubectl: unsupported output {output!r} for a pod")
        selector = set(flags.get("selector", "").split(","))
        if not in_ns or selector != set(VAULT_SELECTOR.split(",")):
            return Result(0, err="No resources found in " + ns + " namespace.")
        if output != "name":
            return Result(127, err=f"fake kubectl: unsupported output {output!r} for a pod list")
        names = []
        for n, p in state["pods"].items():
            if p["phases"][0] == "Absent":
                if len(p["phases"]) > 1:
                    p["phases"].pop(0)
                continue
            names.append(n)
        return Result(0, "".join(f"pod/{n}\n" for n in names))
    return Result(127, err=f"fake kubectl: unsupported get {words!r}")


def _secrets(state: State, ns: str) -> dict[str, dict[str, str]] | None:
    """The Secrets of namespace ``ns`` (``None`` when it does not exist)."""
    if ns == state["namespace"]:
        secrets: dict[str, dict[str, str]] = state["secrets"]
        return secrets
    if ns not in state["namespaces"]:
        return None
    other: dict[str, dict[str, str]] = state["other_secrets"].setdefault(ns, {})
    return other


def kubectl_delete(state: State, words: list[str], ns: str) -> Result:
    if len(words) != 2 or words[0] not in ("secret", "secrets"):
        return Result(127, err=f"fake kubectl: unsupported delete {words!r}")
    secrets = _secrets(state, ns)
    if secrets is None or words[1] not in secrets:
        return not_found("secrets", words[1])
    del secrets[words[1]]
    return Result(0, f'secret "{words[1]}" deleted\n')


#: The one NetworkPolicy output the scripts ask for: the namespace each ingress peer selects by name.
PEER_NAMESPACES = (
    "jsonpath={range .spec.ingress[*].from[*]}"
    "{.namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name}"
    '{"\\n"}{end}'
)


def get_networkpolicy(state: State, name: str, output: str, ns: str) -> Result:
    """NetworkPolicy ``name`` of namespace ``ns``, as :data:`PEER_NAMESPACES` (a missing key prints nothing,
    as kubectl's ``--allow-missing-template-keys`` default does)."""
    if state.get("networkpolicies_forbidden"):
        return Result(
            1,
            err=(
                f'Error from server (Forbidden): networkpolicies.networking.k8s.io "{name}" is forbidden:'
                f' User "alice" cannot get resource "networkpolicies" in API group "networking.k8s.io" in the'
                f' namespace "{ns}"'
            ),
        )
    found = [
        p for p in state.get("networkpolicies", [])
        if p["metadata"]["name"] == name and p["metadata"]["namespace"] == ns
    ]  # fmt: skip
    if not found:
        return not_found("networkpolicies.networking.k8s.io", name)
    if output != PEER_NAMESPACES:
        return Result(127, err=f"fake kubectl: unsupported output {output!r} for a networkpolicy")
    lines = []
    for rule in found[0]["spec"].get("ingress") or []:
        for peer in rule.get("from") or []:
            labels = (peer.get("namespaceSelector") or {}).get("matchLabels") or {}
            lines.append(labels.get("kubernetes.io/metadata.name", "") + "\n")
    return Result(0, "".join(lines))


def get_endpointslices(state: State, flags: dict[str, Any], ns: str) -> Result:
    """Only what the scripts ask: the EndpointSlices of Service ``kubernetes`` in ``default``, as JSON."""
    if flags.get("output") != "json":
        return Result(127, err=f"fake kubectl: unsupported output {flags.get('output')!r} for endpointslices")
    wanted = ns == "default" and flags.get("selector") == "kubernetes.io/service-name=kubernetes"
    slices = state.get("kube_api_endpointslices", []) if wanted else []
    items = [
        {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "name": f"kubernetes{'' if i == 0 else '-' + str(i)}",
                "namespace": "default",
                "labels": {"kubernetes.io/service-name": "kubernetes"},
            },
            **s,
        }
        for i, s in enumerate(slices)
    ]
    return Result(0, out_json({"apiVersion": "v1", "kind": "List", "items": items, "metadata": {}}))


def kubectl_create(state: State, words: list[str], flags: dict[str, Any], ns: str) -> Result:
    if words[:2] != ["secret", "generic"] or len(words) != 3:
        return Result(127, err=f"fake kubectl: unsupported create {words!r}")
    name = words[2]
    secrets = _secrets(state, ns)
    if secrets is None:
        return not_found("namespaces", ns)
    if name in secrets:
        return Result(1, err=f'error: failed to create secret secrets "{name}" already exists')
    data: dict[str, str] = {}
    for spec in flags["from_file"]:
        key, _, path = spec.partition("=")
        try:
            with open(os.path.join(state.get("_cwd", ""), path)) as f:  # relative to the caller's directory
                data[key] = f.read()
        except OSError as exc:
            return Result(1, err=f"error: error reading {path}: {exc.strerror}")
    for spec in flags["from_literal"]:
        key, _, value = spec.partition("=")
        data[key] = value
    secrets[name] = data
    if ns != state["namespace"]:
        return Result(0, f"secret/{name} created\n")
    state.setdefault("secret_sources", {})[name] = {
        "from_file": list(flags["from_file"]),
        "from_literal": list(flags["from_literal"]),
    }
    return Result(0, f"secret/{name} created\n")


def kubectl_exec(
    state: State, words: list[str], flags: dict[str, Any], ns: str, remote: list[str], stdin: bytes | None
) -> Result:
    if len(words) != 1 or not remote:
        return Result(1, err="error: you must specify at least one command for the container")
    pod_name = words[0]
    if state.get("cluster") and pod_name not in state["pods"]:
        import fake_cluster

        container = flags.get("container", "")
        return fake_cluster.exec_(state, pod_name, ns, container, remote, stdin)  # type: ignore[no-any-return]
    pod = state["pods"].get(pod_name) if ns == state["namespace"] else None
    if pod is None or pod["phases"][0] == "Absent":
        return not_found("pods", pod_name)
    container = flags.get("container", "vault")
    if container != "vault":
        return Result(
            1, err=f"Error from server (BadRequest): container {container} is not valid for pod {pod_name}"
        )
    if pod["phases"][0] != "Running":
        return Result(1, err='error: unable to upgrade connection: container not found ("vault")')
    result = in_pod(state, pod_name, remote, stdin if flags.get("stdin") else b"")
    drop = state.get("exec_drop")
    if drop and _contains(remote, drop["match"]):
        # the command ran in the pod; the connection broke before its output was through
        return Result(1, result.out[: drop["keep_bytes"]], err="error: unexpected EOF")
    if result.rc != 0:
        tail = "\n" if result.err and not result.err.endswith("\n") else ""
        result.err = f"{result.err}{tail}command terminated with exit code {result.rc}"
    return result


def _contains(words: list[str], part: list[str]) -> bool:
    return any(words[i : i + len(part)] == part for i in range(len(words) - len(part) + 1))


# --------------------------------------------------------------------------------------------------------
# commands inside the Vault container


def in_pod(state: State, pod: str, cmd: list[str], stdin: bytes | None) -> Result:
    files: dict[str, bytes] = state["pod_files"][pod]
    if cmd[0] == "vault":
        return _json_layout(state, vault(state, pod, cmd[1:], None, stdin or b""))
    if cmd[:2] == ["sh", "-c"] and len(cmd) >= 4:
        script = cmd[2]
        if script == TOKEN_WRAPPER:
            token = (stdin or b"").decode(errors="replace").rstrip("\n")
            return _json_layout(state, vault(state, pod, cmd[4:], token, b""))
        if "sha256sum" in script and len(cmd) == 5:
            path = cmd[4]
            if not state["has_sha256sum"]:
                return Result(0)
            if path not in files:
                return Result(1, err=f"sha256sum: {path}: No such file or directory")
            from _sha256 import sha256  # type: ignore[import-not-found]  # hashlib costs 4 ms

            digest = sha256(files[path]).hexdigest()
            return Result(0, f"{digest}  {path}\n")
        return Result(127, err=f"fake kubectl: unsupported shell snippet {script!r}")
    if cmd in (["ls", "/vault/policies"], ["ls", "-1", "/vault/policies"]):
        return Result(0, "".join(f"{n}\n" for n in sorted(state["policy_files"])))
    if cmd[0] == "cat" and len(cmd) == 2:
        path = cmd[1]
        if (
            path.startswith("/vault/policies/")
            and path.removeprefix("/vault/policies/") in state["policy_files"]
        ):
            return Result(0, state["policy_files"][path.removeprefix("/vault/policies/")])
        if path not in files:
            return Result(1, err=f"cat: can't open '{path}': No such file or directory")
        data = bytearray(files[path])
        if state["corrupt_copy"] and data:
            data[len(data) // 2] ^= 0xFF
        return Result(0, bytes(data))
    if cmd[:2] == ["rm", "-f"] and len(cmd) == 3:
        files.pop(cmd[2], None)
        return Result(0)
    return Result(127, err=f"sh: {cmd[0]}: fake kubectl does not know this command: {cmd!r}")


def _json_layout(state: State, result: Result) -> Result:
    """With ``vault_json_compact``, a JSON document the vault CLI printed, on one line."""
    if state.get("vault_json_compact") and result.out.startswith(b"{"):
        import json

        result.out = (json.dumps(json.loads(result.out), separators=(",", ":")) + "\n").encode()
    return result


def split_flags(args: list[str]) -> tuple[dict[str, str], list[str]]:
    """Go's flag package: flags come first and parsing stops at the first non-flag argument."""
    flags: dict[str, str] = {}
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "-":
        name, _, value = args[i].lstrip("-").partition("=")
        flags[name] = value
        i += 1
    return flags, args[i:]


def api_error(method: str, path: str, code: int, msg: str) -> str:
    return API_ERROR.format(method=method, path=path, code=code, msg=msg)


def vault(state: State, pod: str, args: list[str], token: str | None, stdin: bytes) -> Result:
    """The ``vault`` CLI in ``pod`` with ``token`` (None: no token)."""
    v = state["vault"]
    p = state["pods"][pod]
    if p["api_down"] > 0:
        p["api_down"] -= 1
        return Result(
            2 if args[:1] != ["status"] else 1,
            err=(
                'Error checking seal status: Get "https://127.0.0.1:8200/v1/sys/seal-status": dial tcp'
                " 127.0.0.1:8200: connect: connection refused"
            ),
        )
    if not args:
        return Result(127, err="Usage: vault <command> [args]")
    if state.get("cluster") and args[0] == "read":
        import fake_cluster

        fake_cluster.audit(state, pod, args)
    if args[0] == "status":
        return vault_status(state, pod, args[1:])
    if args[:2] == ["operator", "init"]:
        return vault_init(state, pod, args[2:])
    if args[:2] == ["operator", "unseal"]:
        flags, rest = split_flags(args[2:])
        if "reset" in flags and not rest:
            p["progress"] = []
            return Result(
                0, "Key                Value\n---                -----\nSeal Type          shamir\n"
            )
        return Result(127, err="fake kubectl: pass unseal keys with `vault write sys/unseal key=-`")
    if args[:2] == ["write", "sys/unseal"] or (args[:1] == ["write"] and "sys/unseal" in args):
        return vault_unseal(state, pod, args[1:], stdin)

    # everything below needs an unsealed node and a valid token
    if not v["initialized"] or not p["member"] or p["sealed"]:
        return Result(2, err="Error: " + api_error("GET", "sys/...", 503, "Vault is sealed"))
    role = v["tokens"].get(token or "")
    if role is None:
        return Result(2, err="Error: " + api_error("GET", "...", 403, "permission denied"))
    if args[:4] == ["operator", "raft", "snapshot", "save"]:
        return vault_snapshot(state, pod, args[4:])
    if state.get("cluster") and args[:2] in (["operator", "raft"], ["operator", "step-down"]):
        import fake_cluster

        return fake_cluster.vault_raft(state, pod, args, role)  # type: ignore[no-any-return]
    if state.get("cluster") and role == "operator" and args[:2] == ["audit", "list"]:
        return Result(0, out_json(v["audit"]))
    if state.get("cluster") and args[:1] == ["read"]:
        return Result(2, err=f"No value found at {args[-1]}")
    if role != "root":
        return Result(2, err="Error: " + api_error("GET", "...", 403, "permission denied"))
    flags, rest = split_flags(
        args[2:] if args[0] in ("audit", "policy", "secrets", "auth", "token") else args[1:]
    )
    json_out = flags.get("format") == "json"
    cmd = args[:2] if args[0] in ("audit", "policy", "secrets", "auth", "token") else args[:1]
    if cmd == ["token", "lookup"]:
        data = _fx(state, "token_lookup.json")
        data["data"]["id"] = token
        return Result(0, out_json(data) if json_out else f"Key    Value\n---    -----\nid     {token}\n")
    if cmd == ["audit", "list"] and json_out:
        return Result(0, out_json(v["audit"]))
    if cmd == ["audit", "enable"]:
        if not rest:
            return Result(1, err="Error enabling audit device: missing type")
        kind, options = rest[0], dict(o.partition("=")[::2] for o in rest[1:])
        path = flags.get("path", kind).strip("/") + "/"
        if path in v["audit"]:
            return Result(
                2,
                err="Error enabling audit device: "
                + api_error("PUT", f"sys/audit/{path}", 400, "path already in use"),
            )
        v["audit"][path] = {"type": kind, "description": "", "options": options, "local": False, "path": path}
        return Result(0, f"Success! Enabled the {kind} audit device at: {path}\n")
    if cmd == ["policy", "list"] and json_out:
        return Result(0, out_json(sorted([*v["policies"], "root"])))
    if cmd == ["policy", "read"] and len(rest) == 1:
        name = rest[0]
        if name not in v["policies"]:
            return Result(2, err=f"No policy named: {name}")
        return Result(
            0, out_json({"policy": v["policies"][name]}) if json_out else v["policies"][name].strip() + "\n"
        )
    if cmd == ["policy", "write"] and len(rest) == 2:
        name, path = rest
        base = path.removeprefix("/vault/policies/")
        if not path.startswith("/vault/policies/") or base not in state["policy_files"]:
            return Result(1, err=f"Error opening policy file: open {path}: no such file or directory")
        v["policies"][name] = state["policy_files"][base]
        return Result(0, f"Success! Uploaded policy: {name}\n")
    if cmd == ["secrets", "list"] and json_out:
        mounts = _fx(state, "secrets_list.json")
        if "pki" in v["mounts"]:
            mounts["pki/"] = _fx(state, "secrets_list_pki_entry.json")
        return Result(0, out_json(mounts))
    if cmd == ["secrets", "enable"] and len(rest) == 1:
        path = flags.get("path", rest[0]).strip("/")
        if path in v["mounts"]:
            return Result(
                2,
                err="Error enabling: "
                + api_error("POST", f"sys/mounts/{path}", 400, f"path is already in use at {path}/"),
            )
        v["mounts"].append(path)
        return Result(0, f"Success! Enabled the {rest[0]} secrets engine at: {path}/\n")
    if cmd == ["secrets", "tune"] and len(rest) == 1:
        if rest[0].strip("/") not in v["mounts"]:
            return Result(
                2,
                err="Error tuning secrets engine "
                + rest[0]
                + ": "
                + api_error("POST", f"sys/mounts/{rest[0]}/tune", 400, "no mount entry found"),
            )
        v["tunes"][rest[0].strip("/")] = flags
        return Result(0, f"Success! Tuned the secrets engine at: {rest[0].strip('/')}/\n")
    if cmd == ["auth", "list"] and json_out:
        auths = _fx(state, "auth_list.json")
        if "kubernetes" in v["auths"]:
            auths["kubernetes/"] = _fx(state, "auth_list_kubernetes_entry.json")
        return Result(0, out_json(auths))
    if cmd == ["auth", "enable"] and len(rest) == 1:
        path = flags.get("path", rest[0]).strip("/")
        if path in v["auths"]:
            return Result(
                2,
                err="Error enabling "
                + rest[0]
                + " auth: "
                + api_error("POST", f"sys/auth/{path}", 400, f"path is already in use at {path}/"),
            )
        v["auths"].append(path)
        return Result(0, f"Success! Enabled {rest[0]} auth method at: {path}/\n")
    if cmd == ["write"] and rest:
        return vault_write(state, rest[0], rest[1:], json_out)
    if cmd == ["read"] and rest == ["pki/cert/ca"] and json_out:
        return vault_read_ca(state)
    if cmd == ["read"] and len(rest) == 1 and rest[0].startswith("auth/token/roles/") and json_out:
        return vault_read_token_role(state, rest[0])
    return Result(127, err=f"fake kubectl: unsupported vault command {args!r}")


def vault_status(state: State, pod: str, args: list[str]) -> Result:
    flags, rest = split_flags(args)
    if flags != {"format": "json"} or rest:
        return Result(127, err=f"fake kubectl: use `vault status -format=json`, got {args!r}")
    v = state["vault"]
    p = state["pods"][pod]
    if not v["initialized"]:
        name = "status_uninitialized.json" if v["seal"] == "shamir" else "status_uninitialized_transit.json"
        return Result(2, out_json(_fx(state, name)))
    # From here on the cluster is initialised. A pod that has not joined yet reports sealed (raft join in
    # progress: it waits for the unseal keys), like a member that restarted.
    shamir = v["seal"] == "shamir"
    init = v["init_output"]
    threshold = init["unseal_threshold"] if shamir else init["recovery_keys_threshold"]
    shares = init["unseal_shares"] if shamir else init["recovery_keys_shares"]
    if p["sealed"]:
        data = _fx(state, "status_sealed.json")
        data.update(t=threshold, n=shares, progress=len(p["progress"]))
        if not shamir:
            data.update(type=v["seal"], recovery_seal=True, recovery_seal_type="shamir")
        return Result(2, out_json(data))
    data = _fx(state, "status_unsealed_active.json" if v["active"] == pod else "status_unsealed_standby.json")
    data.update(t=threshold, n=shares)
    if not shamir:
        data.update(type=v["seal"], recovery_seal=True, recovery_seal_type="shamir")
    leader = v["active"] or "vault-0"
    data["leader_address"] = f"https://{leader}.vault-internal.{state['namespace']}.svc:8200"
    data["leader_cluster_address"] = f"https://{leader}.vault-internal.{state['namespace']}.svc:8201"
    return Result(0, out_json(data))


def vault_init(state: State, pod: str, args: list[str]) -> Result:
    v = state["vault"]
    flags, rest = split_flags(args)
    if rest:
        return Result(1, err=f"Too many arguments (expected 0, got {len(rest)})")
    if v["initialized"]:
        return Result(
            2, err="Error initializing: " + api_error("PUT", "sys/init", 400, "Vault is already initialized")
        )
    out = _fx(state, v["init_fixture"])
    if v["seal"] == "shamir":
        if "recovery-shares" in flags or "recovery-threshold" in flags:
            msg = "parameters recovery_shares,recovery_threshold not applicable to seal type shamir"
            return Result(2, err="Error initializing: " + api_error("PUT", "sys/init", 400, msg))
        n, t = int(flags.get("key-shares", "5")), int(flags.get("key-threshold", "3"))
        out["unseal_keys_b64"] = out["unseal_keys_b64"][:n]
        out["unseal_keys_hex"] = out["unseal_keys_hex"][:n]
        out.update(unseal_shares=n, unseal_threshold=t)
    else:
        if "key-shares" in flags or "key-threshold" in flags:
            msg = (
                "secret shares and threshold must be 1 (or unset) when using auto-unseal; use recovery_shares"
            )
            return Result(2, err="Error initializing: " + api_error("PUT", "sys/init", 400, msg))
        n, t = int(flags.get("recovery-shares", "5")), int(flags.get("recovery-threshold", "3"))
        out["recovery_keys_b64"] = out["recovery_keys_b64"][:n]
        out["recovery_keys_hex"] = out["recovery_keys_hex"][:n]
        out.update(recovery_keys_shares=n, recovery_keys_threshold=t)
    v["initialized"] = True
    v["init_output"] = out
    v["init_flags"] = flags
    v["tokens"][out["root_token"]] = "root"
    p = state["pods"][pod]
    p["member"] = True
    if v["seal"] == "shamir":
        p["sealed"] = True
    else:
        # auto-unseal: the initialising node unseals itself, the others follow through the seal
        for other in state["pods"].values():
            other["member"] = True
            other["sealed"] = False
        v["active"] = pod
    if flags.get("format") != "json":
        return Result(127, err="fake kubectl: call `vault operator init` with -format=json")
    return Result(0, out_json(out))


def vault_unseal(state: State, pod: str, args: list[str], stdin: bytes) -> Result:
    v = state["vault"]
    p = state["pods"][pod]
    _flags, rest = split_flags(args)
    if rest != ["sys/unseal", "key=-"]:
        return Result(127, err=f"fake kubectl: unseal with `vault write sys/unseal key=-`, got {args!r}")
    if not v["initialized"]:
        return Result(
            2,
            err="Error writing data to sys/unseal: "
            + api_error("PUT", "sys/unseal", 400, "Vault is not initialized"),
        )
    if v["seal"] != "shamir":
        msg = "can't unseal with a key: the seal unseals by itself; recovery keys are for rekey/generate-root"
        return Result(2, err="Error writing data to sys/unseal: " + api_error("PUT", "sys/unseal", 400, msg))
    if not p["sealed"]:
        return Result(0, "Success! Data written to: sys/unseal\n")
    key = stdin.decode(errors="replace").strip()
    if not key:
        return Result(1, err="Failed to parse K=V data: error reading value for key from stdin: empty")
    try:
        binascii.a2b_base64(key, strict_mode=True)
    except binascii.Error:
        return Result(
            2,
            err="Error writing data to sys/unseal: "
            + api_error("PUT", "sys/unseal", 400, "'key' must be a valid hex or base64 string"),
        )
    if key not in p["progress"]:
        p["progress"].append(key)
    init = v["init_output"]
    if len(p["progress"]) >= init["unseal_threshold"]:
        good = all(k in init["unseal_keys_b64"] for k in p["progress"])
        p["progress"] = []
        if not good:
            msg = "failed to decrypt keys from storage: cipher: message authentication failed"
            return Result(
                2, err="Error writing data to sys/unseal: " + api_error("PUT", "sys/unseal", 400, msg)
            )
        p["sealed"] = False
        p["member"] = True
        if v["active"] is None:
            v["active"] = pod
    return Result(0, "Success! Data written to: sys/unseal\n")


def vault_write(state: State, path: str, pairs: list[str], json_out: bool) -> Result:
    v = state["vault"]
    params: dict[str, str] = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq:
            return Result(
                1, err=f'Failed to parse K=V data: invalid key/value pair "{pair}": format must be key=value'
            )
        params[key] = value
    mount = path.split("/", 1)[0]
    # auth/token/ is built in: always mounted
    enabled_auth = path.startswith("auth/") and path.split("/")[1] in [*v["auths"], "token"]
    routes_ok = mount in v["mounts"] or enabled_auth
    if not routes_ok:
        msg = f'no handler for route "{path}". route entry not found.'
        return Result(2, err=f"Error writing data to {path}: " + api_error("PUT", path, 404, msg))
    v["writes"].setdefault(path, []).append(params)
    if path.endswith("/root/generate/internal"):
        out = _fx(state, "pki_root_generate.json")
        return Result(
            0,
            out_json(out)
            if json_out
            else "Key    Value\n---    -----\nserial_number    " + out["data"]["serial_number"] + "\n",
        )
    return Result(0, f"Success! Data written to: {path}\n")


def vault_read_token_role(state: State, path: str) -> Result:
    """``vault read -format=json auth/token/roles/<name>``: the last write, as Vault returns a role (lists for
    the policy fields, booleans, the token fields of the role)."""
    writes = state["vault"]["writes"].get(path)
    if not writes:
        return Result(2, err=f"No value found at {path}")
    params = writes[-1]
    data: dict[str, Any] = {
        "allowed_policies": [p for p in params.get("allowed_policies", "").split(",") if p],
        "disallowed_policies": [p for p in params.get("disallowed_policies", "").split(",") if p],
        "name": path.rsplit("/", 1)[1],
        "orphan": params.get("orphan") == "true",
        "path_suffix": "",
        "renewable": params.get("renewable", "true") == "true",
        "token_explicit_max_ttl": 0,
        "token_period": 0,
        "token_type": "default-service",
    }
    return Result(0, out_json({"request_id": "role", "lease_id": "", "data": data, "warnings": None}))


def vault_read_ca(state: State) -> Result:
    """``vault read -format=json pki/cert/ca``: the CA, or Vault's 400 on a mount without a default issuer."""
    v = state["vault"]
    path = "pki/cert/ca"
    if "pki" not in v["mounts"]:
        msg = f'no handler for route "{path}". route entry not found.'
        return Result(2, err=f"Error reading {path}: " + api_error("GET", path, 404, msg))
    if not (v.get("pki_ca") or "pki/root/generate/internal" in v["writes"]):
        msg = "no default issuer currently configured"
        return Result(2, err=f"Error reading {path}: " + api_error("GET", path, 400, msg))
    return Result(0, out_json(_fx(state, "pki_cert_ca.json")))


def vault_snapshot(state: State, pod: str, rest: list[str]) -> Result:
    if len(rest) != 1:
        return Result(1, err=f"Incorrect arguments (expected 1, got {len(rest)})")
    path = rest[0]
    error = state["vault"]["snapshot_error"]
    files = state["pod_files"][pod]
    if error:
        files[path] = b"\x1f\x8b\x08"  # the CLI leaves what it wrote so far
        return Result(2, err=f"Error taking the snapshot: {error}")
    files[path] = state["snapshot_bytes"]
    return Result(0)


def forwards_stdin(argv: list[str]) -> bool:
    """Whether this invocation reads stdin (``-i``/``--stdin``), as the real kubectl does."""
    try:
        return bool(parse_kubectl(argv)[1].get("stdin"))
    except Usage:
        return False


def invoke(
    state_path: str,
    log_path: str,
    argv: list[str],
    stdin: bytes | None,
    cwd: str = "",
    diff_program: str = "",
) -> Result:
    """One invocation: log it, run it against the state file, save the state. ``stdin`` is what it read
    (``None`` unless :func:`forwards_stdin`); ``cwd`` and ``diff_program`` are the caller's working directory
    (for relative paths) and ``KUBECTL_EXTERNAL_DIFF`` when the caller is another process. Shared by
    :func:`main` and the server behind the script tests' ``kubectl`` (tests/scripts/conftest.py)."""
    state = load_state(state_path)
    with open(log_path, "ab") as log:
        marshal.dump({"argv": argv, "stdin": None if stdin is None else stdin.decode(errors="replace")}, log)
    own_env = state.get("_env")
    if diff_program and own_env is None:
        state["_env"] = {"KUBECTL_EXTERNAL_DIFF": diff_program}
    if cwd:
        state["_cwd"] = cwd
    result = kubectl(state, argv, stdin)
    state.pop("_cwd", None)
    if own_env is None:
        state.pop("_env", None)
    save_state(state_path, state)
    return result


def error_text(result: Result) -> str:
    return result.err if not result.err or result.err.endswith("\n") else result.err + "\n"


def main(argv: list[str]) -> int:
    stdin = sys.stdin.buffer.read() if forwards_stdin(argv) else None
    result = invoke(os.environ["FAKE_KUBECTL_STATE"], os.environ["FAKE_KUBECTL_LOG"], argv, stdin)
    sys.stdout.buffer.write(result.out)
    sys.stdout.flush()
    sys.stderr.write(error_text(result))
    return result.rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
