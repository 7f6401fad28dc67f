import { execFile, spawn, type ChildProcess, type SpawnOptions } from "node:child_process";

/** Options for {@linkcode execIn}. */
export interface ExecInOptions {
  /** Text written to the command's stdin; @default none */
  input?: string;
  /** Kill the command after this long; @default 30000 */
  timeoutMs?: number;
  /** Extra environment; @default the current environment */
  env?: NodeJS.ProcessEnv;
}

/** The argv that runs `argv` inside network namespace `netns` (a name under /var/run/netns). */
export function inNetns(netns: string, argv: readonly string[]): string[] {
  return ["ip", "netns", "exec", netns, ...argv];
}

/**
 * Runs a command inside a namespace (argv array, no shell) and returns its stdout.
 * Rejects with the command and its stderr in the message.
 */
export function execIn(netns: string, argv: readonly string[], options: ExecInOptions = {}): Promise<string> {
  const [cmd, ...args] = inNetns(netns, argv);
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd!,
      args,
      { timeout: options.timeoutMs ?? 30_000, env: options.env ?? process.env, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`in ${netns}: ${argv.join(" ")} failed: ${String(stderr).trim() || err.message}`, { cause: err }));
        else resolve(String(stdout));
      },
    );
    // A command that exits without reading stdin must not turn into an EPIPE crash.
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(options.input ?? "");
  });
}

/** Starts a long-running process inside a namespace; the caller owns it (see {@linkcode stopProcess}). */
export function spawnIn(netns: string, argv: readonly string[], options: SpawnOptions = {}): ChildProcess {
  const [cmd, ...args] = inNetns(netns, argv);
  return spawn(cmd!, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
}

/** Sends `signal` (default SIGTERM), then SIGKILL after `graceMs`, and resolves when the process has exited. */
export function stopProcess(child: ChildProcess, options: { signal?: NodeJS.Signals; graceMs?: number } = {}): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    // The timers are referenced, so they keep this process alive until the child's exit has been seen, also for
    // a detached, unref'd child (else Node could exit in the middle of a teardown).
    let timer = setTimeout(() => {
      child.kill("SIGKILL");
      timer = setTimeout(done, 5000); // a process that survives SIGKILL this long is stuck in the kernel
    }, options.graceMs ?? 3000);
    function done(): void {
      clearTimeout(timer);
      resolve();
    }
    child.once("exit", done);
    child.kill(options.signal ?? "SIGTERM");
  });
}
