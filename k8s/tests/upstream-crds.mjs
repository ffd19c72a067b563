// Validates the custom resources of rendered manifests against the schemas their projects publish, as the
// @kubernetes-models packages generate them from the upstream CRDs (Prometheus Operator, Gateway API); not
// hand-written subsets. scripts/validate-deploy.sh runs it on every overlay and on a broken fixture.
//
//   node k8s/tests/upstream-crds.mjs FILE...   prints each problem, then `N custom resources: M problem(s)`
//
// Objects of other groups are left to kubernetes-validate (core kinds) and manifest_checks.py crds.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

// API group -> the package that models it.
const PACKAGES = {
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
  "gateway.networking.k8s.io": "@kubernetes-models/gateway-api",
};

let seen = 0;
const problems = [];
for (const path of process.argv.slice(2)) {
  for (const document of parseAllDocuments(readFileSync(path, "utf8"))) {
    const object = document.toJS();
    if (!object || typeof object.apiVersion !== "string") continue;
    const [group, version] = object.apiVersion.includes("/") ? object.apiVersion.split("/") : ["", object.apiVersion];
    const where = `${object.kind}/${object.metadata?.name ?? "?"} (${path})`;
    if (!(group in PACKAGES)) continue;
    seen += 1;
    let Model;
    try {
      ({ [object.kind]: Model } = await import(`${PACKAGES[group]}/${group}/${version}/${object.kind}`));
    } catch {
      problems.push(`${where}: ${object.apiVersion} ${object.kind} is not a kind of ${PACKAGES[group]}`);
      continue;
    }
    try {
      new Model(object).validate();
    } catch (error) {
      problems.push(`${where}: ${error.message}`);
    }
  }
}
for (const problem of problems) console.log(`  problem: ${problem}`);
console.log(`${seen} custom resources: ${problems.length} problem(s)`);
process.exit(problems.length ? 1 : 0);
