// A long-lived `ip -force -batch -` process in one namespace: host-side changes (veth creation,
// bridge ports, teardown) cost no fork/exec per pod. Node forks slowly (3+ ms, growing with the
// heap, and on the main thread); `ip` runs each line as soon as it arrives on stdin.
//
// Completion: after a job's lines we send `link show dev ws<seq>`, a command that always fails and
// prints `Device "ws<seq>" does not exist.` then `Command failed -:N` on stderr (unbuffered).
// Everything on stderr before that belongs to the job; a `Command failed` there fails the job.
import { spawn, type ChildProcess } from "node:child_process";
import { ipArgv, type Netns } from "./_ip.ts";

/** A failed session job: `failedLines` are indexes into the job's lines. */
export class IpBatchError extends Error {
  readonly failedLines: number[];
  constructor(message: string, failedLines: number[]) {
    super(message);
    this.name = "IpBatchError";
    this.failedLines = failedLines;
  }
}

interface Job {
  lines: readonly string[];
  resolve: () => void;
  reject: (err: Error) => void;
}

export class IpSession {
  readonly #netns: Netns;
  readonly #timeoutMs: number;
  #child: ChildProcess | undefined;
  #queue: Job[] = [];
  #current: { job: Job; seq: number; timer: NodeJS.Timeout; firstLine: number } | undefined;
  #linesSent = 0;
  #stderr = "";
  #seq = 0;
  #closed = false;

  constructor(netns: Netns, options: { timeoutMs?: number } = {}) {
    this.#netns = netns;
    this.#timeoutMs = options.timeoutMs ?? 15_000;
  }

  /** Runs the lines in order; rejects with ip's messages when any of them failed. */
  run(lines: readonly string[]): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("IpSession is closed"));
    return new Promise((resolve, reject) => {
      this.#queue.push({ lines, resolve, reject });
      this.#next();
    });
  }

  #start(): ChildProcess {
    const [file, argv] = ipArgv(this.#netns, ["-force", "-batch", "-"]);
    const child = spawn(file, argv, { stdio: ["pipe", "ignore", "pipe"] });
    child.stdin!.on("error", () => {});
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (s: string) => {
      this.#stderr += s;
      this.#check();
    });
    child.on("exit", (code, signal) => {
      if (this.#child === child) {
        this.#child = undefined;
        this.#linesSent = 0;
      }
      const cur = this.#current;
      if (cur) {
        clearTimeout(cur.timer);
        this.#current = undefined;
        cur.job.reject(new Error(`ip -batch exited (${signal ?? code}) during: ${cur.job.lines.join("; ")}: ${this.#stderr.trim()}`));
      }
      this.#stderr = "";
      this.#next();
    });
    child.on("error", () => {});
    return child;
  }

  #next(): void {
    if (this.#current || this.#queue.length === 0) return;
    const job = this.#queue.shift()!;
    if (!this.#child) this.#child = this.#start();
    const child = this.#child;
    const seq = ++this.#seq;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
    }, this.#timeoutMs);
    this.#current = { job, seq, timer, firstLine: this.#linesSent + 1 };
    this.#linesSent += job.lines.length + 1;
    this.#stderr = "";
    child.stdin!.write(`${job.lines.join("\n")}\nlink show dev ws${seq.toString(36)}\n`);
  }

  #check(): void {
    const cur = this.#current;
    if (!cur) return;
    const marker = `Device "ws${cur.seq.toString(36)}" does not exist.\n`;
    const at = this.#stderr.indexOf(marker);
    if (at < 0) return;
    const after = this.#stderr.slice(at + marker.length);
    const tail = /^Command failed -:\d+\n/.exec(after);
    if (!tail) return; // wait for ip's own "Command failed" line of the marker
    const out = this.#stderr.slice(0, at);
    this.#stderr = after.slice(tail[0].length);
    clearTimeout(cur.timer);
    this.#current = undefined;
    const failed = [...out.matchAll(/Command failed -:(\d+)/g)].map((m) => Number(m[1]) - cur.firstLine);
    if (failed.length > 0) cur.job.reject(new IpBatchError(`ip -batch: ${out.replace(/Command failed -:\d+\n?/g, "").trim()}`, failed));
    else cur.job.resolve();
    this.#next();
  }

  /** Jobs waiting or running. */
  get load(): number {
    return this.#queue.length + (this.#current ? 1 : 0);
  }

  /** Rejects queued jobs, ends the process and waits for it. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const j of this.#queue.splice(0)) j.reject(new Error("IpSession closed"));
    while (this.#current) await new Promise((r) => setTimeout(r, 5));
    const child = this.#child;
    if (!child) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.stdin!.end();
      setTimeout(() => child.kill("SIGKILL"), 2000).unref();
    });
  }
}
