// The gateway against the GraphQL-over-HTTP specification's audit suite (graphql-http's `serverAudits`): every
// audit must pass, warnings included (docs/ARCHITECTURE.md, "GraphQL over HTTP"). The counts are printed so CI's
// log shows them.
//
// Env: QUICKMART_GATEWAY_URL (the gateway's /graphql). scripts/test-surfaces.sh starts the system and sets it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { serverAudits } from "graphql-http";

test("the GraphQL-over-HTTP audit: 0 warnings, 0 errors", async () => {
  const url = process.env.QUICKMART_GATEWAY_URL;
  assert.ok(url, "QUICKMART_GATEWAY_URL must name a running gateway (scripts/test-surfaces.sh sets it)");
  const counts = { ok: 0, warn: 0, error: 0 };
  const problems = [];
  for (const audit of serverAudits({ url })) {
    const result = await audit.fn();
    counts[result.status] += 1;
    if (result.status !== "ok") {
      const response = result.response
        ? ` (got ${result.response.status} ${result.response.headers.get("content-type") ?? "no content type"})`
        : "";
      problems.push(`${result.status.toUpperCase()} ${audit.name}: ${result.reason}${response}`);
    }
  }
  console.log(`graphql-http audit: ${counts.ok} ok, ${counts.warn} warnings, ${counts.error} errors`);
  for (const problem of problems) console.log(`  ${problem}`);
  assert.deepEqual(problems, []);
});
