#!/usr/bin/env bash
# Runs every check of deploy/ that can run on this machine and says which it skipped and why.
#   bash deploy/validate.sh        exit 0: all run checks passed; 1: at least one failed
# Lines: "ok   <check>", "skip <check>: <reason>", "FAIL <check>: <details>", then a summary.
# Nothing here starts a network service; the multi-host tests (deploy/test/multihost.test.mjs)
# run the configurations for real.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
tmp="$(mktemp -d -t kvbench-validate.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT

n_ok=0 n_skip=0 n_fail=0
ok() { echo "ok   $*"; n_ok=$((n_ok + 1)); }
skip() { echo "skip $*"; n_skip=$((n_skip + 1)); }
failed() { echo "FAIL $*"; n_fail=$((n_fail + 1)); }

# Passwords users.conf reads from the environment; nats-server refuses the file without them.
export KVBENCH_NATS_API_PASSWORD=validate-api KVBENCH_NATS_AGENT_PASSWORD=validate-agent \
  KVBENCH_NATS_AGGREGATOR_PASSWORD=validate-aggregator POD_NAME=kvbench-nats-0

# --- NATS configurations: nats-server's own config test (-t) -----------------------------
nats_bin="$(command -v nats-server || { [ -x /usr/sbin/nats-server ] && echo /usr/sbin/nats-server; })"
nats_test() { # <label> <config file>
  local out
  if out="$("$nats_bin" -t -c "$2" 2>&1)"; then ok "nats-server -t $1"; else failed "nats-server -t $1: $out"; fi
}
if [ -z "$nats_bin" ]; then
  skip "nats configs: nats-server not installed (apt-get install nats-server)"
else
  echo "     ($("$nats_bin" --version))"
  for f in single.conf auth.conf cluster/nats-1.conf cluster/nats-2.conf cluster/nats-3.conf; do
    nats_test "deploy/nats/$f" "$here/nats/$f"
  done
  # -t loads TLS certificates, so tls.conf is tested on a copy that points at a throwaway CA.
  if command -v openssl >/dev/null; then
    mkdir -p "$tmp/tls" && cp "$here"/nats/{single,users,tls}.conf "$tmp/tls/"
    if (cd "$tmp/tls" &&
      openssl req -x509 -newkey rsa:2048 -nodes -keyout ca-key.pem -out ca.pem -days 1 -subj /CN=kvbench-validate-ca &&
      openssl req -newkey rsa:2048 -nodes -keyout server-key.pem -out server.csr -subj /CN=nats &&
      printf 'subjectAltName=DNS:nats,DNS:localhost\n' >ext &&
      openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out server.pem -days 1 -extfile ext) >"$tmp/openssl.log" 2>&1; then
      sed -i "s#/etc/kvbench/tls/#$tmp/tls/#" "$tmp/tls/tls.conf"
      nats_test "deploy/nats/tls.conf (throwaway certificates)" "$tmp/tls/tls.conf"
    else
      failed "tls certificates for the tls.conf test: $(tail -3 "$tmp/openssl.log")"
    fi
  else
    skip "deploy/nats/tls.conf: openssl not installed, no certificates to test it with"
  fi
  # The Kubernetes node config includes users.conf beside it (both come from one ConfigMap).
  mkdir -p "$tmp/k8s" && cp "$here/k8s/nats/nats.conf" "$here/nats/users.conf" "$tmp/k8s/"
  nats_test "deploy/k8s/nats/nats.conf (with users.conf, POD_NAME set)" "$tmp/k8s/nats.conf"
fi

# --- compose, Dockerfile, Kubernetes manifests, env files: parse and cross-check ---------
if out="$(node "$here/check-manifests.mjs" --root "$root" 2>&1)"; then
  while IFS= read -r l; do
    case "$l" in ok*) ok "${l#ok   }" ;; skip*) skip "${l#skip }" ;; *) echo "     $l" ;; esac
  done <<<"$out"
else
  failed "check-manifests.mjs:"$'\n'"$out"
fi

# --- the image's entry point, outside an image --------------------------------------------
if sh -n "$here/docker/entrypoint.sh"; then
  sh "$here/docker/entrypoint.sh" no-such-service >/dev/null 2>&1
  rc=$?
  if [ "$rc" = 64 ]; then ok "docker/entrypoint.sh: syntax; unknown service refused (exit 64)"; else failed "docker/entrypoint.sh: unknown service gave exit $rc, expected 64"; fi
  # Dispatch: each service, started through the entry point with one bad variable, must get as
  # far as its own configuration check and exit naming that variable.
  if [ -f "$root/services/host-agent/dist/src/server.js" ]; then
    for svc_var in workload-api:PORT aggregator:PORT host-agent:SYSTEM_LABEL; do
      svc="${svc_var%%:*}" var="${svc_var#*:}"
      out="$(env -i PATH="$PATH" KVBENCH_ROOT="$root" PORT=not-a-port SYSTEM_LABEL='Not A Label' NATS_URL=nats://127.0.0.1:1 \
        timeout 30 sh "$here/docker/entrypoint.sh" "$svc" 2>&1)"
      rc=$?
      if [ "$rc" != 0 ] && grep -q "invalid environment variable $var" <<<"$out"; then
        ok "docker/entrypoint.sh $svc: runs the service (refuses a bad $var)"
      else
        failed "docker/entrypoint.sh $svc: exit $rc, expected a refusal of $var: $(tail -3 <<<"$out")"
      fi
    done
  else
    skip "docker/entrypoint.sh dispatch: services not built (pnpm exec tsc -b)"
  fi
else
  failed "docker/entrypoint.sh: sh -n"
fi

# --- systemd units --------------------------------------------------------------------------
if command -v systemd-analyze >/dev/null; then
  # verify checks that ExecStart's programs exist, so the units are checked on a copy that
  # points /opt/kvbench at this checkout; the instance unit is verified as @pcie.
  mkdir -p "$tmp/units"
  for f in "$here"/systemd/*.service; do sed "s#/opt/kvbench#$root#g" "$f" >"$tmp/units/$(basename "$f")"; done
  ln -s 'kvbench-host-agent@.service' "$tmp/units/kvbench-host-agent@pcie.service"
  for u in kvbench-nats.service kvbench-workload-api.service kvbench-aggregator.service kvbench-host-agent@pcie.service; do
    # verify exits 0 on unknown keys and only warns: any output at all counts as a failure.
    if out="$(cd "$tmp/units" && systemd-analyze verify --man=no "./$u" 2>&1)" && [ -z "$out" ]; then
      ok "systemd-analyze verify $u"
    else
      failed "systemd-analyze verify $u: $out"
    fi
  done
else
  skip "systemd units: systemd-analyze not installed"
fi

# --- tools that are not on this machine -----------------------------------------------------
if docker compose version >/dev/null 2>&1; then
  if out="$(docker compose -f "$here/docker/docker-compose.yml" --profile agent config -q 2>&1)"; then ok "docker compose config"; else failed "docker compose config: $out"; fi
else
  skip "docker compose config: no compose plugin here (and no Docker engine: the image was never built)"
fi
if command -v kubectl >/dev/null && kubectl version --client >/dev/null 2>&1; then
  if out="$(kubectl kustomize "$here/k8s" 2>&1 >/dev/null)"; then ok "kubectl kustomize deploy/k8s"; else failed "kubectl kustomize: $out"; fi
else
  skip "kubectl kustomize / server-side dry run: kubectl not installed, no cluster"
fi

echo "validate: $n_ok ok, $n_skip skipped, $n_fail failed"
[ "$n_fail" = 0 ]
