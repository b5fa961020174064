# shellcheck shell=bash
# Helpers shared by the vault-aio operator scripts (init-vault.sh, backup.sh). Sourced, never run:
#   # shellcheck source=lib/common.sh
#   source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# The script runs under `set -euo pipefail`, sets PROG (the name that starts every message) before it sources
# this file, and NAMESPACE, INSTANCE and CONTEXT before it calls check_stack_options or kc.
# Globals set here: OPT, VALUE, HAS_VALUE, OPT_ARGS (options); SELECTOR (check_stack_options); WORK
# (start_work); PARENT (parent_dir); PODS (load_pods); TOKEN (read_token_file); VJ (vault_json); S_INITIALIZED,
# S_SEALED, S_TYPE, S_RECOVERY, S_T, S_PROGRESS, S_IS_SELF (status_fields).

# ---- tracing ---------------------------------------------------------------------------------------------
# no_tracing: the scripts handle key shares, tokens and passwords in variables, and `bash -x` or
# SHELLOPTS=xtrace would print every one of them, as `bash -v` or SHELLOPTS=verbose would print the strings the
# scripts give to `eval` (the init file's keys and token, the Grafana credentials): both are turned off (with a
# warning) before any secret is read. Call it right after sourcing this file.
no_tracing() {
  case $- in
    *[xv]*)
      set +xv
      printf '%s: warning: shell tracing (bash -x or -v, SHELLOPTS=xtrace or verbose) is off for this script: it would print keys and tokens\n' \
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
# matches VALUE ERE: VALUE, the whole of it, matches the extended regular expression ERE (bash's own regex: no
# process, and a value with a line break never passes on the strength of one good line, as with grep)
matches() { [[ $1 =~ $2 ]]; }

is_dns_label() {
  [ ${#1} -le 63 ] && matches "$1" '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'
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

# parent_dir PATH: PARENT, the folder part of PATH as dirname(1) prints it, without starting a process (the
# folder walks below take one step per path component)
parent_dir() {
  local path=$1
  case "$path" in
    '')
      PARENT=.
      return 0
      ;;
    *[!/]*) ;;
    *)
      PARENT=/
      return 0
      ;;
  esac
  while [ "${path%/}" != "$path" ]; do path=${path%/}; done
  case "$path" in
    */*) ;;
    *)
      PARENT=.
      return 0
      ;;
  esac
  path=${path%/*}
  while [ "${path%/}" != "$path" ]; do path=${path%/}; done
  PARENT=${path:-/}
}

# git_work_tree PATH: prints the top folder of the git work tree that holds PATH (or would hold it, for a path
# that does not exist yet); fails when PATH is outside every work tree. Needs no git: it looks for .git.
git_work_tree() {
  local dir=$1
  case "$dir" in /*) ;; *) dir=$PWD/$dir ;; esac
  while [ ! -d "$dir" ]; do
    parent_dir "$dir"
    dir=$PARENT
  done
  dir=$(cd "$dir" && pwd -P) || return 1
  while :; do
    if [ -e "$dir/.git" ]; then
      printf '%s' "$dir"
      return 0
    fi
    [ "$dir" != / ] || return 1
    parent_dir "$dir"
    dir=$PARENT
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

# file_has FILE TEXT: FILE holds TEXT (grep -qF without a process: the scripts look for kubectl's "(NotFound)" after
# every check that finds nothing); false when FILE cannot be read
file_has() {
  local content=""
  [ -r "$1" ] || return 1
  IFS= read -r -d '' content <"$1" || true
  [[ $content == *"$2"* ]]
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
  if file_has "$WORK/preflight.err" '(NotFound)'; then
    if kc get namespace "$NAMESPACE" -o name >/dev/null 2>"$WORK/ns.err"; then
      die "statefulset vault not found in namespace $NAMESPACE: $1"
    fi
    if file_has "$WORK/ns.err" '(NotFound)'; then
      die "namespace $NAMESPACE does not exist: wrong --namespace (or VAULTAIO_NAMESPACE)?${2:+ $2}"
    fi
    die "statefulset vault not found in namespace $NAMESPACE: $no_vault"
  fi
  if file_has "$WORK/preflight.err" '(Forbidden)'; then
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

# ---- JSON printed by the vault CLI -------------------------------------------------------------------------
# The scripts read a few plain fields of `vault ... -format=json` output, some of them at every status poll, and a
# jq 1.6 start costs about 20 ms. The vault CLI prints JSON with Go's json.MarshalIndent (command/format.go): "{"
# alone on the first line, every top-level member on a line of its own indented by exactly two spaces, nested
# values indented deeper, "}" alone on the last line, and no string spans lines (a line break in one is escaped).
# So a line that starts with two spaces and a quote is a top-level member. vault_json reads that shape in bash
# and gives jq's answers for it; it checks only the first and last lines of the shape, so text the CLI does not
# print could be misread (JSON whose nested values are indented by two spaces, say), and for the texts it does
# recognise as foreign (one line, CRLF, several documents, cut) it fails and the caller asks jq.
VJ=()
VJ_MEMBER='^  "([^"\\]*)": (.*)$'

# vault_json JSON NAME...: VJ[i] is the value of the top-level member named by the (i+1)-th NAME, as JSON text:
# 'true', '3', '"shamir"' (quotes and escapes kept), or '{' / '[' for a non-empty object or array; empty when there
# is no such member (a repeated member: the last one, as jq reads it). A NAME is plain text (letters, digits,
# "_./-": nothing json.MarshalIndent escapes). Fails when JSON is not the vault CLI's shape.
vault_json() {
  local json=$1 line name value i want
  shift
  VJ=()
  for ((i = 0; i < $#; i++)); do VJ[i]=""; done
  case "$json" in
    '{}') return 0 ;;
    *$'\n}\n'* | *$'\n{\n'*) return 1 ;; # more than one document
    $'{\n'*$'\n}') ;;
    *) return 1 ;;
  esac
  while IFS= read -r line; do
    [[ $line =~ $VJ_MEMBER ]] || continue
    name=${BASH_REMATCH[1]}
    value=${BASH_REMATCH[2]%,}
    i=0
    for want in "$@"; do
      [ "$want" != "$name" ] || VJ[i]=$value
      i=$((i + 1))
    done
  done <<<"$json"
}

# json_has JSON NAME: the object JSON (vault CLI output) has a top-level member NAME (plain text, see vault_json),
# as jq's has(NAME) says
json_has() {
  if vault_json "$1" "$2"; then
    [ -n "${VJ[0]}" ]
  else
    printf '%s' "$1" | jq -e --arg name "$2" 'has($name)' >/dev/null
  fi
}

# status_fields JSON: from the JSON of `vault status -format=json`, S_INITIALIZED, S_SEALED, S_TYPE (seal type),
# S_RECOVERY (recovery_seal), S_T (threshold), S_PROGRESS and S_IS_SELF (true on the active node, false when Vault
# leaves it out), as STATUS_JQ prints them; all empty for text that is not a JSON object. A status in the vault CLI's own
# shape whose fields are all plain (booleans, whole numbers, a seal type of letters, digits and "_.-") is read in
# bash; anything else by jq.
# shellcheck disable=SC2034 # the S_* fields are read by the scripts
status_fields() {
  local IFS=' '
  S_INITIALIZED="" S_SEALED="" S_TYPE="" S_RECOVERY="" S_T="" S_PROGRESS="" S_IS_SELF=""
  if vault_json "$1" initialized sealed type recovery_seal t progress is_self && [[ "${VJ[*]}" =~ $STATUS_PLAIN ]]; then
    S_INITIALIZED=${BASH_REMATCH[1]} S_SEALED=${BASH_REMATCH[2]} S_TYPE=${BASH_REMATCH[3]}
    S_RECOVERY=${BASH_REMATCH[4]} S_T=${BASH_REMATCH[5]} S_PROGRESS=${BASH_REMATCH[6]}
    S_IS_SELF=${BASH_REMATCH[7]:-false}
    return 0
  fi
  # jq prints @sh-quoted assignments (as for the init file): a field may be empty (a null) or hold any
  # character without shifting the others, as a tab-separated read would
  local assignments
  assignments=$(printf '%s' "$1" | jq -r "$STATUS_JQ" 2>/dev/null) || assignments=""
  eval "$assignments"
}
STATUS_JQ='def s: if . == null then "" else tostring end;
  @sh "S_INITIALIZED=\(.initialized | s) S_SEALED=\(.sealed | s) S_TYPE=\(.type | s) S_RECOVERY=\(.recovery_seal | s)",
  @sh "S_T=\(.t | s) S_PROGRESS=\(.progress | s) S_IS_SELF=\(.is_self // false | s)"'
STATUS_PLAIN='^(true|false) (true|false) "([A-Za-z0-9_.-]+)" (true|false) ([0-9]+) ([0-9]+) (true|false)?$'
