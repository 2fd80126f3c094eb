// Real Liftoff processes for the browser suites: a `liftoff server` serving
// the built web app on a random port with a temp data dir, `liftoff agent`s,
// and CLI commands against them. The binary comes from LIFTOFF_BIN.
import { spawn, execFile } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, createWriteStream, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { createServer as createNetServer } from "node:net";

export const ADMIN_KEY = "0123456789abcdef0123456789abcdef01234567";

const made = [];

/**
 * A fresh temp directory, removed when the suite's process exits with success
 * (kept, and named on stderr, when a test failed or LIFTOFF_KEEP_TEMP is set).
 */
export function tempDir(prefix = "liftoff-web-") {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

process.on("exit", (code) => {
  if (made.length === 0) return;
  if (code !== 0 || process.env.LIFTOFF_KEEP_TEMP) {
    process.stderr.write(`kept for a look: ${made.join(" ")}\n`);
    return;
  }
  // A cleanup that fails (a file still held) is said, and fails nothing.
  const left = made.filter((dir) => {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
      return false;
    } catch {
      return true;
    }
  });
  if (left.length > 0) process.stderr.write(`could not remove: ${left.join(" ")}\n`);
});

/**
 * Start `liftoff server`; resolves to { url, dir, output, stop() } once it
 * prints its URL. `output` collects every line it writes (stdout and stderr;
 * stderr is echoed too), for tests that check what reaches the log.
 */
export function startServer({ bin, webDir, dir = tempDir(), extra = [], log = "warn" }) {
  const child = spawn(bin, ["server", "--addr", "127.0.0.1:0", "--data-dir", join(dir, "data"), "--web-dir", webDir, ...extra], {
    env: { ...process.env, LIFTOFF_ADMIN_API_KEY: ADMIN_KEY, LIFTOFF_LOG: log },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = [];
  createInterface({ input: child.stderr }).on("line", (line) => {
    output.push(line);
    process.stderr.write(`${line}\n`);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("liftoff server did not print its URL in 30 s")), 30_000);
    child.on("exit", (code) => reject(new Error(`liftoff server exited with ${code}`)));
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      output.push(line);
      const m = line.match(/^Liftoff server on (\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], dir, child, output, stop: () => stop(child) });
      }
    });
  });
}

/** Environment for CLI commands and agents against `server`. */
export function envFor(server, home) {
  return {
    ...process.env,
    WANDB_BASE_URL: server.url,
    WANDB_API_KEY: ADMIN_KEY,
    HOME: home,
    LIFTOFF_DATA_DIR: join(home, "cli"),
    LIFTOFF_LOG: "info",
    WANDB_ENTITY: "",
    WANDB_PROJECT: "",
  };
}

/** Run `liftoff ARGS` to completion; resolves to its stdout, rejects with its stderr. */
export async function liftoff(bin, server, args, { cwd } = {}) {
  const home = join(server.dir, "home");
  mkdirSync(home, { recursive: true });
  const { stdout } = await promisify(execFile)(bin, args, { cwd, env: envFor(server, home) });
  return stdout;
}

/** The address of a port nothing listens on (taken, then let go). */
export function deadAddress() {
  return new Promise((resolve) => {
    const probe = createNetServer();
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(`http://127.0.0.1:${port}`));
    });
  });
}

/** Start `liftoff agent ARGS`; its output goes to a log file. */
export function startAgent(bin, server, args) {
  const work = join(server.dir, `agent-${Date.now()}`);
  mkdirSync(work, { recursive: true });
  const log = join(work, "agent.log");
  const out = createWriteStream(log);
  const child = spawn(bin, ["agent", ...args, "--work-dir", work], {
    env: envFor(server, work),
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  return { child, log: () => readFileSync(log, "utf8"), stop: () => stop(child) };
}

function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
  });
}

/** A tiny code job: prints its config and a few steps; fails when `fail` is set. */
export function writeJob(dir) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "train.py"),
    [
      "import json, os, sys, time",
      'cfg = json.loads(os.environ.get("WANDB_CONFIG") or "{}")',
      'print("config:", json.dumps(cfg, sort_keys=True), flush=True)',
      'for i in range(int(cfg.get("steps", 3))):',
      '    print(f"step {i}: loss {1.0 / (i + 1):.3f}", flush=True)',
      '    time.sleep(float(cfg.get("pause", 0.2)))',
      'if cfg.get("fail"):',
      '    print("Traceback (most recent call last):", file=sys.stderr)',
      '    print("ValueError: the data set is empty", file=sys.stderr, flush=True)',
      "    sys.exit(3)",
      'print("done", flush=True)',
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(dir, "schema.json"),
    JSON.stringify({
      type: "object",
      properties: {
        lr: { type: "number", minimum: 0.0001, maximum: 1, default: 0.01, description: "Learning rate" },
        steps: { type: "integer", minimum: 1, maximum: 100, default: 3 },
        pause: { type: "number", minimum: 0, maximum: 10, default: 0.2 },
        optimizer: { type: "string", enum: ["adam", "sgd"], default: "adam" },
        fail: { type: "boolean" },
      },
    }),
  );
  return dir;
}

/** Poll `check` until it answers something truthy, or fail after `ms`. */
export async function eventually(what, check, ms = 30_000, every = 200) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, every));
  }
  throw new Error(`timed out waiting for ${what} (last: ${last})`);
}
