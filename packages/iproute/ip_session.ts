/**
 * A long-lived `ip -batch -` process that applies {@linkcode Batch}es without starting a process
 * per batch.
 *
 * Design notes. Starting a program from Node costs 3+ ms (fork/exec of a large process, on the
 * main thread), far more than the kernel work of a few netlink requests. A session keeps one `ip`
 * process per namespace open and writes each batch's lines to its stdin; `ip` runs a line as soon
 * as it arrives. A job's end is marked by a sentinel line after it:
 *
 * - stop-at-first-failure (the default, like `apply()`): the process runs without `-force`, so
 *   iproute2 itself stops at a failing line (`Command failed -:N` on stderr) and exits; the session
 *   maps N to the operation and starts a new process for the next job. The sentinel is
 *   `link show dev lo`, whose output (`1: lo: ...`) iproute2 flushes to stdout after each command.
 * - `continueOnError`: the process runs with `-force`; the sentinel is a command that always fails
 *   (`link show dev ws<n>`), so everything the job printed on stderr comes before the sentinel's own
 *   `Command failed` line, on the same (unbuffered) pipe.
 *
 * Jobs are queued and run one at a time, in order. A process that dies or hangs (the job timer
 * kills it) fails the job in flight and is restarted for the next one. Segments that one `ip -batch -`
 * line cannot express (FDB operations, which need `bridge`, and family-specific flushes, which need
 * `-4`/`-6`) run as one-shot processes in order, exactly as `apply()` runs them.
 *
 * `next`: a second batch for another namespace given by name runs in the same job as
 * `netns exec <name> ip -batch <file>` — the `ip` in the pod namespace is forked from the small
 * session process, not from Node. A CNI ADD then costs one round trip and no process start from Node.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RealIpRoute } from "./_real_ip_route.ts";
import { checkNetnsHandle } from "./_validate.ts";
import { scriptOf, type Batch, type BatchCommand, type BatchSegment } from "./batch.ts";
import { createExec } from "./exec.ts";
import type { ApplyOptions } from "./ip_route.ts";
import { BatchError, IpRouteError } from "./ip_route_error.ts";
import type { Exec, NetnsHandle } from "./types.ts";

/** A batch for another namespace, run right after the main batch of a session job. */
export interface NextBatch {
  /**
   * The namespace: a name under /run/netns or such a path (run from the session's process as
   * `netns exec <name> ip -batch <file>`); any other path runs as a one-shot `nsenter` process.
   */
  readonly netns: string;
  readonly batch: Batch;
}

/** Options of {@linkcode IpSession.apply}. */
export interface SessionApplyOptions extends ApplyOptions {
  /**
   * A batch for another namespace, in the same job: it runs only when the main batch had no
   * failure (or always, with `continueOnError`). Its failures are reported in the same
   * {@linkcode BatchError}; they carry `netns` = `next.netns` and an `index` into `next.batch.ops`.
   * @default none
   */
  readonly next?: NextBatch;
}

/**
 * Applies batches over one long-lived `ip -batch -` process in one namespace. Obtain one with
 * {@linkcode createIpSession} (real) or `new FakeIpSession(fake)` from `@weft/iproute/testing`.
 */
export interface IpSession {
  /** The namespace the session works in; undefined = the caller's own. */
  readonly netns: string | undefined;
  /** Jobs waiting or running (to pick the least busy of several sessions). */
  readonly pending: number;
  /**
   * Applies a batch like {@linkcode IpRoute.apply}: rejects with the batch's validation error before
   * anything runs, or with a {@linkcode BatchError} naming the failed operation(s); without
   * `continueOnError` nothing after the first failure runs.
   */
  apply(batch: Batch, options?: SessionApplyOptions): Promise<void>;
  /** Rejects queued jobs, waits for the running one, ends the process. Later `apply()` calls reject. */
  close(): Promise<void>;
}

/** Options of {@linkcode createIpSession}. */
export interface CreateIpSessionOptions {
  /**
   * The namespace: a name under /var/run/netns (`ip -n <name>`) or a path such as
   * `/proc/<pid>/ns/net` (`nsenter --net=<path> ip`).
   * @default undefined (the caller's own namespace)
   */
  readonly netns?: NetnsHandle;
  /** Kill the process when one job runs longer than this (the job fails, the next one restarts it). @default 30000 */
  readonly timeoutMs?: number;
  /** Runs the one-shot segments (`bridge -batch -`, flagged flushes, `next` outside /run/netns). @default createExec() */
  readonly exec?: Exec;
  /** Where the scripts of `next` batches are written (one small file per job, removed after it). @default os.tmpdir() */
  readonly tmpDir?: string;
}

/**
 * Starts nothing yet: the `ip` process starts with the first job and again after it died.
 *
 * @throws {TypeError} when `netns` is not a valid name or absolute path
 * @throws {RangeError} when `timeoutMs` is not positive
 * @example
 * ```ts
 * import { Batch, createIpSession } from "@weft/iproute";
 * const host = createIpSession({ netns: "node1" });
 * await host.apply(
 *   new Batch()
 *     .addLink({ type: "veth", name: "veth1a2b3c4d", peer: { name: "eth0", netns: "/run/netns/pod1" }, master: "cni0", up: true }),
 *   { next: { netns: "pod1", batch: new Batch().addAddress({ dev: "eth0", address: "10.244.1.5/24" }).setLink("eth0", { up: true }) } },
 * );
 * await host.close();
 * ```
 */
export function createIpSession(options: CreateIpSessionOptions = {}): IpSession {
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError(`timeoutMs must be a positive number, got ${timeoutMs}`);
  return new RealIpSession(options.netns, timeoutMs, options.exec ?? createExec(), options.tmpDir ?? tmpdir());
}

/** The /run/netns name of a handle, when `ip netns exec` can enter it. */
function netnsName(handle: string): string | undefined {
  const m = /^\/(?:var\/)?run\/netns\/([^/]+)$/.exec(handle);
  const name = handle.startsWith("/") ? m?.[1] : handle;
  return name !== undefined && /^[A-Za-z0-9_.@-]+$/.test(name) && name !== "." && name !== ".." ? name : undefined;
}

const SAFE_PATH = /^[A-Za-z0-9_./@+-]+$/;

interface Proc {
  readonly child: ChildProcess;
  readonly force: boolean;
  /** Lines written so far (iproute2 numbers them from 1). */
  lines: number;
  stdout: string;
  stderr: string;
  exited: boolean;
  spawnError?: Error;
}

interface Job {
  readonly commands: readonly BatchCommand[];
  readonly force: boolean;
  /** The nested batch: its line runs after `commands`. */
  readonly nested?: { readonly name: string; readonly file: string; readonly segment: BatchSegment; readonly ip: RealIpRoute };
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
  /** How many progress markers the job has. */
  readonly marks: number;
  readonly seq: number;
  readonly timer: NodeJS.Timeout;
}

const MARK = "link show dev lo";
/** Jobs with at most this many lines get a progress marker after every line, larger ones one at the end. */
const MARK_EACH_MAX = 16;
const MARK_OUTPUT = /^1: lo: /gm;

class RealIpSession implements IpSession {
  readonly netns: string | undefined;
  readonly #ip: RealIpRoute;
  readonly #exec: Exec;
  readonly #timeoutMs: number;
  readonly #tmpRoot: string;
  /** Names this session's script files (removed after each job, so nothing stays behind). */
  readonly #id = `${process.pid}-${randomBytes(4).toString("hex")}`;
  #proc: Proc | undefined;
  #queue: Job[] = [];
  #running: Running | undefined;
  #idle: Array<() => void> = [];
  #seq = 0;
  #closed = false;

  constructor(netns: NetnsHandle | undefined, timeoutMs: number, exec: Exec, tmpRoot: string) {
    this.netns = netns === undefined ? undefined : checkNetnsHandle(netns);
    this.#timeoutMs = timeoutMs;
    this.#exec = exec;
    this.#tmpRoot = tmpRoot;
    this.#ip = new RealIpRoute({ netns: this.netns, exec, timeoutMs });
  }

  get pending(): number {
    return this.#queue.length + (this.#running ? 1 : 0);
  }

  async apply(batch: Batch, options: SessionApplyOptions = {}): Promise<void> {
    if (this.#closed) throw new IpRouteError("Failed", "apply", "the ip session is closed", this.netns !== undefined ? { netns: this.netns } : {});
    if (batch.error) throw batch.error;
    const next = options.next;
    if (next?.batch.error) throw next.batch.error;
    const force = options.continueOnError === true;
    const failures: IpRouteError[] = [];
    const segments = batch.segments();
    // The next batch rides on the last job when both are plain ip lines and its namespace has a name.
    const nextName = next && next.batch.size > 0 ? netnsName(checkNetnsHandle(next.netns, "next.netns")) : undefined;
    const nextSegments = next?.batch.segments() ?? [];
    const nextSegment = nextSegments.length === 1 && nextSegments[0]!.tool === "ip" && nextSegments[0]!.flags.length === 0 ? nextSegments[0] : undefined;
    let nestedDone = false;
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i]!;
      const streamed = segment.tool === "ip" && segment.flags.length === 0;
      const last = i === segments.length - 1;
      let segFailures: IpRouteError[];
      if (streamed) {
        const nest = last && nextName !== undefined && nextSegment !== undefined ? this.#nested(next!.netns, nextName, nextSegment) : undefined;
        nestedDone = nest !== undefined;
        segFailures = await this.#enqueue(segment.commands, force, nest);
      } else {
        segFailures = await this.#ip.runSegment(segment, force);
      }
      failures.push(...segFailures);
      if (segFailures.length && !force) break;
    }
    if (next && next.batch.size > 0 && !nestedDone && (force || failures.length === 0)) {
      const nest = nextName !== undefined && nextSegment !== undefined ? this.#nested(next.netns, nextName, nextSegment) : undefined;
      if (nest) {
        failures.push(...(await this.#enqueue([], force, nest)));
      } else {
        const ip = new RealIpRoute({ netns: next.netns, exec: this.#exec, timeoutMs: this.#timeoutMs });
        for (const segment of nextSegments) {
          const segFailures = await ip.runSegment(segment, force);
          failures.push(...segFailures);
          if (segFailures.length && !force) break;
        }
      }
    }
    if (failures.length) throw new BatchError(failures, batch.size + (next?.batch.size ?? 0));
  }

  #nested(netns: string, name: string, segment: BatchSegment): Job["nested"] {
    const file = join(this.#tmpRoot, `weft-ip-session-${this.#id}-${++this.#seq}`);
    if (!SAFE_PATH.test(file)) return undefined;
    return { name, file, segment, ip: new RealIpRoute({ netns, exec: this.#exec, timeoutMs: this.#timeoutMs }) };
  }

  #enqueue(commands: readonly BatchCommand[], force: boolean, nested: Job["nested"]): Promise<IpRouteError[]> {
    if (this.#closed) return Promise.reject(new IpRouteError("Failed", "apply", "the ip session is closed", this.netns !== undefined ? { netns: this.netns } : {}));
    if (nested) writeFileSync(nested.file, scriptOf(nested.segment), { mode: 0o600 });
    return new Promise<IpRouteError[]>((resolve, reject) => {
      this.#queue.push({ commands, force, ...(nested ? { nested } : {}), resolve, reject });
      this.#next();
    }).finally(() => {
      if (nested) rmSync(nested.file, { force: true });
    });
  }

  #spawn(force: boolean): Proc {
    const [cmd, ...args] = this.#ip.argv("ip", ...(force ? ["-force"] : []), "-batch", "-");
    const child = spawn(cmd!, args, { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, LC_ALL: "C" } });
    const proc: Proc = { child, force, lines: 0, stdout: "", stderr: "", exited: false };
    child.stdin!.on("error", () => {});
    child.stdout!.setEncoding("utf8");
    child.stderr!.setEncoding("utf8");
    child.stdout!.on("data", (s: string) => {
      proc.stdout += s;
      if (this.#running?.proc === proc) this.#check();
      else proc.stdout = "";
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
    const seq = ++this.#seq;
    // A progress marker after every line: `lo` exists in every namespace and its `1: lo: ...`
    // reaches stdout as soon as the line before it has run. The markers tell how far a process got
    // when it exits without naming a line (some iproute2 commands exit(2) on a kernel error).
    // A large job gets one marker at its end only (a marker costs about 20 µs, as much as the line):
    // a failure is still mapped by its `Command failed -:N`; only an exit without one cannot be.
    const entries: Entry[] = [];
    const sparse = job.commands.length > MARK_EACH_MAX;
    for (const cmd of job.commands) {
      entries.push({ cmd });
      if (!sparse) entries.push({ mark: true });
    }
    if (sparse && !job.nested) entries.push({ mark: true });
    if (job.nested) entries.push({ nested: true }, { mark: true });
    const lines = entries.map((e) =>
      "cmd" in e ? e.cmd.args.join(" ") : "nested" in e ? `netns exec ${job.nested!.name} ip${job.force ? " -force" : ""} -batch ${job.nested!.file}` : MARK,
    );
    if (job.force) lines.push(`link show dev ws${seq.toString(36)}`); // the end of the job, on stderr
    proc.stdout = "";
    proc.stderr = "";
    const timer = setTimeout(() => proc!.child.kill("SIGKILL"), this.#timeoutMs);
    this.#running = { job, proc, firstLine: proc.lines + 1, entries, marks: entries.filter((e) => "mark" in e).length, seq, timer };
    proc.lines += lines.length;
    proc.child.stdin!.write(lines.join("\n") + "\n");
  }

  /** Completes the running job when its end has arrived. */
  #check(): void {
    const run = this.#running;
    if (!run) return;
    const { proc } = run;
    if (proc.force) {
      const marker = `Device "ws${run.seq.toString(36)}" does not exist.\n`;
      const at = proc.stderr.indexOf(marker);
      if (at < 0) return;
      const tail = /^Command failed -:\d+\n/.exec(proc.stderr.slice(at + marker.length));
      if (!tail) return; // iproute2's own line for the end marker is still on its way
      const stderr = proc.stderr.slice(0, at);
      proc.stderr = proc.stderr.slice(at + marker.length + tail[0].length);
      proc.stdout = "";
      this.#finish(run, this.#failures(run, stderr));
    } else if ((proc.stdout.match(MARK_OUTPUT)?.length ?? 0) >= run.marks) {
      // Without -force every line succeeded: a failure ends the process instead.
      proc.stdout = "";
      proc.stderr = "";
      this.#finish(run, []);
    }
  }

  /** Maps `Command failed <file>:<line>` reports to operations of the job's batch or its nested batch. */
  #failures(run: Running, stderr: string): IpRouteError[] {
    const { job, firstLine, entries } = run;
    const nested = job.nested;
    const out: IpRouteError[] = [];
    let nestedFailed = false;
    let pending: string[] = [];
    for (const line of stderr.split("\n")) {
      const m = /^Command failed (.*):(\d+)$/.exec(line.trim());
      if (!m) {
        if (line.trim()) pending.push(line);
        continue;
      }
      const n = Number(m[2]);
      const text = pending.join("\n");
      pending = [];
      if (nested && m[1] === nested.file) {
        const cmd = nested.segment.commands[n - 1];
        if (cmd && !out.some((f) => f.netns === nested.ip.netns && f.index === cmd.index)) out.push(nested.ip.commandError(cmd, text));
        nestedFailed = true;
        continue;
      }
      if (m[1] !== "-") continue;
      const entry = entries[n - firstLine];
      if (entry && "cmd" in entry) {
        if (!out.some((f) => f.netns === this.netns && f.index === entry.cmd.index)) out.push(this.#ip.commandError(entry.cmd, text));
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
    const done = run.proc.stdout.match(MARK_OUTPUT)?.length ?? 0;
    // the entries after the last marker seen, up to the next marker: exact only when that is one line
    let at = 0;
    for (let seen = 0; seen < done && at < run.entries.length; at++) if ("mark" in run.entries[at]!) seen++;
    let end = at;
    while (end < run.entries.length && !("mark" in run.entries[end]!)) end++;
    if (end - at !== 1) return undefined;
    const entry = run.entries[at];
    if (entry && "cmd" in entry) return this.#ip.commandError(entry.cmd, detail);
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
    const failures = signal === null && !proc.spawnError ? this.#failures(run, proc.stderr) : [];
    if (signal === null && !proc.spawnError && code !== 0) {
      // The line after the last marker did not finish; it may have exited without a report.
      const crashed = this.#crashed(run, proc.stderr.trim() || `exit code ${code}`);
      if (crashed && !failures.some((f) => f.netns === crashed.netns && (f.index === crashed.index || crashed.netns !== this.netns))) failures.push(crashed);
    }
    if (failures.length > 0) {
      this.#finish(run, failures);
      return;
    }
    clearTimeout(run.timer);
    this.#running = undefined;
    const why = proc.spawnError
      ? `cannot run ip: ${proc.spawnError.message}`
      : signal === "SIGKILL"
        ? `ip -batch was killed (the job ran longer than ${this.#timeoutMs} ms, or the process was killed)`
        : `ip -batch exited (${signal ?? `code ${code}`}) before the job finished`;
    const first = run.job.commands[0];
    run.job.reject(
      new IpRouteError("Failed", first ? first.args.join(" ") : "apply", `${why}${proc.stderr.trim() ? `: ${proc.stderr.trim()}` : ""}`, {
        ...(first?.device !== undefined ? { device: first.device } : {}),
        ...(this.netns !== undefined ? { netns: this.netns } : {}),
        stderr: proc.stderr.trim(),
      }),
    );
    this.#next();
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) {
      job.reject(new IpRouteError("Failed", "apply", "the ip session is closed", this.netns !== undefined ? { netns: this.netns } : {}));
    }
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
}
