// converge: how fast weftd programs the kernel when peer leases appear in Redis (vxlan backend).
//   converge/bulk-1000: 1,000 peer leases written at once (one MULTI/EXEC; flannel's key and JSON, VtepMAC): from
//     writing EXEC to the redis-cli that queued them → time until weftd has
//     the 1,000 routes in the node namespace (the route is each peer's last step, after neighbour and FDB; all
//     three are counted at the end). Median of 9 rounds after 2 warm-up rounds on both sides (printed as
//     warmup_ours/warmup_raw, not counted; leases deleted and their entries gone between rounds).
//     Baseline: the same 3,000 entries fed raw to `bridge -batch -` (1,000 FDB) then `ip -batch -` (1,000
//     neighbours + 1,000 routes) on a fresh flannel.1 in a fresh namespace, timed the same way: until
//     `ip monitor route` in that namespace has seen the last route. Target ratio ≤ 1.5.
//   converge/single-peer: one new lease → its route in the kernel (seen by `ip monitor route`), median over 50.
//     Baseline: the same three entries written raw (bridge fdb + ip -batch) per peer. Target ours ≤ 50 ms.
// Everything runs in a testbed cluster (1 node + Redis in namespaces); weftd runs from source in the node.
import { spawn, type ChildProcess } from "node:child_process";
import { createCluster, execIn, spawnIn, stopProcess, type Cluster } from "@weft/testbed";
import { report, summarize } from "@weft/bench";

const PEERS = 1_000;
const ROUNDS = 9;
/** Bulk rounds run first and not counted (both sides): V8 optimises weftd's per-lease code over the first bursts. */
const WARMUP = 2;
const SINGLE = 50;
const PREFIX = "/coreos.com/network";

interface Peer {
  subnet: string;
  subnetIp: string;
  publicIp: string;
  mac: string;
}

const hex = (n: number) => n.toString(16).padStart(2, "0");
/** Peer i: subnet 10.<1+i/256>.<i%256>.0/24 (outside the node's own 10.0.x.0/24), public IP in 198.19.0.0/16. */
function peer(i: number, base = 0): Peer {
  const n = i + base;
  const subnetIp = `10.${1 + (n >> 8)}.${n & 255}.0`;
  return { subnet: `${subnetIp}/24`, subnetIp, publicIp: `198.19.${(n >> 8) & 255}.${(n & 255) || 1}`, mac: `0e:00:00:01:${hex((n >> 8) & 255)}:${hex(n & 255)}` };
}
const leaseKey = (p: Peer) => `${PREFIX}/subnets/${p.subnet.replace("/", "-")}`;
const leaseValue = (p: Peer) => JSON.stringify({ PublicIP: p.publicIp, PublicIPv6: null, BackendType: "vxlan", BackendData: { VNI: 1, VtepMAC: p.mac } });

/** RESP encoding of commands, for `redis-cli --pipe`. */
function resp(commands: string[][]): string {
  return commands.map((c) => `*${c.length}\r\n${c.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`).join("");
}

/** Follows `ip monitor route` in a namespace and calls `onLine` for each line. */
function monitorRoutes(netns: string, onLine: (line: string, at: number) => void): ChildProcess {
  const child = spawnIn(netns, ["ip", "monitor", "route"]);
  let rest = "";
  child.stdout?.on("data", (b: Buffer) => {
    const at = performance.now();
    const parts = (rest + b.toString()).split("\n");
    rest = parts.pop() ?? "";
    for (const l of parts) onLine(l, at);
  });
  return child;
}

async function counts(netns: string): Promise<{ routes: number; neigh: number; fdb: number }> {
  const [routes, neigh, fdb] = await Promise.all([
    execIn(netns, ["ip", "route", "show", "dev", "flannel.1"]),
    execIn(netns, ["ip", "neigh", "show", "dev", "flannel.1", "nud", "permanent"]),
    execIn(netns, ["bridge", "fdb", "show", "dev", "flannel.1"]),
  ]);
  const n = (s: string, re: RegExp) => s.split("\n").filter((l) => re.test(l)).length;
  return { routes: n(routes, /onlink/), neigh: n(neigh, /lladdr/), fdb: n(fdb, / dst .* self permanent/) };
}

function waitFor(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const t = setInterval(() => {
      if (cond()) {
        clearInterval(t);
        resolve();
      } else if (Date.now() > deadline) {
        clearInterval(t);
        reject(new Error(`converge: timed out waiting for ${what}`));
      }
    }, 1);
  });
}

/** The raw baseline: a fresh namespace with a fresh flannel.1, then bridge -batch (FDB) and ip -batch (neigh + routes). */
async function rawBatch(cluster: Cluster, peers: Peer[], options: { round: number; observed: boolean }): Promise<number> {
  const ns = `wtb-${cluster.name}-raw${options.round}${options.observed ? "o" : "u"}`;
  const run = (cmd: string, args: string[], input?: string) =>
    new Promise<void>((resolve, reject) => {
      const child = spawn(cmd, args, { stdio: ["pipe", "ignore", "pipe"] });
      let err = "";
      child.stderr.on("data", (b: Buffer) => (err += b.toString()));
      child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(" ")}: ${err}`))));
      child.stdin.on("error", () => undefined);
      child.stdin.end(input ?? "");
    });
  await run("ip", ["netns", "add", ns]);
  cluster.adoptNamespace(ns);
  try {
    await run("ip", ["-n", ns, "link", "add", "flannel.1", "mtu", "1450", "address", "0e:00:00:00:00:01", "type", "vxlan", "id", "1", "dstport", "8472", "nolearning"]);
    await run("ip", ["-n", ns, "addr", "add", "10.0.9.0/32", "dev", "flannel.1"]);
    await run("ip", ["-n", ns, "link", "set", "flannel.1", "up"]);
    const fdb = peers.map((p) => `fdb replace ${p.mac} dev flannel.1 dst ${p.publicIp} self permanent`).join("\n") + "\n";
    const ipLines = [
      ...peers.map((p) => `neigh replace ${p.subnetIp} lladdr ${p.mac} dev flannel.1 nud permanent`),
      ...peers.map((p) => `route replace ${p.subnet} via ${p.subnetIp} dev flannel.1 onlink`),
    ].join("\n") + "\n";
    if (!options.observed) {
      // For reference only: no observer, the clock stops when `ip -batch` exits.
      const t0 = performance.now();
      await run("bridge", ["-n", ns, "-batch", "-"], fdb);
      await run("ip", ["-n", ns, "-batch", "-"], ipLines);
      return performance.now() - t0;
    }
    // The same stopwatch as for weftd: the clock stops when `ip monitor route` in the namespace has seen the last
    // route (an observer costs the writer a netlink notification per route, so both sides run with one).
    const seen = new Map<string, number>();
    const monitor = monitorRoutes(ns, (line, at) => {
      const m = line.match(/^(\d+\.\d+\.\d+\.\d+\/\d+) via .* dev flannel\.1/);
      if (m && !seen.has(m[1]!)) seen.set(m[1]!, at);
    });
    await new Promise((r) => setTimeout(r, 200));
    let ms: number;
    try {
      const t0 = performance.now();
      await run("bridge", ["-n", ns, "-batch", "-"], fdb);
      await run("ip", ["-n", ns, "-batch", "-"], ipLines);
      await waitFor("raw routes seen by the monitor", () => seen.size === peers.length, 10_000);
      ms = Math.max(...seen.values()) - t0;
    } finally {
      await stopProcess(monitor, { signal: "SIGKILL" });
    }
    const c = await counts(ns);
    if (c.routes !== peers.length || c.neigh !== peers.length || c.fdb !== peers.length) throw new Error(`raw baseline: kernel has ${JSON.stringify(c)}`);
    return ms;
  } finally {
    await run("ip", ["netns", "delete", ns]).catch(() => undefined);
  }
}

export default async function run(): Promise<void> {
  // detached: weftd logs to a file, as under a container runtime (a pipe read by this busy process would throttle it).
  const cluster = await createCluster({ name: "bconverge", nodes: 1, redis: true, detached: true });
  try {
    const node = cluster.nodes[0]!;
    await cluster.setNetConf({ Network: "10.0.0.0/8", SubnetLen: 24, SubnetMax: "10.0.255.0", Backend: { Type: "vxlan" } });
    // WEFT_BENCH_CPU_PROF=<dir>: weftd writes a V8 CPU profile there when it stops (for finding where time goes).
    const prof = process.env.WEFT_BENCH_CPU_PROF;
    const weftd = await cluster.startWeftd(node, { args: [], timeoutMs: 60_000, ...(prof ? { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${prof}`] } : {}) });
    const redisPipe = (commands: string[][]) => execIn(cluster.redis!.netns, ["redis-cli", "-h", cluster.redis!.ip, "--pipe"], { input: resp(commands) });

    // Route events in the node namespace.
    const added = new Map<string, number>();
    // The bulk round's subnets and how many of them the monitor has seen (an O(1) check for the 1 ms poll).
    let roundSubnets = new Set<string>();
    let roundSeen = 0;
    const removed = new Set<string>();
    const monitor = monitorRoutes(node.netns, (line, at) => {
      const m = line.match(/^(Deleted )?(\d+\.\d+\.\d+\.\d+\/\d+) via .* dev flannel\.1/);
      if (!m) return;
      if (m[1]) removed.add(m[2]!);
      else if (!added.has(m[2]!)) {
        added.set(m[2]!, at);
        if (roundSubnets.has(m[2]!)) roundSeen++;
      }
    });
    await new Promise((r) => setTimeout(r, 200));
    try {
      // Single peer: one new lease at a time through a long-lived redis-cli (no process start in the timing).
      const cli = spawnIn(node.netns, ["redis-cli", "-h", cluster.redis!.ip], { stdio: ["pipe", "ignore", "ignore"] });
      const single: number[] = [];
      try {
        for (let i = 0; i < SINGLE; i++) {
          const p = peer(i, 2000);
          const t0 = performance.now();
          cli.stdin!.write(`SET ${leaseKey(p)} '${leaseValue(p)}' PX 86400000\n`);
          await waitFor(`route ${p.subnet}`, () => added.has(p.subnet), 10_000);
          single.push(added.get(p.subnet)! - t0);
          await new Promise((r) => setTimeout(r, 20));
        }
      } finally {
        await stopProcess(cli, { signal: "SIGKILL" });
      }
      const singlePeers = Array.from({ length: SINGLE }, (_, i) => peer(i, 2000));
      await redisPipe(singlePeers.map((p) => ["DEL", leaseKey(p)]));
      await waitFor("single-peer routes removed", () => singlePeers.every((p) => removed.has(p.subnet)), 20_000);
      const singleRaw: number[] = [];
      {
        const ns = node.netns;
        for (let i = 0; i < 15; i++) {
          const p = peer(i, 3000);
          const t0 = performance.now();
          await execIn(ns, ["bridge", "fdb", "replace", p.mac, "dev", "flannel.1", "dst", p.publicIp, "self", "permanent"]);
          await execIn(ns, ["ip", "-batch", "-"], {
            input: `neigh replace ${p.subnetIp} lladdr ${p.mac} dev flannel.1 nud permanent\nroute replace ${p.subnet} via ${p.subnetIp} dev flannel.1 onlink\n`,
          });
          singleRaw.push(performance.now() - t0);
          await execIn(ns, ["ip", "-batch", "-"], { input: `route del ${p.subnet}\nneigh del ${p.subnetIp} dev flannel.1\n` });
          await execIn(ns, ["bridge", "fdb", "del", p.mac, "dev", "flannel.1", "dst", p.publicIp, "self"]);
        }
      }

      // Bulk: 1,000 leases at once.
      const peers = Array.from({ length: PEERS }, (_, i) => peer(i));
      const ours: number[] = [];
      const raw: number[] = [];
      const rawUnobserved: number[] = [];
      const execMs: number[] = [];
      let lastCounts = { routes: 0, neigh: 0, fdb: 0 };
      for (let round = 0; round < WARMUP + ROUNDS; round++) {
        raw.push(await rawBatch(cluster, peers, { round, observed: true }));
        rawUnobserved.push(await rawBatch(cluster, peers, { round, observed: false }));
        // The kernel tears a deleted namespace down in the background (its device and 3,000 entries); let that finish
        // before weftd's round, as the previous round's teardown finished before the raw batches.
        await new Promise((r) => setTimeout(r, 500));
        for (const p of peers) added.delete(p.subnet), removed.delete(p.subnet);
        roundSubnets = new Set(peers.map((p) => p.subnet));
        roundSeen = 0;
        // "At once" means atomically: a long-lived redis-cli (started before the clock) queues the 1,000 SETs in a
        // MULTI (each answered QUEUED, all before the clock); the clock starts when EXEC is written to it, so it
        // includes Redis applying the 1,000 SETs in one step and sending the notifications (weftd subscribes to keyevent
        // channels: 1,000 `set` events; the `expire` event each `SET … PX` also raises is not subscribed).
        // (When EXEC's reply reaches the bench is recorded too: exec_ms in the notes.)
        const writer = spawnIn(cluster.redis!.netns, ["redis-cli", "-h", cluster.redis!.ip], { stdio: ["pipe", "pipe", "ignore"] });
        let queued = 0;
        let execSent = false;
        let execAt: number | undefined;
        writer.stdout!.on("data", (b: Buffer) => {
          if (execSent) execAt ??= performance.now();
          else queued += (b.toString().match(/QUEUED/g) ?? []).length;
        });
        writer.stdin!.write(`MULTI\n${peers.map((p) => `SET ${leaseKey(p)} '${leaseValue(p)}' PX 86400000\n`).join("")}`);
        await waitFor(`${PEERS} SETs queued`, () => queued === PEERS, 30_000);
        await new Promise((r) => setTimeout(r, 300));
        const notes: number[] = [];
        const psub = process.env.WEFT_BENCH_DEBUG ? spawnIn(node.netns, ["redis-cli", "-h", cluster.redis!.ip, "--csv", "subscribe", "__keyevent@0__:set"]) : undefined;
        psub?.stdout?.on("data", (b: Buffer) => {
          const n = (b.toString().match(/"message"/g) ?? []).length;
          for (let i = 0; i < n; i++) notes.push(performance.now());
        });
        if (psub) await new Promise((r) => setTimeout(r, 300));
        const t0 = performance.now();
        const t0Date = Date.now();
        execSent = true;
        writer.stdin!.write("EXEC\n");
        await waitFor(`${PEERS} routes`, () => roundSeen === PEERS, 120_000);
        ours.push(Math.max(...peers.map((p) => added.get(p.subnet)!)) - t0);
        if (execAt !== undefined) execMs.push(execAt - t0);
        writer.stdin!.end();
        await stopProcess(writer, { graceMs: 5000 });
        if (psub) {
          await stopProcess(psub, { signal: "SIGKILL" });
          console.log(`round ${round}: redis-cli saw ${notes.length} set notifications from +${Math.round(notes[0]! - t0)} to +${Math.round(notes.at(-1)! - t0)} ms`);
        }
        lastCounts = await counts(node.netns);
        if (lastCounts.routes < PEERS || lastCounts.neigh < PEERS || lastCounts.fdb < PEERS) throw new Error(`weftd programmed ${JSON.stringify(lastCounts)}`);
        await redisPipe(peers.map((p) => ["DEL", leaseKey(p)]));
        const tDel = performance.now();
        await waitFor("bulk routes removed", () => peers.every((p) => removed.has(p.subnet)), 120_000).catch(async (err: Error) => {
          throw new Error(`${err.message}: ${peers.filter((p) => removed.has(p.subnet)).length} removed; kernel ${JSON.stringify(await counts(node.netns))}; weftd:\n${weftd.tail(8)}`);
        });
        if (process.env.WEFT_BENCH_DEBUG) {
          const times = weftd.lines.map((l) => JSON.parse(l) as { time: number; msg: string }).filter((l) => (l.msg === "Peer added" || l.msg.startsWith("Peers added")) && l.time >= t0Date).map((l) => l.time - t0Date);
          console.log(`round ${round}: weftd saw ${times.length} added events from +${Math.min(...times)} to +${Math.max(...times)} ms`);
        }
        if (process.env.WEFT_BENCH_DEBUG) {
          const at = peers.map((p) => added.get(p.subnet)! - t0).sort((x, y) => x - y);
          const bursts: string[] = [];
          let start = at[0]!, n = 0, prev = at[0]!;
          for (const t of [...at, Infinity]) {
            if (t - prev > 3) (bursts.push(`${n}@+${Math.round(start)}..${Math.round(prev)}`), (start = t), (n = 0));
            n++;
            prev = t;
          }
          console.log(`round ${round}: route bursts (count@ms): ${bursts.join(" ")}`);
        }
        if (process.env.WEFT_BENCH_DEBUG) console.log(`round ${round}: add ${Math.round(ours.at(-1)!)} ms, remove ${Math.round(performance.now() - tDel)} ms`);
        await new Promise((r) => setTimeout(r, 500));
      }
      // The warm-up rounds are reported but not counted.
      const warmup = { ours: ours.splice(0, WARMUP), raw: raw.splice(0, WARMUP), rawUnobserved: rawUnobserved.splice(0, WARMUP) };
      execMs.splice(0, WARMUP);
      const o = summarize(ours);
      const b = summarize(raw);
      report({
        bench: "converge/bulk-1000",
        ours: o.median,
        baseline: b.median,
        unit: "ms",
        lowerIsBetter: true,
        notes: {
          peers: PEERS,
          rounds: ROUNDS,
          warmup_ours: warmup.ours.map(Math.round),
          warmup_raw: warmup.raw.map(Math.round),
          ours_runs: ours.map(Math.round),
          raw_runs: raw.map(Math.round),
          // the raw batch without an observer, timed to process exit (the baseline before both sides had one)
          raw_unobserved_median: Math.round(summarize(rawUnobserved).median * 10) / 10,
          ratio_vs_unobserved: Math.round((o.median / summarize(rawUnobserved).median) * 1000) / 1000,
          exec_ms: execMs.map((x) => Math.round(x * 10) / 10),
          kernel: lastCounts,
          target_ratio: 1.5,
        },
      });
      const s = summarize(single);
      const sr = summarize(singleRaw);
      report({
        bench: "converge/single-peer",
        ours: s.median,
        baseline: sr.median,
        unit: "ms",
        lowerIsBetter: true,
        notes: { samples: SINGLE, p95: Math.round(s.p95), max: Math.round(Math.max(...single)), target_ms: 50 },
      });
      if (!weftd.running) throw new Error(`weftd exited:\n${weftd.tail()}`);
    } finally {
      await stopProcess(monitor, { signal: "SIGKILL" });
    }
  } finally {
    await cluster.destroy();
  }
}
