#!/usr/bin/env bash
# Initialise, unseal and configure the Vault of a vault-aio stack. Idempotent: every step checks first,
# skips what is already done and says so. Secrets (unseal/recovery keys, tokens, passwords, TLS keys)
# are written only to new files with mode 0600 in a private folder outside any git work tree, and only
# ever travel to the pods on stdin. Shell tracing is turned off, as it would print them.
# Usage and every option: init-vault.sh --help. Procedures: docs/RUNBOOK.md.
set -euo pipefail
umask 077
export LC_ALL=C

PROG=init-vault.sh
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
no_tracing

# ---- defaults (each documented in usage) -----------------------------------------------------------------
NAMESPACE=${VAULTAIO_NAMESPACE:-vault-aio}
NODE_NAMESPACE=${VAULTAIO_NODE_NAMESPACE:-}
CA_SECRET=vault-tls-ca
INSTANCE=${VAULTAIO_INSTANCE:-vault-aio}
CONTEXT=""
INIT_FILE=""
TOKEN_FILE=${VAULT_TOKEN_FILE:-}
KEY_SHARES=5
KEY_THRESHOLD=3
TLS_SECRET=vault-tls
TLS_SELF_SIGNED=1
TLS_DAYS=365
GRAFANA_ADMIN_USER="admin"
GRAFANA_CREDENTIALS_FILE=""
ALLOW_GIT=0
PKI_COMMON_NAME="vault-aio Root CA"
PKI_TTL=87600h
PKI_ROLE=vault-aio
PKI_ALLOWED_DOMAINS=vault-aio.svc
PKI_ROLE_MAX_TTL=72h
ENABLE_KUBERNETES_AUTH=0
TLS_ONLY=0
WAIT_INTERVAL=${VAULTAIO_WAIT_INTERVAL:-5}
WAIT_TIMEOUT=${VAULTAIO_WAIT_TIMEOUT:-300}

usage() {
  cat <<EOF
Usage: $PROG [options]

Initialise, unseal and configure the Vault of a vault-aio stack, running the vault CLI inside the pods
with kubectl exec. Safe to re-run: each step checks first, skips what is done and says so.

Steps, in order:
  1. TLS: create Secret vault-tls with a self-signed CA and server certificate when it is missing (when a
     cert-manager Certificate writes it, wait for cert-manager instead), and keep Secret vault-tls-ca (its
     ca.crt only) in the node namespace equal to it for Alloy's probe.
  2. Grafana: create Secret grafana-admin (admin-user, admin-password) when it is missing.
  3. Wait for the Vault pods to run and answer.
  4. vault operator init on vault-0 (key shares, or recovery keys with an auto-unseal seal); the
     output goes to --init-file with mode 0600 and is never printed. If kubectl exec fails after
     Vault initialised, whatever arrived is kept in --init-file.partial, never deleted.
  5. Unseal every sealed pod with the keys from --init-file (Shamir seal only).
  6. With a token: audit device stdout/, policies from /vault/policies, the token role operator (the
     admin token makes read-only tokens for vault-aio verify from it), PKI root CA in pki/ (unless
     pki/cert/ca already serves one), and optionally Kubernetes auth.

Options:
  -n, --namespace NAME          namespace of the stack (default: \$VAULTAIO_NAMESPACE or vault-aio)
      --node-namespace NAME     namespace of the node agents, where Secret vault-tls-ca goes; skipped when it
                                does not exist (default: \$VAULTAIO_NODE_NAMESPACE, else the namespace that
                                NetworkPolicy allow-vault-from-alloy in the namespace admits Alloy from,
                                else <namespace>-node, where a copy holding another CA is left alone)
      --instance NAME           app.kubernetes.io/instance of the Vault pods
                                (default: \$VAULTAIO_INSTANCE or vault-aio)
      --context NAME            kubectl context to use (default: the current context)
      --init-file PATH          where the output of 'vault operator init -format=json' is written
                                (mode 0600, in a folder only you can write to); read again on re-runs
                                for the unseal keys and the root token
                                (default: \$XDG_STATE_HOME/vault-aio/NAMESPACE/init.json, where
                                XDG_STATE_HOME defaults to ~/.local/state)
      --token-file PATH         file holding the token for the configuration steps (root or admin);
                                default: \$VAULT_TOKEN_FILE, else root_token from --init-file
      --key-shares N            key shares to create; recovery key shares with auto-unseal (default: 5)
      --key-threshold N         shares needed to unseal or recover (default: 3)
      --tls-secret NAME         Secret holding tls.crt, tls.key and ca.crt (default: vault-tls)
      --tls-self-signed         create the TLS Secret with a self-signed CA when it is missing (default)
      --no-tls-self-signed      never create it: wait for it (cert-manager or your own tooling)
      --tls-days N              validity of the self-signed CA and certificate in days (default: 365)
      --tls-only                step 1 only: create the TLS Secret when it is missing and bring the
                                CA copy up to date, then stop (certificate renewal, see docs/RUNBOOK.md)
      --grafana-admin-user NAME Grafana admin user name for Secret grafana-admin (default: admin)
      --grafana-credentials-file PATH
                                where the generated Grafana admin credentials are written, mode 0600
                                (default: grafana-admin.json beside the default --init-file)
      --allow-git-work-tree     allow --init-file and --grafana-credentials-file inside a git work
                                tree (refused by default: a commit would publish the keys)
      --pki-common-name CN      common name of the PKI root CA (default: "vault-aio Root CA")
      --pki-ttl TTL             root CA TTL and max lease TTL of pki/ (default: 87600h)
      --pki-role NAME           PKI role to create (default: vault-aio)
      --pki-allowed-domains LIST
                                comma-separated domains the role may issue for, subdomains included
                                (default: vault-aio.svc)
      --pki-role-max-ttl TTL    longest certificate the role issues (default: 72h)
      --enable-kubernetes-auth  enable auth/kubernetes with kubernetes_host=https://kubernetes.default.svc:443
                                (default: off)
  -h, --help                    show this help and exit

Environment:
  VAULTAIO_NAMESPACE, VAULTAIO_NODE_NAMESPACE, VAULTAIO_INSTANCE, VAULT_TOKEN_FILE
                                defaults for the options above
  XDG_STATE_HOME                where the default files go (default: ~/.local/state)
  VAULTAIO_WAIT_INTERVAL        seconds between two checks while waiting (default: 5)
  VAULTAIO_WAIT_TIMEOUT         seconds to wait for pods, Secrets and unsealing (default: 300);
                                with an interval of 0 it counts checks instead of seconds

Needs kubectl (with get, create secret and exec rights in the namespace, get, create and delete secret in
the node namespace, and, without --node-namespace, get networkpolicies in the namespace), jq, and openssl for
the self-signed certificate and the Grafana password.

Exit status: 0 when every step is done or was done before, 1 on any failure, 2 on a usage error.
EOF
}

# ---- options -------------------------------------------------------------------------------------------
while [ $# -gt 0 ]; do
  split_option "$1"
  case "$OPT" in
    -h | --help)
      usage
      exit 0
      ;;
    --tls-self-signed | --no-tls-self-signed | --enable-kubernetes-auth | --tls-only | --allow-git-work-tree)
      flag_option
      case "$OPT" in
        --tls-only) TLS_ONLY=1 ;;
        --allow-git-work-tree) ALLOW_GIT=1 ;;
        --tls-self-signed) TLS_SELF_SIGNED=1 ;;
        --no-tls-self-signed) TLS_SELF_SIGNED=0 ;;
        --enable-kubernetes-auth) ENABLE_KUBERNETES_AUTH=1 ;;
      esac
      ;;
    -n | --namespace | --node-namespace | --instance | --context | --init-file | --token-file | --key-shares | --key-threshold | \
      --tls-secret | --tls-days | --grafana-admin-user | --grafana-credentials-file | --pki-common-name | \
      --pki-ttl | --pki-role | --pki-allowed-domains | --pki-role-max-ttl)
      value_option "$@"
      case "$OPT" in
        -n | --namespace) NAMESPACE=$VALUE ;;
        --node-namespace) NODE_NAMESPACE=$VALUE ;;
        --instance) INSTANCE=$VALUE ;;
        --context) CONTEXT=$VALUE ;;
        --init-file)
          INIT_FILE=$VALUE
          [ -n "$INIT_FILE" ] || usage_error "--init-file must not be empty"
          ;;
        --token-file) TOKEN_FILE=$VALUE ;;
        --key-shares) KEY_SHARES=$VALUE ;;
        --key-threshold) KEY_THRESHOLD=$VALUE ;;
        --tls-secret) TLS_SECRET=$VALUE ;;
        --tls-days) TLS_DAYS=$VALUE ;;
        --grafana-admin-user) GRAFANA_ADMIN_USER=$VALUE ;;
        --grafana-credentials-file)
          GRAFANA_CREDENTIALS_FILE=$VALUE
          [ -n "$GRAFANA_CREDENTIALS_FILE" ] || usage_error "--grafana-credentials-file must not be empty"
          ;;
        --pki-common-name) PKI_COMMON_NAME=$VALUE ;;
        --pki-ttl) PKI_TTL=$VALUE ;;
        --pki-role) PKI_ROLE=$VALUE ;;
        --pki-allowed-domains) PKI_ALLOWED_DOMAINS=$VALUE ;;
        --pki-role-max-ttl) PKI_ROLE_MAX_TTL=$VALUE ;;
      esac
      ;;
    *) usage_error "unknown option: $OPT" ;;
  esac
  shift "$OPT_ARGS"
done

is_uint() { case "$1" in '' | *[!0-9]*) return 1 ;; *) return 0 ;; esac }
# uint_between VALUE MIN MAX: VALUE is a whole number in [MIN, MAX]
uint_between() { is_uint "$1" && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
is_ttl() { matches "$1" '^[0-9]+[smhd]?$'; }

check_stack_options
# without --node-namespace, find_node_namespace looks for it in the cluster (step 1)
[ -z "$NODE_NAMESPACE" ] || is_dns_label "$NODE_NAMESPACE" ||
  usage_error "--node-namespace must be a DNS label, got '$NODE_NAMESPACE'"
is_dns_label "$TLS_SECRET" || usage_error "--tls-secret must be a DNS label, got '$TLS_SECRET'"
is_dns_label "$PKI_ROLE" || usage_error "--pki-role must be a DNS label, got '$PKI_ROLE'"
uint_between "$KEY_SHARES" 1 255 ||
  usage_error "--key-shares must be between 1 and 255, got '$KEY_SHARES'"
uint_between "$KEY_THRESHOLD" 1 "$KEY_SHARES" ||
  usage_error "--key-threshold must be between 1 and --key-shares ($KEY_SHARES), got '$KEY_THRESHOLD'"
if [ "$KEY_SHARES" -gt 1 ] && [ "$KEY_THRESHOLD" -lt 2 ]; then
  usage_error "--key-threshold must be at least 2 when --key-shares is more than 1, got '$KEY_THRESHOLD'"
fi
uint_between "$TLS_DAYS" 1 100000 || usage_error "--tls-days must be a whole number >= 1, got '$TLS_DAYS'"
is_ttl "$PKI_TTL" || usage_error "--pki-ttl must be a duration such as 87600h, got '$PKI_TTL'"
is_ttl "$PKI_ROLE_MAX_TTL" || usage_error "--pki-role-max-ttl must be a duration such as 72h, got '$PKI_ROLE_MAX_TTL'"
[ -n "$PKI_COMMON_NAME" ] || usage_error "--pki-common-name must not be empty"
matches "$PKI_ALLOWED_DOMAINS" '^[A-Za-z0-9*._-]+(,[A-Za-z0-9*._-]+)*$' ||
  usage_error "--pki-allowed-domains must be a comma-separated list of domains, got '$PKI_ALLOWED_DOMAINS'"
matches "$GRAFANA_ADMIN_USER" '^[A-Za-z0-9._@-]+$' ||
  usage_error "--grafana-admin-user must be letters, digits, '.', '_', '@' or '-', got '$GRAFANA_ADMIN_USER'"
[ -n "$INIT_FILE" ] || INIT_FILE=$(default_state_dir)/init.json
[ -n "$GRAFANA_CREDENTIALS_FILE" ] || GRAFANA_CREDENTIALS_FILE=$(default_state_dir)/grafana-admin.json
# files that exist are only read; the script writes only new ones, and never inside a git work tree unless asked
[ -e "$INIT_FILE" ] || check_outside_git --init-file "$INIT_FILE"
[ -e "$GRAFANA_CREDENTIALS_FILE" ] || check_outside_git --grafana-credentials-file "$GRAFANA_CREDENTIALS_FILE"
is_uint "$WAIT_INTERVAL" || usage_error "VAULTAIO_WAIT_INTERVAL must be a whole number of seconds, got '$WAIT_INTERVAL'"
is_uint "$WAIT_TIMEOUT" || usage_error "VAULTAIO_WAIT_TIMEOUT must be a whole number of seconds, got '$WAIT_TIMEOUT'"

# ---- tools and the work directory ----------------------------------------------------------------------
require_kubectl_and_jq
start_work init

# wait_for DESCRIPTION COMMAND...: run COMMAND until it succeeds; fail after VAULTAIO_WAIT_TIMEOUT.
wait_for() {
  local what=$1 waited=0 step
  shift
  step=$WAIT_INTERVAL
  [ "$step" -gt 0 ] || step=1
  until "$@"; do
    if [ "$waited" -ge "$WAIT_TIMEOUT" ]; then
      return 1
    fi
    if [ "$waited" -eq 0 ]; then log "waiting for $what (up to ${WAIT_TIMEOUT}s)"; fi
    sleep "$WAIT_INTERVAL"
    waited=$((waited + step))
  done
}

# exists KIND NAME: 0 when it exists, 1 when kubectl says NotFound; any other error is fatal.
exists() {
  if kc get "$1" "$2" -o name >/dev/null 2>"$WORK/get.err"; then
    return 0
  fi
  if file_has "$WORK/get.err" '(NotFound)'; then
    return 1
  fi
  die "kubectl get $1 $2 failed: $(summary "$WORK/get.err")"
}

# ---- step 1: TLS ----------------------------------------------------------------------------------------
make_self_signed_tls() {
  local dir="$WORK/tls" ns=$NAMESPACE
  mkdir -p "$dir"
  command -v openssl >/dev/null 2>&1 || die "openssl not found on PATH: it is needed for the self-signed certificate"
  cat >"$dir/openssl.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = vault-aio Vault TLS CA ($ns)
[v3_ca]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[v3_server]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = @alt_names
[alt_names]
DNS.1 = vault
DNS.2 = vault.$ns
DNS.3 = vault.$ns.svc
DNS.4 = vault.$ns.svc.cluster.local
DNS.5 = vault-active
DNS.6 = vault-active.$ns
DNS.7 = vault-active.$ns.svc
DNS.8 = vault-active.$ns.svc.cluster.local
DNS.9 = vault-standby
DNS.10 = vault-standby.$ns
DNS.11 = vault-standby.$ns.svc
DNS.12 = vault-standby.$ns.svc.cluster.local
DNS.13 = *.vault-internal
DNS.14 = *.vault-internal.$ns.svc
DNS.15 = *.vault-internal.$ns.svc.cluster.local
DNS.16 = localhost
IP.1 = 127.0.0.1
EOF
  {
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/ca.key" &&
      openssl req -new -x509 -config "$dir/openssl.cnf" -extensions v3_ca -key "$dir/ca.key" \
        -days "$TLS_DAYS" -sha256 -out "$dir/ca.crt" &&
      openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/tls.key" &&
      openssl req -new -config "$dir/openssl.cnf" -key "$dir/tls.key" -subj "/CN=vault.$ns.svc" -out "$dir/tls.csr" &&
      openssl x509 -req -in "$dir/tls.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
        -set_serial "0x$(openssl rand -hex 16)" -days "$TLS_DAYS" -sha256 \
        -extfile "$dir/openssl.cnf" -extensions v3_server -out "$dir/server.crt"
  } >"$WORK/openssl.log" 2>&1 || die "openssl failed: $(summary "$WORK/openssl.log")"
  # tls.crt is the chain, server certificate first (what Vault's tls_cert_file expects)
  cat "$dir/server.crt" "$dir/ca.crt" >"$dir/tls.crt"
  kc create secret generic "$TLS_SECRET" \
    --from-file=tls.crt="$dir/tls.crt" --from-file=tls.key="$dir/tls.key" --from-file=ca.crt="$dir/ca.crt" \
    >/dev/null 2>"$WORK/create.err" || die "cannot create Secret $TLS_SECRET: $(summary "$WORK/create.err")"
  rm -rf "$dir"
  log "tls: created Secret $TLS_SECRET with a self-signed CA and a server certificate for vault.$ns.svc,"
  log "     vault-active.$ns.svc, vault-standby.$ns.svc and *.vault-internal.$ns.svc, valid $TLS_DAYS days;"
  log "     the CA key was discarded (renewal: docs/RUNBOOK.md)"
}

# cert_manager_issues_tls: a cert-manager Certificate in the namespace writes $TLS_SECRET (the manifests'
# own with vault.tls.issuer, or yours); false when cert-manager is not installed. The script must then never
# create the Secret itself: cert-manager would find a Secret it did not issue and replace it.
cert_manager_issues_tls() {
  local names
  if ! names=$(kc get certificates.cert-manager.io -o 'jsonpath={range .items[*]}{.spec.secretName}{"\n"}{end}' 2>"$WORK/get.err"); then
    file_has "$WORK/get.err" "the server doesn't have a resource type" && return 1
    die "kubectl get certificates.cert-manager.io failed: $(summary "$WORK/get.err")"
  fi
  case $'\n'"$names"$'\n' in
    *$'\n'"$TLS_SECRET"$'\n'*) return 0 ;; # one of the lines
    *) return 1 ;;
  esac
}

ensure_tls() {
  if exists secret "$TLS_SECRET"; then
    log "tls: Secret $TLS_SECRET exists: skipping the self-signed certificate"
  elif cert_manager_issues_tls; then
    wait_for "Secret $TLS_SECRET (a cert-manager Certificate issues it)" exists secret "$TLS_SECRET" ||
      die "Secret $TLS_SECRET still missing after ${WAIT_TIMEOUT}s although a cert-manager Certificate issues it: kubectl -n $NAMESPACE describe certificate (is its issuer ready?)"
    log "tls: Secret $TLS_SECRET issued by cert-manager"
  elif [ "$TLS_SELF_SIGNED" = 1 ]; then
    make_self_signed_tls
  else
    wait_for "Secret $TLS_SECRET (cert-manager or your own tooling creates it)" exists secret "$TLS_SECRET" ||
      die "Secret $TLS_SECRET still missing after ${WAIT_TIMEOUT}s: create it (tls.crt, tls.key, ca.crt; docs/RUNBOOK.md) or re-run with --tls-self-signed"
    log "tls: Secret $TLS_SECRET exists"
  fi
}

# kcn ARGS...: kubectl in the node namespace (same context as kc)
kcn() {
  if [ -n "$CONTEXT" ]; then
    kubectl --context "$CONTEXT" -n "$NODE_NAMESPACE" "$@"
  else
    kubectl -n "$NODE_NAMESPACE" "$@"
  fi
}

# find_node_namespace: without --node-namespace, NODE_NAMESPACE is the namespace that this stack's
# NetworkPolicy allow-vault-from-alloy (in NAMESPACE, present when Alloy probes Vault's TLS) admits Alloy
# from, by name (setting node_namespace may name any namespace). Nothing outside NAMESPACE is consulted: the
# labels of the node agents carry the instance name, which is the same for every stack by default, so
# another stack's DaemonSet alloy would match. Without the policy (Alloy off, or not applied yet) or when
# it may not be read, <namespace>-node, the setting's default, with NODE_NAMESPACE_GUESSED=1: ensure_node_ca
# then says it may be wrong and never replaces a copy there that holds another CA.
NODE_POLICY=allow-vault-from-alloy
NODE_NAMESPACE_GUESSED=0
find_node_namespace() {
  local found count
  [ -z "$NODE_NAMESPACE" ] || return 0
  NODE_NAMESPACE="$NAMESPACE-node"
  NODE_NAMESPACE_GUESSED=1
  local peers='{range .spec.ingress[*].from[*]}{.namespaceSelector.matchLabels.kubernetes\.io/metadata\.name}{"\n"}{end}'
  if ! found=$(kc get networkpolicy "$NODE_POLICY" -o "jsonpath=$peers" 2>"$WORK/get.err"); then
    if file_has "$WORK/get.err" '(NotFound)'; then
      warn "tls: no NetworkPolicy $NODE_POLICY in $NAMESPACE (Alloy off, or the manifests not applied" \
        "yet) to tell the node namespace: assuming node namespace $NODE_NAMESPACE; when setting" \
        "node_namespace names another, re-run with --node-namespace NAME"
    elif file_has "$WORK/get.err" '(Forbidden)'; then
      warn "tls: may not read NetworkPolicy $NODE_POLICY in $NAMESPACE to find the node namespace:" \
        "assuming node namespace $NODE_NAMESPACE; when setting node_namespace names another, re-run" \
        "with --node-namespace NAME"
    else
      die "kubectl get networkpolicy $NODE_POLICY failed: $(summary "$WORK/get.err")"
    fi
    return 0
  fi
  found=$(printf '%s\n' "$found" | grep -v '^$' | sort -u) || true
  count=$(printf '%s' "$found" | grep -c '') || true
  if [ "$count" -eq 1 ]; then
    is_dns_label "$found" || die "NetworkPolicy $NODE_POLICY in $NAMESPACE names namespace '$found', not a DNS label"
    NODE_NAMESPACE=$found
    NODE_NAMESPACE_GUESSED=0
    log "tls: node namespace $NODE_NAMESPACE (NetworkPolicy $NODE_POLICY in $NAMESPACE)"
  elif [ "$count" -gt 1 ]; then
    die "NetworkPolicy $NODE_POLICY in $NAMESPACE admits Alloy from several namespaces:" \
      "$(printf '%s' "$found" | tr '\n' ' ')(edited by hand?): name the node namespace with --node-namespace NAME"
  else
    warn "tls: NetworkPolicy $NODE_POLICY in $NAMESPACE names no namespace: assuming node namespace" \
      "$NODE_NAMESPACE; when setting node_namespace names another, re-run with --node-namespace NAME"
  fi
}

# The node agents live in their own namespace and Secrets are namespaced: Alloy's TLS probe of Vault
# reads the CA from Secret vault-tls-ca there, which holds ca.crt and nothing else (never the private key).
ensure_node_ca() {
  local want have action=created
  find_node_namespace
  if [ "$NODE_NAMESPACE" = "$NAMESPACE" ]; then
    log "tls: the node agents share namespace $NAMESPACE: they read $TLS_SECRET itself"
    return 0
  fi
  if ! exists namespace "$NODE_NAMESPACE"; then
    if [ "$NODE_NAMESPACE_GUESSED" = 1 ]; then
      # Alloy's vault-ca volume is optional: without the copy its pods start and only the TLS probe fails
      warn "tls: no namespace $NODE_NAMESPACE (the default node namespace, which may be wrong): no CA copy" \
        "made. If the node agents run elsewhere (setting node_namespace), re-run with --node-namespace NAME," \
        "or Alloy's TLS probe of Vault fails"
    else
      warn "tls: no namespace $NODE_NAMESPACE (--node-namespace): no CA copy made; apply the manifests," \
        "then re-run with --tls-only, or Alloy's TLS probe of Vault fails"
    fi
    return 0
  fi
  want=$(kc get secret "$TLS_SECRET" -o 'jsonpath={.data.ca\.crt}' 2>"$WORK/get.err") ||
    die "cannot read ca.crt of Secret $TLS_SECRET: $(summary "$WORK/get.err")"
  [ -n "$want" ] || die "Secret $TLS_SECRET has no ca.crt: Alloy's TLS probe needs the CA (docs/RUNBOOK.md)"
  if have=$(kcn get secret "$CA_SECRET" -o 'jsonpath={.data.ca\.crt}' 2>"$WORK/get.err"); then
    if [ "$have" = "$want" ]; then
      log "tls: Secret $CA_SECRET in $NODE_NAMESPACE holds the CA of $TLS_SECRET: skipping"
      return 0
    fi
    if [ "$NODE_NAMESPACE_GUESSED" = 1 ]; then
      # only assumed to be this stack's: the copy may be another stack's (two stacks, one node namespace)
      warn "tls: Secret $CA_SECRET in $NODE_NAMESPACE (assumed node namespace) holds another CA than" \
        "$TLS_SECRET: left alone, it may be another stack's. If $NODE_NAMESPACE is this stack's node" \
        "namespace, re-run with --node-namespace $NODE_NAMESPACE to replace it"
      return 0
    fi
    kcn delete secret "$CA_SECRET" >/dev/null 2>"$WORK/delete.err" ||
      die "cannot replace Secret $CA_SECRET in $NODE_NAMESPACE: $(summary "$WORK/delete.err")"
    action=replaced
  elif ! file_has "$WORK/get.err" '(NotFound)'; then
    die "kubectl get secret $CA_SECRET -n $NODE_NAMESPACE failed: $(summary "$WORK/get.err")"
  fi
  printf '%s' "$want" | base64 -d >"$WORK/ca.crt" 2>/dev/null || die "ca.crt of Secret $TLS_SECRET is not base64"
  kcn create secret generic "$CA_SECRET" --from-file=ca.crt="$WORK/ca.crt" >/dev/null 2>"$WORK/create.err" ||
    die "cannot create Secret $CA_SECRET in $NODE_NAMESPACE: $(summary "$WORK/create.err")"
  rm -f "$WORK/ca.crt"
  log "tls: $action Secret $CA_SECRET in $NODE_NAMESPACE with the CA of $TLS_SECRET (Alloy's TLS probe)"
}

# ---- step 2: Grafana admin credentials -------------------------------------------------------------------
ensure_grafana_admin() {
  local dir="$WORK/grafana" user="" password="" assignments
  if exists secret grafana-admin; then
    log "grafana: Secret grafana-admin exists: skipping"
    return 0
  fi
  mkdir -p "$dir"
  if [ -s "$GRAFANA_CREDENTIALS_FILE" ]; then
    # an earlier run wrote the file but could not create the Secret: use the same credentials, read in one jq
    # run as @sh-quoted assignments (see load_init_file) and written to the files by printf, a builtin
    assignments=$(jq -rs 'if length == 1 and (.[0] | type) == "object" then .[0] else error("not one object") end
      | @sh "user=\(."admin-user" // "" | tostring) password=\(."admin-password" // "" | tostring)"' \
      "$GRAFANA_CREDENTIALS_FILE" 2>/dev/null) || assignments=""
    eval "$assignments"
    if [ -z "$user" ] || [ -z "$password" ]; then
      die "$GRAFANA_CREDENTIALS_FILE exists but holds no admin-user/admin-password: move it away and re-run"
    fi
    printf '%s' "$user" >"$dir/admin-user"
    printf '%s' "$password" >"$dir/admin-password"
    unset password
    log "grafana: reusing the credentials in $GRAFANA_CREDENTIALS_FILE"
  else
    command -v openssl >/dev/null 2>&1 || die "openssl not found on PATH: it is needed for the Grafana password"
    password=$(openssl rand -base64 24) || die "openssl rand failed"
    # the file's JSON is written by printf (a builtin: nothing in argv) because neither value needs escaping: the
    # user name is checked at the start, and base64 is letters, digits, '+', '/' and '='
    matches "$password" '^[A-Za-z0-9+/=]+$' || die "openssl rand -base64 printed something else than base64"
    printf '%s' "$password" >"$dir/admin-password"
    printf '%s' "$GRAFANA_ADMIN_USER" >"$dir/admin-user"
    parent_dir "$GRAFANA_CREDENTIALS_FILE"
    private_dir "$PARENT"
    # a leftover of an interrupted run holds a password no Secret uses yet; a symlink there is removed, not
    # followed, and the new file is created exclusively (noclobber: O_EXCL)
    rm -f "$GRAFANA_CREDENTIALS_FILE.tmp"
    (
      set -o noclobber
      printf '{\n  "admin-user": "%s",\n  "admin-password": "%s"\n}\n' "$GRAFANA_ADMIN_USER" "$password" \
        >"$GRAFANA_CREDENTIALS_FILE.tmp"
    ) || die "cannot write $GRAFANA_CREDENTIALS_FILE.tmp"
    unset password
    mv -f "$GRAFANA_CREDENTIALS_FILE.tmp" "$GRAFANA_CREDENTIALS_FILE"
  fi
  kc create secret generic grafana-admin \
    --from-file=admin-user="$dir/admin-user" --from-file=admin-password="$dir/admin-password" \
    >/dev/null 2>"$WORK/create.err" || die "cannot create Secret grafana-admin: $(summary "$WORK/create.err")"
  rm -rf "$dir"
  log "grafana: created Secret grafana-admin; the credentials are in $GRAFANA_CREDENTIALS_FILE (mode 0600)"
}

# ---- Vault status --------------------------------------------------------------------------------------
# status POD: runs `vault status -format=json` in POD and sets STATUS_RC (0 unsealed, 2 sealed, anything
# else: no answer) and, from the JSON, S_INITIALIZED, S_TYPE (seal type), S_RECOVERY (recovery_seal),
# S_T (threshold), S_PROGRESS and S_IS_SELF (true on the active node).
status() {
  local json
  STATUS_RC=0
  S_INITIALIZED="" S_SEALED="" S_TYPE="" S_RECOVERY="" S_T="" S_PROGRESS="" S_IS_SELF=""
  json=$(vault_in "$1" status -format=json 2>"$WORK/status.err") || STATUS_RC=$?
  if [ "$STATUS_RC" -eq 0 ] || [ "$STATUS_RC" -eq 2 ]; then
    status_fields "$json"
    case "$S_SEALED" in true | false) ;; *) STATUS_RC=1 ;; esac
  fi
}

pod_running() { [ "$(kc get pod "$1" -o 'jsonpath={.status.phase}' 2>/dev/null)" = Running ]; }
vault_answers() {
  status "$1"
  [ "$STATUS_RC" -eq 0 ] || [ "$STATUS_RC" -eq 2 ]
}
vault_unsealed() {
  status "$1"
  [ "$STATUS_RC" -eq 0 ]
}

wait_for_pod() {
  wait_for "pod $1 to run" pod_running "$1" ||
    die "pod $1 is not Running after ${WAIT_TIMEOUT}s: kubectl -n $NAMESPACE describe pod $1 (a missing Secret $TLS_SECRET keeps it Pending)"
  wait_for "Vault in $1 to answer" vault_answers "$1" ||
    die "Vault in $1 does not answer after ${WAIT_TIMEOUT}s: $(summary "$WORK/status.err") (kubectl -n $NAMESPACE logs $1 -c vault)"
}

PODS=()
# list_pods: PODS (vault-0 first); fails while there is none
list_pods() {
  load_pods
  [ ${#PODS[@]} -gt 0 ]
}

# ---- step 4: init --------------------------------------------------------------------------------------
init_vault() {
  local pod seal recovery tmp
  status vault-0
  seal=$S_TYPE
  recovery=$S_RECOVERY
  if [ "$S_INITIALIZED" = true ]; then
    log "init: Vault is already initialised: skipping vault operator init"
    return 0
  fi
  for pod in "${PODS[@]}"; do
    [ "$pod" != vault-0 ] || continue
    status "$pod"
    if [ "$S_INITIALIZED" = true ]; then
      log "init: vault-0 is not initialised but $pod is: skipping init (vault-0 joins the cluster once unsealed)"
      return 0
    fi
  done
  if [ -e "$INIT_FILE" ] || [ -L "$INIT_FILE" ]; then
    die "Vault is not initialised but $INIT_FILE exists (keys of an earlier cluster?): move it away or pass another --init-file"
  fi
  parent_dir "$INIT_FILE"
  private_dir "$PARENT"
  tmp="$INIT_FILE.partial"
  if [ -e "$tmp" ] || [ -L "$tmp" ]; then
    die "Vault is not initialised but $tmp exists (left by an earlier run, or planted): look at it, move it away and re-run"
  fi
  if [ "$recovery" = true ]; then
    log "init: initialising vault-0 with the $seal seal: $KEY_SHARES recovery key shares, threshold $KEY_THRESHOLD"
    set -- -recovery-shares="$KEY_SHARES" -recovery-threshold="$KEY_THRESHOLD"
  else
    log "init: initialising vault-0 (Shamir seal): $KEY_SHARES key shares, threshold $KEY_THRESHOLD"
    set -- -key-shares="$KEY_SHARES" -key-threshold="$KEY_THRESHOLD"
  fi
  # created exclusively (noclobber: O_EXCL), so nothing planted there, not even a symlink, receives the keys
  if ! (set -o noclobber && : >"$tmp") 2>/dev/null; then
    die "cannot create $tmp"
  fi
  if ! vault_in vault-0 operator init "$@" -format=json >>"$tmp" 2>"$WORK/init.err"; then
    init_failed "$tmp" # returns only when the whole output arrived
  fi
  if ! complete_init_output "$tmp"; then
    die "vault operator init printed something unexpected: kept in $tmp (mode 0600); check it by hand and do not delete it before you know it holds no key"
  fi
  mv -f "$tmp" "$INIT_FILE"
  log "init: done; the keys and the root token are in $INIT_FILE (mode 0600) and were not printed"
}

# complete_init_output FILE: FILE holds a whole `vault operator init -format=json` output (a root token).
complete_init_output() {
  [ -s "$1" ] && jq -e '(.root_token | type == "string" and length > 0)' "$1" >/dev/null 2>&1
}

# init_failed PARTIAL: `kubectl exec ... vault operator init` exited non-zero. Vault may have initialised all the
# same (the connection can drop after the server answered, e.g. "unexpected EOF"), and then what reached
# PARTIAL is the only copy of the keys: it is never deleted. Returns when the whole output arrived all the same;
# anything else is kept for the operator with instructions, and the run stops.
init_failed() {
  local partial=$1 why initialised=unknown
  why=$(summary "$WORK/init.err")
  if complete_init_output "$partial"; then
    warn "kubectl exec reported an error after vault operator init printed its whole output ($why): continuing"
    return 0
  fi
  status vault-0
  case "$S_INITIALIZED" in true) initialised=yes ;; false) initialised=no ;; esac
  if [ -s "$partial" ]; then
    if [ "$initialised" = no ]; then
      die "vault operator init failed ($why) and Vault is not initialised; what it printed is kept in $partial (mode 0600): delete it and re-run"
    fi
    die "vault operator init failed ($why) after printing part of its output; Vault initialised: $initialised. What arrived is kept in $partial (mode 0600) and may hold key shares and the root token: do not delete it. If it holds every key share, rename it to $INIT_FILE (repair the JSON by hand if it is cut) and re-run; if not, see docs/RUNBOOK.md, Initialise"
  fi
  rm -f "$partial" # empty: it holds nothing
  if [ "$initialised" = no ]; then
    die "vault operator init failed: $why"
  fi
  die "vault operator init failed ($why) and printed nothing here, but Vault initialised: $initialised. If 'vault status' says Initialized true, the keys never reached this machine: see docs/RUNBOOK.md, Initialise (keys lost at init)"
}

# ---- step 5: unseal ------------------------------------------------------------------------------------
# load_init_file: UNSEAL_KEYS, INIT_THRESHOLD (unseal_threshold) and INIT_ROOT_TOKEN from INIT_FILE when it exists,
# in one jq run. jq prints them as shell assignments quoted by its @sh (any character is safe in a single-quoted
# word; tostring makes every value one word), which are kept in a variable and evaluated, never printed or passed
# as an argument.
UNSEAL_KEYS=()
INIT_THRESHOLD=0
INIT_ROOT_TOKEN=""
load_init_file() {
  local assignments
  UNSEAL_KEYS=()
  [ -f "$INIT_FILE" ] || return 0
  assignments=$(jq -rs 'if length == 1 and (.[0] | type) == "object" then .[0] else error("not one object") end
    | @sh "INIT_THRESHOLD=\(.unseal_threshold // 0 | tostring) INIT_ROOT_TOKEN=\(.root_token // "" | tostring)",
      @sh "UNSEAL_KEYS=(\([.unseal_keys_b64[]? | tostring | select(. != "")]))"' \
    "$INIT_FILE" 2>/dev/null) || assignments=""
  # nothing printed: not JSON, not one object (an empty file, an array, several documents)
  [ -n "$assignments" ] || die "$INIT_FILE is not the JSON of 'vault operator init -format=json'"
  eval "$assignments"
}

# ACTIVE: the pod that reported itself the active node (is_self) while unsealing
ACTIVE=""
unseal_pod() {
  local pod=$1 threshold i
  status "$pod"
  if [ "$STATUS_RC" -eq 0 ]; then
    log "unseal: $pod is already unsealed: skipping"
    [ "$S_IS_SELF" != true ] || ACTIVE=${ACTIVE:-$pod}
    return 0
  fi
  if [ "$S_RECOVERY" = true ]; then
    log "unseal: $pod uses the $S_TYPE seal: waiting for it to unseal itself"
    wait_for "$pod to auto-unseal" vault_unsealed "$pod" ||
      die "$pod is still sealed after ${WAIT_TIMEOUT}s: check that it reaches the seal's KMS/transit (kubectl -n $NAMESPACE logs $pod -c vault)"
    log "unseal: $pod is unsealed"
    [ "$S_IS_SELF" != true ] || ACTIVE=${ACTIVE:-$pod}
    return 0
  fi
  if [ ${#UNSEAL_KEYS[@]} -eq 0 ]; then
    if [ -s "$INIT_FILE.partial" ]; then
      die "$pod is sealed and there are no unseal keys in --init-file $INIT_FILE, but $INIT_FILE.partial (kept by a failed init) may hold them: check it, rename it to $INIT_FILE and re-run"
    fi
    die "$pod is sealed and there are no unseal keys in --init-file $INIT_FILE: unseal it by hand (docs/RUNBOOK.md, Unseal) or pass the init file"
  fi
  if [ "$S_PROGRESS" != 0 ]; then
    log "unseal: $pod: discarding a partial unseal attempt ($S_PROGRESS key(s) entered earlier)"
    vault_in "$pod" operator unseal -reset >/dev/null 2>"$WORK/unseal.err" ||
      die "cannot reset the unseal progress of $pod: $(summary "$WORK/unseal.err")"
  fi
  threshold=$S_T
  if [ "$threshold" = 0 ] || [ "$threshold" = null ]; then
    threshold=$INIT_THRESHOLD
  fi
  uint_between "$threshold" 1 255 || die "cannot tell the unseal threshold of $pod"
  [ "$threshold" -le ${#UNSEAL_KEYS[@]} ] ||
    die "$pod needs $threshold unseal keys but $INIT_FILE holds ${#UNSEAL_KEYS[@]}"
  log "unseal: $pod is sealed: entering $threshold of ${#UNSEAL_KEYS[@]} keys from $INIT_FILE"
  i=0
  while [ "$i" -lt "$threshold" ]; do
    # the key travels on stdin; `vault write ... key=-` reads it there (vault operator unseal needs a tty)
    printf '%s' "${UNSEAL_KEYS[$i]}" |
      kc exec -i "$pod" -c vault -- vault write sys/unseal key=- >/dev/null 2>"$WORK/unseal.err" ||
      die "$pod refused unseal key $((i + 1)): $(summary "$WORK/unseal.err")"
    i=$((i + 1))
  done
  wait_for "$pod to unseal" vault_unsealed "$pod" ||
    die "$pod is still sealed after $threshold keys: are the keys in $INIT_FILE from this cluster?"
  log "unseal: $pod is unsealed"
  [ "$S_IS_SELF" != true ] || ACTIVE=${ACTIVE:-$pod}
}

# ---- step 6: configuration -----------------------------------------------------------------------------
TOKEN=""
load_token() {
  if [ -n "$TOKEN_FILE" ]; then
    read_token_file "$TOKEN_FILE"
  elif [ -f "$INIT_FILE" ]; then
    TOKEN=$INIT_ROOT_TOKEN # read by load_init_file
    [ -n "$TOKEN" ] || die "$INIT_FILE holds no root_token: pass --token-file with a root or admin token"
  else
    die "Vault is initialised and unsealed, but there is no token to configure it: pass --token-file (root or admin token) or --init-file"
  fi
}

configure_audit() {
  local pod=$1 devices
  devices=$(vault_auth "$pod" audit list -format=json 2>"$WORK/vault.err") ||
    die "cannot list audit devices: $(summary "$WORK/vault.err")"
  if json_has "$devices" stdout/; then
    log "audit: device stdout/ exists: skipping"
    return 0
  fi
  vault_auth "$pod" audit enable -path=stdout file file_path=stdout format=json >/dev/null 2>"$WORK/vault.err" ||
    die "cannot enable the audit device: $(summary "$WORK/vault.err")"
  log "audit: enabled file device stdout/ (JSON lines on the vault container's stdout, shipped by Alloy)"
}

configure_policies() {
  local pod=$1 file name current wanted
  kc exec "$pod" -c vault -- ls /vault/policies </dev/null >"$WORK/policies" 2>"$WORK/ls.err" ||
    die "cannot list /vault/policies in $pod (is ConfigMap vault-policies mounted?): $(summary "$WORK/ls.err")"
  grep -q '\.hcl$' "$WORK/policies" || die "no *.hcl policy in /vault/policies of $pod"
  while IFS= read -r file; do
    case "$file" in *.hcl) ;; *) continue ;; esac
    name=${file%.hcl}
    matches "$name" '^[a-z0-9][a-z0-9_-]*$' || die "unexpected policy file name /vault/policies/$file"
    wanted=$(kc exec "$pod" -c vault -- cat "/vault/policies/$file" </dev/null 2>"$WORK/cat.err") ||
      die "cannot read /vault/policies/$file: $(summary "$WORK/cat.err")"
    if current=$(vault_auth "$pod" policy read -format=json "$name" 2>/dev/null); then
      current=$(printf '%s' "$current" | jq -r '.policy')
      if [ "$current" = "$wanted" ]; then
        log "policy: $name is up to date: skipping"
        continue
      fi
      log "policy: $name differs from /vault/policies/$file: updating"
    fi
    vault_auth "$pod" policy write "$name" "/vault/policies/$file" >/dev/null 2>"$WORK/vault.err" ||
      die "cannot write policy $name: $(summary "$WORK/vault.err")"
    log "policy: wrote $name from /vault/policies/$file"
  done <"$WORK/policies"
}

# The token role `vault-aio verify`'s read-only token is made from. A token without sudo on auth/token/create (the
# admin token) may give a child only policies it holds itself ("child policies must be subset of parent"); a
# role whose allowed_policies names operator lets it make one without holding operator, and without root.
# Orphan, so revoking the admin token that made one leaves it valid (until the token store's max TTL).
OPERATOR_ROLE=operator
configure_token_roles() {
  local pod=$1 current
  if current=$(vault_auth "$pod" read -format=json "auth/token/roles/$OPERATOR_ROLE" 2>/dev/null) &&
    printf '%s' "$current" | jq -e '.data.allowed_policies == ["operator"] and .data.orphan == true' >/dev/null 2>&1; then
    log "token role: $OPERATOR_ROLE is up to date: skipping"
    return 0
  fi
  vault_auth "$pod" write "auth/token/roles/$OPERATOR_ROLE" allowed_policies=operator orphan=true \
    >/dev/null 2>"$WORK/vault.err" || die "cannot write auth/token/roles/$OPERATOR_ROLE: $(summary "$WORK/vault.err")"
  log "token role: wrote $OPERATOR_ROLE (tokens with the operator policy only, orphans): the admin token makes"
  log "     the token of 'vault-aio verify' with 'vault token create -role=$OPERATOR_ROLE' (docs/RUNBOOK.md)"
}

# pki_ca_state POD: prints "present" when pki/ serves a root CA (pki/cert/ca), "absent" when the mount has no
# default issuer yet; dies on any other answer (a wrong token must not lead to a second root CA).
pki_ca_state() {
  local out
  if out=$(vault_auth "$1" read -format=json pki/cert/ca 2>"$WORK/vault.err"); then
    if printf '%s' "$out" | jq -e '.data.certificate // "" | contains("BEGIN CERTIFICATE")' >/dev/null 2>&1; then
      echo present
      return 0
    fi
    echo absent
    return 0
  fi
  if file_has "$WORK/vault.err" 'no default issuer currently configured'; then
    echo absent
    return 0
  fi
  die "cannot read pki/cert/ca: $(summary "$WORK/vault.err")"
}

configure_pki() {
  local pod=$1 mounts ca base="https://vault.$NAMESPACE.svc:8200/v1/pki"
  mounts=$(vault_auth "$pod" secrets list -format=json 2>"$WORK/vault.err") ||
    die "cannot list secrets engines: $(summary "$WORK/vault.err")"
  if json_has "$mounts" pki/; then
    # the CA is what matters, not the mount: a run that stopped after `secrets enable pki` left a mount without one
    ca=$(pki_ca_state "$pod") || exit 1
    if [ "$ca" = present ]; then
      log "pki: root CA exists in pki/: skipping the root CA setup"
      return 0
    fi
    log "pki: mount pki/ exists without a root CA (an earlier run stopped half-way): completing the setup"
  else
    vault_auth "$pod" secrets enable pki >/dev/null 2>"$WORK/vault.err" ||
      die "cannot enable pki/: $(summary "$WORK/vault.err")"
  fi
  vault_auth "$pod" secrets tune -max-lease-ttl="$PKI_TTL" pki >/dev/null 2>"$WORK/vault.err" ||
    die "cannot tune pki/ (re-run the script to complete the setup): $(summary "$WORK/vault.err")"
  vault_auth "$pod" write -format=json pki/root/generate/internal common_name="$PKI_COMMON_NAME" ttl="$PKI_TTL" \
    >"$WORK/pki-root.json" 2>"$WORK/vault.err" ||
    die "cannot generate the root CA (re-run the script to complete the setup): $(summary "$WORK/vault.err")"
  vault_auth "$pod" write pki/config/urls issuing_certificates="$base/ca" crl_distribution_points="$base/crl" \
    >/dev/null 2>"$WORK/vault.err" || die "cannot write pki/config/urls: $(summary "$WORK/vault.err")"
  vault_auth "$pod" write "pki/roles/$PKI_ROLE" allowed_domains="$PKI_ALLOWED_DOMAINS" allow_subdomains=true \
    max_ttl="$PKI_ROLE_MAX_TTL" >/dev/null 2>"$WORK/vault.err" ||
    die "cannot write pki/roles/$PKI_ROLE: $(summary "$WORK/vault.err")"
  log "pki: root CA \"$PKI_COMMON_NAME\" (serial $(jq -r '.data.serial_number // "?"' "$WORK/pki-root.json"), ttl $PKI_TTL),"
  log "     URLs $base/ca and $base/crl, role $PKI_ROLE for $PKI_ALLOWED_DOMAINS and subdomains (max_ttl $PKI_ROLE_MAX_TTL)"
}

configure_kubernetes_auth() {
  local pod=$1 methods
  methods=$(vault_auth "$pod" auth list -format=json 2>"$WORK/vault.err") ||
    die "cannot list auth methods: $(summary "$WORK/vault.err")"
  if json_has "$methods" kubernetes/; then
    log "auth: kubernetes/ is enabled: skipping enable"
  else
    vault_auth "$pod" auth enable kubernetes >/dev/null 2>"$WORK/vault.err" ||
      die "cannot enable auth/kubernetes: $(summary "$WORK/vault.err")"
    log "auth: enabled kubernetes/"
  fi
  vault_auth "$pod" write auth/kubernetes/config kubernetes_host=https://kubernetes.default.svc:443 \
    >/dev/null 2>"$WORK/vault.err" || die "cannot write auth/kubernetes/config: $(summary "$WORK/vault.err")"
  log "auth: wrote auth/kubernetes/config (kubernetes_host=https://kubernetes.default.svc:443)"
}

# ---- main ----------------------------------------------------------------------------------------------
main() {
  local pod active
  log "namespace $NAMESPACE, pods $SELECTOR"
  preflight "apply the vault-aio manifests first (kubectl apply -k dist/)" "Apply the manifests first"
  ensure_tls
  ensure_node_ca
  if [ "$TLS_ONLY" = 1 ]; then
    log "done (--tls-only)."
    return 0
  fi
  ensure_grafana_admin

  wait_for "the Vault pods to be created" list_pods || die "no pod matches $SELECTOR in namespace $NAMESPACE"
  [ "${PODS[0]}" = vault-0 ] || die "pod vault-0 not found in namespace $NAMESPACE (pods: ${PODS[*]})"
  for pod in "${PODS[@]}"; do
    wait_for_pod "$pod"
  done
  log "vault: ${#PODS[@]} pod(s): ${PODS[*]}"

  init_vault
  load_init_file
  for pod in "${PODS[@]}"; do
    unseal_pod "$pod"
  done

  active=${ACTIVE:-vault-0}
  load_token
  vault_auth "$active" token lookup >/dev/null 2>"$WORK/vault.err" ||
    die "Vault refused the token (expired, revoked or not from this cluster?): $(summary "$WORK/vault.err")"
  log "configure: using $active"
  configure_audit "$active"
  configure_policies "$active"
  configure_token_roles "$active"
  configure_pki "$active"
  if [ "$ENABLE_KUBERNETES_AUTH" = 1 ]; then
    configure_kubernetes_auth "$active"
  fi
  log "done."
  if [ -f "$INIT_FILE" ]; then
    log "next: move the keys and the root token out of $INIT_FILE into separate safe places, then delete it"
    log "      (docs/RUNBOOK.md, Initialise); keep the root token offline, and any admin token (the admin policy is"
    log "      equivalent to root) as guarded as it"
  fi
}

main
