// The seed tutorial's run, seen in the web app: a local-code job that calls
// the official `wandb` SDK (`wandb.init()`, `run.log(...)`) is launched with
// `liftoff launch --uri . --queue default` and run by `liftoff agent`; its run
// page shows the state, the history as line charts, the summary, the config
// and the console. A second, long job is stopped from its run page and ends
// killed. Needs LIFTOFF_WANDB_PYTHON (a Python with the `wandb` package,
// which `cargo xtask test` installs); without it the suite says so and skips,
// unless LIFTOFF_REQUIRE_WANDB is set.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { launch, required } from "./chromium.mjs";
import { ADMIN_KEY, eventually, liftoff, startAgent, startServer, tempDir } from "./liftoff.mjs";

const bin = required("LIFTOFF_BIN");
const webDir = required("LIFTOFF_WEB_DIR");
const python = process.env.LIFTOFF_WANDB_PYTHON;
if (!python && process.env.LIFTOFF_REQUIRE_WANDB) {
  throw new Error("LIFTOFF_REQUIRE_WANDB is set but LIFTOFF_WANDB_PYTHON is not");
}
const skip = python ? false : "LIFTOFF_WANDB_PYTHON is not set (a Python with the official wandb package)";

const TRAIN = `import wandb
run = wandb.init()
run.log({"hello": "world"})
for step in range(run.config.epochs):
    run.log({"loss": 1.0 / (step + 1), "acc": step / 30})
run.summary["best_acc"] = 0.97
# A progress bar's frames and a coloured line, as tqdm and loggers print them.
import sys
sys.stdout.write("progress 10%\\rprogress 50%\\rprogress 100%\\n")
print("\\x1b[32mall green\\x1b[0m")
print("training done")
run.finish()
`;

const LONG = `import time, wandb
run = wandb.init()
for step in range(600):
    run.log({"tick": step})
    print("tick", step, flush=True)
    time.sleep(0.5)
run.finish()
`;

let server, browser, page, agent;
const errors = [];

function codeDir(root, name, source) {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "train.py"), source);
  writeFileSync(join(dir, "requirements.txt"), "wandb\n");
  return dir;
}

/** The queue's items, through the W&B read the SDK uses. */
async function items() {
  const res = await fetch(`${server.url}/graphql`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Basic ${Buffer.from(`api:${ADMIN_KEY}`).toString("base64")}` },
    body: JSON.stringify({
      query: `{ project(name: "model-registry", entityName: "admin") { runQueue(name: "default") { runQueueItems { edges { node { id state associatedRunId } } } } } }`,
    }),
  });
  const body = await res.json();
  return body.data.project.runQueue.runQueueItems.edges.map((e) => e.node);
}

/** Open a run's page from the queue page (as a user would) and wait for it. */
async function openRun(runId) {
  await page.goto(`${server.url}/launch/admin/default`);
  const link = await page.waitForSelector(`tbody[data-item] a:has-text("${runId}")`, { timeout: 30_000 });
  await link.click();
  await page.waitForURL(new RegExp(`/admin/proj/runs/${runId}`));
  await page.waitForSelector("h1 [data-state]");
}

before(async () => {
  if (skip) return;
  const dir = tempDir("liftoff-runs-");
  server = await startServer({ bin, webDir, dir });
  await liftoff(bin, server, ["queue", "create", "default", "--resource", "local-process"]);
  const train = codeDir(dir, "train", TRAIN);
  const overrides = JSON.stringify({ overrides: { run_config: { lr: 0.01, epochs: 30 } } });
  await liftoff(bin, server, ["launch", "--uri", ".", "--queue", "default", "--project", "proj", "-c", overrides], { cwd: train });
  // The agent makes its venvs from the test's Python (pip reuses its cache).
  const config = join(dir, "launch-config.yaml");
  writeFileSync(config, `runner:\n  python: ${python}\n`);
  agent = startAgent(bin, server, ["-q", "default", "-e", "admin", "-j", "2", "-c", config]);
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${server.url}/connect`);
  await page.fill("#api-key", ADMIN_KEY);
  await page.click("button[type=submit]");
  await page.waitForSelector("[data-testid=connected]");
});

after(async () => {
  await agent?.stop();
  await browser?.close();
  await server?.stop();
});

test("a job that uses the wandb SDK shows its charts, summary, config and console on its run page", { skip }, async () => {
  const runId = await eventually(
    "the training run to finish",
    async () => {
      const [item] = await items();
      if (!item?.associatedRunId) return false;
      const state = await fetch(`${server.url}/graphql`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Basic ${Buffer.from(`api:${ADMIN_KEY}`).toString("base64")}` },
        body: JSON.stringify({ query: `{ project(name: "proj", entityName: "admin") { run(name: "${item.associatedRunId}") { state } } }` }),
      }).then((r) => r.json());
      return state.data?.project?.run?.state === "finished" && item.associatedRunId;
    },
    300_000,
    1_000,
  ).catch((e) => {
    throw new Error(`${e.message}; agent log:\n${agent.log()}`);
  });
  await openRun(runId);
  assert.equal(await page.getAttribute("h1 [data-state]", "data-state"), "finished");
  // The script by its name, its full path on hover.
  assert.equal(await page.textContent(".meta-line .program"), "train.py");
  assert.match(await page.getAttribute(".meta-line .program", "title"), /^\/.+\/train\.py$/);
  // one line chart per numeric metric, drawn from the history
  await page.waitForSelector("figure.chart:has(figcaption:has-text('loss')) path.line[d^='M']", { timeout: 20_000 });
  await page.waitForSelector("figure.chart:has(figcaption:has-text('acc')) path.line[d^='M']");
  assert.match(await page.textContent("figure.chart:has(figcaption:has-text('loss')) .last"), /0\.03/);
  // Pointing at a chart shows the nearest point's value; so do the keys.
  const loss = "figure.chart:has(figcaption:has-text('loss'))";
  const box = await page.locator(`${loss} svg`).boundingBox();
  await page.mouse.move(box.x + box.width - 4, box.y + box.height / 2);
  await page.waitForSelector(`${loss} line.guide`, { state: "attached" });
  assert.equal(await page.textContent(`${loss} .last`), "step 30: 0.0333");
  await page.mouse.move(box.x + box.width / 2, box.y - 60);
  await page.waitForSelector(`${loss} line.guide`, { state: "detached" });
  await page.focus(`${loss} svg`);
  await page.keyboard.press("Home");
  assert.equal(await page.textContent(`${loss} .last`), "step 1: 1");
  await page.keyboard.press("ArrowRight");
  assert.equal(await page.textContent(`${loss} .last`), "step 2: 0.5");
  await page.keyboard.press("Escape");
  assert.equal(await page.textContent(`${loss} .last`), "0.0333");
  await page.$eval(`${loss} svg`, (e) => e.blur());
  // "hello": "world" is not a number: no chart, but the summary has it
  const summary = await page.textContent("section[aria-labelledby=summary-h]");
  assert.match(summary, /hello\s*world/);
  assert.match(summary, /best_acc\s*0\.97/);
  const config = await page.textContent("section[aria-labelledby=config-h]");
  assert.match(config, /epochs\s*30/);
  assert.match(config, /lr\s*0\.01/);
  await page.waitForSelector("pre.console:has-text('training done')", { timeout: 20_000 });
  // As a terminal leaves them: the bar's last frame, the colour codes gone.
  const consoleText = await page.textContent("pre.console");
  assert.match(consoleText, /progress 100%/);
  assert.doesNotMatch(consoleText, /progress 10%/);
  assert.match(consoleText, /all green/);
  assert.doesNotMatch(consoleText, /\[32m|\x1b/);
  // A finished run's page stops polling: no run reads in 7 s (it once
  // read it again on every answer, dozens of times a second).
  const reads = [];
  const count = (r) => {
    if (r.url().endsWith("/graphql") && (r.postData() || "").includes("LiftoffRunPage")) reads.push(r);
  };
  page.on("request", count);
  await page.waitForTimeout(7_000);
  page.off("request", count);
  assert.ok(reads.length <= 1, `${reads.length} run page reads in 7 s after the run finished`);
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(process.env.LIFTOFF_SCREENSHOTS || tempDir("liftoff-shot-"), "run-charts.png") });
});

test("a run stopped from its run page ends killed and its job is terminated", { skip }, async () => {
  const long = codeDir(tempDir("liftoff-long-"), "long", LONG);
  const earlier = new Set((await items()).map((i) => i.id));
  await liftoff(bin, server, ["launch", "--uri", ".", "--queue", "default", "--project", "proj", "--job-name", "long"], { cwd: long });
  const runId = await eventually(
    "the long job to tick",
    async () => {
      const item = (await items()).find((i) => !earlier.has(i.id));
      return item?.associatedRunId && agent.log().includes("tick 3") && item.associatedRunId;
    },
    300_000,
    500,
  ).catch((e) => {
    throw new Error(`${e.message}; agent log:\n${agent.log()}`);
  });
  await openRun(runId);
  assert.equal(await page.getAttribute("h1 [data-state]", "data-state"), "running");
  // From the keyboard: while the run stops, the button says so and keeps
  // the focus (a disabled button would drop it).
  // It asks first, the focus on "no"; Escape puts the button back.
  await page.focus("#run-stop");
  await page.keyboard.press("Enter");
  await page.waitForSelector(".ask-first .confirm:has-text('Stop this run?')");
  await page.waitForFunction(() => document.activeElement?.id === "run-stop-no");
  await page.keyboard.press("Escape");
  await page.waitForFunction(() => document.activeElement?.id === "run-stop");
  assert.equal(await page.getAttribute("h1 [data-state]", "data-state"), "running");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.activeElement?.id === "run-stop-no");
  await page.keyboard.press("Shift+Tab");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#run-stop[aria-disabled=true]:has-text('Stopping…')");
  // The focus comes back to the button on the next frame (the question's
  // buttons are gone by then): wait a moment for it, then say where it is.
  await page
    .waitForFunction(() => document.activeElement?.textContent?.trim() === "Stopping…", null, { timeout: 2_000 })
    .catch(() => {});
  assert.equal(await page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName), "run-stop", "the focus stayed on Stop");
  await page.waitForSelector("text=Asked the run to stop.");
  await page.waitForSelector('h1 [data-state="killed"]', { timeout: 60_000 });
  // Its exit code is the stop's, and the header says so.
  assert.match(await page.textContent(".meta-line"), /stopped on request/);
  const ticks = (agent.log().match(/tick \d+/g) || []).length;
  await page.waitForTimeout(2_000);
  assert.equal((agent.log().match(/tick \d+/g) || []).length, ticks, "the job printed nothing after it was killed");
});

test("no page threw", { skip }, () => {
  assert.deepEqual(errors, []);
});
