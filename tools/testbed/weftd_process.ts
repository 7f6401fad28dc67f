import type { ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stopProcess } from "./netns_exec.ts";

/** The repository root (tools/testbed/../..). */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** weftd's entry point, run from source with tsx. */
export const WEFTD_MAIN = join(REPO_ROOT, "apps/weftd/main.ts");

/** Where one node's weftd keeps its files (all under the cluster's workDir). */
export interface WeftdPaths {
  dir: string;
  subnetFile: string;
  cniSocket: string;
  cniDataDir: string;
  cniStateDir: string;
  bridge: string;
}

/** The files of node `index` under `workDir`. */
export function weftdPaths(workDir: string, nodeName: string): WeftdPaths {
  const dir = join(workDir, nodeName);
  return {
    dir,
    subnetFile: join(dir, "subnet.env"),
    cniSocket: join(dir, "run", "cni.sock"),
    cniDataDir: join(dir, "cni-networks"),
    cniStateDir: join(dir, "cni-state"),
    bridge: "cni0",
  };
}

/** The argv that runs weftd from source with the paths of one node. */
export function weftdArgv(paths: WeftdPaths, extraArgs: readonly string[] = [], nodeArgs: readonly string[] = []): string[] {
  return [
    process.execPath, "--conditions=@weft/source", "--import=tsx", ...nodeArgs, WEFTD_MAIN,
    "--subnet-file", paths.subnetFile,
    "--cni-socket", paths.cniSocket,
    "--cni-data-dir", paths.cniDataDir,
    "--cni-bridge", paths.bridge,
    ...extraArgs,
  ];
}

/** Options for {@linkcode WeftdProcess.waitFor}. */
export interface WaitForOptions {
  /** @default 20000 */
  timeoutMs?: number;
}

/** A weftd running in a node namespace; its log (pino JSON lines) is kept in memory. */
export class WeftdProcess {
  readonly child: ChildProcess;
  readonly paths: WeftdPaths;
  readonly nodeName: string;
  /** Every log line (stdout and stderr), in order. */
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #waiters = new Set<() => void>();

  #poll: NodeJS.Timeout | undefined;

  /** `options.logFile`: the process writes its output to this file instead of pipes (it is polled every 100 ms). */
  constructor(child: ChildProcess, paths: WeftdPaths, nodeName: string, options: { logFile?: string | undefined } = {}) {
    this.child = child;
    this.paths = paths;
    this.nodeName = nodeName;
    mkdirSync(paths.dir, { recursive: true });
    let rest = "";
    const push = (text: string) => {
      const parts = (rest + text).split("\n");
      rest = parts.pop() ?? "";
      if (parts.length === 0) return;
      this.lines.push(...parts);
      for (const w of [...this.#waiters]) w();
    };
    child.stdout?.on("data", (b: Buffer) => push(b.toString()));
    child.stderr?.on("data", (b: Buffer) => push(b.toString()));
    const logFile = options.logFile;
    if (logFile) {
      let offset = 0;
      this.#poll = setInterval(() => {
        try {
          const data = readFileSync(logFile);
          if (data.length > offset) push(data.subarray(offset).toString());
          offset = data.length;
        } catch {
          // not written yet
        }
      }, 100);
      this.#poll.unref();
    }
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        clearInterval(this.#poll);
        for (const w of [...this.#waiters]) w();
        resolve({ code, signal });
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The whole log as text. */
  log(): string {
    return this.lines.join("\n");
  }

  /** Log messages (`msg` of pino lines, or the raw line). */
  messages(): string[] {
    return this.lines.map((l) => {
      try {
        return String((JSON.parse(l) as { msg?: unknown }).msg ?? l);
      } catch {
        return l;
      }
    });
  }

  /** Resolves with the first log line matching `pattern` (searching lines already seen first). Rejects on exit or timeout. */
  waitFor(pattern: RegExp, options: WaitForOptions = {}): Promise<string> {
    const timeoutMs = options.timeoutMs ?? 20_000;
    return new Promise((resolve, reject) => {
      let seen = 0;
      const check = () => {
        for (; seen < this.lines.length; seen++) {
          const line = this.lines[seen]!;
          if (pattern.test(line)) return done(() => resolve(line));
        }
        if (!this.running) done(() => reject(new Error(`weftd on ${this.nodeName} exited (${this.child.exitCode ?? this.child.signalCode}) before logging ${pattern}:\n${this.tail()}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`weftd on ${this.nodeName}: no log line ${pattern} within ${timeoutMs} ms:\n${this.tail()}`))), timeoutMs);
      const done = (fn: () => void) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        fn();
      };
      this.#waiters.add(check);
      check();
    });
  }

  /** Stops following the log file (detached processes), so this process can exit. */
  release(): void {
    clearInterval(this.#poll);
  }

  /** Waits for "weftd is ready". */
  ready(options: WaitForOptions = {}): Promise<string> {
    return this.waitFor(/weftd is ready/, options);
  }

  /** The last lines of the log, for error messages. */
  tail(lines = 15): string {
    return this.lines.slice(-lines).join("\n");
  }

  /** Sends `signal` (SIGTERM by default; SIGKILL after 5 s) and waits for the exit. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    await stopProcess(this.child, { signal, graceMs: 5000 });
    return this.exited;
  }
}
