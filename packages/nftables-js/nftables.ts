import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import type { Family, Listing, SupportFeature, SupportReport } from "./types.ts";
import { Transaction } from "./transaction.ts";
import { NftablesError, errorKindOf } from "./errors.ts";
import { renderOperation, renderOperations } from "./_render.ts";
import { parseListing } from "./_parse_listing.ts";

/** Result of one external command. */
export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
  /** Exit code (non-zero on failure). */
  readonly code: number;
}

/** Options for {@linkcode Exec.run}. */
export interface ExecRunOptions {
  /**
   * Written to the child's stdin. A function is called once the child has been started, so that
   * producing a large input overlaps the program's start-up. @default nothing (stdin closed)
   */
  input?: string | (() => string);
  /** Kill the child after this long; @default no limit */
  timeoutMs?: number;
}

/**
 * The seam through which nft runs: argv arrays only, never a shell. Replace it in unit tests to
 * check the exact argv and stdin. `run` rejects only when the program cannot be started.
 */
export interface Exec {
  run(argv: readonly string[], options?: ExecRunOptions): Promise<ExecResult>;
}

/** Options for {@linkcode Nftables.run}. */
export interface RunOptions {
  /**
   * Apply everything in one `nft -f -` run (all or nothing). With `false` the transaction is split
   * into chunks of `chunkSize` operations, each applied atomically on its own; a failure stops at the
   * failing chunk and earlier chunks stay applied. @default true
   */
  atomic?: boolean;
  /** Operations per chunk when `atomic` is false; @default 1000 */
  chunkSize?: number;
  /** Only check the transaction (`nft -c`), change nothing; @default false */
  dryRun?: boolean;
}

/** Options for {@linkcode Nftables.list}. */
export interface ListOptions {
  /** Also read the elements of sets and maps (else `elements` is empty; faster for big maps); @default true */
  elements?: boolean;
}

/**
 * One nftables table in one network namespace: build transactions, apply them atomically, read the
 * table back. Implemented by {@linkcode createNftables} (real `nft`) and `FakeNftables` (from
 * `nftables-js/testing`, in memory).
 */
export interface Nftables {
  readonly family: Family;
  readonly table: string;
  /** A new, empty transaction for this family and table. */
  newTransaction(): Transaction;
  /**
   * Applies `tx`. Rejects with an {@linkcode NftablesError} (see `isNotFound`, `isAlreadyExists`,
   * `isBusy`, `isInvalid`): the transaction's first validation error before anything runs, or nft's
   * rejection naming the failing operation. A rejected atomic run changes nothing.
   */
  run(tx: Transaction, options?: RunOptions): Promise<void>;
  /** Reads the table back into objects; rejects with a notFound error when the table does not exist. */
  list(options?: ListOptions): Promise<Listing>;
  /**
   * Reports whether nft exists and the kernel accepts what Weft needs (nat, ct, numgen, fib, sets with
   * timeouts, verdict maps, concatenations), probing with `nft -c` in a throwaway table: changes nothing.
   */
  check(): Promise<SupportReport>;
}

/** Options for {@linkcode createNftables}. */
export interface CreateNftablesOptions {
  /** Address family of the table. */
  family: Family;
  /** Table name. */
  table: string;
  /**
   * Network namespace: a name under /var/run/netns (`"node-1"`) or a path (`"/proc/1234/ns/net"`);
   * nft then runs as `nsenter --net=<path> nft …`. @default the caller's namespace
   */
  netns?: string;
  /** The nft program; @default "nft" */
  nftPath?: string;
  /** Limit for each nft run; @default 120000 */
  timeoutMs?: number;
  /** How programs run; @default child_process.spawn */
  exec?: Exec;
}

/** Creates the real {@linkcode Nftables} for one table; no command runs until it is used. */
export function createNftables(options: CreateNftablesOptions): Nftables {
  return new RealNftables(options);
}

/** The default {@linkcode Exec}: `child_process.spawn` with argv arrays, no shell. */
export const spawnExec: Exec = {
  run(argv, options = {}) {
    const [cmd, ...args] = argv;
    if (!cmd) return Promise.reject(new TypeError("exec: argv is empty"));
    return new Promise((resolve, reject) => {
      const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      const timer =
        options.timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              timedOut = true;
              child.kill("SIGKILL");
            }, options.timeoutMs);
      child.stdout.on("data", (b: Buffer) => out.push(b));
      child.stderr.on("data", (b: Buffer) => err.push(b));
      child.stdin.on("error", () => {}); // EPIPE when the program exits early; its exit code tells
      child.on("error", (e) => {
        if (timer) clearTimeout(timer);
        reject(e);
      });
      child.on("close", (code, signal) => {
        if (timer) clearTimeout(timer);
        let stderr = Buffer.concat(err).toString("utf8");
        if (timedOut) stderr += `\n${cmd} killed after ${options.timeoutMs} ms`;
        resolve({ stdout: Buffer.concat(out).toString("utf8"), stderr, code: code ?? (signal ? 128 : 1) });
      });
      let input: string;
      try {
        input = typeof options.input === "function" ? options.input() : (options.input ?? "");
      } catch (e) {
        child.kill("SIGKILL");
        reject(e);
        return;
      }
      child.stdin.end(input);
    });
  },
};

/** A located error line of nft: `/dev/stdin:6:2-8: Error: Could not process rule: No such file or directory`. */
const ERROR_LINE_RE = /^[^\n:]*:(\d+):\d+(?:-\d+)?: Error: (.*)$/m;
const BARE_ERROR_RE = /^Error: (.*)$/m;

/** Turns a failed nft run into an NftablesError naming the failing operation when it can. */
function nftError(
  stderr: string,
  context: { family: Family; table: string; tx?: Transaction; lineOps?: readonly number[]; what: string },
): NftablesError {
  const located = ERROR_LINE_RE.exec(stderr);
  const message = (located?.[2] ?? BARE_ERROR_RE.exec(stderr)?.[1] ?? stderr.trim()) || "nft failed without a message";
  const kind = errorKindOf(message);
  if (located && context.tx && context.lineOps) {
    const index = context.lineOps[Number(located[1]) - 1];
    const operation = index === undefined ? undefined : context.tx.operations[index];
    if (index !== undefined && operation) {
      const text = renderOperation(context.family, context.table, operation);
      const shown = text.length > 200 ? text.slice(0, 197) + "..." : text;
      return new NftablesError(kind, `Cannot apply operation ${index} (${shown}): ${message}`, {
        operation,
        operationIndex: index,
        stderr,
      });
    }
  }
  return new NftablesError(kind, `Cannot ${context.what}: ${message}`, { stderr });
}

class RealNftables implements Nftables {
  readonly family: Family;
  readonly table: string;
  readonly #exec: Exec;
  readonly #prefix: readonly string[];
  readonly #timeoutMs: number;

  constructor(options: CreateNftablesOptions) {
    this.family = options.family;
    this.table = options.table;
    this.#exec = options.exec ?? spawnExec;
    this.#timeoutMs = options.timeoutMs ?? 120_000;
    const nft = options.nftPath ?? "nft";
    if (options.netns === undefined) this.#prefix = [nft];
    else {
      const path = options.netns.includes("/") ? options.netns : `/var/run/netns/${options.netns}`;
      this.#prefix = ["nsenter", `--net=${path}`, "--", nft];
    }
  }

  newTransaction(): Transaction {
    return new Transaction(this.family, this.table);
  }

  async #nft(args: readonly string[], input: string | (() => string) | undefined, what: string) {
    const argv = [...this.#prefix, ...args];
    try {
      return await this.#exec.run(argv, input === undefined ? { timeoutMs: this.#timeoutMs } : { input, timeoutMs: this.#timeoutMs });
    } catch (cause) {
      throw new NftablesError("failed", `Cannot ${what}: ${argv[0]} could not be started (${(cause as Error).message})`, { cause });
    }
  }

  async run(tx: Transaction, options: RunOptions = {}): Promise<void> {
    if (tx.error) throw tx.error;
    if (tx.family !== this.family || tx.table !== this.table) {
      throw new NftablesError("invalid", `Cannot run transaction: it is for ${tx.family} ${tx.table}, this handle manages ${this.family} ${this.table}`);
    }
    const ops = tx.operations;
    if (ops.length === 0) return;
    const atomic = options.atomic ?? true;
    const chunkSize = atomic ? ops.length : (options.chunkSize ?? 1000);
    if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) throw new RangeError(`chunkSize must be a positive integer, got ${String(options.chunkSize)}`);
    const args = options.dryRun ? ["-c", "-f", "-"] : ["-f", "-"];
    for (let start = 0; start < ops.length; start += chunkSize) {
      let lineOps: readonly number[] = [];
      // Rendered once nft has been started, overlapping its start-up.
      const render = () => {
        const rendered = renderOperations(this.family, this.table, ops, { start, end: Math.min(ops.length, start + chunkSize) });
        lineOps = rendered.lineOps;
        return rendered.text;
      };
      const result = await this.#nft(args, render, "run transaction");
      if (result.code !== 0) throw nftError(result.stderr, { family: this.family, table: this.table, tx, lineOps, what: "run transaction" });
    }
  }

  async list(options: ListOptions = {}): Promise<Listing> {
    const args = ["-s", "-a", ...(options.elements === false ? ["-t"] : []), "list", "table", this.family, this.table];
    const what = `list table ${this.family} ${this.table}`;
    const result = await this.#nft(args, undefined, what);
    if (result.code !== 0) throw nftError(result.stderr, { family: this.family, table: this.table, what });
    try {
      return parseListing(result.stdout);
    } catch (cause) {
      throw new NftablesError("failed", `Cannot ${what}: unexpected output (${(cause as Error).message})`, { cause });
    }
  }

  async check(): Promise<SupportReport> {
    const features = Object.fromEntries(Object.keys(PROBES).map((f) => [f, undefined])) as Record<SupportFeature, string | undefined>;
    let version: string | undefined;
    try {
      const v = await this.#exec.run([...this.#prefix, "--version"], { timeoutMs: this.#timeoutMs });
      if (v.code === 0) version = v.stdout.trim();
      else features.nft = v.stderr.trim() || `nft --version exited with ${v.code}`;
    } catch (err) {
      features.nft = `nft could not be started: ${(err as Error).message}`;
    }
    if (features.nft !== undefined) {
      for (const f of Object.keys(features) as SupportFeature[]) if (f !== "nft") features[f] = "nft is not available";
      return { ok: false, features };
    }
    const table = `nftables-js-probe-${randomBytes(4).toString("hex")}`;
    const scripts = probeScripts(this.family, table);
    const probe = async (script: string) => {
      try {
        const r = await this.#nft(["-c", "-f", "-"], script, "check");
        return r.code === 0 ? undefined : (ERROR_LINE_RE.exec(r.stderr)?.[2] ?? r.stderr.trim()) || "rejected";
      } catch (err) {
        return (err as Error).message;
      }
    };
    // One run when everything is supported; feature by feature only to say what is missing.
    const all = await probe(Object.values(scripts).join(""));
    if (all !== undefined) {
      for (const f of Object.keys(scripts) as Exclude<SupportFeature, "nft">[]) features[f] = await probe(scripts[f]);
      // Every feature passed on its own but not together: report it rather than claim support.
      if (Object.values(features).every((v) => v === undefined)) features.nft = `the combined probe failed: ${all}`;
    }
    const report: SupportReport = { ok: Object.values(features).every((v) => v === undefined), features };
    return version === undefined ? report : { ...report, version };
  }
}

const PROBES: Record<SupportFeature, true> = {
  nft: true,
  comments: true,
  nat: true,
  ct: true,
  numgen: true,
  fib: true,
  setTimeouts: true,
  verdictMaps: true,
  concatenations: true,
};

/** Self-contained `nft -c` scripts, one per feature, each in its own throwaway table. */
function probeScripts(family: Family, table: string): Record<Exclude<SupportFeature, "nft">, string> {
  const v6 = family === "ip6";
  const addr = v6 ? "ip6 daddr" : "ip daddr";
  const saddr = v6 ? "ip6 saddr" : "ip saddr";
  const type = v6 ? "ipv6_addr" : "ipv4_addr";
  const dnat = v6 ? "dnat to [2001:db8::2]:80" : family === "inet" ? "dnat ip to 192.0.2.2:80" : "dnat to 192.0.2.2:80";
  const dst = v6 ? "2001:db8::1" : "192.0.2.1";
  const t = (name: string) => `${family} ${table}-${name}`;
  return {
    comments: `add table ${t("comments")} { comment "probe" ; }\nadd chain ${t("comments")} c { comment "probe" ; }\n`,
    nat:
      `add table ${t("nat")}\nadd chain ${t("nat")} pre { type nat hook prerouting priority -100 ; }\n` +
      `add chain ${t("nat")} post { type nat hook postrouting priority 100 ; }\n` +
      `add rule ${t("nat")} pre ${addr} ${dst} meta l4proto tcp ${dnat}\nadd rule ${t("nat")} post masquerade fully-random\n`,
    ct: `add table ${t("ct")}\nadd chain ${t("ct")} c { type filter hook forward priority 0 ; }\nadd rule ${t("ct")} c ct state new,established accept\n`,
    numgen: `add table ${t("numgen")}\nadd chain ${t("numgen")} a\nadd chain ${t("numgen")} c\nadd rule ${t("numgen")} c numgen random mod 2 vmap { 0 : goto a, 1 : goto a }\n`,
    fib: `add table ${t("fib")}\nadd chain ${t("fib")} c { type filter hook input priority 0 ; }\nadd rule ${t("fib")} c fib saddr type local accept\n`,
    setTimeouts:
      `add table ${t("sets")}\nadd set ${t("sets")} s { type ${type} ; flags dynamic,timeout ; timeout 10800s ; }\n` +
      `add chain ${t("sets")} c\nadd rule ${t("sets")} c update @s { ${saddr} }\n`,
    verdictMaps: `add table ${t("vmap")}\nadd chain ${t("vmap")} a\nadd map ${t("vmap")} m { type ${type} : verdict ; }\nadd element ${t("vmap")} m { ${dst} : goto a }\n`,
    concatenations:
      `add table ${t("concat")}\nadd chain ${t("concat")} c\nadd map ${t("concat")} m { type ${type} . inet_proto . inet_service : verdict ; }\n` +
      `add rule ${t("concat")} c ${addr} . meta l4proto . th dport vmap @m\n`,
  };
}
