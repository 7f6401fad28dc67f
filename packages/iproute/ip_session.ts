/**
 * Long-lived `ip -batch -` and `bridge -batch -` processes that apply {@linkcode Batch}es without
 * starting a process per batch.
 *
 * Design notes. Starting a program from Node costs 2-5 ms of main-thread time (fork/exec of a large
 * process), far more than the kernel work of a few netlink requests. A session keeps one `ip`
 * process and one `bridge` process per namespace open (each started with its first job) and writes
 * each segment of a batch to the stdin of the process of its tool: a stretch of plain `ip` lines to
 * `ip`, a stretch of FDB lines to `bridge`; the tool runs a line as soon as it arrives. Each process
 * is a "lane" (`_batch_lane.ts`) with its own FIFO job queue; a job's end is marked by lines after it:
 *
 * - stop-at-first-failure (the default, like `apply()`): the process runs without `-force`, so
 *   iproute2 itself stops at a failing line (`Command failed -:N` on stderr) and exits; the session
 *   maps N to the operation and starts a new process for the next job. Progress markers after the
 *   lines tell when they ran: `link show dev lo` for `ip` (its output starts with `1: lo: `) and
 *   `vlan show dev lo` for `bridge` (only the header line `port  vlan-id`: the dump is filtered to
 *   `lo`, which can never be a bridge port, and FDB writes print nothing on stdout). Both tools
 *   flush stdout after each command.
 * - `continueOnError`: the process runs with `-force`; the job ends with a line that always fails
 *   (`link show dev ws<n>`: `Device "ws<n>" does not exist.`; `vlan show dev ws<n>`:
 *   `Cannot find device "ws<n>"`), so everything the job printed on stderr comes before that text
 *   and its own `Command failed -:<its line number>`, on the same (unbuffered) pipe.
 *
 * The segments of one `apply()` run strictly one after another (each is queued when the one before
 * it is done), and the first one is queued synchronously, before `apply()` returns: calls made in one
 * tick queue their first segments in call order. A process that dies or hangs (the job timer kills
 * it) fails the job in flight and is restarted for the next one. Segments that one batch line cannot
 * express (family-specific flushes, which need `-4`/`-6`) run as one-shot processes in order,
 * exactly as `apply()` runs them.
 *
 * `next`: a second batch for another namespace given by name runs in the same `ip` job as
 * `netns exec <name> ip -batch <file>` — the `ip` in the pod namespace is forked from the small
 * session process, not from Node. A CNI ADD then costs one round trip and no process start from Node.
 */
import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BatchLane, BRIDGE_LANE, IP_LANE, type NestedBatch } from "./_batch_lane.ts";
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
 * Applies batches over long-lived `ip -batch -` and `bridge -batch -` processes in one namespace. Obtain one with
 * {@linkcode createIpSession} (real) or `new FakeIpSession(fake)` from `@weft/iproute/testing`.
 */
export interface IpSession {
  /** The namespace the session works in; undefined = the caller's own. */
  readonly netns: string | undefined;
  /** Jobs waiting or running, in the `ip` and the `bridge` process together (to pick the least busy of several sessions). */
  readonly pending: number;
  /**
   * Applies a batch like {@linkcode IpRoute.apply}: rejects with the batch's validation error before
   * anything runs, or with a {@linkcode BatchError} naming the failed operation(s); without
   * `continueOnError` nothing after the first failure runs. The batch's segments (stretches of `ip`
   * lines and of FDB lines) run one after another; the first is queued before `apply()` returns, so
   * the first segments of calls made without awaiting in between are queued in call order (the jobs
   * of each tool run in FIFO order; the `ip` and the `bridge` process run side by side).
   */
  apply(batch: Batch, options?: SessionApplyOptions): Promise<void>;
  /** Rejects queued jobs, waits for the running ones, ends the processes. Later `apply()` calls reject. */
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
  /** Kill a process when one job (one segment of a batch) runs longer than this (the job fails, the next one restarts it). @default 30000 */
  readonly timeoutMs?: number;
  /** Runs the one-shot segments (flagged flushes, `next` outside /run/netns). @default createExec() */
  readonly exec?: Exec;
  /** Where the scripts of `next` batches are written (one small file per job, removed after it). @default os.tmpdir() */
  readonly tmpDir?: string;
}

/**
 * Starts nothing yet: the `ip` process starts with the first `ip` job, the `bridge` process with the
 * first FDB job, each again after it died.
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

class RealIpSession implements IpSession {
  readonly netns: string | undefined;
  readonly #ip: RealIpRoute;
  readonly #exec: Exec;
  readonly #timeoutMs: number;
  readonly #tmpRoot: string;
  /** Names this session's script files (removed after each job, so nothing stays behind). */
  readonly #id = `${process.pid}-${randomBytes(4).toString("hex")}`;
  readonly #ipLane: BatchLane;
  readonly #bridgeLane: BatchLane;
  #seq = 0;
  #closed = false;

  constructor(netns: NetnsHandle | undefined, timeoutMs: number, exec: Exec, tmpRoot: string) {
    this.netns = netns === undefined ? undefined : checkNetnsHandle(netns);
    this.#timeoutMs = timeoutMs;
    this.#exec = exec;
    this.#tmpRoot = tmpRoot;
    const ip = (this.#ip = new RealIpRoute({ netns: this.netns, exec, timeoutMs }));
    this.#ipLane = new BatchLane({ ...IP_LANE, ip, timeoutMs });
    this.#bridgeLane = new BatchLane({ ...BRIDGE_LANE, ip, timeoutMs });
  }

  get pending(): number {
    return this.#ipLane.pending + this.#bridgeLane.pending;
  }

  async apply(batch: Batch, options: SessionApplyOptions = {}): Promise<void> {
    if (this.#closed) throw this.#closedError();
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
    // Nothing is awaited before the first segment is queued (see the module notes).
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i]!;
      const streamed = segment.flags.length === 0;
      const last = i === segments.length - 1;
      let segFailures: IpRouteError[];
      if (streamed && segment.tool === "ip") {
        const nest = last && nextName !== undefined && nextSegment !== undefined ? this.#nested(next!.netns, nextName, nextSegment) : undefined;
        nestedDone = nest !== undefined;
        segFailures = await this.#enqueue(this.#ipLane, segment.commands, force, nest);
      } else if (streamed && segment.tool === "bridge") {
        segFailures = await this.#enqueue(this.#bridgeLane, segment.commands, force, undefined);
      } else {
        segFailures = await this.#ip.runSegment(segment, force);
      }
      failures.push(...segFailures);
      if (segFailures.length && !force) break;
    }
    if (next && next.batch.size > 0 && !nestedDone && (force || failures.length === 0)) {
      const nest = nextName !== undefined && nextSegment !== undefined ? this.#nested(next.netns, nextName, nextSegment) : undefined;
      if (nest) {
        failures.push(...(await this.#enqueue(this.#ipLane, [], force, nest)));
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

  #closedError(): IpRouteError {
    return new IpRouteError("Failed", "apply", "the ip session is closed", this.netns !== undefined ? { netns: this.netns } : {});
  }

  #nested(netns: string, name: string, segment: BatchSegment): NestedBatch | undefined {
    const file = join(this.#tmpRoot, `weft-ip-session-${this.#id}-${++this.#seq}`);
    if (!SAFE_PATH.test(file)) return undefined;
    return { name, file, segment, ip: new RealIpRoute({ netns, exec: this.#exec, timeoutMs: this.#timeoutMs }) };
  }

  /** Queues a job on `lane` synchronously (or rejects when the session is closed). */
  #enqueue(lane: BatchLane, commands: readonly BatchCommand[], force: boolean, nested: NestedBatch | undefined): Promise<IpRouteError[]> {
    if (this.#closed) return Promise.reject(this.#closedError());
    if (!nested) return lane.enqueue(commands, force);
    writeFileSync(nested.file, scriptOf(nested.segment), { mode: 0o600 });
    return lane.enqueue(commands, force, nested).finally(() => rmSync(nested.file, { force: true }));
  }

  async close(): Promise<void> {
    this.#closed = true;
    const reason = () => this.#closedError();
    await Promise.all([this.#ipLane.close(reason), this.#bridgeLane.close(reason)]);
  }
}
