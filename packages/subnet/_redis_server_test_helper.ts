// Starts and stops throwaway redis-server processes for tests and benchmarks (private; may move to
// @weft/testutils). Each server listens on 127.0.0.1 on a random free port with its own temp dir, and is
// killed by stop() (call it from an `after` hook). A process-exit hook kills any server left running.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const live = new Set<ChildProcess>();
const dirs = new Set<string>();
process.once("exit", () => {
  for (const p of live) p.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A running test Redis. */
export interface TestRedisServer {
  readonly host: "127.0.0.1";
  readonly port: number;
  readonly dir: string;
  /** Kills the server with SIGKILL; with `save: true` it runs SAVE first so a restart reloads the data, else the data is gone. */
  kill(options?: { save?: boolean }): Promise<void>;
  /** Starts the server again on the same port and dir (loading dump.rdb if one was saved). */
  start(): Promise<void>;
  /** Kills the server and removes its dir. */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

function launch(port: number, dir: string, timeoutMs: number): Promise<ChildProcess> {
  const args = [
    "--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no",
    "--daemonize", "no", "--protected-mode", "no", "--logfile", "", "--loglevel", "notice", "--maxclients", "10000",
  ];
  const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  live.add(child);
  child.once("exit", () => live.delete(child));
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`redis-server on port ${port} not ready after ${timeoutMs} ms: ${out.slice(-500)}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes("Ready to accept connections")) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        child.stdout?.resume();
        child.stderr?.resume();
        resolve(child);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${out.slice(-500)}`));
    });
  });
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(resolve, timeoutMs);
    child.once("exit", () => {
      clearTimeout(t);
      resolve();
    });
  });
}

/** Starts redis-server on a random free port of 127.0.0.1 with a fresh temp dir. */
export async function startRedisServer(options: { timeoutMs?: number } = {}): Promise<TestRedisServer> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const dir = mkdtempSync(join(tmpdir(), "weft-redis-"));
  dirs.add(dir);
  let child: ChildProcess | undefined;
  let port = 0;
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      child = await launch(port, dir, timeoutMs);
      break;
    } catch (err) {
      if (attempt >= 4) {
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }
  const server: TestRedisServer = {
    host: "127.0.0.1",
    port,
    dir,
    async kill(opts = {}) {
      const c = child;
      if (!c) return;
      if (opts.save) await saveVia(port);
      c.kill("SIGKILL");
      await waitExit(c, 5_000);
      child = undefined;
      if (!opts.save) rmSync(join(dir, "dump.rdb"), { force: true });
    },
    async start() {
      if (child) return;
      child = await launch(port, dir, timeoutMs);
    },
    async stop() {
      await server.kill();
      rmSync(dir, { recursive: true, force: true });
      dirs.delete(dir);
    },
  };
  return server;
}

/** Runs SAVE through redis-cli-less raw RESP on a fresh socket. */
async function saveVia(port: number): Promise<void> {
  const { connect } = await import("node:net");
  await new Promise<void>((resolve, reject) => {
    const sock = connect(port, "127.0.0.1");
    const t = setTimeout(() => {
      sock.destroy();
      reject(new Error("SAVE timed out"));
    }, 5_000);
    sock.on("error", (e) => {
      clearTimeout(t);
      reject(e);
    });
    sock.on("data", (d) => {
      clearTimeout(t);
      sock.destroy();
      if (d.toString().startsWith("+OK")) resolve();
      else reject(new Error(`SAVE failed: ${d.toString()}`));
    });
    sock.write("*1\r\n$4\r\nSAVE\r\n");
  });
}
