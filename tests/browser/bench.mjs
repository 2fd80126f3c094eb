// `cargo xtask bench www`: how long the web app takes to render a queue page
// with 1,000 items in headless Chromium, against a real `liftoff server`.
// Prints `name: value` lines for people and a `BENCH {json}` line per figure
// (the shape of crates/bench's Figure) for `cargo xtask bench`'s table. Not a
// test suite (no `.test.mjs`).
import { launch, required } from "./chromium.mjs";
import { ADMIN_KEY, startServer, tempDir } from "./liftoff.mjs";

const bin = required("LIFTOFF_BIN");
const webDir = required("LIFTOFF_WEB_DIR");
const items = Number(process.env.BENCH_ITEMS || 1000);
const rounds = Number(process.env.BENCH_ROUNDS || 5);

// 0.84 ms, 23.0 ms, 1,513 ms: like crates/bench's `with_unit`.
const ms = (v) => `${Math.abs(v) >= 100 || Number.isInteger(v) ? Math.round(v).toLocaleString("en-US") : v.toFixed(Math.abs(v) >= 10 ? 1 : 2)} ms`;

/** One figure for `cargo xtask bench`; `below` is the target (ms), if any. */
function figure(name, value, below) {
  const target = below === undefined ? null : `< ${ms(below)}`;
  const line = { figure: name, unit: "ms", liftoff: ms(value), liftoff_value: value, python: "-", python_value: null, ratio: null, target, met: below === undefined ? null : value < below };
  console.log(`BENCH ${JSON.stringify(line)}`);
}

async function gql(server, query, variables) {
  const res = await fetch(`${server.url}/graphql`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Basic ${Buffer.from(`api:${ADMIN_KEY}`).toString("base64")}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

const server = await startServer({ bin, webDir, dir: tempDir("liftoff-bench-www-") });
const browser = await launch();
try {
  await gql(
    server,
    `mutation($e: String!, $p: String!, $q: String!, $c: JSONString!) {
      upsertRunQueue(input: {entityName: $e, projectName: $p, queueName: $q, resourceType: "local-process", resourceConfig: $c, prioritizationMode: V0}) { success }
    }`,
    { e: "admin", p: "model-registry", q: "bench", c: JSON.stringify({ resource_args: { "local-process": {} } }) },
  );
  const push = `mutation($spec: JSONString!, $priority: Int) {
    pushToRunQueueByName(input: {entityName: "admin", projectName: "model-registry", queueName: "bench", runSpec: $spec, priority: $priority}) { runQueueItemId }
  }`;
  const started = Date.now();
  for (let i = 0; i < items; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, items - i) }, (_, k) =>
        gql(server, push, {
          spec: JSON.stringify({ job: `admin/bench/job-${(i + k) % 7}:latest`, entity: "admin", project: "bench", author: "admin", overrides: { run_config: { lr: 0.001 * ((i + k) % 10) } } }),
          priority: (i + k) % 4,
        }),
      ),
    );
  }
  console.log(`items pushed: ${items} in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${server.url}/connect`);
  await page.fill("#api-key", ADMIN_KEY);
  await page.click("button[type=submit]");
  await page.waitForSelector("[data-testid=connected]");
  // Marks the moment the last of the rows is in the DOM, from inside the page.
  await page.addInitScript((want) => {
    const look = () => {
      if (document.querySelectorAll("tbody[data-item]").length >= want) {
        window.__rowsAt = performance.now();
      } else {
        requestAnimationFrame(look);
      }
    };
    requestAnimationFrame(look);
  }, items);
  const renders = [];
  const loads = [];
  const derives = [];
  for (let r = 0; r < rounds; r++) {
    await page.goto(`${server.url}/launch/admin/bench?show=${items}`);
    await page.waitForFunction(() => window.__rowsAt, null, { timeout: 60_000, polling: 50 });
    const t = await page.evaluate(() => {
      // The queue's answer is the largest GraphQL response of the page.
      const answer = performance
        .getEntriesByType("resource")
        .filter((e) => e.name.endsWith("/graphql"))
        .sort((a, b) => b.encodedBodySize - a.encodedBodySize)[0];
      const marks = performance.getEntriesByName("liftoff:rows").map((m) => m.startTime).filter((t) => t <= window.__rowsAt);
      return { rows: window.__rowsAt, data: answer.responseEnd, derived: marks[marks.length - 1], kb: answer.encodedBodySize / 1024 };
    });
    renders.push(t.rows - t.data);
    derives.push(t.derived - t.data);
    loads.push(t.rows);
    if (r === 0) console.log(`queue answer: ${t.kb.toFixed(0)} KB`);
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`render ${items} items (answer received -> rows in the DOM): median ${median(renders).toFixed(0)} ms over ${rounds} loads (min ${Math.min(...renders).toFixed(0)}, max ${Math.max(...renders).toFixed(0)})`);
  console.log(`  of which decoding the answer and deriving the rows (status, place in line, wait reasons): median ${median(derives).toFixed(0)} ms; building the DOM: the rest`);
  console.log(`open the queue page (navigation -> ${items} rows, incl. wasm start and the query): median ${median(loads).toFixed(0)} ms`);
  const n = items.toLocaleString("en-US");
  figure(`web app: render a queue page of ${n} items (answer received -> rows in the DOM), median of ${rounds} loads`, median(renders), 200);
  figure(`web app: open a queue page of ${n} items (navigation -> rows, with wasm start and the query), median of ${rounds} loads`, median(loads));
} finally {
  await browser.close();
  await server.stop();
}
