"""The contract between the log pipeline (Alloy) and everything that queries logs (dashboards, rules).

Alloy attaches exactly these stream labels; Grafana dashboards and Loki queries may use only these. A test
cross-checks every LogQL selector in the dashboards against this module, and the Alloy config renderer
takes its label names from here, so the two cannot drift apart.
"""

from __future__ import annotations

from typing import Final

#: Labels on every pod log stream (from Kubernetes discovery of pods in the stack's namespace).
POD_LOG_LABELS: Final = ("job", "namespace", "pod", "container", "app", "component", "node")

#: Value of ``job`` for pod logs, node journal logs and node ``/var/log`` files.
JOB_PODS: Final = "kubernetes-pods"
JOB_JOURNAL: Final = "node-journal"
JOB_VARLOG: Final = "node-varlog"

#: Extra labels on node logs.
JOURNAL_LABELS: Final = ("job", "node", "unit", "level")
VARLOG_LABELS: Final = ("job", "node", "filename")

#: Vault audit lines (JSON objects from the stdout audit device) keep the pod labels and add these
#: low-cardinality labels parsed from the entry; everything else stays in the line for ``| json``.
#: ``log_type`` is ``vault_audit`` for audit entries; ``audit_type`` is ``request`` or ``response``;
#: ``operation`` is Vault's request operation (create, read, update, delete, list, ...);
#: ``mount_type`` is the mount's type (kv, pki, token, userpass, ...); ``error`` is ``true`` or ``false``.
AUDIT_LOG_TYPE: Final = "vault_audit"
AUDIT_EXTRA_LABELS: Final = ("log_type", "audit_type", "operation", "mount_type", "error")
AUDIT_LOG_LABELS: Final = POD_LOG_LABELS + AUDIT_EXTRA_LABELS

#: Every label name any stream can carry.
ALL_LOG_LABELS: Final = frozenset(POD_LOG_LABELS + JOURNAL_LABELS + VARLOG_LABELS + AUDIT_EXTRA_LABELS)
