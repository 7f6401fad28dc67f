/**
 * One long-lived `<tool> -batch -` process of an {@linkcode IpSession} and its job queue (a "lane"):
 * the `ip` lane and the `bridge` lane of a session are two instances with different markers.
 *
 * A job's lines are written to the process's stdin and run as they arrive. How the lane knows where a
 * job ends:
 *
 * - stop-at-first-failure: the process runs without `-force`, so iproute2 stops at a failing line
 *   (`Command failed -:N` on stderr) and exits; the lane maps N to the operation and starts a new
 *   process for the next job. Success is seen when all of the job's progress markers (`mark`, a line
 *   whose only output is one stdout line matching `markOutput`, flushed after each command) arrived.
 * - `-force` (continueOnError): the job ends with a line that always fails (`end(name)` with a name
 *   no device has); its error text and then its own `Command failed -:<its line number>` come after
 *   everything the job printed on stderr, on the same unbuffered pipe.
 *
 * Jobs run one at a time in FIFO order; a job is queued synchronously by {@linkcode BatchLane.enqueue}.
 * A process that dies or hangs (the job timer kills it) fails the job in flight and is restarted for the
 * next one.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { batchFailureReports } from "./_parse.ts";
import type { RealIpRoute } from "./_real_ip_route.ts";
import type { BatchCommand, BatchSegment, BatchTool } from "./batch.ts";
import { IpRouteError } from "./ip_route_error.ts";

/** How one tool's lane marks progress and the end of a `-force` job. */
export interface LaneSettings {
  readonly tool: BatchTool;
  /** argv in the session's namespace and the errors of its commands. */
  readonly ip: RealIpRoute;
  readonly timeoutMs: number;
  /** A line whose whole stdout is one line matching {@linkcode LaneSettings.markOutput}, printed as soon as it ran. */
  readonly mark: string;
  /** Tests one stdout line (no `g` flag): is it a marker's output? */
  readonly markOutput: RegExp;
  /** The end of a `-force` job: a line that fails for device `name`, and the error text it prints (before `Command failed`). */
  readonly end: (name: string) => { readonly line: string; readonly stderr: string };
}

/** A batch for another namespace, run by the job's `netns exec <name> ip -batch <file>` line (ip lane only). */
export interface NestedBatch {
  readonly name: string;
  readonly file: string;
  readonly segment: BatchSegment;
  /** Maps its failures (in its namespace). */
  readonly ip: RealIpRoute;
}

interface Proc {
  readonly child: ChildProcess;
  readonly force: boolean;
  /** Lines written so far (iproute2 numbers them from 1). */
  lines: number;
  /** Markers written so far, and marker outputs seen on stdout so far. */
  marksWritten: number;
  marksSeen: number;
  /** The incomplete last stdout line. */
  stdoutTail: string;
  stderr: string;
  exited: boolean;
  spawnError?: Error;
}

interface Job {
  readonly commands: readonly BatchCommand[];
  readonly force: boolean;
  /** The nested batch: its line runs after `commands`. */
  readonly nested?: NestedBatch;
  readonly resolve: (failures: IpRouteError[]) => void;
  readonly reject: (err: Error) => void;
}

/** What one line of a running job is: a batch command, the nested batch, or a progress marker. */
type Entry = { readonly cmd: BatchCommand } | { readonly nested: true } | { readonly mark: true };

interface Running {
  readonly job: Job;
  readonly proc: Proc;
  readonly firstLine: number;
  /** The job's lines in order (commands interleaved with progress markers). */
  readonly entries: readonly Entry[];
  /** How many progress markers the job has, and how many the process had been given before it. */
  readonly marks: number;
  readonly markBase: number;
  /** `-force` jobs: what the end line prints on stderr, through its `Command failed` line. */
  readonly endText?: string;
  readonly timer: NodeJS.Timeout;
}

/** Markers of the `ip` lane: `lo` exists in every namespace; its `1: lo: ...` line is flushed as soon as the line before ran. */
export const IP_LANE = {
  tool: "ip",
  mark: "link show dev lo",
  markOutput: /^1: lo: /,
  end: (name: string) => ({ line: `link show dev ${name}`, stderr: `Device "${name}" does not exist.` }),
} as const satisfies Omit<LaneSettings, "ip" | "timeoutMs">;

/**
 * Markers of the `bridge` lane. `vlan show dev lo` prints its header line (`port`, `vlan-id`, padded
 * with spaces) before the dump and flushes it; the dump itself prints only ports whose ifindex is
 * `lo`'s, and loopback can never be a bridge port, so the header is the whole output in any namespace,
 * also next to VLAN-filtering bridges with ports. FDB writes print nothing on stdout, so every stdout
 * line matching `markOutput` is a marker. For a missing device it prints only
 * `Cannot find device "<name>"` on stderr (the check comes before the header).
 */
export const BRIDGE_LANE = {
  tool: "bridge",
  mark: "vlan show dev lo",
  markOutput: /^port\s+vlan-id\s*$/,
  end: (name: string) => ({ line: `vlan show dev ${name}`, stderr: `Cannot find device "${name}"` }),
} as const satisfies Omit<LaneSettings, "ip" | "timeoutMs">;

/** Jobs with at most this many lines get a progress marker after every line, larger ones one at the end. */
const MARK_EACH_MAX = 16;

/** One `<tool> -batch -` process and its FIFO job queue. */
export class BatchLane {
  readonly #s: LaneSettings;
  #proc: Proc | undefined;
  #queue: Job[] = [];
  #running: Running | undefined;
  #idle: Array<() => void> = [];
  #seq = 0;

  constructor(settings: LaneSettings) {
    this.#s = settings;
  }

  /** Jobs waiting or running. */
  get pending(): number {
    return this.#queue.length + (this.#running ? 1 : 0);
  }

  /** The running process's pid (undefined before the first job and after it died). */
  get pid(): number | undefined {
    return this.#proc && !this.#proc.exited ? this.#proc.child.pid : undefined;
  }

  /** Queues a job now (synchronously) and resolves with its failures (empty on success). */
  enqueue(commands: readonly BatchCommand[], force: boolean, nested?: NestedBatch): Promise<IpRouteError[]> {
    if (commands.length === 0 && !nested) return Promise.resolve([]);
    return new Promise<IpRouteError[]>((resolve, reject) => {
      this.#queue.push({ commands, force, ...(nested ? { nested } : {}), resolve, reject });
      this.#next();
    });
  }

  /** Rejects the queued jobs with `reason()`, waits for the running one, ends the process. */
  async close(reason: () => Error): Promise<void> {
    for (const job of this.#queue.splice(0)) job.reject(reason());
    if (this.#running) await new Promise<void>((resolve) => this.#idle.push(resolve));
    const proc = this.#proc;
    this.#proc = undefined;
    if (proc && !proc.exited) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => proc.child.kill("SIGKILL"), 2000);
        proc.child.once("close", () => {
          clearTimeout(timer);
          resolve();
        });
        proc.child.stdin!.end();
      });
    }
  }

  #spawn(force: boolean): Proc {
    const [cmd, ...args] = this.#s.ip.argv(this.#s.tool, ...(force ? ["-force"] : []), "-batch", "-");
    const child = spawn(cmd!, args, { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, LC_ALL: "C" } });
    const proc: Proc = { child, force, lines: 0, marksWritten: 0, marksSeen: 0, stdoutTail: "", stderr: "", exited: false };
    child.stdin!.on("error", () => {});
    child.stdout!.setEncoding("utf8");
    child.stderr!.setEncoding("utf8");
    child.stdout!.on("data", (s: string) => {
      // Marker outputs are counted per process, so output that arrives late (stdout and stderr are
      // separate pipes) is never counted for the wrong job.
      const lines = (proc.stdoutTail + s).split("\n");
      proc.stdoutTail = lines.pop()!;
      for (const line of lines) if (this.#s.markOutput.test(line)) proc.marksSeen++;
      if (this.#running?.proc === proc) this.#check();
    });
    child.stderr!.on("data", (s: string) => {
      proc.stderr += s;
      if (this.#running?.proc === proc) this.#check();
    });
    child.on("error", (err) => (proc.spawnError = err));
    child.on("close", (code, signal) => this.#exited(proc, code, signal));
    return proc;
  }

  #next(): void {
    if (this.#running) return;
    const job = this.#queue.shift();
    if (!job) {
      for (const wake of this.#idle.splice(0)) wake();
      return;
    }
    let proc = this.#proc;
    if (proc && (proc.exited || proc.force !== job.force)) {
      proc.child.stdin!.end(); // retire it: a process of the other mode
      proc = undefined;
    }
    if (!proc) proc = this.#proc = this.#spawn(job.force);
    // A progress marker after every line. The markers tell how far a process got when it exits
    // without naming a line (some iproute2 commands exit(2) on a kernel error). A large job gets one
    // marker at its end only (a marker costs about 20 µs, as much as the line): a failure is still
    // mapped by its `Command failed -:N`; only an exit without one cannot be.
    const entries: Entry[] = [];
    const sparse = job.commands.length > MARK_EACH_MAX;
    for (const cmd of job.commands) {
      entries.push({ cmd });
      if (!sparse) entries.push({ mark: true });
    }
    if (sparse && !job.nested) entries.push({ mark: true });
    if (job.nested) entries.push({ nested: true }, { mark: true });
    const { mark, end } = this.#s;
    const lines = entries.map((e) =>
      "cmd" in e ? e.cmd.args.join(" ") : "nested" in e ? `netns exec ${job.nested!.name} ip${job.force ? " -force" : ""} -batch ${job.nested!.file}` : mark,
    );
    const firstLine = proc.lines + 1;
    let endText: string | undefined;
    if (job.force) {
      // The end of the job, on stderr. Its line number is part of the text looked for, so a batch
      // line failing for a device of the same name can never pass for it.
      const e = end(`ws${(++this.#seq).toString(36)}`);
      lines.push(e.line);
      endText = `${e.stderr}\nCommand failed -:${firstLine + lines.length - 1}\n`;
    }
    const marks = entries.filter((e) => "mark" in e).length;
    proc.stderr = "";
    const timer = setTimeout(() => proc!.child.kill("SIGKILL"), this.#s.timeoutMs);
    this.#running = { job, proc, firstLine, entries, marks, markBase: proc.marksWritten, ...(endText !== undefined ? { endText } : {}), timer };
    proc.lines += lines.length;
    proc.marksWritten += marks;
    proc.child.stdin!.write(lines.join("\n") + "\n");
  }

  /** Completes the running job when its end has arrived. */
  #check(): void {
    const run = this.#running;
    if (!run) return;
    const { proc } = run;
    if (run.endText !== undefined) {
      const at = proc.stderr.indexOf(run.endText);
      if (at < 0 || (at > 0 && proc.stderr[at - 1] !== "\n")) return;
      const stderr = proc.stderr.slice(0, at);
      proc.stderr = proc.stderr.slice(at + run.endText.length);
      this.#finish(run, this.#failures(run, stderr));
    } else if (proc.marksSeen - run.markBase >= run.marks) {
      // Without -force every line succeeded: a failure ends the process instead.
      proc.stderr = "";
      this.#finish(run, []);
    }
  }

  /** Maps `Command failed <file>:<line>` reports to operations of the job's batch or its nested batch. */
  #failures(run: Running, stderr: string): IpRouteError[] {
    const { job, firstLine, entries } = run;
    const { ip } = this.#s;
    const nested = job.nested;
    const out: IpRouteError[] = [];
    let nestedFailed = false;
    for (const { file, line: n, text } of batchFailureReports(stderr)) {
      if (nested && file === nested.file) {
        const cmd = nested.segment.commands[n - 1];
        if (cmd && !out.some((f) => f.netns === nested.ip.netns && f.index === cmd.index)) out.push(nested.ip.commandError(cmd, text));
        nestedFailed = true;
        continue;
      }
      if (file !== "-") continue;
      const entry = entries[n - firstLine];
      if (entry && "cmd" in entry) {
        if (!out.some((f) => f.netns === ip.netns && f.index === entry.cmd.index)) out.push(ip.commandError(entry.cmd, text));
      } else if (entry && "nested" in entry && nested && !nestedFailed) {
        // `netns exec` itself failed (e.g. no such namespace) before the nested ip reported anything.
        const first = nested.segment.commands[0];
        if (first) out.push(nested.ip.commandError(first, text || "netns exec failed"));
      }
    }
    return out;
  }

  /** The line a process was running when it exited without naming it: the one after the last marker seen. */
  #crashed(run: Running, detail: string): IpRouteError | undefined {
    const done = run.proc.marksSeen - run.markBase;
    // the entries after the last marker seen, up to the next marker: exact only when that is one line
    let at = 0;
    for (let seen = 0; seen < done && at < run.entries.length; at++) if ("mark" in run.entries[at]!) seen++;
    let end = at;
    while (end < run.entries.length && !("mark" in run.entries[end]!)) end++;
    if (end - at !== 1) return undefined;
    const entry = run.entries[at];
    if (entry && "cmd" in entry) return this.#s.ip.commandError(entry.cmd, detail);
    const first = run.job.nested?.segment.commands[0];
    if (entry && "nested" in entry && first) return run.job.nested!.ip.commandError(first, detail);
    return undefined;
  }

  #finish(run: Running, failures: IpRouteError[]): void {
    clearTimeout(run.timer);
    this.#running = undefined;
    run.job.resolve(failures);
    this.#next();
  }

  #exited(proc: Proc, code: number | null, signal: NodeJS.Signals | null): void {
    proc.exited = true;
    if (this.#proc === proc) this.#proc = undefined;
    const run = this.#running;
    if (!run || run.proc !== proc) return;
    const { ip, tool } = this.#s;
    const failures = signal === null && !proc.spawnError ? this.#failures(run, proc.stderr) : [];
    if (signal === null && !proc.spawnError && code !== 0) {
      // The line after the last marker did not finish; it may have exited without a report.
      const crashed = this.#crashed(run, proc.stderr.trim() || `exit code ${code}`);
      if (crashed && !failures.some((f) => f.netns === crashed.netns && (f.index === crashed.index || crashed.netns !== ip.netns))) failures.push(crashed);
    }
    if (failures.length > 0) {
      this.#finish(run, failures);
      return;
    }
    clearTimeout(run.timer);
    this.#running = undefined;
    const why = proc.spawnError
      ? `cannot run ${tool}: ${proc.spawnError.message}`
      : signal === "SIGKILL"
        ? `${tool} -batch was killed (the job ran longer than ${this.#s.timeoutMs} ms, or the process was killed)`
        : `${tool} -batch exited (${signal ?? `code ${code}`}) before the job finished`;
    const first = run.job.commands[0];
    run.job.reject(
      new IpRouteError("Failed", first ? first.args.join(" ") : "apply", `${why}${proc.stderr.trim() ? `: ${proc.stderr.trim()}` : ""}`, {
        ...(first?.device !== undefined ? { device: first.device } : {}),
        ...(ip.netns !== undefined ? { netns: ip.netns } : {}),
        stderr: proc.stderr.trim(),
      }),
    );
    this.#next();
  }
}
