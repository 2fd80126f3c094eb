// The bundles load in a real Chromium: the web app renders (a wrong wasm-opt
// gives a blank page and a "successful" build) and the extension's service
// worker loads its wasm core. The full suites arrive with the app and the extension.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { launch, launchWithExtension, required, serveStatic } from "./chromium.mjs";

test("the web bundle renders", async () => {
  const site = await serveStatic(required("LIFTOFF_WEB_DIR"));
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(site.url);
    // index.html has an empty body: any text in it was rendered by the wasm app.
    await page.waitForFunction(() => document.body.innerText.trim().length > 0, null, { timeout: 30_000 });
    assert.match(await page.title(), /Liftoff/);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    site.close();
  }
});

test("the extension's service worker loads its wasm core", async () => {
  const dir = required("LIFTOFF_EXTENSION_DIR");
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
  const context = await launchWithExtension(dir);
  try {
    const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent("serviceworker", { timeout: 30_000 }));
    assert.match(worker.url(), /^chrome-extension:\/\/[a-p]{32}\/background\.js$/);
    const loaded = await worker.evaluate(() => self.liftoff.ready);
    assert.deepEqual(loaded, { version: manifest.version });
  } finally {
    await context.close();
  }
});
