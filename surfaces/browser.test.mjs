// The developer surfaces as a browser sees them (docs/ARCHITECTURE.md, "GraphiQL"): GraphiQL from a running
// gateway runs the example query through its UI, and a core's Swagger UI lists its operations. Each test fails
// if the page asks for any URL of another origin, so a page that only renders with internet access fails here
// even on a machine that has it.
//
// Env: QUICKMART_GATEWAY_URL (the gateway's /graphql), QUICKMART_CORE_DOCS_URL (a core's /docs/),
//      CHROMIUM (default /usr/bin/chromium). scripts/test-surfaces.sh starts the system and sets them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const TIMEOUT_MS = 30_000;

function required(name) {
  const value = process.env[name];
  assert.ok(value, `${name} must name a running service (scripts/test-surfaces.sh sets it)`);
  return value;
}

/** Opens `url` in a fresh browser; every request of another origin is refused and recorded. */
async function open(url) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    // Root in a container has no user namespace for Chromium's sandbox.
    args: ["--no-sandbox"],
  });
  const origin = new URL(url).origin;
  const foreign = [];
  const failures = [];
  const context = await browser.newContext();
  await context.route("**/*", (route) => {
    const requested = route.request().url();
    if (requested.startsWith("data:") || requested.startsWith("blob:") || new URL(requested).origin === origin) {
      return route.continue();
    }
    foreign.push(requested);
    return route.abort();
  });
  const page = await context.newPage();
  page.on("pageerror", (error) => failures.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") failures.push(`console error: ${message.text()}`);
  });
  page.setDefaultTimeout(TIMEOUT_MS);
  await page.goto(url);
  return { browser, page, foreign, failures };
}

test("GraphiQL renders offline and runs the example query", async () => {
  const { browser, page, foreign, failures } = await open(required("QUICKMART_GATEWAY_URL"));
  try {
    // The editor with the README's example operation, and the headers tab.
    const editor = page.locator(".graphiql-query-editor .CodeMirror");
    await editor.waitFor();
    assert.match(await editor.innerText(), /products\(first: 3, sort: PRICE_ASC/);
    await page.getByText("Headers", { exact: true }).waitFor();
    await page.locator(".graphiql-execute-button").click();
    const result = page.locator(".result-window");
    await page.waitForFunction(() => /[{]/.test(document.querySelector(".result-window")?.innerText ?? ""));
    const text = await result.innerText();
    assert.match(text, /"products"/, text);
    assert.match(text, /"data"/);
    assert.match(text, /"nodes"/);
    assert.doesNotMatch(text, /"errors"/);
    assert.deepEqual(foreign, [], "GraphiQL asked for URLs of another origin");
    assert.deepEqual(failures, []);
  } finally {
    await browser.close();
  }
});

test("Swagger UI of a core renders its operations offline", async () => {
  const { browser, page, foreign, failures } = await open(required("QUICKMART_CORE_DOCS_URL"));
  try {
    await page.locator(".opblock").first().waitFor();
    const operations = await page.locator(".opblock").count();
    assert.ok(operations >= 3, `only ${operations} operations listed`);
    assert.deepEqual(foreign, [], "Swagger UI asked for URLs of another origin");
    assert.deepEqual(failures, []);
  } finally {
    await browser.close();
  }
});
