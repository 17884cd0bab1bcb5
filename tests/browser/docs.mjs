// Drives /docs of a `syndicate serve --demo` in headless Chromium with every
// request to anything but 127.0.0.1 refused: authorise with the printed
// licensee credentials, fetch an article and the quota through "Try it
// out", and open the usage chart. Screenshots go to the directory given.
//
// Usage: node docs.mjs BINARY SCREENSHOT_DIR

import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const [binary, shots] = process.argv.slice(2);
if (!binary || !shots) {
  console.error("usage: node docs.mjs BINARY SCREENSHOT_DIR");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

function fail(message) {
  console.error(`browser test failed: ${message}`);
  process.exitCode = 1;
  throw new Error(message);
}

// Start the demo and read its port and credentials.
const dir = mkdtempSync(join(tmpdir(), "syndicate-browser-"));
const server = spawn(resolve(binary), ["--log-format", "json", "serve", "--bind", "127.0.0.1:0", "--demo"], { cwd: dir });
let stdout = "";
let port = 0;
server.stdout.on("data", (chunk) => (stdout += chunk));
server.stderr.on("data", (chunk) => {
  for (const line of chunk.toString().split("\n")) {
    try {
      const event = JSON.parse(line);
      if (event.message === "serving") port = event.port;
    } catch {}
  }
});
const deadline = Date.now() + 20000;
while (!(port && stdout.includes("usage?group_by"))) {
  if (Date.now() > deadline) fail(`the demo did not start: ${stdout}`);
  await new Promise((r) => setTimeout(r, 100));
}
const field = (role, name) => stdout.split("\n").find((l) => l.trim().startsWith(role)).match(new RegExp(`${name}=(\\S+)`))[1];
const clientId = field("licensee", "client_id");
const clientSecret = field("licensee", "client_secret");
const articleId = stdout.match(/\/v1\/content\/([0-9a-f-]{36})/)[1];
const base = `http://127.0.0.1:${port}`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});
const outside = [];
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === "127.0.0.1") return route.continue();
    outside.push(url.href);
    return route.abort();
  });
  const page = await context.newPage();
  await page.goto(`${base}/docs/`);
  await page.waitForSelector(".swagger-ui .info .title");
  await page.screenshot({ path: join(shots, "docs.png") });

  // Authorise with client credentials: the page fetches the token itself.
  await page.click("button.authorize");
  const oauth = page.locator(".auth-container").filter({ hasText: "clientCredentials" });
  await oauth.locator("input#client_id_clientCredentials, input[data-name='clientId'], input#client_id").first().fill(clientId);
  await oauth.locator("input#client_secret_clientCredentials, input[data-name='clientSecret'], input#client_secret").first().fill(clientSecret);
  await oauth.locator("button.authorize").click();
  await oauth.getByText("Logout").waitFor({ timeout: 10000 }).catch(() => fail("authorisation did not complete"));
  await page.click("button.btn-done, .close-modal");

  async function tryOut(operationId, fill) {
    const op = page.locator(`#operations-content-${operationId}, #operations-usage-${operationId}`).first();
    await op.locator(".opblock-summary").click();
    // The docs open with "Try it out" already on; the button then cancels.
    const tryIt = op.locator("button.try-out__btn");
    if ((await tryIt.innerText()).includes("Try it out")) await tryIt.click();
    if (fill) await fill(op);
    await op.locator("button.execute").click();
    const status = op.locator(".live-responses-table tbody .response-col_status").first();
    await status.waitFor({ timeout: 10000 });
    return { op, status: (await status.innerText()).trim() };
  }

  const content = await tryOut("get_content", (op) => op.locator("input[placeholder='id']").fill(articleId));
  if (!content.status.startsWith("200")) fail(`GET /v1/content/{id} showed ${content.status}`);
  const body = await content.op.locator(".live-responses-table tbody .response-col_description pre").first().innerText();
  if (!body.includes("Northwire contributed to this report")) fail("the delivered article lacks its credit line");
  await content.op.screenshot({ path: join(shots, "docs-content.png") });

  const quota = await tryOut("get_quota");
  if (!quota.status.startsWith("200")) fail(`GET /v1/quota showed ${quota.status}`);
  const quotaBody = await quota.op.locator(".live-responses-table tbody .response-col_description pre").first().innerText();
  if (!quotaBody.includes('"used": 1')) fail(`the quota does not show the delivery: ${quotaBody}`);

  // The chart, fetched with the same token the page obtained.
  const token = await page.evaluate(() => JSON.parse(localStorage.getItem("authorized") ?? "{}").oauth2?.token?.access_token);
  if (!token) fail("no token in the page");
  const chart = await context.newPage();
  await chart.setExtraHTTPHeaders({ Authorization: `Bearer ${token}` });
  const response = await chart.goto(`${base}/v1/usage?group_by=article&format=svg`);
  if (response.headers()["content-type"] !== "image/svg+xml") fail("the chart is not SVG");
  await chart.screenshot({ path: join(shots, "usage-chart.png") });
  if (outside.length) fail(`the page reached outside the machine: ${outside.join(", ")}`);
  console.log(`browser test passed; screenshots in ${shots}`);
} finally {
  await browser.close();
  server.kill("SIGTERM");
}
