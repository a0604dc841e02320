#!/bin/sh
# Creates the two Secrets the facial-expressions MLService names, and keeps a copy of what a client needs.
#
#   examples/facial-expression/make-secrets.sh <namespace> <output-dir> [extra DNS names or IPs for the certificate...]
#
# <output-dir> receives tls.crt (give it to clients as their CA: the certificate is self-signed), tls.key and
# api-keys (one key per line; clients send one as `Authorization: Bearer <key>` or `X-API-Key: <key>`).
# Existing files in <output-dir> are reused, so running it again updates the Secrets without changing them.
# Uses kubectl and openssl from PATH and the current kubeconfig ($KUBECONFIG).
set -eu

if [ $# -lt 2 ]; then
  echo "usage: $0 <namespace> <output-dir> [extra-san...]" >&2
  exit 2
fi
ns=$1
out=$2
shift 2
service=facial-expressions

mkdir -p "$out"
umask 077

# The certificate names the Service as apps inside the cluster reach it, plus localhost for port-forward.
san="DNS:$service.$ns.svc,DNS:$service.$ns.svc.cluster.local,DNS:$service,DNS:localhost,IP:127.0.0.1"
for extra in "$@"; do
  case $extra in
    *[!0-9.]*) san="$san,DNS:$extra" ;;
    *) san="$san,IP:$extra" ;;
  esac
done

if [ ! -s "$out/tls.crt" ] || [ ! -s "$out/tls.key" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
    -subj "/CN=$service.$ns.svc" -addext "subjectAltName=$san" \
    -keyout "$out/tls.key" -out "$out/tls.crt" 2>/dev/null
fi
if [ ! -s "$out/api-keys" ]; then
  openssl rand -hex 32 > "$out/api-keys"
fi

kubectl -n "$ns" create secret tls "$service-tls" --cert="$out/tls.crt" --key="$out/tls.key" \
  --dry-run=client -o yaml | kubectl apply -f -
kubectl -n "$ns" create secret generic "$service-api-keys" --from-file=api-keys="$out/api-keys" \
  --dry-run=client -o yaml | kubectl apply -f -
