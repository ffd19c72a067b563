#!/usr/bin/env python3
"""The metrics QuickMart's alerts and dashboard name, against what the services export.

    monitoring_metrics.py names                 print every metric the PrometheusRule and the dashboard name
    monitoring_metrics.py check SCRAPE_FILE     fail if one of them is neither in SCRAPE_FILE (a /metrics scrape of
                                                `quickmart up`, which serves every service from one process) nor
                                                one kube-state-metrics exports (EXTERNAL)
    monitoring_metrics.py rules OUT             write the PrometheusRule's spec to OUT as a Prometheus rule file
                                                (for promtool)
    monitoring_metrics.py adapter DIR           write the Prometheus Adapter's metricsQuery, filled in as the
                                                adapter fills it for one pod, as a recording rule (DIR/adapter.yaml)
                                                with a promtool test of what it computes (DIR/adapter.test.yaml)

scripts/test-surfaces.sh runs `check` after the surface tests have exercised the stack; scripts/validate-deploy.sh
runs `rules` for promtool. Needs PyYAML.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

MONITORING = Path(__file__).resolve().parent.parent / "components" / "monitoring"
RULES = MONITORING / "prometheusrule.yaml"
DASHBOARD = MONITORING / "dashboards" / "quickmart.json"
ADAPTER = MONITORING / "prometheus-adapter-rules.yaml"

# Metrics the rules read from kube-state-metrics (part of kube-prometheus-stack), about Kubernetes objects rather
# than from a QuickMart service: Deployments' readiness, the autoscalers, the backup CronJob and its Jobs.
EXTERNAL = {
    "kube_deployment_status_replicas_unavailable",
    "kube_horizontalpodautoscaler_status_current_replicas",
    "kube_horizontalpodautoscaler_spec_max_replicas",
    "kube_job_status_failed",
    "kube_cronjob_status_last_successful_time",
}
# PromQL words that look like names but are not metrics.
KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left",
            "group_right", "inf", "nan"}


def metric_names(expr: str) -> set[str]:
    """The metric names in a PromQL expression: identifiers that are not functions, keywords, labels or strings."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    names = set()
    for match in re.finditer(r"(?<![\w.$])[a-zA-Z_:][a-zA-Z0-9_:]*", expr):
        rest = expr[match.end():].lstrip()
        if rest.startswith("(") or match.group().lower() in KEYWORDS:
            continue
        names.add(match.group())
    return names


def expressions() -> list[tuple[str, str]]:
    """(where, expression) for every alert and every dashboard query."""
    found = []
    for group in yaml.safe_load(RULES.read_text())["spec"]["groups"]:
        for rule in group["rules"]:
            found.append((f"alert {rule.get('alert') or rule.get('record')}", rule["expr"]))
    for panel in json.loads(DASHBOARD.read_text())["panels"]:
        for target in panel.get("targets", []):
            found.append((f"panel {panel['title']!r}", target["expr"]))
    return found


def named() -> dict[str, list[str]]:
    users: dict[str, list[str]] = {}
    for where, expr in expressions():
        for name in metric_names(expr):
            users.setdefault(name, []).append(where)
    return users


def check(scrape_path: str) -> int:
    exported = set()
    for line in Path(scrape_path).read_text().splitlines():
        if line and not line.startswith("#"):
            exported.add(re.split(r"[{\s]", line, maxsplit=1)[0])
    users = named()
    problems = [f"{name} (used by {', '.join(sorted(set(where)))}) is not exported"
                for name, where in sorted(users.items()) if name not in exported and name not in EXTERNAL]
    unused_external = EXTERNAL - users.keys()
    problems += [f"{name} is listed as external but nothing uses it" for name in sorted(unused_external)]
    if len(users) < 10:
        problems.append(f"only {len(users)} metric names found in the rules and dashboard: the parser is broken")
    for problem in problems:
        print(f"  problem: {problem}")
    print(f"{len(users)} metrics named by the alerts and the dashboard ({len(EXTERNAL)} from kube-state-metrics): "
          f"{len(problems)} problem(s)")
    return 1 if problems else 0


def write_rules(out: str) -> int:
    spec = yaml.safe_load(RULES.read_text())["spec"]
    Path(out).write_text(yaml.safe_dump(spec, sort_keys=False))
    return 0


def write_adapter(out_dir: str) -> int:
    """The adapter's query for pod `gateway-1` as a recording rule, and a test: a pod answering 10 requests per
    second, plus probes and scrapes that must not count, records 10."""
    rule = yaml.safe_load(ADAPTER.read_text())["rules"]["custom"][0]
    query = (rule["metricsQuery"].replace("<<.Series>>", "http_requests_total")
             .replace("<<.LabelMatchers>>", 'namespace="quickmart",pod="gateway-1"')
             .replace("<<.GroupBy>>", "pod"))
    name = rule["name"]["as"]
    out = Path(out_dir)
    (out / "adapter.yaml").write_text(yaml.safe_dump(
        {"groups": [{"name": "prometheus-adapter", "rules": [{"record": name, "expr": query}]}]}, sort_keys=False))
    series = [('http_requests_total{namespace="quickmart",pod="gateway-1",route="/graphql",status="200"}', "0+600x10"),
              ('http_requests_total{namespace="quickmart",pod="gateway-1",route="/readyz",status="200"}', "0+300x10"),
              ('http_requests_total{namespace="quickmart",pod="gateway-1",route="/metrics",status="200"}', "0+300x10"),
              ('http_requests_total{namespace="quickmart",pod="gateway-2",route="/graphql",status="200"}', "0+6000x10")]
    test = {"rule_files": ["adapter.yaml"], "evaluation_interval": "1m", "tests": [{
        "interval": "1m",
        "input_series": [{"series": s, "values": v} for s, v in series],
        "promql_expr_test": [{"expr": name, "eval_time": "5m",
                              "exp_samples": [{"labels": f'{name}{{pod="gateway-1"}}', "value": 10}]}]}]}
    (out / "adapter.test.yaml").write_text(yaml.safe_dump(test, sort_keys=False))
    return 0


def main(argv: list[str]) -> int:
    if argv[1:] == ["names"]:
        for name in sorted(named()):
            print(name)
        return 0
    if len(argv) == 3 and argv[1] == "check":
        return check(argv[2])
    if len(argv) == 3 and argv[1] == "rules":
        return write_rules(argv[2])
    if len(argv) == 3 and argv[1] == "adapter":
        return write_adapter(argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
