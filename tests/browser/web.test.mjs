// The web app against a real `liftoff server` and a real `liftoff agent`:
// connect, create a queue in the UI, launch a job through the drawer, watch
// its row go from Queued to Finished, read its run page and console, see a
// failing job's error on its row, and have bad input refused.
// With LIFTOFF_SCREENSHOTS=DIR, every page is also saved there as a PNG.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { launch, required } from "./chromium.mjs";
import { ADMIN_KEY, deadAddress, eventually, liftoff, startAgent, startServer, tempDir, writeJob } from "./liftoff.mjs";

const bin = required("LIFTOFF_BIN");
const webDir = required("LIFTOFF_WEB_DIR");
const shots = process.env.LIFTOFF_SCREENSHOTS;

let server, browser, page, agent;
const errors = [];
// Console warnings: the browser's (a preload it ignores...) and Leptos'.
const warnings = [];
// Everything that could leak the API key: every URL the page asked for or
// navigated to, and every console message.
const urls = [];
const consoleLines = [];

async function shot(name, target = page) {
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  await target.waitForTimeout(300);
  await target.screenshot({ path: join(shots, `${name}.png`), fullPage: false });
}

/** The status shown on an item's row. */
async function statusOf(itemId) {
  return page.getAttribute(`tbody[data-item="${itemId}"]`, "data-status");
}

/** Open the Launch drawer of job `train` and wait for its form. */
async function openDrawer() {
  await page.goto(`${server.url}/admin/web/jobs`);
  await page.click('button[aria-label="Launch train"]');
  await page.waitForSelector("#config-lr", { timeout: 20_000 });
}

/** To another page of the app (Connect) and back, without a reload. */
async function awayAndBack() {
  await page.click("header a.who");
  await page.waitForSelector("[data-testid=connected]");
  await page.goBack();
}

/** Launch with these form inputs; resolves to the new item's id (from the
 * toast link). `follow`: go there by the toast's link, which closes it. */
async function launchWith(inputs, { follow = false } = {}) {
  await openDrawer();
  for (const [selector, value] of Object.entries(inputs)) {
    const tag = await page.$eval(selector, (e) => e.tagName);
    if (tag === "SELECT") await page.selectOption(selector, value);
    else await page.fill(selector, value);
  }
  await page.click(".drawer button[type=submit]");
  const link = await page.waitForSelector(".toast a", { timeout: 20_000 });
  const href = await link.getAttribute("href");
  if (follow) {
    await link.click();
    await page.waitForURL((u) => `${u.pathname}${u.search}` === href);
    await page.waitForSelector(".toast", { state: "detached" });
  } else {
    await page.click(".toast .close");
  }
  return { href, item: new URL(href, server.url).searchParams.get("item") };
}

before(async () => {
  const dir = tempDir();
  server = await startServer({ bin, webDir, dir, log: "debug,sqlx=warn,hyper=warn,hyper_util=warn,h2=warn" });
  const job = writeJob(join(dir, "job"));
  await liftoff(bin, server, ["job", "create", "code", job, "-e", "admin", "-p", "web", "-n", "train", "-E", "python3 train.py", "--schema", join(job, "schema.json")]);
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("request", (r) => urls.push(r.url()));
  page.on("framenavigated", (f) => urls.push(f.url()));
  page.on("console", (m) => consoleLines.push(m.text()));
  page.on("console", (m) => { if (m.type() === "warning") warnings.push(m.text()); });
  page.on("console", (m) => { if (m.type() === "error" && m.text().startsWith("liftoff-www:")) errors.push(m.text()); });
});

after(async () => {
  await agent?.stop();
  await browser?.close();
  await server?.stop();
});

test("connect: a dead server and a wrong key say so plainly; the right key shows who you are", async () => {
  await page.goto(`${server.url}/connect`);
  assert.equal(await page.inputValue("#base-url"), server.url, "the base URL defaults to the serving origin");

  // No key: said once, and gone as soon as one is typed.
  await page.click("button[type=submit]");
  await page.waitForSelector(".field-error:has-text('Enter an API key')");
  // A key cut short is said before any server is asked.
  await page.fill("#api-key", "short");
  await page.click("button[type=submit]");
  await page.waitForSelector(".field-error:has-text('an API key is 40 characters long; this one has 5: copy it whole')");
  await page.fill("#api-key", ADMIN_KEY);
  await page.waitForSelector(".field-error", { state: "detached" });

  // A port browsers refuse is said before it is tried.
  await page.fill("#base-url", "http://127.0.0.1:9");
  await page.click("button[type=submit]");
  await page.waitForSelector(".field-error:has-text('port 9 is one browsers refuse to connect to')");
  const dead = await deadAddress();
  await page.fill("#base-url", dead);
  await page.click("button[type=submit]");
  await page.waitForSelector(".error-box");
  assert.match(await page.textContent(".error-box"), new RegExp(`Cannot reach ${dead}/graphql: is the server running`));
  // The key was not the problem, and nothing was saved: nothing to forget.
  assert.equal(await page.$("text=Forget this key"), null);

  await page.fill("#base-url", server.url);
  await page.fill("#api-key", "f".repeat(40));
  await page.click("button[type=submit]");
  await page.waitForSelector(".error-box:has-text('refused this API key')");
  // `liftoff server` in the message is shown as code, not with backticks.
  assert.equal(await page.textContent(".error-box code"), "liftoff server");
  assert.doesNotMatch(await page.textContent(".error-box"), /`/);

  await page.fill("#api-key", ADMIN_KEY);
  const viewerReads = [];
  const onViewer = (r) => { if ((r.postData() || "").includes("query Viewer")) viewerReads.push(r.url()); };
  page.on("request", onViewer);
  await page.click("button[type=submit]");
  await page.waitForSelector("[data-testid=connected]");
  page.off("request", onViewer);
  assert.equal(viewerReads.length, 1, "the key is checked once, and that answer is used");
  assert.match(await page.textContent("[data-testid=viewer]"), /admin/);
  assert.match(await page.textContent("[data-testid=connected]"), /Entities\s*admin/);
  await shot("connect");
  // The key survives a reload (localStorage) until forgotten.
  await page.reload();
  await page.waitForSelector("[data-testid=connected]");
  // A switch to a server that does not answer changes nothing.
  await page.fill("#base-url", dead);
  await page.click("button[type=submit]");
  await page.waitForSelector(".error-box:has-text('Cannot reach')");
  assert.equal(await page.textContent("[data-testid=still-connected]"), `Nothing was changed: still connected to ${server.url} as admin.`);
  await page.click("header a:has-text('Launch')");
  // The queues of the server in use (none yet), not a failure to reach the other.
  await page.waitForSelector("text=No queues yet.");
  assert.equal(await page.locator("main .error-box").count(), 0);
});

test("create queue: bad configuration is refused with a message, nothing is created", async () => {
  await page.goto(`${server.url}/launch`);
  await page.waitForSelector("text=No queues yet.");
  await page.click("main button:has-text('Create queue')");
  await page.fill("#queue-name", "web-q");
  await page.selectOption("#queue-resource", "local-container");
  await page.fill("#queue-config", '{"env": ["A=1"], "gpus": ');
  await page.waitForSelector("[data-testid=config-error]:has-text('not valid JSON')");
  // YAML: switching converts what is written; bad YAML says where.
  await page.fill("#queue-config", '{"env": ["A=1"], "gpus": "{{gpus}}", "shm-size": "1g"}');
  await page.click(".drawer button:has-text('YAML')");
  assert.equal(await page.inputValue("#queue-config"), 'env:\n  - A=1\ngpus: "{{gpus}}"\nshm-size: 1g\n');
  await page.waitForSelector("#var-gpus-type");
  await page.fill("#queue-config", "env:\n  - A=1\n gpus: 2\n");
  await page.waitForSelector("[data-testid=config-error]:has-text('not valid YAML: line 3, column 2')");
  await page.fill("#queue-config", "env: [A=1, B=2]  # two\ngpus: 2\n");
  await page.click(".drawer button:has-text('JSON')");
  assert.deepEqual(JSON.parse(await page.inputValue("#queue-config")), { env: ["A=1", "B=2"], gpus: 2 });
  await page.fill("#queue-config", '{"privileged": true}');
  await page.waitForSelector("[data-testid=config-error]:has-text(\"Unsupported resource_args.local-container option 'privileged'\")");
  // Braces that are not a variable are pointed out, not turned into one.
  await page.fill("#queue-config", '{"gpus": "{{gpu count}}"}');
  await page.waitForSelector("[data-testid=config-note]:has-text('{{gpu count}} is not a template variable and will stay as text')");
  assert.equal(await page.$("#var-gpus-type"), null);
  await page.fill("#queue-config", '{"gpus": "{{gpus}}", "shm-size": "{{shm}}"}');
  await page.waitForSelector("#var-gpus-type");
  assert.equal(await page.textContent("[data-testid=config-note]"), "");
  // A local-process queue reads no settings: said, so none is kept in the belief it works.
  await page.selectOption("#queue-resource", "local-process");
  await page.waitForSelector("[data-testid=config-note]:has-text(\"local-process jobs take no settings: 'gpus' and 'shm-size' will be ignored\")");
  await page.selectOption("#queue-resource", "local-container");
  await page.waitForFunction(() => document.querySelector("[data-testid=config-note]")?.textContent === "");
  await page.selectOption("#var-gpus-type", "integer");
  await page.fill("#var-gpus-min", "0");
  await page.fill("#var-gpus-max", "four");
  await shot("create-queue-invalid");
  await page.click(".drawer button[type=submit]");
  await page.waitForSelector(".drawer .field-error:has-text('\"four\" is not a number')");
  assert.equal(new URL(page.url()).pathname, "/launch", "nothing was created");
  // The refused input is marked, and names the tile's message as its description.
  assert.equal(await page.getAttribute("#var-gpus-max", "aria-invalid"), "true");
  assert.equal(await page.getAttribute("#var-gpus-max", "aria-describedby"), "var-gpus-error");
  assert.equal(await page.getAttribute("#var-gpus-min", "aria-invalid"), null);
  await page.waitForFunction(() => document.activeElement?.id === "var-gpus-max", null, { timeout: 5_000 });
  await page.keyboard.press("Escape");
  await page.waitForSelector(".drawer", { state: "detached" });
  // Closing it unsaved loses nothing, nor does another page: reopened, it goes on from there.
  await awayAndBack();
  await page.click("main button:has-text('Create queue')");
  await page.waitForSelector("[data-testid=draft-note]:has-text('Going on from what you typed before')");
  assert.equal(await page.inputValue("#queue-name"), "web-q");
  assert.equal(await page.inputValue("#queue-resource"), "local-container");
  assert.equal(await page.inputValue("#queue-config"), '{"gpus": "{{gpus}}", "shm-size": "{{shm}}"}');
  assert.equal(await page.inputValue("#var-gpus-type"), "integer");
  assert.equal(await page.inputValue("#var-gpus-max"), "four");
  // "Start over" draws a blank form, the focus on its first field.
  await page.click("[data-testid=draft-note] button:has-text('Start over')");
  await page.waitForSelector("[data-testid=draft-note]", { state: "detached" });
  assert.equal(await page.inputValue("#queue-name"), "");
  assert.equal(await page.$("#var-gpus-type"), null);
  await page.waitForFunction(() => document.activeElement?.id === "queue-name");
  // A blank form submitted: its name is marked and gets the focus back
  // (on a phone the message would be out of view).
  await page.click(".drawer button[type=submit]");
  await page.waitForFunction(() => document.activeElement?.id === "queue-name", null, { timeout: 5_000 });
  assert.equal(await page.getAttribute("#queue-name", "aria-invalid"), "true");
  await page.keyboard.press("Escape");
  await page.waitForSelector(".drawer", { state: "detached" });
});

test("create queue through the UI: it lands on the Agents tab with the no-agent banner", async () => {
  await page.goto(`${server.url}/launch`);
  await page.click("main button:has-text('Create queue')");
  await page.fill("#queue-name", "web-q");
  await page.selectOption("#queue-resource", "local-process");
  await page.check("#queue-prioritized");
  await page.click(".drawer button[type=submit]");
  await page.waitForURL(`${server.url}/launch/admin/web-q/agents`);
  const banner = await page.waitForSelector("[data-testid=no-agent]");
  assert.match(await banner.textContent(), /No agent is polling this queue/);
  await page.click("text=Add an agent");
  const commands = await page.$$eval(".command code", (els) => els.map((e) => e.textContent));
  // The login step first (a new shell talks to api.wandb.ai otherwise), then the agents.
  assert.deepEqual(commands, [`liftoff login --host ${server.url}`, "liftoff agent -q web-q -e admin", "wandb launch-agent -q web-q -e admin"]);
  await shot("queue-agents-no-agent");
  // No project opened yet: Jobs leads to the Launch home's project picker, ready to type in.
  await page.click('nav[aria-label=Main] a:has-text("Jobs")');
  await page.waitForURL(`${server.url}/launch#pick-project`);
  await page.waitForFunction(() => document.activeElement?.id === "pick-project");
  // The same from the Launch home itself, where only the hash changes.
  await page.goto(`${server.url}/launch`);
  await page.waitForSelector("#pick-project");
  await page.click('nav[aria-label=Main] a:has-text("Jobs")');
  await page.waitForFunction(() => document.activeElement?.id === "pick-project");
  await page.waitForSelector("a:has-text('web-q')");
  assert.match(await page.textContent("table.queues"), /local-process\s*Not active/);
});

test("the Config tab shows a saved config at once, and the next edit starts from it", async () => {
  await page.goto(`${server.url}/launch/admin/web-q/config`);
  await page.click(".tab-panel button:has-text('Edit')");
  await page.fill("#queue-config", '{"note": "{{who}}"}');
  await page.waitForSelector("#var-who-type");
  // An edit left for another page is there on coming back.
  await awayAndBack();
  await page.waitForSelector(".tab-panel [data-testid=draft-note]:has-text('Going on with your unsaved edit')");
  assert.equal(await page.inputValue("#queue-config"), '{"note": "{{who}}"}');
  await page.fill("#var-who-description", "who runs it");
  await page.click(".tab-panel button[type=submit]");
  await page.waitForSelector(".toast:has-text('Queue saved.')");
  await page.waitForSelector(".tab-panel pre.code:has-text('{{who}}')");
  await page.waitForSelector("table.variables code:has-text('{{who}}')");
  // The variable's schema in words, not as JSON, and its description.
  assert.match(await page.textContent("table.variables tbody td:nth-child(2)"), /^string/);
  assert.doesNotMatch(await page.textContent("table.variables tbody"), /[{}"]type/);
  assert.equal(await page.textContent("table.variables tbody td:nth-child(3)"), "who runs it");
  // Shown as YAML, it is edited as YAML.
  await page.click(".tab-panel .segmented button:has-text('YAML')");
  await page.waitForSelector(`.tab-panel pre.code:text-is('note: "{{who}}"')`);
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "YAML", "the switch keeps the focus");
  await page.click(".tab-panel button:has-text('Edit')");
  assert.equal(await page.inputValue("#queue-config"), 'note: "{{who}}"\n');
  await page.click(".tab-panel .segmented button:has-text('JSON')");
  assert.deepEqual(JSON.parse(await page.inputValue("#queue-config")), { note: "{{who}}" });
  await page.fill("#queue-config", "{}");
  await page.click(".tab-panel button[type=submit]");
  await page.waitForSelector(".tab-panel p:has-text('None: jobs run with')");
  assert.equal(await page.$("table.variables"), null);
  // A cancelled edit is not kept.
  await page.click(".tab-panel button:has-text('Edit')");
  await page.fill("#queue-config", '{"x": 1}');
  await page.click(".tab-panel button:has-text('Cancel')");
  await awayAndBack();
  await page.waitForSelector(".tab-panel p:has-text('None: jobs run with')");
  assert.equal(await page.$("#queue-config"), null);
});

test("launch drawer: invalid input is shown next to its field and nothing is sent", async () => {
  await openDrawer();
  await page.fill("#config-lr", "5");
  await page.waitForSelector("#config-lr-error:has-text('must be at most 1, got 5')");
  assert.equal(await page.getAttribute("#config-lr", "aria-invalid"), "true");
  await page.fill("#launch-project", "");
  await shot("launch-drawer-invalid");
  await page.click(".drawer button[type=submit]");
  await page.waitForSelector(".drawer .field-error:has-text('enter the project the run goes to')");
  assert.equal(await page.$(".toast"), null, "no item was pushed");
  // The first field to fix has the focus (and so is in view).
  await page.waitForFunction(() => document.activeElement?.id === "config-lr");
  // A refused value's message goes as soon as the value is edited.
  await page.fill("#config-steps", "0");
  await page.fill("#config-lr", "");
  await page.click(".drawer button[type=submit]");
  await page.waitForSelector("#config-steps-error:has-text('must be at least 1')");
  await page.fill("#config-steps", "5");
  await page.waitForFunction(() => document.querySelector("#config-steps-error")?.textContent === "");
  assert.equal(await page.getAttribute("#config-steps", "aria-invalid"), null);
  // The form's values go into the JSON editor and back; JSON is checked as you type.
  await page.check(".drawer input[type=checkbox]");
  assert.deepEqual(JSON.parse(await page.inputValue("#launch-config")), { steps: 5 });
  await page.fill("#launch-config", '{"steps": 4, "optimizer": "sgd"');
  await page.waitForSelector("#launch-config-error:has-text('not valid JSON')");
  // Unticking is refused (the box stays ticked) while the JSON does not parse.
  await page.click(".drawer input[type=checkbox]");
  await page.waitForSelector("#launch-config-error:has-text('to go back to the form')");
  assert.ok(await page.isChecked(".drawer input[type=checkbox]"));
  await page.fill("#launch-config", '{"steps": 4, "optimizer": "sgd"}');
  await page.uncheck(".drawer input[type=checkbox]");
  assert.equal(await page.inputValue("#config-steps"), "4");
  assert.equal(await page.inputValue("#config-optimizer"), "sgd");
  // The destination is one of the viewer's entities, not free text.
  assert.deepEqual(await page.$$eval("#launch-entity option", (os) => os.map((o) => o.value)), ["admin"]);
  await page.fill("#launch-project", "elsewhere");
  await page.keyboard.press("Escape");
  await page.waitForSelector(".drawer", { state: "detached" });
  // Opened again for the same job, it goes on from what was typed.
  await page.click('button[aria-label="Launch train"]');
  await page.waitForSelector("[data-testid=draft-note]:has-text('Going on from what you typed before')", { timeout: 20_000 });
  assert.equal(await page.inputValue("#config-steps"), "4");
  assert.equal(await page.inputValue("#config-optimizer"), "sgd");
  assert.equal(await page.inputValue("#launch-project"), "elsewhere");
  // "Start over": the blank form, the focus on its first field.
  await page.click("[data-testid=draft-note] button:has-text('Start over')");
  await page.waitForSelector("[data-testid=draft-note]", { state: "detached" });
  assert.equal(await page.inputValue("#config-steps"), "");
  assert.equal(await page.inputValue("#launch-project"), "web");
  await page.waitForFunction(() => document.activeElement?.id === "launch-version");
  await page.keyboard.press("Escape");
  await page.goto(`${server.url}/launch/admin/web-q`);
  await page.waitForSelector("text=No items yet.");
});

test("drawers work from the keyboard: focus goes in, stays in, and comes back", async () => {
  await page.goto(`${server.url}/launch`);
  await page.focus("main button:has-text('Create queue')");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.activeElement?.closest(".drawer") !== null);
  const inDrawer = () => page.evaluate(() => document.activeElement?.closest(".drawer") !== null);
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press("Tab");
    assert.ok(await inDrawer(), `Tab ${i + 1} left the drawer`);
  }
  await page.keyboard.press("Shift+Tab");
  assert.ok(await inDrawer());
  await page.keyboard.press("Escape");
  await page.waitForSelector(".drawer", { state: "detached" });
  assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), "Create queue");
});

test("a launched item waits Idle without an agent, then goes Queued -> Running -> Finished", async () => {
  // The first item keeps the agent busy, so the second visibly waits in line.
  const first = await launchWith({ "#config-steps": "12", "#config-pause": "0.4", "#launch-priority": "high" });
  const second = await launchWith({ "#config-lr": "0.05", "#config-optimizer": "sgd" }, { follow: true });
  await page.waitForSelector(`tbody[data-item="${second.item}"].highlight`);
  assert.equal(await statusOf(second.item), "Idle");
  // A waiting item's priority is a button that becomes a select.
  await page.click(`tbody[data-item="${second.item}"] button[data-priority-edit]`);
  // Labels name the item in words, not by its id.
  const select = `tbody[data-item="${second.item}"] select[data-priority]`;
  assert.equal(await page.getAttribute(select, "aria-label"), "Priority of train:latest, #2 in line");
  await page.selectOption(select, "low");
  await page.waitForSelector(`.toast:has-text("Priority set to low")`);
  await page.waitForSelector(`tbody[data-item="${second.item}"] button[data-level="low"]`);
  assert.match(await page.textContent(`tbody[data-item="${first.item}"] .wait-reason`), /#1 in line · no agent is polling this queue/);
  await shot("queue-items-idle");

  agent = startAgent(bin, server, ["-q", "web-q", "-e", "admin", "-j", "1"]);
  const seen = new Set();
  const reasons = new Set();
  await eventually(
    "the second item to finish",
    async () => {
      const s = await statusOf(second.item);
      if (s) seen.add(s);
      if (s === "Queued") {
        const reason = await page.textContent(`tbody[data-item="${second.item}"] .wait-reason`).catch(() => "");
        if (/agents are busy/.test(reason) && !reasons.has("busy")) {
          reasons.add("busy");
          await shot("queue-items-live");
        }
        reasons.add(reason);
      }
      return s === "Finished";
    },
    90_000,
    150,
  ).catch((e) => {
    throw new Error(`${e.message}; statuses seen: ${[...seen]}; agent log:\n${agent.log()}`);
  });
  assert.ok(seen.has("Queued"), `the row showed Queued (saw ${[...seen]})`);
  assert.ok(
    [...reasons].some((r) => /#1 in line · agents are busy: 1 of 1 job running/.test(r)),
    `the queued row said why it waits (saw ${[...reasons].join(" | ")})`,
  );
  assert.ok(seen.has("Queued"), `the row showed Queued (saw ${[...seen]})`);
  assert.equal(await statusOf(first.item), "Finished");
  const row = await page.textContent(`tbody[data-item="${second.item}"]`);
  // The alias it was pushed with, and the version its run used (an alias moves on).
  assert.match(row, /train:latest \(v0\)/);
  // Same-job items differ by what they override, shown under the job.
  assert.match(await page.textContent(`tbody[data-item="${second.item}"] div.clip`), /lr=0\.05/);
  assert.match(row, /admin\/web/);
  await shot("queue-items-finished");
  // The Launch home counts the queue's items as the queue's rows show them.
  await page.goto(`${server.url}/launch`);
  await page.waitForSelector("table.queues a:has-text('web-q')");
  assert.match(await page.textContent("table.queues"), /local-process\s*Active\s*2 Finished/);
  await shot("launch-home");

  await page.goto(`${server.url}/launch/admin/web-q/agents`);
  await page.waitForSelector("table.agents");
  assert.match(await page.textContent("table.agents"), /Polling|Running/);
  assert.match(await page.textContent("table.agents"), /s ago|just now/);
  assert.equal(await page.$("[data-testid=no-agent]"), null);
  await shot("queue-agents");
});

test("the run page shows the run's state, config and console", async () => {
  await page.goto(`${server.url}/launch/admin/web-q`);
  await page.waitForSelector("tbody[data-item] td:nth-child(3) a");
  const rows = await page.$$("tbody[data-item]");
  const last = rows[0];
  const runLink = await last.$("td:nth-child(3) a");
  await runLink.click();
  await page.waitForURL(/\/admin\/web\/runs\//);
  await page.waitForSelector("h1 [data-state]");
  assert.equal(await page.getAttribute("h1 [data-state]", "data-state"), "finished");
  // The run links back to the job version it was made from.
  const jobLink = await page.waitForSelector("a.job-link");
  assert.equal(await jobLink.textContent(), "train:v0");
  assert.equal(await jobLink.getAttribute("href"), "/admin/web/jobs/train?version=v0");
  // ...and to the queue it was launched from.
  assert.match(await page.getAttribute("a.queue-link", "href"), /^\/launch\/admin\/web-q\?item=[A-Za-z0-9=]+$/);
  const runPath = new URL(page.url()).pathname;
  await page.waitForSelector("pre.console:has-text('done')", { timeout: 20_000 });
  const log = await page.textContent("pre.console");
  // A finished run's console is complete: it does not claim to follow.
  assert.match(await page.textContent(".console-head"), /\d+ lines$/);
  assert.match(log, /config: \{.*"lr": 0\.05.*"optimizer": "sgd"/);
  assert.match(log, /step 2: loss 0\.333/);
  assert.match(await page.textContent("table.kv"), /optimizer\s*sgd/);
  await shot("run");
  // ...and that version's Runs tab lists the run.
  await page.click("a.job-link");
  await page.waitForURL(/\/admin\/web\/jobs\/train\?version=v0$/);
  await page.waitForSelector(`table.data a[href="${runPath}"]`);
  assert.match(await page.textContent("nav[aria-label=Versions] a[aria-current=page]"), /^v0\b/, "v0 is the version shown");
  // Opened straight from a link, with no project visited before, the top bar
  // still offers this project's Jobs.
  await page.evaluate(() => localStorage.removeItem("liftoff.recentProjects"));
  await page.goto(`${server.url}${runPath}`);
  await page.waitForSelector("h1 [data-state]");
  assert.equal(await page.getAttribute('nav[aria-label=Main] a:has-text("Jobs")', "href"), "/admin/web/jobs");
});

test("Paste from run fills the form from a past run; what the form has no field for stays, as JSON, and is said", async () => {
  await openDrawer();
  const runs = await page.$$eval("#launch-paste option", (os) => os.map((o) => o.value).filter(Boolean));
  // Each run says the job version it used.
  const labels = await page.$$eval("#launch-paste option", (os) => os.slice(1).map((o) => o.textContent));
  assert.ok(labels.length > 0 && labels.every((l) => /\(v0, \w+\)$/.test(l)), labels.join(" | "));
  let pasted = false;
  for (const run of runs) {
    await page.selectOption("#launch-paste", run);
    if ((await page.inputValue("#config-lr")) === "0.05") {
      pasted = true;
      break;
    }
  }
  assert.ok(pasted, `one of ${runs} is the run launched with lr=0.05`);
  assert.equal(await page.inputValue("#config-optimizer"), "sgd");
  assert.equal(await page.textContent("#launch-paste-note"), "");
  await page.keyboard.press("Escape");

  // A run whose config has a key the job's schema does not name.
  await openDrawer();
  await page.check("text=Edit as JSON");
  await page.fill("#launch-config", '{"batch": 64, "steps": 1, "pause": 0}');
  await page.click(".drawer button[type=submit]");
  const link = await page.waitForSelector(".toast a", { timeout: 20_000 });
  const item = new URL(await link.getAttribute("href"), server.url).searchParams.get("item");
  await link.click();
  await eventually("the batch run to finish", async () => (await statusOf(item)) === "Finished", 60_000);
  await openDrawer();
  const all = await page.$$eval("#launch-paste option", (os) => os.map((o) => o.value).filter(Boolean));
  let noted = "";
  for (const run of all) {
    await page.selectOption("#launch-paste", run);
    noted = await page.textContent("#launch-paste-note");
    if (noted) break;
  }
  assert.match(noted, /config has batch, which this version's form has no field for: it is here as JSON/);
  // Nothing dropped: the JSON editor holds the run's whole config.
  assert.deepEqual(JSON.parse(await page.inputValue("#launch-config")), { batch: 64, steps: 1, pause: 0 });
  await page.keyboard.press("Escape");
});

test("a failing job shows its error on its row; requeue pushes it again", async () => {
  const failing = await launchWith({ "#config-fail": "true", "#config-steps": "1" });
  await page.goto(`${server.url}/launch/admin/web-q`);
  await page.waitForFunction(() => document.title === "web-q · queue · Liftoff");
  await eventually("the failing item to fail", async () => (await statusOf(failing.item)) === "Failed", 90_000);
  const error = await page.waitForSelector(`tbody[data-item="${failing.item}"] .error-row`, { timeout: 20_000 });
  const summary = await error.$eval("summary", (e) => e.textContent);
  // The row says why without opening it: the exception the output ended with.
  assert.match(summary, /^Error\s*run stage: the job exited with code 3: ValueError: the data set is empty$/);
  await error.click("summary");
  assert.match(await error.textContent(), /ValueError: the data set is empty/);
  await shot("queue-items-failed");
  // Its run's page says it too, under the header.
  const runHref = await page.getAttribute(`tbody[data-item="${failing.item}"] a[href*="/runs/"]`, "href");
  await page.goto(`${server.url}${runHref}`);
  const said = await page.waitForSelector(".item-error");
  assert.match(await said.textContent(), /^Failed at the run stage: the job exited with code 3: ValueError: the data set is empty$/);
  await page.goto(`${server.url}/launch/admin/web-q`);
  await page.waitForSelector(`tbody[data-item="${failing.item}"] .error-row`);

  const before = (await page.$$("tbody[data-item]")).length;
  await page.check(`tbody[data-item="${failing.item}"] input[type=checkbox]`);
  await page.click(".bulk button:has-text('Requeue')");
  await page.waitForSelector(".toast:has-text('Requeued 1 item.')");
  await eventually("a new item", async () => (await page.$$("tbody[data-item]")).length === before + 1, 20_000);
  // The toast links to the new item, which its link highlights.
  const link = await page.waitForSelector(".toast a:has-text('View the item')");
  const again = new URL(await link.getAttribute("href"), server.url).searchParams.get("item");
  assert.notEqual(again, failing.item);
  await link.click();
  await page.waitForSelector(`tbody[data-item="${again}"].highlight`);
});

test("a poll updates rows in place: an open priority editor, focus and an open error survive it", async () => {
  // Long enough to outlast two polls and the steps between them on a slow machine.
  const running = await launchWith({ "#config-steps": "80", "#config-pause": "0.3" });
  const waiting = await launchWith({ "#config-steps": "1" });
  await page.goto(`${server.url}/launch/admin/web-q`);
  await eventually("the first item to run", async () => (await statusOf(running.item)) === "Running", 60_000);
  const row = (id) => `tbody[data-item="${id}"]`;
  // Marks on the elements themselves: a row drawn again would lose them.
  await page.evaluate(([a, b]) => {
    for (const id of [a, b]) document.querySelector(`tbody[data-item="${id}"]`).liftoffMark = id;
  }, [running.item, waiting.item]);
  const marked = () => page.evaluate(([a, b]) =>
    [a, b].every((id) => document.querySelector(`tbody[data-item="${id}"]`)?.liftoffMark === id), [running.item, waiting.item]);
  const duration = () => page.textContent(`${row(running.item)} td.num`);
  // Polls go on while the waiting item's priority editor is open.
  await page.click(`${row(waiting.item)} button[data-priority-edit]`);
  const select = `${row(waiting.item)} select[data-priority]`;
  await page.waitForSelector(select);
  const before = await duration();
  await eventually("a poll to redraw the running row", async () => (await duration()) !== before, 15_000);
  assert.ok(await page.$(select), "the editor is still open after a poll");
  assert.ok(await page.$eval(select, (e) => e === document.activeElement), "and still focused");
  // Escape closes it unchanged, with the focus on its button.
  await page.press(select, "Escape");
  assert.equal(await page.$(select), null);
  assert.ok(await page.$eval(`${row(waiting.item)} button[data-priority-edit]`, (e) => e === document.activeElement));
  // An arrow key moves the value without committing it (Chrome fires `change`
  // on each); Enter commits.
  await page.keyboard.press("Enter");
  await page.waitForSelector(select);
  await page.press(select, "ArrowDown");
  await page.waitForTimeout(300);
  assert.ok(await page.$(select), "the editor stays open on an arrow key");
  assert.equal(await page.$(".toast"), null, "nothing was committed");
  await page.press(select, "Enter");
  await page.waitForSelector(".toast:has-text('Priority set to low.')");
  assert.equal(await page.$(select), null);
  await page.click(".toast .close");
  // A focused checkbox keeps its focus through the next poll.
  await page.focus(`${row(running.item)} input[data-select]`);
  const then = await duration();
  await eventually("another poll", async () => (await duration()) !== then, 15_000);
  assert.ok(await page.$eval(`${row(running.item)} input[data-select]`, (e) => e === document.activeElement), "the checkbox kept its focus");
  assert.ok(await marked(), "both rows are the elements they were");
  await eventually("both items to finish", async () =>
    (await statusOf(running.item)) === "Finished" && (await statusOf(waiting.item)) === "Finished", 90_000);
  assert.ok(await marked(), "rows that changed status are still the elements they were");
});

test("Cancel items asks first; then the running job stops and the waiting item leaves the queue", async () => {
  const running = await launchWith({ "#config-steps": "100", "#config-pause": "1" });
  const waiting = await launchWith({ "#config-steps": "1" });
  await page.goto(`${server.url}/launch/admin/web-q`);
  const row = (id) => `tbody[data-item="${id}"]`;
  await eventually("the first item to run", async () => (await statusOf(running.item)) === "Running", 60_000);
  assert.equal(await statusOf(waiting.item), "Queued");
  await page.check(`${row(running.item)} input[data-select]`);
  await page.check(`${row(waiting.item)} input[data-select]`);
  await page.click("#bulk-cancel");
  assert.equal(await page.textContent("[data-testid=cancel-question]"), "Take 1 waiting item off the queue and stop 1 running job?");
  await page.waitForFunction(() => document.activeElement?.id === "bulk-keep");
  await shot("queue-items-cancel-question");
  // "No" cancels nothing and gives the focus back.
  await page.click("#bulk-keep");
  await page.waitForFunction(() => document.activeElement?.id === "bulk-cancel");
  await page.waitForTimeout(1500);
  assert.equal(await statusOf(running.item), "Running");
  assert.equal(await statusOf(waiting.item), "Queued");
  // So does Escape.
  await page.click("#bulk-cancel");
  await page.waitForFunction(() => document.activeElement?.id === "bulk-keep");
  await page.keyboard.press("Escape");
  await page.waitForFunction(() => document.activeElement?.id === "bulk-cancel");
  assert.equal(await page.locator("[data-testid=cancel-question]").count(), 0);
  await page.click("#bulk-cancel");
  await page.click(".bulk button:has-text('Yes, cancel')");
  await page.waitForSelector(".toast:has-text('Cancelled 2 items.')");
  // The bulk buttons are gone with the selection: the focus is on the table.
  await page.waitForFunction(() => document.activeElement?.id === "select-all");
  // A cancelled waiting item is deleted from the queue, as W&B does; a stopped one stays, killed.
  const statusNow = (id) => page.$eval(row(id), (e) => e.dataset.status).catch(() => "gone");
  await eventually("the running job to be killed and the waiting item gone", async () =>
    (await statusNow(running.item)) === "Killed" && (await statusNow(waiting.item)) === "gone", 60_000);
  await page.click(".toast .close");
});

test("the job page lists versions, details, dependencies and inputs", async () => {
  await page.goto(`${server.url}/admin/web/jobs/train/details`);
  await page.waitForSelector("dl.facts");
  assert.match(await page.textContent("dl.facts"), /Source\s*code/);
  assert.match(await page.textContent("dl.facts"), /python3 train\.py/);
  await page.click("button.link:has-text('train.py')");
  await page.waitForSelector("pre.code:has-text('WANDB_CONFIG')");
  await shot("job-details");
  await page.goto(`${server.url}/admin/web/jobs/train/inputs`);
  await page.waitForSelector("table.data");
  assert.match(await page.textContent("table.data"), /optimizer\s*string\s*adam, sgd/);
  // The Allowed column gives the bounds, not the type again.
  assert.doesNotMatch(await page.textContent("table.data"), /(number|integer)\s*(number|integer)/);
  await page.goto(`${server.url}/admin/web/jobs`);
  // The source badge (outlined) comes from the job's spec, read after the list.
  await page.waitForSelector("tr[data-job=train] .badge.outline");
  assert.match(await page.textContent("tr[data-job=train]"), /code/);
  await shot("jobs");
  await openDrawer();
  await shot("launch-drawer");
  await page.keyboard.press("Escape");
});

test("links, back and forward change pages without a reload; `/` leaves no history entry", async () => {
  await page.goto(`${server.url}/connect`);
  await page.waitForSelector("h1");
  await page.goto(`${server.url}/`);
  await page.waitForURL(/\/launch$/);
  await page.evaluate(() => { window.__sameDocument = true; });
  await page.click('a[href="/launch/admin/web-q"]');
  await page.waitForURL(/\/launch\/admin\/web-q$/);
  await page.waitForSelector("tbody[data-item]");
  assert.equal((await page.textContent("nav.crumbs")).replace(/\s+/g, " ").trim(), "Launch / admin / web-q");
  await page.click('nav.tabs a:has-text("Agents")');
  await page.waitForURL(/\/web-q\/agents$/);
  await page.goBack();
  await page.waitForURL(/\/launch\/admin\/web-q$/);
  await page.waitForSelector("tbody[data-item]");
  await page.goBack();
  await page.waitForURL(/\/launch$/);
  await page.goForward();
  await page.waitForURL(/\/launch\/admin\/web-q$/);
  await page.waitForSelector("tbody[data-item]");
  assert.equal(await page.evaluate(() => window.__sameDocument), true, "a link or back/forward reloaded the page");
  // `/` was replaced by `/launch`: back goes to the page before it.
  await page.goBack();
  await page.goBack();
  await page.waitForURL(/\/connect$/);
  // A path no route matches says so.
  await page.goto(`${server.url}/no/such/page/here/at/all`);
  await page.waitForSelector("h1:has-text('not found')", { timeout: 10_000 });
});

test("narrow screens: every page fits 390 px", async () => {
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
  phone.on("pageerror", (e) => errors.push(e.message));
  phone.on("console", (m) => { if (m.type() === "warning") warnings.push(m.text()); });
  await phone.goto(`${server.url}/connect`);
  await phone.fill("#api-key", ADMIN_KEY);
  await phone.click("button[type=submit]");
  await phone.waitForSelector("[data-testid=connected]");
  const fits = async (what) => {
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${what} scrolls sideways by ${overflow} px (tables may scroll inside their box)`);
  };
  await fits("the Connect page");
  await phone.goto(`${server.url}/launch/admin/web-q`);
  await phone.waitForSelector("tbody[data-item] td:nth-child(3) a");
  await fits("the queue page");
  await shot("queue-items-390", phone);
  const run = await phone.getAttribute("tbody[data-item] td:nth-child(3) a", "href");
  const pages = [
    // Each waits for the page's widest content: table rows, not just the frame.
    ["/launch", "table.data tbody tr"],
    ["/launch/admin/web-q/agents", "table.agents tbody tr"],
    ["/launch/admin/web-q/config", "dl.facts"],
    ["/admin/web/jobs", "tr[data-job=train] .badge.outline"],
    ["/admin/web/jobs/train", `table.data a[href="${run}"]`],
    ["/admin/web/jobs/train/details", "dl.facts"],
    ["/admin/web/jobs/train/inputs", "table.data tbody tr"],
    [run, "pre.console"],
  ];
  for (const [path, ready] of pages) {
    await phone.goto(`${server.url}${path}`);
    await phone.waitForSelector(ready);
    await fits(path);
  }
  // The jobs' Launch button is in view without scrolling the table.
  await phone.goto(`${server.url}/admin/web/jobs`);
  const button = await phone.waitForSelector('button[aria-label="Launch train"]');
  const box = await button.boundingBox();
  assert.ok(box.x + box.width <= 390, `the Launch button ends at ${box.x + box.width} px`);
  await shot("jobs-390", phone);
  await phone.close();
});

test("through `liftoff server --upstream`, the same app works on another server's data with the user's own key", async () => {
  const proxy = await startServer({ bin, webDir, dir: tempDir("liftoff-proxy-"), extra: ["--upstream", server.url] });
  const other = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  other.on("pageerror", (e) => errors.push(e.message));
  try {
    await other.goto(`${proxy.url}/connect`);
    assert.equal(await other.inputValue("#base-url"), proxy.url);
    await other.fill("#api-key", "e".repeat(40));
    await other.click("button[type=submit]");
    await other.waitForSelector(".error-box");
    assert.match(await other.textContent(".error-box"), /refused this API key/, "the upstream judges the key");
    assert.equal(await other.evaluate(() => localStorage.getItem("liftoff.apiKey")), null, "a refused key is not kept");
    await other.fill("#api-key", ADMIN_KEY);
    await other.click("button[type=submit]");
    await other.waitForSelector("[data-testid=connected]");
    await other.goto(`${proxy.url}/launch`);
    await other.waitForSelector("a:has-text('web-q')");
    assert.match(await other.textContent("table.queues"), /web-q/, "the queue that lives upstream");
    assert.ok(proxy.output.every((l) => !l.includes(ADMIN_KEY)), "the proxy logs no key");
  } finally {
    await other.close();
    await proxy.stop();
  }
});

test("Recent lists projects with jobs, not every address typed; Connect refuses an address without http(s) or with a path", async () => {
  await page.goto(`${server.url}/admin/no-such-project/jobs`);
  await page.waitForSelector("main :text('No jobs in this project yet'), main [role=alert]");
  // The create command names the entity too.
  assert.match(await page.textContent("main"), /liftoff job create code \. -e admin -p no-such-project/);
  // Where wandb's "View project at" link lands: the project's jobs and runs.
  await page.goto(`${server.url}/admin/web`);
  await page.waitForSelector('button[aria-label="Launch train"]');
  const run = await page.waitForSelector("table.runs tbody tr[data-run] a");
  assert.match(await run.getAttribute("href"), /^\/admin\/web\/runs\/[a-z0-9]+$/);
  // An entity the viewer is not in says so, not "create a job here".
  await page.goto(`${server.url}/someone-else/web`);
  await page.waitForSelector("main :text('is not one of your entities')");
  await page.goto(`${server.url}/admin/web/jobs`);
  await page.waitForSelector('button[aria-label="Launch train"]');
  const recent = await page.evaluate(() => localStorage.getItem("liftoff.recentProjects") ?? "");
  assert.match(recent, /^admin\/web$/m);
  assert.doesNotMatch(recent, /no-such-project/);
  // The picker suggests the entity's projects.
  await page.goto(`${server.url}/launch`);
  await page.waitForSelector("#pick-projects option[value=web]", { state: "attached" });
  const suggested = await page.$$eval("#pick-projects option", (os) => os.map((o) => o.value));
  assert.ok(!suggested.includes("no-such-project"), suggested.join(" "));
  // Queues live in model-registry; no run is launched there.
  assert.ok(!suggested.includes("model-registry"), suggested.join(" "));
  // And lists them as links to their jobs: nothing to type.
  await page.click(".recent.projects a:text-is('web')");
  await page.waitForURL(`${server.url}/admin/web/jobs`);
  await page.goto(`${server.url}/connect`);
  await page.fill("#base-url", "127.0.0.1:8080");
  await page.click("form button[type=submit]");
  assert.match(await page.textContent("form .field-error[role=alert]"), /must be an http\(s\) URL like https:\/\/api.wandb.ai or http:\/\/127.0.0.1:8080, got "127.0.0.1:8080"/);
  // A page's address is not a base URL.
  await page.fill("#base-url", `${server.url}/launch/admin/web-q`);
  await page.click("form button[type=submit]");
  assert.match(await page.textContent("form .field-error[role=alert]"), /without a path \(drop "\/launch\/admin\/web-q"\)/);
  assert.equal(await page.getAttribute("#base-url", "aria-invalid"), "true");
  // W&B's web app is not its API.
  await page.fill("#base-url", "https://wandb.ai/acme/proj");
  await page.click("form button[type=submit]");
  assert.equal(await page.textContent("form .field-error[role=alert]"), "https://wandb.ai is W&B's web app, not its API: use https://api.wandb.ai");
  // Nothing was changed: the app still talks to this server.
  await page.goto(`${server.url}/admin/web/jobs`);
  await page.waitForSelector('button[aria-label="Launch train"]');
});

test("launch drawer: an image job is steered off a local-process queue, and refused there before anything is sent", async () => {
  await liftoff(bin, server, ["job", "create", "image", "busybox:1.36", "-e", "admin", "-p", "web", "-n", "img"]);
  await liftoff(bin, server, ["queue", "create", "boxes", "-e", "admin", "--resource", "local-container"]);
  const itemsOf = async (queue) => {
    await page.goto(`${server.url}/launch/admin/${queue}`);
    await page.waitForSelector("table.items, main :text('No items yet.')");
    return page.$$eval("tbody[data-item]", (rows) => rows.map((r) => r.dataset.item));
  };
  const before = await itemsOf("web-q");
  await page.goto(`${server.url}/admin/web/jobs`);
  await page.click('button[aria-label="Launch img"]');
  // The first choice (web-q, polled by the agent) moves to a queue that runs images.
  await page.waitForFunction(() => document.querySelector("#launch-queue")?.value === "admin/boxes", null, { timeout: 20_000 });
  // That move was the form's, not the user's: closed and opened again, there is no draft to go on from.
  await page.keyboard.press("Escape");
  await page.waitForSelector(".drawer", { state: "detached" });
  await page.click('button[aria-label="Launch img"]');
  await page.waitForFunction(() => document.querySelector("#launch-queue")?.value === "admin/boxes", null, { timeout: 20_000 });
  assert.equal(await page.$("[data-testid=draft-note]"), null);
  const labels = await page.$$eval("#launch-queue option", (os) => os.map((o) => o.textContent));
  assert.ok(labels.includes("admin/web-q (cannot run this job)"), labels.join(" | "));
  assert.ok(labels.includes("admin/boxes (no agent)"), labels.join(" | "));
  // Chosen anyway: the server's reason shows under the queue, and Launch now sends nothing.
  await page.selectOption("#launch-queue", "admin/web-q");
  await page.waitForSelector("#launch-queue-error:has-text('cannot run container image busybox:1.36')");
  // (The server would refuse the push too: check that none was sent.)
  const pushes = [];
  const onRequest = (r) => { if ((r.postData() ?? "").includes("pushToRunQueue")) pushes.push(r.url()); };
  page.on("request", onRequest);
  await page.click(".drawer button[type=submit]");
  await page.waitForTimeout(500);
  page.off("request", onRequest);
  assert.deepEqual(pushes, [], "no push was sent");
  assert.equal(await page.$(".toast"), null, "no item was pushed");
  await shot("launch-drawer-image-job");
  await page.keyboard.press("Escape");
  await page.waitForSelector(".drawer", { state: "detached" });
  // Drafts are kept by job: one typed for train does not replace img's.
  await page.click('button[aria-label="Launch train"]');
  await page.waitForSelector("#launch-project", { timeout: 20_000 });
  await page.fill("#launch-project", "train-dest");
  await page.keyboard.press("Escape");
  await page.waitForSelector(".drawer", { state: "detached" });
  await page.click('button[aria-label="Launch img"]');
  await page.waitForSelector("[data-testid=draft-note]", { timeout: 20_000 });
  assert.equal(await page.inputValue("#launch-queue"), "admin/web-q");
  await page.click("[data-testid=draft-note] button:has-text('Start over')");
  await page.keyboard.press("Escape");
  await page.waitForSelector(".drawer", { state: "detached" });
  await page.click('button[aria-label="Launch train"]');
  await page.waitForSelector("[data-testid=draft-note]", { timeout: 20_000 });
  assert.equal(await page.inputValue("#launch-project"), "train-dest");
  await page.click("[data-testid=draft-note] button:has-text('Start over')");
  await page.keyboard.press("Escape");
  assert.deepEqual(await itemsOf("web-q"), before);
});

test("the Jobs page follows a launch made from it: the job's last run shows up and ends Finished, with no reload", async () => {
  const lastRun = 'tr[data-job=train] td:nth-child(5)';
  await launchWith({ "#config-steps": "1", "#config-pause": "0" });
  const before = await page.textContent(lastRun);
  await page.evaluate(() => { window.__sameDocument = true; });
  await eventually(
    "the job's last run to be the new one, finished",
    async () => {
      const now = await page.textContent(lastRun).catch(() => "");
      return now !== before && /Finished/.test(now);
    },
    60_000,
    250,
  );
  assert.equal(await page.evaluate(() => window.__sameDocument), true, "the page was not reloaded");
});

test("Stop polling from the Agents tab: the agent is asked, stops, and the focus stays on the tab", async () => {
  await page.goto(`${server.url}/launch/admin/web-q/agents`);
  const button = "#agents-panel button:has-text('Stop polling')";
  await page.waitForSelector(button);
  await page.focus(button);
  await page.keyboard.press("Enter");
  // It asks first; the question outlives the polls that redraw the row.
  await page.waitForSelector("#agents-panel .ask-first .confirm:has-text('Stop this agent?')");
  const before = await page.textContent("table.agents tbody tr td:nth-child(3)");
  await eventually("a poll to change the heartbeat", async () => (await page.textContent("table.agents tbody tr td:nth-child(3)")) !== before, 20_000);
  assert.match(await page.evaluate(() => document.activeElement?.id ?? ""), /^stop-.+-no$/, "the focus stayed on No");
  await page.click("#agents-panel .ask-first button.danger");
  await page.waitForSelector(".toast:has-text('The agent will stop polling after its running jobs.')");
  await page.waitForSelector(button, { state: "detached" });
  assert.equal(await page.evaluate(() => document.activeElement?.id), "agents-panel", "the focus stayed on the tab");
  await eventually("the agent to exit", async () => agent.child.exitCode !== null, 60_000).catch((e) => {
    throw new Error(`${e.message}; agent log:\n${agent.log()}`);
  });
  assert.match(agent.log(), /the server asked this agent to stop polling/);
});

test("a queue named with '#', '?' and a space opens from the drawer and from the Launch home", async () => {
  const name = "gpu #1? ü";
  await page.goto(`${server.url}/launch`);
  await page.click("main button:has-text('Create queue')");
  await page.fill("#queue-name", name);
  await page.selectOption("#queue-resource", "local-process");
  await page.click(".drawer button[type=submit]");
  const path = "/launch/admin/gpu%20%231%3F%20%C3%BC";
  await page.waitForURL(`${server.url}${path}/agents`);
  await page.waitForSelector("[data-testid=no-agent]");
  assert.equal(await page.textContent("nav.crumbs [aria-current=page]"), name);
  await page.goto(`${server.url}/launch`);
  const link = page.locator("table.queues a", { hasText: name });
  assert.equal(await link.getAttribute("href"), path);
  await link.click();
  await page.waitForURL(`${server.url}${path}`);
  await page.waitForSelector("[data-testid=no-agent]");
});

test("an item's row shows the template values it was pushed with", async () => {
  await liftoff(bin, server, ["queue", "create", "tv-q", "-e", "admin", "--resource", "local-container", "--config", '{"shm-size": "{{shm}}"}', "--template-variable", 'shm={"type": "string", "enum": ["1g", "2g"], "default": "1g"}']);
  await liftoff(bin, server, ["launch", "-j", "admin/web/train:latest", "-q", "tv-q", "-e", "admin", "-p", "web", "--set-var", "shm=2g"]);
  await page.goto(`${server.url}/launch/admin/tv-q`);
  await page.waitForSelector("tbody[data-item] div.clip");
  assert.match(await page.textContent("tbody[data-item] div.clip"), /^shm: 2g$/);
});

test("a shared link opened before connecting: Connect leads back to it", async () => {
  const fresh = await browser.newPage();
  fresh.on("pageerror", (e) => errors.push(e.message));
  await fresh.goto(`${server.url}/launch/admin/web-q/agents?x=1`);
  await fresh.waitForSelector("h1:has-text('Connect first')");
  await fresh.click("main a[href^='/connect?next=']");
  await fresh.waitForURL(/\/connect\?next=/);
  await fresh.fill("#api-key", ADMIN_KEY);
  await fresh.click("button[type=submit]");
  const back = await fresh.waitForSelector("a:has-text('Back to the page you opened')");
  assert.equal(await back.getAttribute("href"), "/launch/admin/web-q/agents?x=1");
  await back.click();
  await fresh.waitForURL(`${server.url}/launch/admin/web-q/agents?x=1`);
  await fresh.waitForSelector("table.agents");
  await fresh.close();
});

test("a kept key the server now refuses: the page says so and leads to Connect, not to the same refusal", async () => {
  await page.evaluate(() => localStorage.setItem("liftoff.apiKey", "e".repeat(40)));
  await page.goto(`${server.url}/launch/admin/web-q`);
  const box = await page.waitForSelector(".error-box");
  assert.match(await box.textContent(), /refused this API key/);
  assert.equal(await page.$(".error-box button:has-text('Try again')"), null);
  await page.click(".error-box a:has-text('Connect with another key')");
  await page.waitForURL(`${server.url}/connect`);
  await page.evaluate((key) => localStorage.setItem("liftoff.apiKey", key), ADMIN_KEY);
});

test("the API key never appears in a URL, the console or the server's log", () => {
  assert.ok(urls.length > 50, `the suite made requests (${urls.length})`);
  assert.ok(server.output.length > 0, "the server logged something");
  for (const [what, lines] of [["URL", urls], ["console message", consoleLines], ["server log line", server.output], ["agent log", [agent?.log() ?? ""]]]) {
    const leaks = lines.filter((l) => l.includes(ADMIN_KEY) || l.includes(Buffer.from(`api:${ADMIN_KEY}`).toString("base64")));
    assert.deepEqual(leaks, [], `a ${what} carries the key`);
  }
});

test("no page threw or warned", () => {
  assert.deepEqual(errors, []);
  assert.deepEqual([...new Set(warnings)], []);
});
