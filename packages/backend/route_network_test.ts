import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { IpRoute } from "@weft/iproute";
import { FakeIpRoute, FakeIpSession } from "@weft/iproute/testing";
import type { Lease } from "@weft/subnet";
import type { EntriesDiff, KernelEntries } from "./kernel_entries.ts";
import { MemoryEntriesKernel } from "./memory_entries_kernel.ts";
import { PeerError } from "./peer_error.ts";
import type { ApplyEntriesOptions } from "./reconcile_entries.ts";
import { cidrText, peerKey, RouteNetwork, type RouteNetworkOptions } from "./route_network.ts";
import type { Logger } from "./types.ts";

const test = suite("RouteNetwork");

const NET = { family: 4, address: "10.244.0.0", prefixLength: 16 } as const;
const lease = (n: number, mac = `aa:aa:aa:aa:aa:0${n}`, type = "test"): Lease => ({
  subnet: { family: 4, address: `10.244.${n}.0`, prefixLength: 24 },
  publicIp: { family: 4, address: `192.168.1.${n}` },
  backendType: type,
  backendData: { mac },
});

const entriesOf = (n: number, mac = `aa:aa:aa:aa:aa:0${n}`): KernelEntries => ({
  neighbours: [{ dev: "tun0", address: `10.244.${n}.0`, lladdr: mac }],
  fdb: [{ dev: "tun0", lladdr: mac, dst: `192.168.1.${n}` }],
  routes: [{ dst: `10.244.${n}.0/24`, dev: "tun0", via: `10.244.${n}.0`, onlink: true }],
});

function recordingLogger() {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj, ...(msg === undefined ? {} : { msg }) });
  const logger: Logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
  return { lines, logger };
}

class TestNetwork extends RouteNetwork {
  failing = new Set<string>();
  passes = 0;
  constructor(kernel: MemoryEntriesKernel, logger?: Logger, resyncMs = 10_000, extra: Partial<RouteNetworkOptions> = {}) {
    super({
      ...extra,
      backendType: "Test",
      lease: lease(1),
      mtu: 1450,
      iproute: {} as IpRoute,
      kernel,
      ownership: { entryDevices: ["tun0"], routeDevices: ["tun0", "eth0"], routeNetworks: [NET], exclude: [lease(1).subnet!] },
      resyncMs,
      ...(logger ? { logger } : {}),
    });
  }
  protected override beforeReconcile(): Promise<void> {
    this.passes++;
    return Promise.resolve();
  }
  protected override peerEntries(peer: Lease): KernelEntries {
    const key = cidrText(peer.subnet!);
    if (this.failing.has(key)) throw new PeerError(key, "cannot compute");
    const n = Number(peer.subnet!.address.split(".")[2]);
    return entriesOf(n, (peer.backendData as { mac: string }).mac);
  }
}

const merge = (...s: KernelEntries[]): KernelEntries => ({
  neighbours: s.flatMap((x) => x.neighbours),
  fdb: s.flatMap((x) => x.fdb),
  routes: s.flatMap((x) => x.routes),
});

test("peerKey() and cidrText() use the IPv4 subnet, else the IPv6 one", () => {
  assert.is(peerKey(lease(2)), "10.244.2.0/24");
  assert.is(peerKey({ ipv6Subnet: { family: 6, address: "fd00:1::", prefixLength: 64 } }), "fd00:1::/64");
  assert.is(peerKey({}), undefined);
});

test("handleLeaseEvent(snapshot) programs every peer of its type and ignores its own lease and other types", async () => {
  const kernel = new MemoryEntriesKernel();
  const { lines, logger } = recordingLogger();
  const net = new TestNetwork(kernel, logger);
  await net.handleLeaseEvent({ type: "snapshot", leases: [lease(1), lease(2), lease(3), lease(4, "aa:aa:aa:aa:aa:04", "host-gw")] });
  assert.equal(kernel.entries(), merge(entriesOf(2), entriesOf(3)));
  assert.equal([...net.peers().keys()], ["10.244.2.0/24", "10.244.3.0/24"]);
  assert.ok(lines.some((l) => l.level === "info" && l.msg === "ignoring non-test subnet"));
  assert.is(net.backendType, "test");
});

test("handleLeaseEvent(removed) deletes the peer's route, FDB entry and neighbour", async () => {
  const kernel = new MemoryEntriesKernel();
  const net = new TestNetwork(kernel);
  await net.handleLeaseEvent({ type: "snapshot", leases: [lease(2), lease(3)] });
  await net.handleLeaseEvent({ type: "removed", lease: lease(2) });
  assert.equal(kernel.entries(), entriesOf(3));
  const last = kernel.applied.at(-1);
  assert.equal(last?.remove, entriesOf(2));
});

test("handleLeaseEvent(added) with a new MAC replaces the neighbour and removes the old FDB entry", async () => {
  const kernel = new MemoryEntriesKernel();
  const net = new TestNetwork(kernel);
  await net.handleLeaseEvent({ type: "added", lease: lease(2) });
  await net.handleLeaseEvent({ type: "added", lease: lease(2, "bb:bb:bb:bb:bb:02") });
  assert.equal(kernel.entries(), entriesOf(2, "bb:bb:bb:bb:bb:02"));
});

test("a snapshot removes owned leftovers of departed peers and keeps foreign entries", async () => {
  const foreign: KernelEntries = {
    neighbours: [{ dev: "eth0", address: "192.168.1.254", lladdr: "cc:cc:cc:cc:cc:cc" }],
    fdb: [],
    routes: [
      { dst: "0.0.0.0/0", dev: "eth0", via: "192.168.1.254" },
      { dst: "10.244.1.0/24", dev: "eth0", via: "192.168.1.99" }, // own subnet: never ours
      { dst: "10.99.0.0/16", dev: "tun0", via: "10.99.0.1" }, // outside the Network
      { dst: "10.244.7.0/24", dev: "cni0" }, // other device
    ],
  };
  const kernel = new MemoryEntriesKernel().load(merge(foreign, entriesOf(5)));
  const net = new TestNetwork(kernel);
  await net.handleLeaseEvent({ type: "snapshot", leases: [lease(2)] });
  const want = new MemoryEntriesKernel().load(merge(foreign, entriesOf(2))).entries();
  assert.equal(kernel.entries(), want);
});

test("a peer whose entries cannot be computed gets a PeerError, keeps its entries, and others are served", async () => {
  const kernel = new MemoryEntriesKernel();
  const { lines, logger } = recordingLogger();
  const net = new TestNetwork(kernel, logger);
  await net.handleLeaseEvent({ type: "snapshot", leases: [lease(2), lease(3)] });
  net.failing.add("10.244.2.0/24");
  await net.handleLeaseEvent({ type: "added", lease: lease(2) }); // recomputed (incremental): fails
  await net.handleLeaseEvent({ type: "added", lease: lease(4) });
  assert.equal(kernel.entries(), merge(entriesOf(2), entriesOf(3), entriesOf(4)));
  assert.equal([...net.peerErrors().keys()], ["10.244.2.0/24"]);
  assert.instance(net.peerErrors().get("10.244.2.0/24"), PeerError);
  assert.is(lines.filter((l) => l.level === "error").length, 1);
  await net.reconcile(); // full pass: still failing
  assert.equal(kernel.entries(), merge(entriesOf(2), entriesOf(3), entriesOf(4)));
  assert.is(lines.filter((l) => l.level === "error").length, 1, "the same error is logged once");
  net.failing.clear();
  await net.reconcile();
  assert.is(net.peerErrors().size, 0);
});

test("when the batch fails, peers are applied one by one and the failing peer is rolled back", async () => {
  const kernel = new MemoryEntriesKernel({
    failOn: (s) => (s.kind === "route" && s.entry.dst === "10.244.3.0/24" ? new Error("RTNETLINK answers: Network is unreachable") : undefined),
  });
  const net = new TestNetwork(kernel);
  await net.handleLeaseEvent({ type: "snapshot", leases: [lease(2), lease(3), lease(4)] });
  assert.equal(kernel.entries(), merge(entriesOf(2), entriesOf(4)));
  assert.match(net.peerErrors().get("10.244.3.0/24")?.message ?? "", /^Peer 10.244.3.0\/24: RTNETLINK answers: Network is unreachable/);
});

test("added/removed after the first pass do not read the kernel (incremental) and a burst is merged", async () => {
  const kernel = new MemoryEntriesKernel();
  const net = new TestNetwork(kernel);
  await net.handleLeaseEvent({ type: "snapshot", leases: [] });
  const reads = kernel.reads;
  const applied = kernel.applied.length;
  // not awaited one by one: changes made during a pass go into the next one
  await Promise.all([2, 3, 4, 5, 6].map((n) => net.handleLeaseEvent({ type: "added", lease: lease(n) })));
  assert.is(kernel.reads, reads, "no kernel listing for incremental changes");
  assert.ok(kernel.applied.length - applied <= 2, `${kernel.applied.length - applied} batches`);
  assert.equal(kernel.entries(), merge(entriesOf(2), entriesOf(3), entriesOf(4), entriesOf(5), entriesOf(6)));
  await net.handleLeaseEvent({ type: "removed", lease: lease(4) });
  assert.is(kernel.reads, reads);
  assert.equal(kernel.entries(), merge(entriesOf(2), entriesOf(3), entriesOf(5), entriesOf(6)));
});

test("an incremental update that fails falls back to a full pass that repairs the kernel", async () => {
  const kernel = new MemoryEntriesKernel();
  const net = new TestNetwork(kernel);
  await net.handleLeaseEvent({ type: "snapshot", leases: [lease(2)] });
  kernel.remove(entriesOf(2)); // behind our back: the stale-MAC FDB delete of the next update fails
  await net.handleLeaseEvent({ type: "added", lease: lease(2, "bb:bb:bb:bb:bb:02") });
  assert.equal(kernel.entries(), entriesOf(2, "bb:bb:bb:bb:bb:02"));
});

test("a peer removed while a full pass runs is removed by the next pass", async () => {
  let during: (() => void) | undefined;
  class SlowRead extends MemoryEntriesKernel {
    override async read(...args: Parameters<MemoryEntriesKernel["read"]>) {
      const hook = during;
      during = undefined;
      hook?.(); // the event arrives after the pass took its copy of the peer set
      return super.read(...args);
    }
  }
  const kernel = new SlowRead();
  const net = new TestNetwork(kernel);
  let removed: Promise<void> | undefined;
  during = () => void (removed = net.handleLeaseEvent({ type: "removed", lease: lease(2) }));
  await net.handleLeaseEvent({ type: "snapshot", leases: [lease(2), lease(3)] });
  assert.ok(removed, "the removal happened during the pass");
  await removed;
  assert.equal(kernel.entries(), entriesOf(3));
});

test("reconcile() requests made in the same tick share one pass", async () => {
  const kernel = new MemoryEntriesKernel();
  const net = new TestNetwork(kernel);
  await Promise.all([net.reconcile(), net.reconcile(), net.reconcile(), net.reconcile()]);
  assert.is(net.passes, 1);
});

test("reconcile() coalesces requests made while a pass runs into one extra pass", async () => {
  const kernel = new MemoryEntriesKernel();
  const net = new TestNetwork(kernel);
  const first = net.reconcile();
  await new Promise((r) => setImmediate(r)); // the first pass has started
  await Promise.all([first, net.reconcile(), net.reconcile(), net.reconcile()]);
  assert.is(net.passes, 2);
});

test("added events delivered in one tick are programmed by one pass", async () => {
  const kernel = new MemoryEntriesKernel();
  const net = new TestNetwork(kernel);
  await net.handleLeaseEvent({ type: "snapshot", leases: [] });
  const applied = kernel.applied.length;
  await Promise.all([2, 3, 4, 5, 6].map((n) => net.handleLeaseEvent({ type: "added", lease: lease(n) })));
  assert.is(kernel.applied.length - applied, 1);
  assert.equal(kernel.entries().routes.length, 5);
});

test("run() restores entries deleted by someone else and returns after abort", async () => {
  const kernel = new MemoryEntriesKernel();
  const { lines, logger } = recordingLogger();
  const net = new TestNetwork(kernel, logger, 10);
  await net.handleLeaseEvent({ type: "snapshot", leases: [lease(2)] });
  const stop = new AbortController();
  const running = net.run(stop.signal);
  kernel.remove({ routes: entriesOf(2).routes, fdb: entriesOf(2).fdb });
  const deadline = Date.now() + 2000;
  while (kernel.entries().routes.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  stop.abort();
  await running;
  assert.equal(kernel.entries(), entriesOf(2));
  assert.ok(lines.some((l) => l.msg === "repaired kernel entries changed by someone else"));
});

test("an ipSession is opened at the first write, used for small batches, and closed when run() ends", async () => {
  const ip = new FakeIpRoute();
  await ip.link.add({ type: "veth", name: "eth0", peer: { name: "peer0" }, up: true });
  await ip.address.add({ dev: "eth0", address: "192.168.1.1/24" });
  const sessions: FakeIpSession[] = [];
  class GwNetwork extends RouteNetwork {
    protected override peerEntries(peer: Lease): KernelEntries {
      return { neighbours: [], fdb: [], routes: [{ dst: cidrText(peer.subnet!), dev: "eth0", via: peer.publicIp!.address }] };
    }
  }
  const net = new GwNetwork({
    backendType: "test",
    lease: lease(1),
    mtu: 1500,
    iproute: ip,
    ipSession: () => {
      const s = new FakeIpSession(ip.forNetns(undefined));
      sessions.push(s);
      return s;
    },
    ownership: { entryDevices: [], routeDevices: ["eth0"], routeNetworks: [NET], exclude: [lease(1).subnet!] },
  });
  assert.is(sessions.length, 0, "nothing opened before a write");
  const stop = new AbortController();
  const running = net.run(stop.signal);
  await net.handleLeaseEvent({ type: "snapshot", leases: [lease(2)] });
  await net.handleLeaseEvent({ type: "added", lease: lease(3) });
  assert.is(sessions.length, 1);
  assert.equal(sessions[0]!.jobs.map((j) => j.batch.toString()), ["# ip\nroute replace 10.244.2.0/24 via 192.168.1.2 dev eth0\n", "# ip\nroute replace 10.244.3.0/24 via 192.168.1.3 dev eth0\n"]);
  stop.abort();
  await running;
  const closedErr = await sessions[0]!.apply(ip.batch().deleteRoute({ dst: "10.244.2.0/24" })).then(() => undefined, (e: unknown) => e);
  assert.match(String(closedErr), /closed/, "closed when run() ended");
  // after run(): writes go through batch processes of their own
  await net.handleLeaseEvent({ type: "added", lease: lease(4) });
  assert.is(sessions.length, 1);
  assert.is(sessions[0]!.jobs.length, 2);
  assert.is(ip.lastBatch?.toString(), "# ip\nroute replace 10.244.4.0/24 via 192.168.1.4 dev eth0\n");
  assert.match(ip.dump(), /10\.244\.4\.0\/24 via 192\.168\.1\.4 dev eth0/);
});

/** A kernel whose writes land at once but "finish" only when released; it reports them queued before that. */
class QueuedKernel extends MemoryEntriesKernel {
  readonly running: Array<() => void> = [];
  starts = 0;
  override async apply(diff: EntriesDiff, options: ApplyEntriesOptions = {}): Promise<void> {
    this.starts++;
    await super.apply(diff);
    options.onQueued?.();
    await new Promise<void>((resolve) => this.running.push(resolve));
  }
  release(): void {
    for (const r of this.running.splice(0)) r();
  }
}

const until = async (cond: () => boolean, what: string) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 1));
  assert.ok(cond(), what);
};

test("the next incremental pass starts once the previous one's writes are queued, before they finish", async () => {
  const kernel = new QueuedKernel();
  const net = new TestNetwork(kernel, undefined, 10_000);
  await net.handleLeaseEvent({ type: "snapshot", leases: [] });
  let firstDone = false;
  const first = net.handleLeaseEvent({ type: "added", lease: lease(2) }).then(() => (firstDone = true));
  await until(() => kernel.starts === 1, "the first pass writes");
  const second = net.handleLeaseEvent({ type: "added", lease: lease(3) });
  await until(() => kernel.starts === 2, "the second pass writes while the first one's writes still run");
  assert.is(firstDone, false, "handleLeaseEvent resolves only when the kernel has finished");
  kernel.release();
  await first;
  kernel.release();
  await second;
  assert.equal(kernel.entries(), merge(entriesOf(2), entriesOf(3)));
});

test("a MAC change in a pass that overlaps the pass that added the peer removes the old FDB entry", async () => {
  const kernel = new QueuedKernel();
  const net = new TestNetwork(kernel, undefined, 10_000);
  await net.handleLeaseEvent({ type: "snapshot", leases: [] });
  const first = net.handleLeaseEvent({ type: "added", lease: lease(2) });
  await until(() => kernel.starts === 1, "the first pass writes");
  const second = net.handleLeaseEvent({ type: "added", lease: lease(2, "bb:bb:bb:bb:bb:02") });
  await until(() => kernel.starts === 2, "the second pass writes");
  kernel.release();
  await first;
  kernel.release();
  await second;
  assert.equal(kernel.entries(), entriesOf(2, "bb:bb:bb:bb:bb:02"));
});

test("a full pass waits until the writes of earlier passes have finished before it reads the kernel", async () => {
  const kernel = new QueuedKernel();
  const net = new TestNetwork(kernel, undefined, 10_000);
  await net.handleLeaseEvent({ type: "snapshot", leases: [] });
  const first = net.handleLeaseEvent({ type: "added", lease: lease(2) });
  await until(() => kernel.starts === 1, "the first pass writes");
  const reads = kernel.reads;
  const full = net.reconcile();
  await new Promise((r) => setTimeout(r, 20));
  assert.is(kernel.reads, reads, "no kernel read while writes are still running");
  kernel.release();
  await first;
  const report = await full;
  assert.is(kernel.reads, reads + 1);
  assert.ok(report.diff.add.routes.length === 0 && report.diff.remove.routes.length === 0, "nothing to repair");
});

test("handleLeaseEvent(own-removed) changes nothing and warns", async () => {
  const kernel = new MemoryEntriesKernel();
  const { lines, logger } = recordingLogger();
  const net = new TestNetwork(kernel, logger);
  await net.handleLeaseEvent({ type: "snapshot", leases: [lease(2)] });
  const applied = kernel.applied.length;
  await net.handleLeaseEvent({ type: "own-removed", lease: lease(1) });
  assert.is(kernel.applied.length, applied);
  assert.ok(lines.some((l) => l.level === "warn"));
});

test.run();
