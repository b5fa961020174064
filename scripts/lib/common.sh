# shellcheck shell=bash
# Helpers shared by the vault-aio operator scripts (init-vault.sh, backup.sh). Sourced, never run:
#   # shellcheck source=lib/common.sh
#   source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# The script runs under `set -euo pipefail`, sets PROG (the name that starts every message) before it sources
# this file, and NAMESPACE, INSTANCE and CONTEXT before it calls check_stack_options or kc.
# Globals set here: OPT, VALUE, HAS_VALUE, OPT_ARGS (options); SELECTOR (check_stack_options); WORK
# (start_work); PODS (load_pods); TOKEN (read_token_file).

# ---- tracing ---------------------------------------------------------------------------------------------
# no_tracing: the scripts handle key shares, tokens and passwords in variables, and `bash -x` or
# SHELLOPTS=xtrace would print every one of them: tracing is turned off (with a warning) before any secret is
# read. Call it right after sourcing this file.
no_tracing() {
  case $- in
    *x*)
      set +x
      printf '%s: warning: shell tracing (bash -x, SHELLOPTS=xtrace) is off for this script: it would print keys and tokens\n' \
        "$PROG" >&2
      ;;
  esac
}

# ---- messages: stdout for progress, stderr for problems ------------------------------------------------
log() { printf '%s: %s\n' "$PROG" "$*"; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
# die MESSAGE: exit 1 (any failure)
die() {
  printf '%s: error: %s\n' "$PROG" "$*" >&2
  exit 1
}
# usage_error MESSAGE: exit 2 (a bad command line)
usage_error() {
  printf '%s: %s (see --help)\n' "$PROG" "$*" >&2
  exit 2
}

# ---- options: each script keeps its own loop and case, so its options are listed in one place -----------
#   while [ $# -gt 0 ]; do
#     split_option "$1"
#     case "$OPT" in
#       --flag) flag_option; FLAG=1 ;;
#       --name) value_option "$@"; NAME=$VALUE ;;
#       *) usage_error "unknown option: $OPT" ;;
#     esac
#     shift "$OPT_ARGS"
#   done

# split_option ARG: OPT is the option in ARG; for --opt=value, VALUE is the value and HAS_VALUE=1.
# OPT_ARGS (arguments to shift) is 1 until value_option takes the next one.
split_option() {
  OPT=$1
  VALUE=""
  HAS_VALUE=0
  OPT_ARGS=1
  case "$OPT" in
    --*=*)
      VALUE=${OPT#*=}
      OPT=${OPT%%=*}
      HAS_VALUE=1
      ;;
  esac
}

# flag_option: OPT takes no value, so --opt=value is a usage error.
flag_option() {
  [ "$HAS_VALUE" = 0 ] || usage_error "option $OPT takes no value"
}

# value_option ARGS...: OPT takes a value: unless it came as --opt=value, VALUE is the next argument (ARGS
# are the arguments left, OPT's first) and OPT_ARGS=2; a usage error when there is none.
# shellcheck disable=SC2034 # VALUE and OPT_ARGS are read by the script's option loop
value_option() {
  if [ "$HAS_VALUE" = 0 ]; then
    [ $# -ge 2 ] || usage_error "option $OPT needs a value"
    VALUE=$2
    OPT_ARGS=2
  fi
}

# ---- checks of the command line --------------------------------------------------------------------------
is_dns_label() {
  [ ${#1} -le 63 ] && printf '%s' "$1" | grep -Eq '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'
}

# check_stack_options: usage errors for a bad --namespace or --instance; then SELECTOR, the label selector of
# the stack's Vault pods.
check_stack_options() {
  is_dns_label "$NAMESPACE" || usage_error "--namespace must be a DNS label (lowercase letters, digits, '-'), got '$NAMESPACE'"
  is_dns_label "$INSTANCE" || usage_error "--instance must be a DNS label, got '$INSTANCE'"
  SELECTOR="app.kubernetes.io/name=vault,app.kubernetes.io/instance=$INSTANCE"
}

# ---- tools, the work directory and the exit trap ---------------------------------------------------------
require_kubectl_and_jq() {
  command -v kubectl >/dev/null 2>&1 ||
    die "kubectl not found on PATH: install it (https://kubernetes.io/docs/tasks/tools/) and point it at the cluster"
  command -v jq >/dev/null 2>&1 || die "jq not found on PATH: install it (apt-get install jq, brew install jq, ...)"
}

# start_work NAME: WORK, a private temporary directory (${TMPDIR:-/tmp}/vault-aio-NAME.XXXXXX) that cleanup
# removes on exit; INT and TERM exit with 130 and 143, so cleanup runs for them too.
start_work() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/vault-aio-$1.XXXXXX") || die "cannot create a temporary directory"
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# on_exit: the script's own clean-up, run first by cleanup; a script redefines it after sourcing this file.
on_exit() { :; }

# cleanup: the EXIT trap: on_exit, then WORK removed; the exit status is kept.
cleanup() {
  local rc=$?
  on_exit
  rm -rf "$WORK"
  exit "$rc"
}

# ---- where secrets are written ---------------------------------------------------------------------------
# Keys, tokens, passwords and snapshots go to a private folder outside any repository by default:
# ${XDG_STATE_HOME:-$HOME/.local/state}/vault-aio/<namespace>. A folder inside a git work tree is refused
# unless the script's --allow-git-work-tree is given (ALLOW_GIT=1): one `git add .` would publish them.

# default_state_dir: prints the default folder for NAMESPACE's files (usage error without HOME and XDG_STATE_HOME)
default_state_dir() {
  local base=${XDG_STATE_HOME:-}
  if [ -z "$base" ]; then
    [ -n "${HOME:-}" ] || usage_error "neither XDG_STATE_HOME nor HOME is set: pass the file or folder options explicitly"
    base=$HOME/.local/state
  fi
  printf '%s/vault-aio/%s' "$base" "$NAMESPACE"
}

# git_work_tree PATH: prints the top folder of the git work tree that holds PATH (or would hold it, for a path
# that does not exist yet); fails when PATH is outside every work tree. Needs no git: it looks for .git.
git_work_tree() {
  local dir=$1
  case "$dir" in /*) ;; *) dir=$PWD/$dir ;; esac
  while [ ! -d "$dir" ]; do dir=$(dirname "$dir"); done
  dir=$(cd "$dir" && pwd -P) || return 1
  while :; do
    if [ -e "$dir/.git" ]; then
      printf '%s' "$dir"
      return 0
    fi
    [ "$dir" != / ] || return 1
    dir=$(dirname "$dir")
  done
}

# check_outside_git OPTION PATH: usage error when PATH is inside a git work tree and ALLOW_GIT is not 1.
check_outside_git() {
  local top
  if [ "${ALLOW_GIT:-0}" != 1 ] && top=$(git_work_tree "$2"); then
    usage_error "$1 $2 is inside the git work tree $top, where secrets end up in a commit: use a folder outside it (default: $(default_state_dir)) or pass --allow-git-work-tree"
  fi
}

# private_dir DIR: DIR exists (created mode 0700 when missing) and no other user can write into it, so nobody
# can plant a file or a symlink where a secret is about to be written; dies otherwise.
private_dir() {
  local mode
  (umask 077 && mkdir -p "$1") 2>/dev/null || die "cannot create the folder $1"
  mode=$(ls -ldL "$1" 2>/dev/null) || die "cannot read the mode of $1"
  case "$mode" in
    d????w????* | d???????w?*) die "$1 is writable by other users: keep keys and tokens in a private folder (chmod 700 $1)" ;;
    d*) ;;
    *) die "$1 is not a folder" ;;
  esac
}

# ---- kubectl ---------------------------------------------------------------------------------------------
# kc ARGS...: kubectl in the stack's namespace (and context).
kc() {
  if [ -n "$CONTEXT" ]; then
    kubectl --context "$CONTEXT" -n "$NAMESPACE" "$@"
  else
    kubectl -n "$NAMESPACE" "$@"
  fi
}

# summary FILE: the error in FILE on one line: Vault's multi-line API errors joined; kubectl's klog lines and
# "command terminated with exit code N" dropped (the last line is kept when nothing else is left).
summary() {
  local text
  text=$(grep -v -E -e '^[[:space:]]*$' -e '^command terminated with exit code' -e '^[EWI][0-9]{4} ' "$1" 2>/dev/null |
    tr '\n' ' ' | tr -s ' ') || true
  [ -n "$text" ] || text=$(sed -n '$p' "$1" 2>/dev/null) || true
  printf '%s' "${text% }" | cut -c 1-400
}

# preflight NO_VAULT_ADVICE [NO_NAMESPACE_ADVICE]: the Kubernetes API answers and statefulset vault exists in
# NAMESPACE, else die saying which is wrong. NO_VAULT_ADVICE follows "statefulset vault not found" when the
# namespace exists; NO_NAMESPACE_ADVICE is added when the namespace does not exist.
preflight() {
  local no_vault="wrong --namespace, or the manifests are not applied"
  if kc get statefulset vault -o name >/dev/null 2>"$WORK/preflight.err"; then
    return 0
  fi
  if grep -q '(NotFound)' "$WORK/preflight.err"; then
    if kc get namespace "$NAMESPACE" -o name >/dev/null 2>"$WORK/ns.err"; then
      die "statefulset vault not found in namespace $NAMESPACE: $1"
    fi
    if grep -q '(NotFound)' "$WORK/ns.err"; then
      die "namespace $NAMESPACE does not exist: wrong --namespace (or VAULTAIO_NAMESPACE)?${2:+ $2}"
    fi
    die "statefulset vault not found in namespace $NAMESPACE: $no_vault"
  fi
  if grep -q '(Forbidden)' "$WORK/preflight.err"; then
    die "kubectl is not allowed to read the statefulset in namespace $NAMESPACE: $(summary "$WORK/preflight.err")"
  fi
  die "cannot reach the Kubernetes API with kubectl (context: $(kubectl config current-context 2>/dev/null || echo none)): $(summary "$WORK/preflight.err")"
}

# load_pods: PODS, the names of the pods matching SELECTOR, vault-0 first (none when there is no pod yet).
load_pods() {
  local line
  PODS=()
  kc get pods -l "$SELECTOR" -o name >"$WORK/pods" 2>"$WORK/pods.err" ||
    die "cannot list the Vault pods: $(summary "$WORK/pods.err")"
  while IFS= read -r line; do
    [ -n "$line" ] && PODS+=("$line")
  done < <(sed 's#^pod/##' "$WORK/pods" | sort -t- -k2,2n)
}

# ---- Vault -----------------------------------------------------------------------------------------------
# read_token_file PATH: TOKEN, the token in PATH without whitespace; dies when PATH is unreadable or empty.
read_token_file() {
  [ -r "$1" ] || die "--token-file $1 is not a readable file"
  TOKEN=$(tr -d ' \t\r\n' <"$1")
  [ -n "$TOKEN" ] || die "--token-file $1 is empty"
}

# vault_in POD ARGS...: the vault CLI in POD, without a token and without stdin.
vault_in() {
  local pod=$1
  shift
  kc exec "$pod" -c vault -- vault "$@" </dev/null
}

# vault_auth POD ARGS...: the vault CLI in POD with TOKEN, which travels on stdin only (never in argv/env
# of kubectl); the in-pod shell reads it into VAULT_TOKEN for this one command.
vault_auth() {
  local pod=$1
  shift
  # shellcheck disable=SC2016 # expanded by the shell in the pod, on purpose
  printf '%s' "$TOKEN" | kc exec -i "$pod" -c vault -- sh -c 'VAULT_TOKEN="$(cat)" exec vault "$@"' sh "$@"
}
