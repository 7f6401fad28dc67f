import type { ChildProcess, SpawnOptions } from "node:child_process";
import { execFile } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { promisify } from "node:util";
import { execIn, spawnIn, stopProcess, type ExecInOptions } from "./netns_exec.ts";
import { resultIpv4, runCni, type Pod } from "./pod.ts";
import { WeftdProcess, weftdArgv, weftdPaths, type WeftdPaths } from "./weftd_process.ts";

const execFileAsync = promisify(execFile);

/** Options for {@linkcode createCluster}. */
export interface ClusterOptions {
  /** Cluster name, part of every namespace name (`wtb-<name>-…`); letters, digits and dashes, at most 12; @default "weft" */
  name?: string;
  /** Number of nodes; @default 3 */
  nodes?: number;
  /** Start a Redis server in its own namespace on the underlay; @default false */
  redis?: boolean;
  /** MTU of the underlay links; @default 1500 */
  mtu?: number;
  /**
   * Processes started with spawn() survive this process: their output goes to files under `<workDir>/logs` and
   * they are detached (for `demo --keep`; remove the cluster later with `testbed down`); @default false
   */
  detached?: boolean;
}

/** One node: a namespace on the underlay with `eth0` and a default route via the outside host. */
export interface ClusterNode {
  /** 1-based */
  index: number;
  /** `node<index>`, used as the Kubernetes node name */
  name: string;
  netns: string;
  /** Address on the underlay (198.18.0.10 + index) */
  underlayIp: string;
  underlayIface: "eth0";
}

/** The underlay: 198.18.0.0/24 on a bridge in the switch namespace. */
export const UNDERLAY_PREFIX = "198.18.0";
export const UNDERLAY_PREFIX_LENGTH = 24;
/** A host "outside the cluster" on the underlay, and every node's default gateway. */
export const OUTSIDE_IP = `${UNDERLAY_PREFIX}.1`;
export const REDIS_IP = `${UNDERLAY_PREFIX}.2`;
export const REDIS_PORT = 6379;

/** Thrown when a cluster with the same name (any of its namespaces) already exists. */
export class ClusterExistsError extends Error {
  readonly clusterName: string;
  constructor(clusterName: string, namespaces: string[]) {
    super(`Cannot create cluster "${clusterName}": namespaces ${namespaces.join(", ")} already exist (remove them with: testbed down --name ${clusterName})`);
    this.name = "ClusterExistsError";
    this.clusterName = clusterName;
  }
}

/** Namespace names of a cluster (all start with `wtb-<name>-`). */
export function clusterNamespacePrefix(name: string): string {
  return `wtb-${name}-`;
}

async function ip(args: string[]): Promise<string> {
  try {
    return (await execFileAsync("ip", args)).stdout;
  } catch (err) {
    throw new Error(`ip ${args.join(" ")} failed: ${String((err as { stderr?: string }).stderr ?? "").trim() || (err as Error).message}`, { cause: err });
  }
}

/** The existing namespaces that belong to cluster `name`. */
export async function listClusterNamespaces(name: string): Promise<string[]> {
  const prefix = clusterNamespacePrefix(name);
  const out = await ip(["netns", "list"]);
  return out
    .split("\n")
    .map((l) => l.trim().split(/\s+/)[0] ?? "")
    .filter((n) => n.startsWith(prefix));
}

/** Kills every process inside a namespace (processes tests or the demo started there), then deletes it. */
export async function removeNamespace(netns: string): Promise<void> {
  const pids = (await ip(["netns", "pids", netns]).catch(() => ""))
    .split("\n")
    .map((p) => Number(p.trim()))
    .filter((p) => p > 0 && p !== process.pid);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await ip(["netns", "delete", netns]).catch((err: Error) => {
    if (!/No such file|not found|Invalid/i.test(err.message)) throw err;
  });
}

/** Removes every namespace of cluster `name` (for `testbed down` and for leftovers of a crashed run). */
export async function destroyClusterByName(name: string): Promise<string[]> {
  const namespaces = await listClusterNamespaces(name);
  for (const ns of namespaces) await removeNamespace(ns);
  return namespaces;
}

/** Options for {@linkcode Cluster.startWeftd}. */
export interface StartWeftdOptions {
  /** Extra weftd flags; @default ["--ip-masq"] */
  args?: readonly string[];
  /** Add `--redis-url` of the cluster's Redis when it has one; @default true */
  redis?: boolean;
  /** Extra Node.js flags (e.g. `--cpu-prof`); @default none */
  nodeArgs?: readonly string[];
  /** Extra environment (e.g. NODE_NAME); @default none */
  env?: NodeJS.ProcessEnv;
  /** Wait for "weftd is ready"; @default true */
  waitReady?: boolean;
  /** @default 30000 */
  timeoutMs?: number;
}

/** A running testbed cluster. Call {@linkcode Cluster.destroy} when done (it is safe to call twice). */
export class Cluster {
  readonly name: string;
  readonly switchNetns: string;
  readonly outsideNetns: string;
  readonly nodes: ClusterNode[];
  redis: { netns: string; ip: string; port: number; url: string; child?: ChildProcess } | undefined;
  readonly workDir: string;
  readonly #children = new Set<ChildProcess>();
  readonly #namespaces: string[] = [];
  #destroying: Promise<void> | undefined;
  /** The latest weftd started on each node (by node name). */
  readonly weftd = new Map<string, WeftdProcess>();
  /** Pods created with addPod() and not deleted. */
  readonly pods = new Map<string, Pod>();
  #podSeq = 0;
  #logSeq = 0;
  /** Log files of detached processes. */
  readonly logFiles = new Map<ChildProcess, string>();

  readonly detached: boolean;

  constructor(name: string, nodes: ClusterNode[], options: { detached?: boolean } = {}) {
    this.name = name;
    this.detached = options.detached ?? false;
    const prefix = clusterNamespacePrefix(name);
    this.switchNetns = `${prefix}sw`;
    this.outsideNetns = `${prefix}out`;
    this.nodes = nodes;
    this.workDir = mkdtempSync(join(tmpdir(), `wtb-${name}-`));
  }

  /** Records a namespace this cluster created, so destroy() removes it. */
  adoptNamespace(netns: string): void {
    this.#namespaces.push(netns);
  }

  /** Runs a command in one of the cluster's namespaces and returns stdout. */
  exec(netns: string, argv: readonly string[], options?: ExecInOptions): Promise<string> {
    return execIn(netns, argv, options);
  }

  /** Starts a long-running process in a namespace; it is stopped by destroy(). */
  spawn(netns: string, argv: readonly string[], options?: SpawnOptions): ChildProcess {
    let child: ChildProcess;
    if (this.detached) {
      const dir = join(this.workDir, "logs");
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `${netns}-${basename(argv[0] ?? "proc")}-${++this.#logSeq}.log`);
      const fd = openSync(file, "a");
      child = spawnIn(netns, argv, { ...options, stdio: ["ignore", fd, fd], detached: true });
      closeSync(fd);
      child.unref();
      this.logFiles.set(child, file);
    } else child = spawnIn(netns, argv, options);
    this.#children.add(child);
    child.once("exit", () => this.#children.delete(child));
    return child;
  }

  /** A node by name (`node2`) or 1-based index. */
  node(which: string | number): ClusterNode {
    const node = typeof which === "number" ? this.nodes[which - 1] : this.nodes.find((n) => n.name === which || n.netns === which);
    if (!node) throw new RangeError(`node: no node ${String(which)} in cluster ${this.name}`);
    return node;
  }

  /** Runs redis-cli against the cluster's Redis (from the Redis namespace) and returns its output. */
  redisCli(args: readonly string[]): Promise<string> {
    if (!this.redis) throw new Error(`cluster ${this.name} has no Redis (create it with redis: true)`);
    return execIn(this.redis.netns, ["redis-cli", "-h", this.redis.ip, "-p", String(this.redis.port), ...args]);
  }

  /** Writes net-conf.json to `<prefix>/config` in Redis (an object is JSON-encoded; a string is written as is). */
  async setNetConf(config: string | Record<string, unknown>, prefix = "/coreos.com/network"): Promise<void> {
    const text = typeof config === "string" ? config : JSON.stringify(config);
    const out = await this.redisCli(["set", `${prefix}/config`, text]);
    if (out.trim() !== "OK") throw new Error(`setNetConf: redis answered ${out.trim()}`);
  }

  /**
   * Stops the Redis server (SIGKILL, as a crash). With `save` (default true) it first writes its data to disk
   * (SAVE), so {@linkcode Cluster.startRedis} brings the same keys back, as a persistent server would.
   */
  async stopRedis(options: { save?: boolean } = {}): Promise<void> {
    const child = this.redis?.child;
    if (!child) throw new Error(`cluster ${this.name}: Redis is not running`);
    if (options.save ?? true) await this.redisCli(["save"]);
    await stopProcess(child, { signal: "SIGKILL" });
  }

  /** Starts the Redis server again (same address, same data directory). */
  async startRedis(): Promise<void> {
    if (!this.redis) throw new Error(`cluster ${this.name} has no Redis`);
    if (this.redis.child && this.redis.child.exitCode === null && this.redis.child.signalCode === null) throw new Error("startRedis: Redis is running");
    await startRedis(this, this.redis.netns);
  }

  /** The files weftd uses on a node (subnet.env, CNI socket, CNI data and state dirs), under workDir. */
  weftdPaths(node: ClusterNode): WeftdPaths {
    return weftdPaths(this.workDir, node.name);
  }

  /**
   * Starts weftd in a node namespace with that node's own subnet file, CNI socket and CNI data dir (and the
   * cluster's Redis), and waits until it logs "weftd is ready". The process is stopped by destroy().
   */
  async startWeftd(node: ClusterNode, options: StartWeftdOptions = {}): Promise<WeftdProcess> {
    const paths = this.weftdPaths(node);
    const args = [...(options.redis !== false && this.redis ? ["--redis-url", this.redis.url] : []), ...(options.args ?? ["--ip-masq"])];
    const child = this.spawn(node.netns, weftdArgv(paths, args, options.nodeArgs), { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...(options.env ?? {}) } });
    const weftd = new WeftdProcess(child, paths, node.name, { logFile: this.logFiles.get(child) });
    this.weftd.set(node.name, weftd);
    if (options.waitReady !== false) await weftd.ready({ timeoutMs: options.timeoutMs ?? 30_000 });
    return weftd;
  }

  /**
   * Creates a pod on a node: a namespace `wtb-<cluster>-<node>-<name>` and `eth0` in it, through the real weft-cni
   * binary run inside the node namespace (ADD with the node's network config on stdin).
   */
  async addPod(node: ClusterNode, name: string): Promise<Pod> {
    if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(name)) throw new TypeError(`pod name "${name}": use lower-case letters, digits or dashes`);
    const netns = `${clusterNamespacePrefix(this.name)}${node.name}-${name}`;
    if (this.pods.has(netns)) throw new Error(`pod ${name} already exists on ${node.name}`);
    await ip(["netns", "add", netns]);
    this.adoptNamespace(netns);
    await ip(["-n", netns, "link", "set", "lo", "up"]);
    const containerId = `wtb${(++this.#podSeq).toString().padStart(4, "0")}${name.replace(/-/g, "")}`;
    const paths = this.weftdPaths(node);
    try {
      const result = await runCni(node.netns, { command: "ADD", containerId, podNetns: netns, paths });
      const { ip: podIp, cidr, gateway } = resultIpv4(result);
      const pod: Pod = { name, node: node.name, nodeNetns: node.netns, netns, containerId, ifname: "eth0", ip: podIp, cidr, gateway, result };
      this.pods.set(netns, pod);
      return pod;
    } catch (err) {
      await removeNamespace(netns).catch(() => undefined);
      throw err;
    }
  }

  /** CNI DEL through the binary, then removes the pod's namespace. */
  async deletePod(pod: Pod): Promise<void> {
    await runCni(pod.nodeNetns, { command: "DEL", containerId: pod.containerId, podNetns: pod.netns, paths: this.weftdPaths(this.node(pod.node)) });
    this.pods.delete(pod.netns);
    await removeNamespace(pod.netns);
  }

  /** Stops every process, deletes every namespace and the work directory. A second call waits for the first. */
  destroy(): Promise<void> {
    this.#destroying ??= this.#destroy();
    return this.#destroying;
  }

  async #destroy(): Promise<void> {
    await Promise.all([...this.#children].map((c) => stopProcess(c, { graceMs: 2000 })));
    for (const ns of [...this.#namespaces].reverse()) await removeNamespace(ns).catch(() => undefined);
    // Anything left by a half-finished create (names are unique to this cluster).
    await destroyClusterByName(this.name).catch(() => undefined);
    rmSync(this.workDir, { recursive: true, force: true });
  }
}

async function startRedis(cluster: Cluster, netns: string): Promise<void> {
  const dir = join(cluster.workDir, "redis");
  mkdirSync(dir, { recursive: true });
  const child = cluster.spawn(netns, [
    "redis-server", "--bind", REDIS_IP, "--port", String(REDIS_PORT), "--dir", dir, "--save", "", "--appendonly", "no",
    "--protected-mode", "no", "--daemonize", "no", "--logfile", "",
  ]);
  let log = "";
  child.stdout?.on("data", (b: Buffer) => (log = (log + b.toString()).slice(-4000)));
  const deadline = Date.now() + 10_000;
  for (;;) {
    const pong = await execIn(netns, ["redis-cli", "-h", REDIS_IP, "-p", String(REDIS_PORT), "ping"]).catch(() => "");
    if (pong.trim() === "PONG") break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start in ${netns}: ${log.trim()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  cluster.redis = { netns, ip: REDIS_IP, port: REDIS_PORT, url: `redis://${REDIS_IP}:${REDIS_PORT}`, child };
}

/**
 * Builds a cluster: switch namespace with bridge `br0`, an outside host (198.18.0.1, every node's default gateway),
 * nodes at 198.18.0.11, .12, … with `eth0` and IP forwarding on, and optionally Redis at 198.18.0.2:6379.
 * Refuses to start when any namespace of the same cluster name exists. On any failure it removes what it made.
 */
export async function createCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const name = options.name ?? "weft";
  const count = options.nodes ?? 3;
  const mtu = options.mtu ?? 1500;
  if (!/^[a-z0-9][a-z0-9-]{0,11}$/.test(name)) throw new TypeError(`cluster name "${name}": use 1-12 lower-case letters, digits or dashes`);
  if (!Number.isInteger(count) || count < 1 || count > 200) throw new RangeError(`nodes: must be an integer from 1 to 200, got ${count}`);
  const taken = await listClusterNamespaces(name);
  if (taken.length > 0) throw new ClusterExistsError(name, taken);

  const prefix = clusterNamespacePrefix(name);
  const nodes: ClusterNode[] = Array.from({ length: count }, (_, i) => ({
    index: i + 1,
    name: `node${i + 1}`,
    netns: `${prefix}n${i + 1}`,
    underlayIp: `${UNDERLAY_PREFIX}.${11 + i}`,
    underlayIface: "eth0",
  }));
  const cluster = new Cluster(name, nodes, { detached: options.detached ?? false });
  try {
    const sw = cluster.switchNetns;
    await ip(["netns", "add", sw]);
    cluster.adoptNamespace(sw);
    await ip(["-n", sw, "link", "set", "lo", "up"]);
    await ip(["-n", sw, "link", "add", "br0", "mtu", String(mtu), "type", "bridge"]);
    await ip(["-n", sw, "link", "set", "br0", "up"]);

    // Each attached host gets `eth0` in its namespace and `p<tag>` on the switch bridge.
    const attach = async (netns: string, tag: string, address: string, gateway?: string) => {
      await ip(["netns", "add", netns]);
      cluster.adoptNamespace(netns);
      await ip(["-n", netns, "link", "set", "lo", "up"]);
      await ip(["-n", sw, "link", "add", `p${tag}`, "mtu", String(mtu), "type", "veth", "peer", "name", "eth0", "mtu", String(mtu), "netns", netns]);
      await ip(["-n", sw, "link", "set", `p${tag}`, "master", "br0", "up"]);
      await ip(["-n", netns, "addr", "add", `${address}/${UNDERLAY_PREFIX_LENGTH}`, "dev", "eth0"]);
      await ip(["-n", netns, "link", "set", "eth0", "up"]);
      if (gateway) await ip(["-n", netns, "route", "add", "default", "via", gateway, "dev", "eth0"]);
    };

    await attach(cluster.outsideNetns, "out", OUTSIDE_IP);
    for (const node of nodes) {
      await attach(node.netns, `n${node.index}`, node.underlayIp, OUTSIDE_IP);
      await execIn(node.netns, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
    }
    if (options.redis) {
      const redisNetns = `${prefix}redis`;
      await attach(redisNetns, "redis", REDIS_IP);
      await startRedis(cluster, redisNetns);
    }
    return cluster;
  } catch (err) {
    await cluster.destroy();
    throw err;
  }
}

/**
 * Destroys the cluster on SIGINT/SIGTERM (then exits 130/143). Returns a function that removes the handlers.
 * For CLIs and the demo: a library must not take over a process's signals by itself.
 */
export function destroyOnSignals(cluster: Cluster): () => void {
  const handler = (signal: NodeJS.Signals) => {
    process.stderr.write(`\ntestbed: ${signal}: tearing down cluster ${cluster.name}\n`);
    void cluster.destroy().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  process.once("SIGINT", handler);
  process.once("SIGTERM", handler);
  return () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
}
