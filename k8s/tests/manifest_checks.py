#!/usr/bin/env python3
"""Checks on rendered QuickMart manifests that generic validators cannot know about.

Run by scripts/validate-deploy.sh with the tools venv's Python (it needs PyYAML and jsonschema, which
kubernetes-validate and check-jsonschema bring along):

    manifest_checks.py strip-kinds IN OUT KIND...  copy IN to OUT without objects of the given kinds
    manifest_checks.py crds FILE                   validate DopplerSecret / VerticalPodAutoscaler objects against
                                                   their operators' CRDs (vendored in crds/), unknown fields refused
    manifest_checks.py policy OVERLAY FILE         QuickMart's own deployment rules (see `policy`)
    manifest_checks.py cd-gate CD DEPLOY WORKFLOW...
                                                   the CD workflow deploys only what CI passed (see `cd_gate`)

Each command prints what it found and exits 1 on any problem.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path

import jsonschema
import yaml

# name -> (environment-variable prefix, port): the contract between the manifests and the binary.
SERVICES = {
    "gateway": ("GATEWAY", 4000),
    "user-subgraph": ("USER_SUBGRAPH", 4001),
    "product-subgraph": ("PRODUCT_SUBGRAPH", 4002),
    "order-subgraph": ("ORDER_SUBGRAPH", 4003),
    "user-core": ("USER_CORE", 8081),
    "product-core": ("PRODUCT_CORE", 8082),
    "order-core": ("ORDER_CORE", 8083),
}
CORES = {"user-core", "product-core", "order-core"}
POD_OWNERS = {"Deployment", "StatefulSet", "Job", "CronJob"}


def load(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [doc for doc in yaml.safe_load_all(f) if doc]


def pod_spec(obj: dict) -> dict | None:
    """The pod spec inside a workload object, or None for other kinds."""
    kind = obj.get("kind")
    if kind == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    if kind in POD_OWNERS:
        return obj["spec"]["template"]["spec"]
    return None


def env_of(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container.get("env", [])}


# --- strip-kinds ----------------------------------------------------------------------------------------------
def strip_kinds(src: str, dst: str, kinds: list[str]) -> int:
    docs = load(src)
    kept = [d for d in docs if d.get("kind") not in kinds]
    skipped = sorted(f"{d['kind']}/{d['metadata']['name']}" for d in docs if d.get("kind") in kinds)
    with open(dst, "w", encoding="utf-8") as f:
        yaml.safe_dump_all(kept, f, sort_keys=False)
    print(f"kept {len(kept)} objects; left out for kubernetes-validate ({', '.join(kinds)}): "
          f"{', '.join(skipped) or 'none'}")
    return 0


# --- crds -----------------------------------------------------------------------------------------------------
# The operators' own CustomResourceDefinitions, vendored with their licences in crds/ (the Doppler operator
# v1.7.1, the VPA v1.7.1): each object is validated against its version's openAPIV3Schema, and, since CRD schemas
# leave objects open (the API server prunes unknown fields silently), a field the schema does not declare is an
# error here, so a misspelt field fails instead of vanishing.
CRD_DIR = Path(__file__).resolve().parent / "crds"


def crd_schemas() -> dict[tuple[str, str], dict]:
    schemas = {}
    for path in sorted(CRD_DIR.glob("*.yaml")):
        for crd in yaml.safe_load_all(path.read_text()):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                schemas[(f"{group}/{version['name']}", kind)] = version["schema"]["openAPIV3Schema"]
    return schemas


def undeclared_fields(value, schema: dict, path: str) -> list[str]:
    """Fields of `value` that `schema` (a structural CRD schema) does not declare."""
    found = []
    if isinstance(value, dict) and schema.get("type") == "object":
        properties = schema.get("properties")
        if properties is None or schema.get("x-kubernetes-preserve-unknown-fields"):
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict):
                for key, item in value.items():
                    found += undeclared_fields(item, extra, f"{path}.{key}")
            return found
        for key, item in value.items():
            if key not in properties:
                found.append(f"{path}.{key} is not a field the schema declares")
            else:
                found += undeclared_fields(item, properties[key], f"{path}.{key}")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            found += undeclared_fields(item, schema["items"], f"{path}[{index}]")
    return found


def check_crds(path: str) -> int:
    schemas = crd_schemas()
    problems, seen = [], 0
    for doc in load(path):
        schema = schemas.get((doc.get("apiVersion"), doc.get("kind")))
        if schema is None:
            continue
        seen += 1
        where = f"{doc['kind']}/{doc.get('metadata', {}).get('name', '?')}"
        for error in jsonschema.Draft7Validator(schema).iter_errors(doc):
            location = "/".join(str(p) for p in error.absolute_path) or "(object)"
            problems.append(f"{where}: {location}: {error.message}")
        problems += [f"{where}: {problem}" for problem in undeclared_fields(doc.get("spec", {}),
                                                                          schema["properties"]["spec"], "spec")]
    return report(f"{seen} custom resources (schemas of {len(schemas)} kinds from crds/)", problems)


def policy(overlay: str, path: str) -> int:
    """QuickMart's deployment rules, checked on one rendered overlay."""
    docs = load(path)
    problems: list[str] = []
    by_kind: dict[str, dict[str, dict]] = defaultdict(dict)
    for doc in docs:
        by_kind[doc["kind"]][doc["metadata"]["name"]] = doc

    # Settings: production everywhere but dev; migrations only by the Job.
    configs = [d for n, d in by_kind["ConfigMap"].items() if n.startswith("quickmart-config")]
    if len(configs) != 1:
        problems.append(f"expected one quickmart-config ConfigMap, found {len(configs)}")
        config = {}
    else:
        config = configs[0].get("data", {})
    want_env = "development" if overlay == "dev" else "production"
    if config.get("QUICKMART_ENV") != want_env:
        problems.append(f"QUICKMART_ENV is {config.get('QUICKMART_ENV')!r}; the {overlay} overlay needs {want_env!r}")
    if overlay != "dev":
        for surface in ("GATEWAY_GRAPHIQL", "GATEWAY_INTROSPECTION"):
            if config.get(surface) != "false":
                problems.append(f"{surface} is {config.get(surface)!r}; production shows neither GraphiQL nor the schema")
    if overlay == "prod" and config.get("PAYMENT_ALLOW_TEST_PROVIDER", "false") != "false":
        problems.append("PAYMENT_ALLOW_TEST_PROVIDER must stay 'false' in prod: the test provider takes no money")
    if config.get("MIGRATE_ON_START") != "false":
        problems.append("MIGRATE_ON_START must be 'false': the migration Job runs migrations before the rollout")

    rollout_labelled = {
        f"{d['kind']}/{d['metadata']['name']}": d["metadata"].get("labels", {}).get("quickmart.io/rollout")
        for d in docs if d["metadata"].get("labels", {}).get("quickmart.io/rollout")
    }
    for name, (prefix, port) in SERVICES.items():
        deployment = by_kind["Deployment"].get(name)
        if deployment is None:
            problems.append(f"Deployment/{name} is missing")
            continue
        if rollout_labelled.pop(f"Deployment/{name}", None) != "app":
            problems.append(f"Deployment/{name} needs label quickmart.io/rollout=app (CD applies it after migrating)")
        containers = pod_spec(deployment)["containers"]
        container = containers[0]
        if container.get("args") != ["serve", name]:
            problems.append(f"Deployment/{name} must run `quickmart serve {name}`, runs {container.get('args')}")
        env = env_of(container)
        listen = env.get(f"{prefix}_LISTEN_ADDR", {}).get("value")
        if listen != f"0.0.0.0:{port}":
            problems.append(f"Deployment/{name}: {prefix}_LISTEN_ADDR is {listen!r}, want '0.0.0.0:{port}'")
        ports = [p.get("containerPort") for p in container.get("ports", [])]
        if ports != [port]:
            problems.append(f"Deployment/{name}: containerPort {ports}, want [{port}]")
        for overridden in ("QUICKMART_ENV", "MIGRATE_ON_START"):
            if overridden in env:
                problems.append(f"Deployment/{name} overrides {overridden}; it must come from quickmart-config")
        for probe, route in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"), ("startupProbe", "/healthz")):
            got = container.get(probe, {}).get("httpGet", {}).get("path")
            if got != route:
                problems.append(f"Deployment/{name}: {probe} checks {got!r}, want {route!r}")
        service = by_kind["Service"].get(name)
        if service is None or [p.get("port") for p in service["spec"]["ports"]] != [port]:
            problems.append(f"Service/{name} must exist and expose port {port}")
        hpa = by_kind["HorizontalPodAutoscaler"].get(name)
        floor = 1 if overlay == "dev" else 2
        if hpa is None or hpa["spec"]["scaleTargetRef"]["name"] != name:
            problems.append(f"HorizontalPodAutoscaler/{name} must exist and target Deployment/{name}")
        elif hpa["spec"]["minReplicas"] < floor or hpa["spec"]["maxReplicas"] < hpa["spec"]["minReplicas"]:
            problems.append(f"HorizontalPodAutoscaler/{name}: {hpa['spec']['minReplicas']}-{hpa['spec']['maxReplicas']} "
                            f"replicas; the {overlay} overlay needs at least {floor}")
        if "replicas" in deployment["spec"]:
            problems.append(f"Deployment/{name} sets replicas; the HPA owns the count")
        if name not in by_kind["PodDisruptionBudget"]:
            problems.append(f"PodDisruptionBudget/{name} is missing")
        # The VPA may size memory, never CPU, which the HPA scales on, and never evicts a running pod.
        vpa = by_kind["VerticalPodAutoscaler"].get(name)
        if vpa is None or vpa["spec"].get("targetRef", {}).get("name") != name:
            problems.append(f"VerticalPodAutoscaler/{name} must exist and target Deployment/{name}")
        else:
            mode = vpa["spec"].get("updatePolicy", {}).get("updateMode")
            if mode not in ("Off", "Initial"):
                problems.append(f"VerticalPodAutoscaler/{name}: updateMode {mode!r}; only Off or Initial never evict")
            for policy in vpa["spec"].get("resourcePolicy", {}).get("containerPolicies", [{}]):
                if policy.get("controlledResources") != ["memory"]:
                    problems.append(f"VerticalPodAutoscaler/{name} controls {policy.get('controlledResources')}; "
                                    "memory only, the HPA scales on CPU")
        # The I/O-bound services scale on request rate too, wherever the Prometheus Adapter serves it.
        if overlay != "dev" and hpa is not None and name not in CORES:
            rates = [m for m in hpa["spec"].get("metrics", [])
                     if m.get("type") == "Pods" and m["pods"]["metric"]["name"] == "http_requests_per_second"]
            if not rates:
                problems.append(f"HorizontalPodAutoscaler/{name} does not scale on http_requests_per_second")

    jobs = [n for n, j in by_kind["Job"].items() if rollout_labelled.get(f"Job/{n}") == "migrate"]
    if len(jobs) != 1:
        problems.append(f"expected one Job labelled quickmart.io/rollout=migrate, found {len(jobs)}")
    else:
        rollout_labelled.pop(f"Job/{jobs[0]}")
        if pod_spec(by_kind["Job"][jobs[0]])["containers"][0].get("args") != ["migrate"]:
            problems.append(f"Job/{jobs[0]} must run `quickmart migrate`")
    for stray, value in rollout_labelled.items():
        problems.append(f"{stray} carries quickmart.io/rollout={value}; only the services and the migration Job may")

    # Secrets: every key a pod reads must be provided, and only the user subgraph holds the signing key.
    refs: set[tuple[str, str, str]] = set()  # (namespace, secret name, key)
    readers: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)  # (kind, name) -> secrets read
    for kind in POD_OWNERS:
        for name, obj in by_kind[kind].items():
            spec = pod_spec(obj)
            for container in spec.get("containers", []) + spec.get("initContainers", []):
                for entry in container.get("env", []):
                    ref = entry.get("valueFrom", {}).get("secretKeyRef")
                    if ref:
                        refs.add((obj["metadata"].get("namespace", ""), ref["name"], ref["key"]))
                        readers[(kind, name)].add((obj["metadata"].get("namespace", ""), ref["name"]))
                        if ref["key"] == "JWT_PRIVATE_KEY" and not (kind == "Deployment" and name == "user-subgraph"):
                            problems.append(f"{kind}/{name} reads JWT_PRIVATE_KEY; only user-subgraph may")
                if container.get("envFrom") and any("secretRef" in e for e in container["envFrom"]):
                    problems.append(f"{kind}/{name} imports a whole Secret (envFrom); name the keys it needs")
    if overlay == "dev":
        secrets = by_kind["Secret"]
        for namespace, secret, key in sorted(refs):
            data = secrets.get(secret, {}).get("data", {})
            if key not in data:
                problems.append(f"Secret {secret} has no key {key}, which a pod reads")
    else:
        if by_kind["Secret"]:
            problems.append(f"the {overlay} overlay renders Secret objects {sorted(by_kind['Secret'])}: "
                            "secrets must come from Doppler, never from the repository")
        managed = {
            (d["spec"]["managedSecret"].get("namespace"), d["spec"]["managedSecret"]["name"]): set(d["spec"].get("secrets", []))
            for d in by_kind["DopplerSecret"].values()
        }
        for namespace, secret, key in sorted(refs):
            if (namespace, secret) not in managed:
                problems.append(f"no DopplerSecret manages Secret {namespace}/{secret}, which pods read")
            elif key not in managed[(namespace, secret)]:
                problems.append(f"DopplerSecret for {namespace}/{secret} does not sync {key}, which a pod reads")
        # A rotated value reaches a pod only when the pod restarts: the operator restarts the workloads that
        # carry its reload annotation. Jobs and CronJobs start afresh on every run.
        for (kind, name), secrets in sorted(readers.items()):
            if kind not in ("Deployment", "StatefulSet") or not secrets & managed.keys():
                continue
            annotations = by_kind[kind][name]["metadata"].get("annotations", {})
            if annotations.get("secrets.doppler.com/reload") != "true":
                problems.append(f"{kind}/{name} reads a Doppler-synced Secret but lacks the annotation "
                                "secrets.doppler.com/reload: \"true\", so a rotated value would not reach it")

    # Monitoring (staging and prod): every service scraped by a ServiceMonitor on a port its Service names, and
    # the alerts present. The dev overlay may leave the Prometheus Operator out.
    if overlay != "dev":
        for name in SERVICES:
            service = by_kind["Service"].get(name)
            if service is None:
                continue
            labels = service["metadata"].get("labels", {})
            ports = {p.get("name") for p in service["spec"].get("ports", [])}
            scraped = [m for m in by_kind["ServiceMonitor"].values()
                       if selects(m["spec"].get("selector", {}), labels)
                       and any(e.get("port") in ports and e.get("path", "/metrics") == "/metrics"
                               for e in m["spec"].get("endpoints", []))]
            if not scraped:
                problems.append(f"no ServiceMonitor scrapes /metrics of Service/{name} on one of its ports {sorted(ports)}")
        if not by_kind["PrometheusRule"]:
            problems.append(f"the {overlay} overlay has no PrometheusRule: include k8s/components/monitoring")

    # Traces (staging and prod): the services export to a collector this overlay runs.
    if overlay != "dev":
        endpoint = config.get("OTEL_EXPORTER_OTLP_ENDPOINT", "")
        collector = endpoint.removeprefix("http://").split(":")[0]
        if not endpoint.startswith("http://") or collector not in by_kind["Service"] \
                or collector not in by_kind["Deployment"]:
            problems.append(f"OTEL_EXPORTER_OTLP_ENDPOINT is {endpoint!r}; the {overlay} overlay needs its services "
                            "exporting to the collector it runs (include k8s/components/tracing)")

    # Gateway API (staging and prod): /graphql, and nothing else, routed to the gateway, on a named host.
    if overlay != "dev":
        routes = list(by_kind["HTTPRoute"].values())
        if not routes:
            problems.append(f"the {overlay} overlay has no HTTPRoute: include k8s/components/gateway-api")
        for route in routes:
            where = f"HTTPRoute/{route['metadata']['name']}"
            if not route["spec"].get("hostnames"):
                problems.append(f"{where} names no host")
            for rule in route["spec"].get("rules", []):
                paths = [m.get("path", {}) for m in rule.get("matches", [{}])]
                backends = [(b.get("name"), b.get("port")) for b in rule.get("backendRefs", [])]
                if paths != [{"type": "Exact", "value": "/graphql"}] or backends != [("gateway", 4000)]:
                    problems.append(f"{where} routes {paths} to {backends}; only Exact /graphql to gateway:4000 is public")

    # The cluster dashboard's viewer reads, and only in the namespace it is bound in.
    viewer = by_kind["ClusterRole"].get("quickmart-viewer")
    if viewer is not None:
        for rule in viewer.get("rules", []):
            if set(rule.get("verbs", [])) - {"get", "list", "watch"}:
                problems.append(f"ClusterRole/quickmart-viewer grants {sorted(rule['verbs'])}; read-only verbs only")
            if {"secrets", "*"} & set(rule.get("resources", [])) or "*" in rule.get("apiGroups", []):
                problems.append(f"ClusterRole/quickmart-viewer reaches {rule.get('resources')} in "
                                f"{rule.get('apiGroups')}; never Secrets, never wildcards")
        for binding in by_kind["ClusterRoleBinding"].values():
            if binding.get("roleRef", {}).get("name") == "quickmart-viewer":
                problems.append(f"ClusterRoleBinding/{binding['metadata']['name']} grants quickmart-viewer cluster-wide; "
                                "bind it with a RoleBinding in QuickMart's namespace")

    # Network: default deny must be there, or every allow rule is decoration.
    deny = by_kind["NetworkPolicy"].get("default-deny-all")
    if not deny or deny["spec"].get("podSelector") != {} or sorted(deny["spec"].get("policyTypes", [])) != ["Egress", "Ingress"]:
        problems.append("NetworkPolicy/default-deny-all must select every pod for Ingress and Egress")

    # The gateway reads the supergraph from the mounted ConfigMap.
    gateway = by_kind["Deployment"].get("gateway")
    supergraph_path = config.get("SUPERGRAPH_PATH", "")
    if gateway:
        spec = pod_spec(gateway)
        mounts = {m["name"]: m["mountPath"] for m in spec["containers"][0].get("volumeMounts", [])}
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        found = False
        for volume_name, mount_path in mounts.items():
            cm = volumes.get(volume_name, {}).get("configMap", {}).get("name", "")
            if cm.startswith("quickmart-supergraph") and supergraph_path.startswith(mount_path.rstrip("/") + "/"):
                key = supergraph_path[len(mount_path.rstrip("/")) + 1:]
                found = key in by_kind["ConfigMap"].get(cm, {}).get("data", {})
        if not found:
            problems.append(f"the gateway does not mount a quickmart-supergraph ConfigMap holding SUPERGRAPH_PATH={supergraph_path!r}")

    return report(f"{overlay}: {len(docs)} objects", problems)


GATE = ("github.event.workflow_run.conclusion == 'success'", "github.event.workflow_run.event == 'push'")
TESTED_COMMIT = "${{ github.event.workflow_run.head_sha }}"


def cd_gate(cd_path: str, deploy_path: str, workflows: list[str]) -> int:
    """The CD workflow deploys only a commit of main whose CI passed, to staging before production, and the
    deployment it calls smoke-tests and rolls back; no other workflow deploys."""
    problems: list[str] = []
    cd = yaml.safe_load(open(cd_path))
    deploy = yaml.safe_load(open(deploy_path))
    # YAML 1.1 reads the key `on` as True.
    trigger = cd.get("on", cd.get(True))
    want = {"workflow_run": {"workflows": ["CI"], "types": ["completed"], "branches": ["main"]}}
    if trigger != want:
        problems.append(f"CD must be triggered only by workflow_run of CI on main ({want}), not {trigger}")
    text = open(cd_path).read()
    if re.search(r"\$\{\{[^}]*\bgithub\.sha\b|\$\{?GITHUB_SHA\b", text):
        problems.append("CD uses github.sha, which under workflow_run is main's newest commit, not the one CI "
                        "tested; use github.event.workflow_run.head_sha")
    jobs = cd.get("jobs", {})
    gated: dict[str, bool] = {}

    def is_gated(name: str, seen: tuple[str, ...] = ()) -> bool:
        if name in gated:
            return gated[name]
        job = jobs.get(name, {})
        # Exactly the gate: a condition that merely contains it (`... || always()`) opens it.
        condition = " ".join(str(job.get("if", "")).removeprefix("${{").removesuffix("}}").split())
        needs = job.get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        result = condition == " && ".join(GATE) or (
            bool(needs) and all(n not in seen and is_gated(n, seen + (name,)) for n in needs))
        gated[name] = result
        return result

    def ancestors(name: str) -> set[str]:
        needs = jobs.get(name, {}).get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        found = set(needs)
        for n in needs:
            found |= ancestors(n) if n in jobs else set()
        return found

    for name, job in jobs.items():
        if not is_gated(name):
            problems.append(f"job {name} can run without the gate: its `if` must be exactly {' && '.join(GATE)}, "
                            "or every job it needs must be gated")
        for step in job.get("steps", []):
            if str(step.get("uses", "")).startswith("actions/checkout@") and step.get("with", {}).get("ref") != TESTED_COMMIT:
                problems.append(f"job {name} checks out {step.get('with', {}).get('ref')!r}, not {TESTED_COMMIT}")
    deployments = {job.get("with", {}).get("environment"): name for name, job in jobs.items()
                   if job.get("uses") == "./.github/workflows/deploy.yml"}
    for environment in ("staging", "production"):
        if environment not in deployments:
            problems.append(f"CD does not deploy to {environment} through ./.github/workflows/deploy.yml")
    if "staging" in deployments and "production" in deployments and \
            deployments["staging"] not in ancestors(deployments["production"]):
        problems.append("production is deployed without waiting for staging (`needs`)")
    if jobs.get(deployments.get("staging", ""), {}).get("with", {}).get("overlay") == "dev":
        problems.append("staging deploys the dev overlay, whose committed dev secrets must never reach a cluster")

    deploy_trigger = deploy.get("on", deploy.get(True))
    if not isinstance(deploy_trigger, dict) or list(deploy_trigger) != ["workflow_call"]:
        problems.append(f"{deploy_path} must run only when called (workflow_call), not on {deploy_trigger}")
    steps = [step for job in deploy.get("jobs", {}).values() for step in job.get("steps", [])]
    runs = [str(step.get("run", "")) for step in steps]
    if not any("scripts/deploy/smoke.sh" in run for run in runs):
        problems.append(f"{deploy_path} has no smoke test (scripts/deploy/smoke.sh) after the rollout")
    roll_backs = [step for step in steps if "release.sh roll-back" in str(step.get("run", ""))]
    if not roll_backs or not all(f in str(roll_backs[0].get("if", "")) for f in ("failure()", "cancelled()")):
        problems.append(f"{deploy_path} must roll back (release.sh roll-back) on failure() and on cancelled()")
    kubectl = [step for step in steps if str(step.get("uses", "")).startswith("azure/setup-kubectl@")]
    if not kubectl or not str(kubectl[0].get("with", {}).get("version", "")).startswith("v1."):
        problems.append(f"{deploy_path} must pin kubectl (azure/setup-kubectl with version v1.x.y)")

    for path in workflows:
        if path in (cd_path, deploy_path):
            continue
        other = open(path).read()
        for sign in ("kubectl apply", "release.sh", "deploy.yml", "KUBECONFIG"):
            if sign in other:
                problems.append(f"{path} mentions {sign!r}: only the gated CD workflow deploys")
    return report(f"{cd_path}: {len(jobs)} jobs", problems)


def selects(selector: dict, labels: dict) -> bool:
    """Whether a label selector (matchLabels and matchExpressions) selects an object with these labels."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        if (operator == "In" and labels.get(key) not in values) or \
                (operator == "NotIn" and labels.get(key) in values) or \
                (operator == "Exists" and key not in labels) or \
                (operator == "DoesNotExist" and key in labels):
            return False
    return True


def report(what: str, problems: list[str]) -> int:
    for problem in problems:
        print(f"  problem: {problem}")
    print(f"{what}: {len(problems)} problem(s)")
    return 1 if problems else 0


def main(argv: list[str]) -> int:
    if len(argv) >= 4 and argv[1] == "strip-kinds":
        return strip_kinds(argv[2], argv[3], argv[4:])
    if len(argv) == 3 and argv[1] == "crds":
        return check_crds(argv[2])
    if len(argv) == 4 and argv[1] == "policy":
        return policy(argv[2], argv[3])
    if len(argv) >= 4 and argv[1] == "cd-gate":
        return cd_gate(argv[2], argv[3], argv[4:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
