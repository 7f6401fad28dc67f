import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { Exec, ExecLinesOptions, ExecResult, ExecRunOptions } from "./types.ts";

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * The real {@linkcode Exec}: `child_process.spawn` with an argv array (never a shell), stdin fed
 * from `input`, a kill timer, and `LC_ALL=C` so error texts are the English ones the error
 * classification expects.
 */
export function createExec(): Exec {
  return { run: runProcess, lines: processLines };
}

function childEnv(): NodeJS.ProcessEnv {
  return { ...process.env, LC_ALL: "C" };
}

function runProcess(argv: readonly string[], options: ExecRunOptions = {}): Promise<ExecResult> {
  const [cmd, ...args] = argv;
  if (!cmd) return Promise.reject(new TypeError("argv must not be empty"));
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise<ExecResult>((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], env: childEnv() });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`Cannot run ${cmd}: ${e.message}`, { cause: e }));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString("utf8");
      if (timedOut) {
        reject(new Error(`${cmd} did not finish within ${timeoutMs} ms`));
        return;
      }
      resolve({ stdout: Buffer.concat(out).toString("utf8"), stderr: signal ? `${stderr}killed by ${signal}` : stderr, code: code ?? 128 });
    });
    // EPIPE when the tool exits early (e.g. a batch stopped at its first error) is not our error.
    child.stdin.on("error", () => {});
    child.stdin.end(options.input ?? "");
  });
}

async function* processLines(argv: readonly string[], options: ExecLinesOptions = {}): AsyncGenerator<string> {
  const [cmd, ...args] = argv;
  if (!cmd) throw new TypeError("argv must not be empty");
  const { signal } = options;
  if (signal?.aborted) return;
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: childEnv() });
  let stderr = "";
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString("utf8")).slice(-4096));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  let spawnError: Error | undefined;
  child.on("error", (e) => (spawnError = e));
  const onAbort = (): void => {
    child.kill("SIGTERM");
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  const rl = createInterface({ input: child.stdout, crlfDelay: Infinity });
  try {
    for await (const line of rl) yield line;
    const code = await exited;
    if (spawnError) throw new Error(`Cannot run ${cmd}: ${spawnError.message}`, { cause: spawnError });
    if (!signal?.aborted && code !== 0 && code !== null) throw new Error(`${argv.join(" ")} exited with code ${code}: ${stderr.trim()}`);
  } finally {
    signal?.removeEventListener("abort", onAbort);
    rl.close();
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await exited;
    }
  }
}
