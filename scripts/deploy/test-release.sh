#!/usr/bin/env bash
# Tests of scripts/deploy/release.sh without a cluster: renders of the real overlays, and the roll-back's
# decisions (what it re-applies, what it deletes, what it never deletes) against a recording stand-in for
# kubectl that answers `get configmap quickmart-release` with a previous release. scripts/validate-deploy.sh
# runs it; it prints `ok`/`FAIL` lines like the validators.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo_root"
release=scripts/deploy/release.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
ok() { echo "ok   - $1"; }
not_ok() { echo "FAIL - $1"; failures=$((failures + 1)); }

# --- Renders -----------------------------------------------------------------------------------------------------
for overlay in staging prod; do
  if bash "$release" render "$overlay" registry.example/shop/quickmart:0123abc "$work/$overlay.yaml" >/dev/null &&
    [[ $(grep -c 'image: registry.example/shop/quickmart:0123abc$' "$work/$overlay.yaml") -ge 7 ]] &&
    [[ $(grep -c 'image: registry.example/shop/quickmart-backup:0123abc$' "$work/$overlay.yaml") -eq 2 ]] &&
    ! grep -q 'set-by-cd\|ghcr.io/quickmart/quickmart' "$work/$overlay.yaml"; then
    ok "render $overlay runs the given image in every service and its -backup twin in the backup jobs, no placeholder"
  else
    not_ok "render $overlay"
  fi
done
for refused in "dev registry.example/q:1" "prod registry.example/q" "prod registry.example/q:tag;rm" "nowhere registry.example/q:1"; do
  read -r overlay image <<<"$refused"
  if bash "$release" render "$overlay" "$image" "$work/refused.yaml" 2>/dev/null; then
    not_ok "render refuses overlay '$overlay' with image '$image'"
  else
    ok "render refuses overlay '$overlay' with image '$image'"
  fi
done
[[ -z $(find k8s/overlays -maxdepth 1 -name '.release-*') ]] && ok "render leaves nothing in the checkout" ||
  not_ok "render left a .release-* folder behind"

# --- Roll-back ---------------------------------------------------------------------------------------------------
# The previous release: the current one without an object the new release added (a NetworkPolicy) and with a
# different gateway setting, as a new release's ConfigMap would differ.
current="$work/prod.yaml"
python3 - "$current" "$work/previous.yaml" <<'PY'
import sys
docs = open(sys.argv[1]).read().split("\n---\n")
kept = [d for d in docs if not ("kind: NetworkPolicy" in d and "\n  name: allow-dns-egress\n" in d)]
assert len(kept) == len(docs) - 1, "the fixture expects NetworkPolicy/allow-dns-egress in the render"
open(sys.argv[2], "w").write("\n---\n".join(kept).replace("GATEWAY_DEDUPE: \"true\"", "GATEWAY_DEDUPE: \"false\""))
PY
mkdir -p "$work/bin"
cat >"$work/bin/kubectl" <<'FAKE'
#!/usr/bin/env bash
# Records every call (and the files it is given); answers the release record from $PREVIOUS.
echo "kubectl $*" >>"$CALLS"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  [[ ${args[i]} == -f && -f ${args[i + 1]} ]] && cp "${args[i + 1]}" "$FILES/$(wc -l <"$CALLS").yaml"
done
case " $* " in
  *" get configmap quickmart-release "*"manifest"*) [[ -n ${PREVIOUS:-} ]] && cat "$PREVIOUS" ;;
  *" get configmap quickmart-release "*"revision"*) echo previous-sha ;;
esac
exit 0
FAKE
chmod +x "$work/bin/kubectl"

run_roll_back() {
  rm -rf "$work/files" && mkdir -p "$work/files" && : >"$work/calls"
  PATH="$work/bin:$PATH" CALLS="$work/calls" FILES="$work/files" PREVIOUS=${1:-} NAMESPACE=quickmart \
    bash "$release" roll-back "$current" >"$work/roll-back.log" 2>&1
}

if run_roll_back "$work/previous.yaml"; then
  apply_call=$(grep -n "^kubectl apply -f .* -l quickmart.io/rollout notin (migrate)$" "$work/calls" | cut -d: -f1 | head -1)
  delete_call=$(grep -n "^kubectl delete -f " "$work/calls" | cut -d: -f1 | head -1)
  if [[ -n $apply_call ]] && cmp -s "$work/files/$apply_call.yaml" "$work/previous.yaml"; then
    ok "roll-back re-applies the recorded release's whole manifest but the migration Job"
  else
    not_ok "roll-back re-applies the recorded manifest (calls: $(tr '\n' ';' <"$work/calls"))"
  fi
  deleted=$(grep -c '^kind: ' "$work/files/$delete_call.yaml" 2>/dev/null || true)
  if [[ -n $delete_call && $deleted == 1 ]] && grep -q '^  name: allow-dns-egress$' "$work/files/$delete_call.yaml"; then
    ok "roll-back deletes exactly what the failed release added"
  else
    not_ok "roll-back deletes exactly NetworkPolicy/allow-dns-egress (found $deleted objects)"
  fi
  if [[ -n $delete_call ]] && grep -Eq '^kind: (Namespace|PersistentVolumeClaim)$' "$work/files/$delete_call.yaml"; then
    not_ok "roll-back never deletes a Namespace or a volume claim"
  else
    ok "roll-back never deletes a Namespace or a volume claim"
  fi
  if grep -q "^kubectl -n quickmart rollout status -f .* -l quickmart.io/rollout=app" "$work/calls" &&
    (($(grep -n "rollout status" "$work/calls" | cut -d: -f1 | head -1) > apply_call)); then
    ok "roll-back waits for the services after re-applying"
  else
    not_ok "roll-back waits for the services"
  fi
else
  not_ok "roll-back with a recorded release: $(cat "$work/roll-back.log")"
fi

# A release whose new objects include a Namespace and a volume claim: those stay.
python3 - "$work/previous.yaml" "$work/previous-small.yaml" <<'PY'
import sys
docs = open(sys.argv[1]).read().split("\n---\n")
kept = [d for d in docs if "kind: Namespace\n" not in d and "kind: PersistentVolumeClaim\n" not in d]
assert len(kept) == len(docs) - 2, "the fixture expects one Namespace and one PersistentVolumeClaim"
open(sys.argv[2], "w").write("\n---\n".join(kept))
PY
if run_roll_back "$work/previous-small.yaml"; then
  delete_call=$(grep -n "^kubectl delete -f " "$work/calls" | cut -d: -f1 | head -1)
  if [[ -n $delete_call ]] && ! grep -Eq '^kind: (Namespace|PersistentVolumeClaim)$' "$work/files/$delete_call.yaml" &&
    grep -q '^  name: allow-dns-egress$' "$work/files/$delete_call.yaml"; then
    ok "roll-back keeps a Namespace and a volume claim the failed release added"
  else
    not_ok "roll-back keeps a Namespace and a volume claim (calls: $(tr '\n' ';' <"$work/calls"))"
  fi
else
  not_ok "roll-back with a smaller recorded release: $(cat "$work/roll-back.log")"
fi

deployments=$(grep -c '^kind: Deployment$' "$current")
if run_roll_back "" && [[ $(grep -c "^kubectl -n quickmart rollout undo deployment/" "$work/calls") == "$deployments" ]]; then
  ok "roll-back with no recorded release undoes every Deployment's rollout"
else
  not_ok "roll-back with no recorded release (calls: $(tr '\n' ';' <"$work/calls"))"
fi

echo "release-tests: $failures failed"
[[ $failures -eq 0 ]]
