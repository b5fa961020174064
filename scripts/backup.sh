#!/usr/bin/env bash
# Take a raft snapshot of the vault-aio Vault and keep it locally with a sha256 checksum; prune to the newest
# N. Needs only a token with the `backup` policy, which travels to the pod on stdin and is never printed (shell
# tracing is turned off for that reason). Snapshots go to a private folder outside any git work tree.
# Usage and every option: backup.sh --help. Restore: docs/RUNBOOK.md.
set -euo pipefail
umask 077
export LC_ALL=C

PROG=backup.sh
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
no_tracing

NAMESPACE=${VAULTAIO_NAMESPACE:-vault-aio}
INSTANCE=${VAULTAIO_INSTANCE:-vault-aio}
CONTEXT=""
OUTPUT_DIR=""
ALLOW_GIT=0
KEEP=7
TOKEN_FILE=${VAULT_TOKEN_FILE:-}
POD=""

usage() {
  cat <<EOF
Usage: $PROG --token-file PATH [options]

Save a raft snapshot of the vault-aio Vault to OUTPUT_DIR/vault-raft-<UTC time>.snap with a
<file>.sha256 beside it (sha256sum format), then delete all but the newest --keep snapshots.

The snapshot is taken on the active pod (the one whose 'vault status' says is_self), or vault-0,
written to /tmp in the pod, copied out with 'kubectl exec ... cat', checked against its checksum in
the pod (when the image has sha256sum) and removed from the pod.

Options:
      --token-file PATH   file holding a Vault token with the backup policy (required; default:
                          \$VAULT_TOKEN_FILE); sent to the pod on stdin, never printed
      --output-dir DIR    where snapshots are kept, a folder only you can write to (default:
                          \$XDG_STATE_HOME/vault-aio/NAMESPACE/backups, where XDG_STATE_HOME
                          defaults to ~/.local/state)
      --allow-git-work-tree
                          allow --output-dir inside a git work tree (refused by default: a commit
                          would publish every secret in the snapshots)
      --keep N            how many snapshots to keep, newest first (default: 7)
  -n, --namespace NAME    namespace of the stack (default: \$VAULTAIO_NAMESPACE or vault-aio)
      --instance NAME     app.kubernetes.io/instance of the Vault pods (default: \$VAULTAIO_INSTANCE or vault-aio)
      --context NAME      kubectl context to use (default: the current context)
      --pod NAME          take the snapshot on this pod instead of the active one
  -h, --help              show this help and exit

Needs kubectl (get pods and exec in the namespace), jq and sha256sum (or shasum).
Exit status: 0 when the snapshot is saved and verified, 1 on any failure, 2 on a usage error.
EOF
}

while [ $# -gt 0 ]; do
  split_option "$1"
  case "$OPT" in
    -h | --help)
      usage
      exit 0
      ;;
    --allow-git-work-tree)
      flag_option
      ALLOW_GIT=1
      ;;
    -n | --namespace | --instance | --context | --output-dir | --keep | --token-file | --pod)
      value_option "$@"
      case "$OPT" in
        -n | --namespace) NAMESPACE=$VALUE ;;
        --instance) INSTANCE=$VALUE ;;
        --context) CONTEXT=$VALUE ;;
        --output-dir)
          OUTPUT_DIR=$VALUE
          [ -n "$OUTPUT_DIR" ] || usage_error "--output-dir must not be empty"
          ;;
        --keep) KEEP=$VALUE ;;
        --token-file) TOKEN_FILE=$VALUE ;;
        --pod) POD=$VALUE ;;
      esac
      ;;
    *) usage_error "unknown option: $OPT" ;;
  esac
  shift "$OPT_ARGS"
done

check_stack_options
[ -z "$POD" ] || is_dns_label "$POD" || usage_error "--pod must be a pod name, got '$POD'"
case "$KEEP" in '' | *[!0-9]*) usage_error "--keep must be a whole number >= 1, got '$KEEP'" ;; esac
[ "$KEEP" -ge 1 ] || usage_error "--keep must be a whole number >= 1, got '$KEEP'"
[ -n "$OUTPUT_DIR" ] || OUTPUT_DIR=$(default_state_dir)/backups
check_outside_git --output-dir "$OUTPUT_DIR"
[ -n "$TOKEN_FILE" ] || usage_error "--token-file (or VAULT_TOKEN_FILE) is required: a token with the backup policy"
read_token_file "$TOKEN_FILE"

require_kubectl_and_jq
if command -v sha256sum >/dev/null 2>&1; then
  sha256() { sha256sum "$@"; }
elif command -v shasum >/dev/null 2>&1; then
  sha256() { shasum -a 256 "$@"; }
else
  die "neither sha256sum nor shasum found on PATH"
fi

start_work backup
REMOTE=""
PARTIAL=""
on_exit() {
  if [ -n "$REMOTE" ]; then
    # best effort: do not leave a copy of the snapshot in the pod's /tmp
    kc exec "$POD" -c vault -- rm -f "$REMOTE" </dev/null >/dev/null 2>&1 ||
      warn "could not remove $REMOTE from pod $POD: remove it by hand"
  fi
  [ -z "$PARTIAL" ] || rm -f "$PARTIAL"
}

# status POD: STATUS (JSON of `vault status -format=json`) and STATUS_RC (0 unsealed, 2 sealed, else error)
status() {
  STATUS_RC=0
  STATUS=$(vault_in "$1" status -format=json 2>"$WORK/status.err") || STATUS_RC=$?
}

pick_pod() {
  local pod
  load_pods
  for pod in ${PODS[@]+"${PODS[@]}"}; do
    status "$pod"
    if [ "$STATUS_RC" -eq 0 ] && status_fields "$STATUS" && [ "$S_IS_SELF" = true ]; then
      POD=$pod
      log "active pod: $pod"
      return 0
    fi
  done
  POD=vault-0
  log "no pod reports itself active: using $POD"
}

prune() {
  local files=() f i remove
  for f in "$OUTPUT_DIR"/vault-raft-*.snap; do
    [ -e "$f" ] || continue
    case "${f##*/}" in
      vault-raft-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z.snap) files+=("$f") ;;
    esac
  done
  remove=$((${#files[@]} - KEEP))
  i=0
  while [ "$i" -lt "$remove" ]; do
    rm -f "${files[$i]}" "${files[$i]}.sha256"
    log "pruned ${files[$i]}"
    i=$((i + 1))
  done
}

main() {
  local stamp name target remote_sum local_sum size
  preflight "wrong --namespace, or the manifests are not applied"
  if [ -z "$POD" ]; then
    pick_pod
  fi
  status "$POD"
  case "$STATUS_RC" in
    0) ;;
    2) die "Vault in $POD is sealed: unseal it first (docs/RUNBOOK.md, Unseal)" ;;
    *) die "Vault in $POD does not answer: $(summary "$WORK/status.err")" ;;
  esac

  private_dir "$OUTPUT_DIR"
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  name="vault-raft-$stamp.snap"
  target="$OUTPUT_DIR/$name"
  [ ! -e "$target" ] || die "$target already exists (two backups in the same second?)"

  REMOTE="/tmp/$name"
  vault_auth "$POD" operator raft snapshot save "$REMOTE" >/dev/null 2>"$WORK/save.err" ||
    die "vault operator raft snapshot save failed in $POD: $(summary "$WORK/save.err")"

  # created exclusively (noclobber: O_EXCL): a file or symlink already there is never written through
  (set -o noclobber && : >"$target.partial") 2>/dev/null ||
    die "cannot create $target.partial (does it exist already?)"
  PARTIAL="$target.partial"
  kc exec "$POD" -c vault -- cat "$REMOTE" </dev/null >>"$PARTIAL" 2>"$WORK/cat.err" ||
    die "cannot copy $REMOTE out of $POD: $(summary "$WORK/cat.err")"
  [ -s "$PARTIAL" ] || die "the snapshot copied out of $POD is empty"
  local_sum=$(sha256 "$PARTIAL" | cut -d' ' -f1)
  # shellcheck disable=SC2016 # expanded by the shell in the pod, on purpose
  remote_sum=$(kc exec "$POD" -c vault -- sh -c \
    'if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1"; fi' sh "$REMOTE" </dev/null 2>"$WORK/sum.err") ||
    die "cannot checksum $REMOTE in $POD: $(summary "$WORK/sum.err")"
  remote_sum=${remote_sum%% *}
  if [ -z "$remote_sum" ]; then
    log "the image has no sha256sum: the copy was not compared with the pod's file"
  elif [ "$remote_sum" != "$local_sum" ]; then
    die "the copy of $REMOTE differs from the file in $POD (sha256 $local_sum, expected $remote_sum)"
  fi
  kc exec "$POD" -c vault -- rm -f "$REMOTE" </dev/null >/dev/null 2>"$WORK/rm.err" ||
    die "cannot remove $REMOTE from $POD: $(summary "$WORK/rm.err")"
  REMOTE=""

  mv -f "$PARTIAL" "$target"
  PARTIAL=""
  (cd "$OUTPUT_DIR" && set -o noclobber && sha256 "$name" >"$name.sha256") || die "cannot write $target.sha256"
  (cd "$OUTPUT_DIR" && sha256 -c "$name.sha256" >/dev/null 2>&1) || die "$target does not match $target.sha256"
  size=$(($(wc -c <"$target")))
  log "saved $target ($size bytes, sha256 $local_sum) from $POD"
  prune
  log "keeping the newest $KEEP snapshot(s) in $OUTPUT_DIR"
}

main
