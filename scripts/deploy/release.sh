#!/usr/bin/env bash
# One release of QuickMart to one namespace, in the phases k8s/README.md ("Rollout phases") describes. CD
# (.github/workflows/deploy.yml) runs each phase as a step; an operator can run the same by hand.
#
#   release.sh render OVERLAY IMAGE OUT   render k8s/overlays/OVERLAY with the quickmart image set to IMAGE
#                                          (registry/name:tag) and the backup image to registry/name-backup:tag
#                                          (the Dockerfile's backup target) into OUT; refuses a render without
#                                          them or with Secret objects in it
#   release.sh configure MANIFEST         apply everything but the migration Job and the services; wait for the
#                                          Secret the Doppler operator syncs
#   release.sh migrate MANIFEST           run the migration Job (replacing the previous one) and wait for it
#   release.sh roll-out MANIFEST          apply the services and wait until every one is rolled out
#   release.sh record MANIFEST REVISION   remember MANIFEST as the running release (ConfigMap quickmart-release)
#   release.sh roll-back MANIFEST         return to the recorded release: re-apply its manifest (all objects but
#                                          the migration Job, so ConfigMaps, policies and autoscalers too), delete
#                                          what MANIFEST added (never a Namespace or a volume claim), and wait
#
# NAMESPACE (environment) names the namespace; TIMEOUT_MINUTES bounds each wait (default 10).
set -euo pipefail

namespace=${NAMESPACE:-quickmart}
timeout=${TIMEOUT_MINUTES:-10}m
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# The image name every overlay maps `quickmart` to (k8s/overlays/*/kustomization.yaml).
overlay_image=ghcr.io/quickmart/quickmart

fail() { echo "::error::$*" >&2; exit 1; }

# scan MODE FILE [KEYS]: read a rendered manifest document by document. kustomize writes its output in one
# canonical layout (top-level keys at column 0, metadata's at two spaces), which is what this reads.
#   keys     print one "apiVersion kind namespace name" line per object ("-" for a cluster-wide one)
#   missing  print the documents whose key line is not in the file KEYS
scan() {
  awk -v mode="$1" -v keys="${3:-}" '
    BEGIN { if (keys != "") while ((getline line < keys) > 0) known[line] = 1 }
    function flush(  key) {
      if (kind != "") {
        key = api " " kind " " (ns == "" ? "-" : ns) " " name
        if (mode == "keys") print key
        else if (!(key in known)) printf "---\n%s", doc
      }
      doc = ""; api = kind = ns = name = ""; meta = 0
    }
    /^---/ { flush(); next }
    { doc = doc $0 "\n" }
    /^apiVersion: / { api = $2 }
    /^kind: / { kind = $2 }
    /^metadata:/ { meta = 1; next }
    /^[^ ]/ { meta = 0 }
    meta && /^  name: / { name = $2 }
    meta && /^  namespace: / { ns = $2 }
    END { flush() }' "$2"
}
objects() { scan keys "$1"; }
documents_not_in() { scan missing "$1" "$2"; }

render() {
  local overlay=$1 image=$2 out=$3
  [[ -d "$repo_root/k8s/overlays/$overlay" ]] || fail "no overlay k8s/overlays/$overlay"
  [[ "$overlay" != dev ]] || fail "the dev overlay carries committed dev secrets and is never deployed to a cluster"
  [[ "$image" =~ ^([^@[:space:]]+):([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$ ]] || fail "IMAGE must be registry/name:tag, got '$image'"
  local name=${BASH_REMATCH[1]} tag=${BASH_REMATCH[2]} work
  # A kustomization of its own, beside the overlay's, so nothing in the checkout is edited.
  work=$(mktemp -d "$repo_root/k8s/overlays/.release-XXXXXX")
  trap 'rm -rf "$work"' RETURN
  cat >"$work/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../$overlay
images:
  - name: $overlay_image
    newName: $name
    newTag: "$tag"
  - name: $overlay_image-backup
    newName: $name-backup
    newTag: "$tag"
YAML
  kubectl kustomize "$work" >"$out"
  grep -q "image: $name:$tag\$" "$out" || fail "the render of $overlay does not run $name:$tag"
  grep -q "image: $name-backup:$tag\$" "$out" || fail "the render of $overlay does not back up with $name-backup:$tag"
  ! grep -q 'set-by-cd' "$out" || fail "the render of $overlay still names the placeholder tag set-by-cd"
  ! objects "$out" | grep -q '^v1 Secret ' || fail "the render of $overlay holds Secret objects; secrets come from Doppler"
  echo "rendered k8s/overlays/$overlay with $name:$tag: $(objects "$out" | wc -l) objects"
}

configure() {
  kubectl apply -f "$1" -l 'quickmart.io/rollout notin (migrate,app)'
  # The Doppler operator creates the Secret the Job and the services read.
  kubectl -n "$namespace" wait --for=create secret/quickmart-secrets --timeout="$timeout"
}

migrate() {
  # A Job's pod template is immutable: replace the previous run.
  kubectl -n "$namespace" delete job quickmart-migrate --ignore-not-found --wait=true
  kubectl apply -f "$1" -l quickmart.io/rollout=migrate
  if ! kubectl -n "$namespace" wait --for=condition=Complete job/quickmart-migrate --timeout="$timeout"; then
    kubectl -n "$namespace" logs job/quickmart-migrate --all-containers --tail=200 || true
    fail "the migration Job did not complete; nothing was rolled out"
  fi
}

roll_out() {
  kubectl apply -f "$1" -l quickmart.io/rollout=app
  kubectl -n "$namespace" rollout status -f "$1" -l quickmart.io/rollout=app --timeout="$timeout"
}

record() {
  kubectl -n "$namespace" create configmap quickmart-release \
    --from-file=manifest.yaml="$1" --from-literal=revision="$2" --dry-run=client -o yaml |
    kubectl label --local -f - app.kubernetes.io/part-of=quickmart -o yaml |
    kubectl apply --server-side --force-conflicts --field-manager=quickmart-cd -f -
}

roll_back() {
  local manifest=$1 previous work
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  previous="$work/previous.yaml"
  kubectl -n "$namespace" get configmap quickmart-release -o jsonpath='{.data.manifest\.yaml}' >"$previous" 2>/dev/null || true
  if [[ ! -s "$previous" ]]; then
    # The first release has nothing recorded to return to; put the services' previous pods back at least.
    echo "::warning::no recorded release in $namespace: undoing the services' rollouts only"
    objects "$manifest" | awk '$2 == "Deployment" { print $4 }' | while read -r deployment; do
      kubectl -n "$namespace" rollout undo "deployment/$deployment" || echo "::warning::no earlier revision of $deployment"
    done
    return 0
  fi
  echo "returning $namespace to release $(kubectl -n "$namespace" get configmap quickmart-release -o jsonpath='{.data.revision}')"
  # The migrations stay applied: they are written to be compatible with the previous release.
  kubectl apply -f "$previous" -l 'quickmart.io/rollout notin (migrate)'
  objects "$previous" >"$work/previous.keys"
  documents_not_in "$manifest" "$work/previous.keys" >"$work/added.yaml"
  # What this release added goes; a Namespace or a volume claim would take data with it, so those stay.
  objects "$work/added.yaml" | awk '$2 != "Namespace" && $2 != "PersistentVolumeClaim"' >"$work/added.keys"
  if [[ -s "$work/added.keys" ]]; then
    objects "$work/added.yaml" | awk '$2 == "Namespace" || $2 == "PersistentVolumeClaim"' >>"$work/previous.keys"
    documents_not_in "$work/added.yaml" "$work/previous.keys" >"$work/delete.yaml"
    echo "deleting what the failed release added:"; sed 's/^/  /' "$work/added.keys"
    kubectl delete -f "$work/delete.yaml" --ignore-not-found
  fi
  kubectl -n "$namespace" rollout status -f "$previous" -l quickmart.io/rollout=app --timeout="$timeout"
}

command=${1:-}
case "$command" in
  render) [[ $# -eq 4 ]] || fail "usage: release.sh render OVERLAY IMAGE OUT"; render "$2" "$3" "$4" ;;
  configure | migrate | roll-out | roll-back)
    [[ $# -eq 2 && -s "$2" ]] || fail "usage: release.sh $command MANIFEST (a file release.sh render wrote)"
    "${command//-/_}" "$2" ;;
  record) [[ $# -eq 3 && -s "$2" ]] || fail "usage: release.sh record MANIFEST REVISION"; record "$2" "$3" ;;
  *) sed -n '2,18p' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
esac
