// The Chrome extension in a real Chromium, against a wandb-like fixture SPA
// (wandb.ai's URL shapes, pushState navigation, a strict CSP) and a real
// `liftoff server` with a real finished run: the Launch button appears once
// per job and follows in-app navigation, the drawer refuses bad input and
// launches (the item is on the server's queue), relaunch-with-edits starts
// from a finished run's config and shows the diff, a wrong key is said
// plainly, and the page's own scripts find the key nowhere.
// With LIFTOFF_SCREENSHOTS=DIR, the drawer, the options page and the popup
// are saved there as PNGs.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { launchWithExtension, required } from "./chromium.mjs";
import { serveFixture, testCopy } from "./fixtures/extension.mjs";
import { ADMIN_KEY, eventually, liftoff, startAgent, startServer, tempDir, writeJob } from "./liftoff.mjs";

const bin = required("LIFTOFF_BIN");
const webDir = required("LIFTOFF_WEB_DIR");
const extensionDir = required("LIFTOFF_EXTENSION_DIR");
const shots = process.env.LIFTOFF_SCREENSHOTS;
const WRONG_KEY = "f".repeat(40);

let server, fixture, context, page, extensionId, finishedRun;
const pageErrors = [];
const urls = [];
const consoleLines = [];

async function shot(name, target, options = {}) {
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  await target.waitForTimeout(300);
  await target.screenshot({ path: join(shots, `${name}.png`), ...options });
}

/** A GraphQL call to the server, as the admin. */
async function graphql(query, variables = {}) {
  const r = await fetch(`${server.url}/graphql`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Basic ${Buffer.from(`api:${ADMIN_KEY}`).toString("base64")}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await r.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

/** The items of a queue of `admin`, newest first, with their specs. */
async function items(queue = "q1") {
  const data = await graphql(
    `query($q: String!) { project(name: "model-registry", entityName: "admin") { runQueue(name: $q) {
       runQueueItems(first: 50) { edges { node { id state associatedRunId runSpec run { name state } } } } } } }`,
    { q: queue },
  );
  return data.project.runQueue.runQueueItems.edges.map((e) => {
    const n = e.node;
    return { ...n, runSpec: typeof n.runSpec === "string" ? JSON.parse(n.runSpec) : n.runSpec };
  });
}

/** Settle the SPA and the content script after a navigation or a change. */
async function settle() {
  await page.waitForTimeout(400);
}

async function options() {
  const p = await context.newPage();
  await p.setViewportSize({ width: 1000, height: 820 });
  await p.goto(`chrome-extension://${extensionId}/options.html`);
  await p.waitForSelector("#base-url");
  return p;
}

/** Save `key` for the server through the options page; resolves to the status text. */
async function saveKey(key) {
  const p = await options();
  await p.fill("#base-url", server.url);
  await p.fill("#api-key", key);
  await p.click("#add button[type=submit]");
  const status = await p.waitForSelector("#add-status p");
  const text = await status.textContent();
  return { p, text };
}

async function openJobDrawer(job = "train") {
  await page.click(`button[aria-label="Launch ${job}"]`);
  await page.waitForSelector("aside.drawer form", { timeout: 20_000 });
}

before(async () => {
  const dir = tempDir("liftoff-ext-");
  server = await startServer({ bin, webDir, dir, log: "debug,sqlx=warn,hyper=warn,hyper_util=warn,h2=warn" });
  const job = writeJob(join(dir, "job"));
  await liftoff(bin, server, ["job", "create", "code", job, "-e", "admin", "-p", "proj", "-n", "train", "-E", "echo hi", "--schema", join(job, "schema.json")]);
  await liftoff(bin, server, ["job", "create", "code", job, "-e", "admin", "-p", "proj", "-n", "other", "-E", "echo other"]);
  await liftoff(bin, server, ["queue", "create", "q1", "-e", "admin", "--resource", "local-process"]);
  // A finished run of `train` with its own config, made the real way: launched, run by an agent.
  await liftoff(bin, server, ["launch", "--job", "admin/proj/train:latest", "--queue", "q1", "-e", "admin", "-p", "proj",
    "-c", JSON.stringify({ overrides: { run_config: { lr: 0.2, steps: 5 } } })]);
  const agent = startAgent(bin, server, ["-q", "q1", "-e", "admin"]);
  try {
    finishedRun = await eventually("the launched run to finish", async () => {
      const [item] = await items();
      return item?.run?.state === "finished" && item.run.name;
    }, 60_000);
  } finally {
    await agent.stop();
  }

  fixture = await serveFixture({ jobs: ["train", "other"] });
  context = await launchWithExtension(testCopy(extensionDir, [fixture.url]));
  // Everything that could leak the key: every URL asked for or navigated to
  // (pages, the options page, the popup) and every console message.
  context.on("request", (r) => urls.push(r.url()));
  context.on("console", (m) => consoleLines.push(m.text()));
  const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent("serviceworker", { timeout: 30_000 }));
  extensionId = new URL(worker.url()).host;
  await worker.evaluate(() => self.liftoff.ready);
  page = await context.newPage();
  await page.setViewportSize({ width: 1280, height: 800 });
  page.on("pageerror", (e) => pageErrors.push(e.message));
  if (process.env.DEBUG_EXTENSION) page.on("console", (m) => console.log("PAGE", m.type(), m.text().slice(0, 300)));
});

after(async () => {
  await context?.close();
  fixture?.close();
  await server?.stop();
});

test("the options page keeps a server's key, shows only its last characters, and says who you are", async () => {
  const wrong = await saveKey(WRONG_KEY);
  assert.match(wrong.text, /^Saved, but: The server at .* refused this API key/);
  // (This page is where a key is changed: it does not send the user here.)
  assert.ok(!wrong.text.includes("extension's options"), wrong.text);
  const refused = await wrong.p.waitForSelector(`tr[data-server="${server.url}"] td[data-status=error]`);
  assert.match(await refused.textContent(), /refused this API key/);
  await wrong.p.close();
  const { p, text } = await saveKey(ADMIN_KEY);
  assert.equal(text, `Connected to ${server.url} as admin (its key was replaced).`);
  const row = p.locator(`tr[data-server="${server.url}"]`);
  assert.equal(await row.locator("td").nth(1).textContent(), "••••4567");
  // The Status column asks the server whether the key works.
  await p.waitForSelector(`tr[data-server="${server.url}"] td[data-status=ok]:has-text("Connected as admin")`);
  // Remove can be undone: the server comes back with its key.
  await p.click(`button[aria-label="Remove ${server.url}"]`);
  await p.waitForSelector("#no-servers:not([hidden])");
  assert.match(await p.textContent("#servers-status"), /Removed .* and its key\./);
  await p.click("#servers-status button:has-text('Undo')");
  await p.waitForSelector(`tr[data-server="${server.url}"] td[data-status=ok]:has-text("Connected as admin")`);
  assert.equal(await row.locator("td").nth(1).textContent(), "••••4567");
  assert.ok(await row.locator("input[type=radio]").isChecked(), "it serves wandb.ai pages again");
  assert.ok(await row.locator("input[type=radio]").isChecked(), "the only server serves wandb.ai pages");
  assert.ok(!(await p.content()).includes(ADMIN_KEY), "the key is not on the options page");
  // A bad address is refused next to its field.
  await p.fill("#base-url", "localhost:8080");
  await p.fill("#api-key", "k");
  await p.click("#add button[type=submit]");
  await p.waitForSelector("#base-url-error:has-text('must be an http(s) URL')");
  // So is a key cut short.
  await p.waitForSelector("#api-key-error:has-text('an API key is 40 characters long; this one has 1')");
  await p.fill("#base-url", "http://127.0.0.1:99999");
  await p.click("#add button[type=submit]");
  await p.waitForSelector("#base-url-error:has-text('port 99999 is not a port number')");
  await p.fill("#base-url", "");
  await p.fill("#api-key", "");
  await p.fill("#default-entity", "admin");
  await p.fill("#default-queue", "q1");
  await p.click("#defaults button[type=submit]");
  await p.waitForSelector("#defaults-status:has-text('Saved.')");
  await shot("extension-options", p, { fullPage: true });
  // A narrow window: each server's row stacks, nothing is off to the side.
  await p.setViewportSize({ width: 400, height: 800 });
  const [scrollWidth, width] = await p.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
  assert.ok(scrollWidth <= width, `the page is ${scrollWidth} px wide in a ${width} px window`);
  assert.ok(await p.locator(`button[aria-label="Remove ${server.url}"]`).isVisible());
  await p.close();
});

test("the Launch button appears once per job and follows in-app navigation", async () => {
  await page.goto(`${fixture.url}/admin/proj/jobs`);
  const train = page.locator('button[aria-label="Launch train"]');
  const other = page.locator('button[aria-label="Launch other"]');
  await train.waitFor({ timeout: 20_000 });
  await other.waitFor();
  await settle();
  assert.equal(await train.count(), 1, "two links to a job, one button");
  assert.equal(await other.count(), 1);

  // The page re-renders its table: the buttons follow, still once each.
  for (let i = 0; i < 3; i++) await page.evaluate(() => window.fixture.rerender());
  await settle();
  await train.waitFor();
  assert.equal(await train.count(), 1);

  // In-app navigation to a run: the job buttons go, Relaunch comes, no reload.
  const marker = await page.evaluate(() => (window.__notReloaded = Math.random()));
  await page.click(`a[href="/admin/proj/artifacts/job/train/latest"]`);
  await page.waitForSelector('button[aria-label="Launch train"]');
  await page.evaluate((run) => window.fixture.nav(`/admin/proj/runs/${run}`), finishedRun);
  await page.waitForSelector('button[aria-label="Relaunch with edits"]');
  assert.equal(await train.count(), 0, "buttons are removed when leaving the page");
  assert.equal(await page.locator('button[aria-label="Relaunch with edits"]').count(), 1);

  // Back (popstate) to the Jobs tab: the buttons are back, once each.
  await page.goBack();
  await page.goBack();
  await train.waitFor();
  await settle();
  assert.equal(await train.count(), 1);
  assert.equal(await page.locator('button[aria-label="Relaunch with edits"]').count(), 0);
  assert.equal(await page.evaluate(() => window.__notReloaded), marker, "the page never reloaded");

  // A redesign without job links: a floating button instead, nothing broken.
  await page.evaluate(() => window.fixture.setLayout("plain"));
  await page.waitForSelector(".floating button:has-text('Launch a job')");
  assert.equal(await train.count(), 0);
  await page.evaluate(() => window.fixture.setLayout("table"));
  await train.waitFor();
  await settle();
  assert.equal(await page.locator(".floating button:has-text('Launch a job')").count(), 0);

  // Other pages: a sweep offers a job of its project; the Launch page lists recent launches.
  await page.evaluate(() => window.fixture.nav("/admin/proj/sweeps/sw1"));
  await page.waitForSelector('button[aria-label="Launch a job"]');
  await page.evaluate(() => window.fixture.nav("/launch"));
  // Closed until asked for, so it covers nothing of the page's own.
  const toggle = page.locator("button[aria-controls=lf-recent]");
  await toggle.waitFor();
  assert.equal(await toggle.getAttribute("aria-expanded"), "false");
  assert.ok(!(await page.locator("section[aria-label='Launched from the extension']").isVisible()));
  await toggle.click();
  await page.waitForSelector("section[aria-label='Launched from the extension']", { state: "visible" });
  assert.equal(await toggle.getAttribute("aria-expanded"), "true");
  assert.deepEqual(pageErrors, []);
});

test("the drawer refuses invalid input next to the field and launches a valid one onto the queue", async () => {
  await page.goto(`${fixture.url}/admin/proj/jobs`);
  await openJobDrawer("train");
  assert.equal(await page.textContent("#lf-title"), "Launch train");
  assert.match(await page.textContent(".drawer .who"), new RegExp(`as admin on ${server.url}`));
  assert.equal(await page.inputValue("#launch-queue"), "admin/q1");
  assert.ok(await page.locator("#launch-priority").isDisabled(), "q1 does not use priorities");
  const before = (await items()).length;

  await page.fill("#config-lr", "5");
  await page.fill("#config-steps", "two");
  await page.waitForSelector("#config-lr-error:has-text('must be at most 1, got 5')");
  await page.click("aside.drawer button[type=submit]");
  await page.waitForSelector("#config-steps-error:has-text('must be a whole number')");
  assert.equal(await page.getAttribute("#config-lr", "aria-invalid"), "true");
  assert.equal((await items()).length, before, "nothing was sent");

  await page.fill("#config-lr", "0.5");
  await page.fill("#config-steps", "");
  await page.selectOption("#config-optimizer", "sgd");
  await shot("extension-drawer", page);
  await page.click("aside.drawer button[type=submit]");
  await page.waitForSelector("[data-testid=toast]");
  assert.match(await page.textContent("[data-testid=toast]"), /Launched train:latest to queue admin\/q1\./);
  assert.equal(await page.locator("aside.drawer").count(), 0, "the drawer closed");

  const pushed = await eventually("the item on the queue", async () => {
    const list = await items();
    return list.length === before + 1 && list[0];
  });
  assert.equal(pushed.state, "PENDING");
  assert.equal(pushed.runSpec.job, "admin/proj/train:latest");
  assert.deepEqual(pushed.runSpec.overrides.run_config, { lr: 0.5, optimizer: "sgd" });
  assert.equal(pushed.runSpec.author, "admin");

  // The job's row now has a status chip linking to the item.
  const chip = page.locator(".chip[data-item]").first();
  await chip.waitFor();
  assert.equal(await chip.getAttribute("data-item"), pushed.id);
  assert.match(await chip.getAttribute("data-status"), /^(Idle|Queued)$/);
  assert.equal(await chip.getAttribute("href"), `${server.url}/launch/admin/q1?item=${pushed.id}`);

  // A job without an input schema is edited as JSON, checked the same way.
  await openJobDrawer("other");
  await page.waitForSelector("#launch-config");
  assert.ok(!(await page.textContent("[data-testid=overrides]")).includes("null"), "no stray 'null'");
  await page.fill("#launch-config", '{"lr": ');
  await page.click("aside.drawer button[type=submit]");
  await page.waitForSelector("#launch-config-error:has-text('is not valid JSON')");
  await page.keyboard.press("Escape");
  await page.waitForSelector("aside.drawer", { state: "detached" });
});

test("the drawer carries overrides between the form and JSON, marks invalid fields and keeps the focus inside", async () => {
  await page.goto(`${fixture.url}/admin/proj/jobs`);
  await openJobDrawer("train");
  await page.fill("#config-lr", "0.3");
  await page.click("#launch-use-json");
  await page.waitForSelector("#launch-config");
  assert.deepEqual(JSON.parse(await page.inputValue("#launch-config")), { lr: 0.3 }, "the typed value went across");
  await page.fill("#launch-config", '{"lr": 0.4, "steps": 9}');
  await page.click("#launch-use-json");
  await page.waitForSelector("#config-lr");
  assert.equal(await page.inputValue("#config-lr"), "0.4");
  assert.equal(await page.inputValue("#config-steps"), "9");
  // A field emptied in the form stays out of the JSON (the job's default
  // applies); it does not come back from the JSON it was read from.
  await page.fill("#config-steps", "");
  await page.click("#launch-use-json");
  await page.waitForSelector("#launch-config");
  assert.deepEqual(JSON.parse(await page.inputValue("#launch-config")), { lr: 0.4 }, "steps was emptied");
  // A key the form has no field for: the switch back is refused, saying why.
  await page.fill("#launch-config", '{"lr": 0.4, "extra": 1}');
  await page.click("#launch-use-json");
  await page.waitForSelector("#launch-config-error:has-text('no field for extra')");
  assert.ok(await page.isChecked("#launch-use-json"), "still editing JSON");
  await page.fill("#launch-config", '{"lr": 0.4}');
  await page.click("#launch-use-json");
  await page.waitForSelector("#config-lr");
  // An invalid field is outlined in red, not only marked for screen readers.
  await page.fill("#config-lr", "abc");
  await page.waitForSelector("#config-lr[aria-invalid=true]");
  assert.equal(await page.$eval("#config-lr", (el) => getComputedStyle(el).borderTopColor), "rgb(200, 55, 45)");
  // Text that is not a value yet goes to the JSON as typed, and comes back: nothing is lost.
  await page.click("#launch-use-json");
  await page.waitForSelector("#launch-config");
  assert.deepEqual(JSON.parse(await page.inputValue("#launch-config")), { lr: "abc" });
  await page.click("#launch-use-json");
  await page.waitForSelector("#config-lr");
  assert.equal(await page.inputValue("#config-lr"), "abc");
  // Tab goes round the drawer's controls, never into the page behind it.
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press("Tab");
    const inside = await page.evaluate(() => !!document.activeElement?.shadowRoot?.querySelector("aside.drawer"));
    assert.ok(inside, `the focus left the drawer after ${i + 1} Tabs`);
  }
  await page.keyboard.press("Escape");
  await page.waitForSelector("aside.drawer", { state: "detached" });
});

test("a drawer closed without launching keeps what was typed; Start over and Cancel drop it", async () => {
  await page.goto(`${fixture.url}/admin/proj/jobs`);
  await openJobDrawer("train");
  assert.equal(await page.$("[data-testid=draft-note]"), null, "a first opening has nothing to go on from");
  const project = await page.inputValue("#launch-project");
  await page.fill("#config-lr", "0.25");
  await page.fill("#launch-project", "elsewhere");
  await page.keyboard.press("Escape");
  await page.waitForSelector("aside.drawer", { state: "detached" });
  await openJobDrawer("train");
  await page.waitForSelector("[data-testid=draft-note]:has-text('Going on from what you typed before')");
  assert.equal(await page.inputValue("#config-lr"), "0.25");
  assert.equal(await page.inputValue("#launch-project"), "elsewhere");
  // Kept as JSON too, text that is not a value yet included; × keeps it as Escape does.
  await page.click("#launch-use-json");
  await page.waitForSelector("#launch-config");
  await page.fill("#launch-config", '{"lr": 0.25, "steps": ');
  await page.click("aside.drawer button.close");
  await page.waitForSelector("aside.drawer", { state: "detached" });
  // Another job's drawer starts blank: drafts are by job.
  await openJobDrawer("other");
  assert.equal(await page.$("[data-testid=draft-note]"), null, "another job's drawer has no draft");
  await page.keyboard.press("Escape");
  // The same job from its own page (in-app navigation): the same draft.
  await page.click(`a[href="/admin/proj/artifacts/job/train/latest"]`);
  await page.waitForSelector('button[aria-label="Launch train"]');
  await settle();
  await openJobDrawer("train");
  await page.waitForSelector("#launch-config");
  assert.equal(await page.inputValue("#launch-config"), '{"lr": 0.25, "steps": ');
  assert.ok(await page.isChecked("#launch-use-json"));
  await page.click("[data-testid=draft-note] button:has-text('Start over')");
  await page.waitForSelector("#config-lr");
  assert.equal(await page.$("[data-testid=draft-note]"), null);
  assert.equal(await page.inputValue("#config-lr"), "");
  assert.equal(await page.inputValue("#launch-project"), project);
  // Cancel means it: nothing is kept.
  await page.fill("#config-lr", "0.5");
  await page.click("aside.drawer .actions button:has-text('Cancel')");
  await page.waitForSelector("aside.drawer", { state: "detached" });
  await openJobDrawer("train");
  assert.equal(await page.$("[data-testid=draft-note]"), null, "Cancel dropped the draft");
  assert.equal(await page.inputValue("#config-lr"), "");
  await page.keyboard.press("Escape");
});

test("relaunch with edits starts from a finished run's config and shows what changed", async () => {
  await page.goto(`${fixture.url}/admin/proj/runs/${finishedRun}`);
  // A queue made now is offered at once, but the relaunch goes to the run's queue.
  await liftoff(bin, server, ["queue", "create", "a-first", "-e", "admin", "--resource", "local-process"]);
  await page.click('button[aria-label="Relaunch with edits"]');
  await page.waitForSelector("aside.drawer form", { timeout: 20_000 });
  assert.match(await page.textContent("#lf-title"), new RegExp(`^Relaunch ${finishedRun} with edits$`));
  assert.equal(await page.inputValue("#launch-queue"), "admin/q1", "the run's queue");
  assert.equal(await page.locator("#launch-queue option[value='admin/a-first']").count(), 1, "the new queue is offered");
  // The job version the run ran (`train:latest` was v0 then): its agent linked the run to it.
  assert.equal(await page.inputValue("#launch-version"), "v0", "the version the run ran");
  assert.equal(await page.inputValue("#config-lr"), "0.2");
  assert.equal(await page.inputValue("#config-steps"), "5");
  await page.waitForSelector("[data-testid=diff]:has-text('No changes yet')");

  await page.fill("#config-steps", "7");
  await page.waitForSelector('[data-testid=diff] li[data-path="steps"]');
  assert.equal((await page.textContent('[data-testid=diff] li[data-path="steps"]')).replace(/\s+/g, " "), "steps: 5 → 7");
  await shot("extension-relaunch", page);
  const before = (await items()).length;
  await page.click("aside.drawer button[type=submit]");
  await page.waitForSelector("[data-testid=toast]");
  const pushed = await eventually("the relaunched item", async () => {
    const list = await items();
    return list.length === before + 1 && list[0];
  });
  assert.deepEqual(pushed.runSpec.overrides.run_config, { lr: 0.2, steps: 7 });
});

test("a wrong API key is said plainly in the drawer", async () => {
  const { p } = await saveKey(WRONG_KEY);
  await p.close();
  try {
    await page.goto(`${fixture.url}/admin/proj/jobs`);
    await page.click('button[aria-label="Launch train"]', { timeout: 20_000 });
    const error = await page.waitForSelector("[data-testid=drawer-error]", { timeout: 20_000 });
    assert.match(
      await error.textContent(),
      new RegExp(`^The server at ${server.url}/graphql refused this API key\\..*Change it in the Liftoff extension's options\\.$`),
    );
    assert.ok(!(await error.textContent()).includes(WRONG_KEY), "the key itself is never shown");
  } finally {
    const { p: again } = await saveKey(ADMIN_KEY);
    await again.close();
  }
});

test("a launch the server refuses says why, in view, with the focus on it; nothing is pushed", async () => {
  await page.goto(`${fixture.url}/admin/proj/jobs`);
  await openJobDrawer("train");
  const before = (await items()).length;
  await page.fill("#launch-entity", "nobody");
  await page.click("aside.drawer button[type=submit]");
  const said = page.locator("[data-testid=launch-error]");
  await said.waitFor({ timeout: 20_000 });
  assert.match(await said.textContent(), /the run's entity "nobody" does not exist or is not one you belong to/);
  assert.ok(await said.evaluate((e) => e.getRootNode().activeElement === e), "the focus is on the message");
  assert.ok(await said.evaluate((e) => {
    const r = e.getBoundingClientRect();
    return r.top >= 0 && r.bottom <= window.innerHeight;
  }), "the message is in view");
  assert.equal((await items()).length, before);
  await page.keyboard.press("Escape");
});

test("a drawer that cannot load its job says as whom and on which server it looked", async () => {
  // The fixture lists `train` in every project; `elsewhere` has no such job.
  await page.goto(`${fixture.url}/admin/elsewhere/jobs`);
  await page.click('button[aria-label="Launch train"]', { timeout: 20_000 });
  const error = await page.waitForSelector("[data-testid=drawer-error]", { timeout: 20_000 });
  assert.match(await error.textContent(), /train/);
  assert.equal(await page.textContent("aside.drawer .who"), `as admin on ${server.url}`);
  await page.click("aside.drawer button.close");
});

test("the page's own scripts cannot read the key", async () => {
  await page.goto(`${fixture.url}/admin/proj/runs/${finishedRun}`);
  await page.click('button[aria-label="Relaunch with edits"]', { timeout: 20_000 });
  await page.waitForSelector("aside.drawer form", { timeout: 20_000 });
  const { found, shadowRoots } = await page.evaluate((key) => window.fixture.hunt(key), ADMIN_KEY);
  assert.ok(shadowRoots >= 2, `the hunt looked inside the drawer's and the button's shadow roots (${shadowRoots})`);
  assert.deepEqual(found, []);
  // The page cannot message the extension either (no externally_connectable).
  const reach = await page.evaluate(
    (id) => {
      try {
        return typeof chrome !== "undefined" && chrome.runtime?.sendMessage ? "reachable" : "unreachable";
      } catch (e) {
        return `unreachable: ${e.message}`;
      }
    },
    extensionId,
  );
  assert.match(reach, /^unreachable/);
  await page.keyboard.press("Escape");
});

test("the popup says who you are and lists launched items with their status and links", async () => {
  const p = await context.newPage();
  await p.setViewportSize({ width: 380, height: 560 });
  await p.goto(`chrome-extension://${extensionId}/popup.html`);
  await p.waitForSelector(`li[data-server="${server.url}"]:has-text('Connected as admin')`);
  const rows = p.locator("#items li");
  await rows.first().waitFor();
  assert.equal(await rows.count(), 2, "both launches from the extension");
  const list = await items();
  assert.equal(await rows.first().getAttribute("data-item"), list[0].id);
  assert.match(await rows.first().locator(".chip").textContent(), /^(Idle|Queued)$/);
  assert.equal(await rows.first().locator("a").getAttribute("href"), `${server.url}/launch/admin/q1?item=${list[0].id}`);
  await shot("extension-popup", p, { fullPage: true });
  // Left open, it follows the items: an agent runs them, and the chip moves on.
  const chip = rows.first().locator(".chip");
  const was = await chip.textContent();
  const agent = startAgent(bin, server, ["-q", "q1", "-e", "admin"]);
  try {
    await eventually("the open popup to show the item running or done", async () => (await chip.textContent()) !== was, 60_000, 500).catch((e) => {
      throw new Error(`${e.message}; agent log:\n${agent.log()}`);
    });
  } finally {
    await agent.stop();
  }
  await p.close();
});

test("on Liftoff's own pages the extension's Launch buttons are named apart from the app's", async () => {
  const p = await context.newPage();
  try {
    await p.setViewportSize({ width: 1280, height: 800 });
    await p.goto(`${server.url}/connect`);
    await p.fill("#api-key", ADMIN_KEY);
    await p.click("button[type=submit]");
    await p.waitForSelector("[data-testid=connected]");
    await p.goto(`${server.url}/admin/proj/jobs`);
    await p.waitForSelector('button[aria-label="Launch train with the extension"]', { timeout: 20_000 });
    assert.equal(await p.locator('button[aria-label="Launch train"]').count(), 1, "the app's own button keeps its name");
    await p.click('button[aria-label="Launch train with the extension"]');
    await p.waitForSelector("aside.drawer form", { timeout: 20_000 });
    await p.keyboard.press("Escape");
    await p.waitForSelector("aside.drawer", { state: "detached" });
  } finally {
    await p.close();
  }
});

test("an image job's drawer moves off a local-process queue, and refuses it there before anything is sent", async () => {
  await liftoff(bin, server, ["job", "create", "image", "busybox:1.36", "-e", "admin", "-p", "proj", "-n", "img"]);
  await liftoff(bin, server, ["queue", "create", "boxes", "-e", "admin", "--resource", "local-container"]);
  await page.goto(`${fixture.url}/admin/proj/artifacts/job/img`);
  await openJobDrawer("img");
  assert.equal(await page.inputValue("#launch-queue"), "admin/boxes");
  const labels = await page.$$eval("#launch-queue option", (os) => os.map((o) => o.textContent));
  // No agent polls it (the server lists agents): said, as the web app's drawer does.
  assert.ok(labels.includes("admin/boxes (no agent)"), labels.join(" | "));
  assert.ok(labels.includes("admin/q1 (cannot run this job)"), labels.join(" | "));
  const before = (await items()).length;
  await page.selectOption("#launch-queue", "admin/q1");
  // Said under the queue as the form is checked, before any push (a refused
  // push would be said in the drawer's alert, after Launch now).
  await page.waitForSelector("#launch-queue-error:has-text('a local-process queue cannot run container image busybox:1.36')");
  await page.click("aside.drawer button[type=submit]");
  await page.waitForTimeout(500);
  assert.equal(await page.locator("[data-testid=toast]").count(), 0, "nothing was launched");
  assert.equal((await items()).length, before, "nothing was sent");
  await page.keyboard.press("Escape");
  await page.waitForSelector("aside.drawer", { state: "detached" });
});

test("the key never appears in a URL, a console message or the server's log", () => {
  assert.ok(urls.length > 20, `the suite made requests (${urls.length})`);
  const basic = Buffer.from(`api:${ADMIN_KEY}`).toString("base64");
  for (const [what, lines] of [["URL", urls], ["console message", consoleLines], ["server log line", server.output]]) {
    const leaks = lines.filter((l) => l.includes(ADMIN_KEY) || l.includes(basic));
    assert.deepEqual(leaks, [], `a ${what} carries the key`);
  }
});
