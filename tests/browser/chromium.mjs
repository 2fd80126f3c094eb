// Shared by the browser suites (tests/browser/*.test.mjs, run by `cargo xtask test`):
// Debian's Chromium with the flags that work on a machine without internet.
import { readFileSync, existsSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize } from "node:path";
import { chromium } from "playwright-core";
import { tempDir } from "./liftoff.mjs";

export const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";

export const args = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A headless Chromium. */
export function launch() {
  return chromium.launch({ executablePath, headless: true, args });
}

/** A headless Chromium with the unpacked extension at `dir` loaded, in a fresh profile. */
export function launchWithExtension(dir) {
  const profile = tempDir("liftoff-chromium-");
  return chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: [...args, `--disable-extensions-except=${dir}`, `--load-extension=${dir}`],
  });
}

/** A variable `cargo xtask test` sets, or a clear failure. */
export function required(name) {
  const value = process.env[name];
  if (!value || !existsSync(value)) {
    throw new Error(`${name} must name an existing path (run the suites with \`cargo xtask test\`), got ${value}`);
  }
  return value;
}

const types = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".wasm": "application/wasm",
  ".css": "text/css",
};

/** Serve `dir` on 127.0.0.1 (random port) with an SPA fallback to index.html; resolves to { url, close }. */
export function serveStatic(dir) {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
    let file = join(dir, path);
    if (!existsSync(file) || path === "/") file = join(dir, "index.html");
    res.writeHead(200, { "Content-Type": types[extname(file)] || "application/octet-stream" });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      resolve({ url: `http://127.0.0.1:${port}`, close: () => server.close() });
    });
  });
}
