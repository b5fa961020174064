#!/usr/bin/env bash
# Print the network.kube_api settings (addresses and ports of the Kubernetes API server) for the current
# cluster, read from the EndpointSlices of Service `kubernetes` in namespace `default`. Paste the output into
# vaultaio.yaml, so Vault and Alloy may reach the API server and nothing else on those ports.
# Usage and every option: kube-api-cidrs.sh --help.
set -euo pipefail
umask 077
export LC_ALL=C

PROG=kube-api-cidrs.sh
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
no_tracing

CONTEXT=""

usage() {
  cat <<EOF
Usage: $PROG [options]

Print the network.kube_api block of vaultaio.yaml for the cluster kubectl points at: one /32 (IPv4) or
/128 (IPv6) CIDR per API server address and the ports they serve, from the EndpointSlices of Service
kubernetes in namespace default (what NetworkPolicies see after the Service address is translated).

Options:
      --context NAME      kubectl context to use (default: the current context)
  -h, --help              show this help and exit

Needs kubectl (list endpointslices in namespace default) and jq.
Exit status: 0 when the settings were printed, 1 on any failure, 2 on a usage error.
EOF
}

while [ $# -gt 0 ]; do
  split_option "$1"
  case "$OPT" in
    -h | --help)
      usage
      exit 0
      ;;
    --context)
      value_option "$@"
      CONTEXT=$VALUE
      ;;
    *) usage_error "unknown option: $OPT" ;;
  esac
  shift "$OPT_ARGS"
done

require_kubectl_and_jq
start_work kube-api

# the kubernetes Service lives in namespace default whatever the stack's namespace is
NAMESPACE=default
kc get endpointslices -l kubernetes.io/service-name=kubernetes -o json >"$WORK/slices.json" 2>"$WORK/get.err" ||
  die "cannot list the EndpointSlices of Service kubernetes in namespace default: $(summary "$WORK/get.err")"

# one CIDR per address (IPv4 /32, IPv6 /128) and the ports, both sorted and unique
jq -r '
  [.items[] | select(.addressType == "IPv4" or .addressType == "IPv6")] as $slices
  | ([$slices[] | .addressType as $t | .endpoints[]?.addresses[]? | if $t == "IPv6" then "\(.)/128" else "\(.)/32" end]
      | unique) as $cidrs
  | ([$slices[] | .ports[]? | select((.protocol // "TCP") == "TCP") | .port] | unique) as $ports
  | if ($cidrs | length) == 0 or ($ports | length) == 0 then empty
    else "    cidrs: [\($cidrs | join(", "))]\n    ports: [\($ports | map(tostring) | join(", "))]"
    end
' "$WORK/slices.json" >"$WORK/settings" 2>"$WORK/jq.err" || die "unexpected EndpointSlice JSON: $(summary "$WORK/jq.err")"
[ -s "$WORK/settings" ] ||
  die "Service kubernetes in namespace default has no EndpointSlice with an address and a TCP port: is this a Kubernetes >= 1.21 cluster?"

context=${CONTEXT:-$(kubectl config current-context 2>/dev/null || echo "the current context")}
printf '# network.kube_api for %s (EndpointSlices of Service kubernetes in namespace default)\n' "$context"
printf 'network:\n  kube_api:\n'
cat "$WORK/settings"
