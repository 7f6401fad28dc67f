// The shared LeaseManager suite (STYLE 13/17): the same tests against every LeaseRegistry. A registry's test
// file calls `leaseManagerConformance(harness)`; the kube registry can do the same (its harness decides
// which cases apply through `capabilities`).
import { setMaxListeners } from "node:events";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { OutOfSubnetsError, formatCidr, parseCidr, parseIp } from "@weft/ipam";
import type { Cidr } from "@weft/ipam";
import { parseNetConf } from "@weft/netconf";
import type { Lease, LeaseEvent, LeaseRegistry } from "./types.ts";
import { LeaseManager } from "./lease_manager.ts";
import type { LeaseManagerOptions } from "./lease_manager.ts";
import { LeaseLostError } from "./errors.ts";
import { formatSubnetKey } from "./subnet_key.ts";
import { withTimeout } from "./_async.ts";

/** How the suite reaches one kind of registry. */
export interface RegistryHarness {
  readonly name: string;
  /** Before each test: an empty store. */
  reset(): Promise<void>;
  /** A registry on the current store; each call is an independent client ("another node"). */
  open(): LeaseRegistry;
  /** Restarts the backing store with or without its data while the registries stay open. */
  restart(options: { keepData: boolean }): Promise<void>;
  /** After all tests. */
  close(): Promise<void>;
}

const ip = parseIp;
const cidr = parseCidr;
const text = (c: Cidr | undefined) => (c ? formatCidr(c) : "none");
const FLANNEL_CONF = parseNetConf(`{ "Network": "10.3.0.0/16", "SubnetMin": "10.3.1.0", "SubnetMax": "10.3.25.0" }`);
const FAST: LeaseManagerOptions = { ttlMs: 60_000, renewMarginMs: 10_000, retryMs: 100, backoffMs: 5 };

async function seed(registry: LeaseRegistry): Promise<void> {
  // flannel's etcd subnet_test fixture: 10.3.1/2/4/5.0/24 in range and 10.3.31.0/24 out of it, all PublicIP 1.1.1.1.
  for (const s of ["10.3.1.0/24", "10.3.2.0/24", "10.3.4.0/24", "10.3.5.0/24", "10.3.31.0/24"]) {
    await registry.create({ subnet: cidr(s), publicIp: ip("1.1.1.1") }, { ttlMs: 60_000 });
  }
}

function inRange(lease: Lease, lo: number, hi: number, base = "10.3"): boolean {
  const a = lease.subnet?.address ?? "";
  if (!a.startsWith(`${base}.`) || lease.subnet?.prefixLength !== 24) return false;
  const third = Number(a.split(".")[2]);
  return third >= lo && third <= hi;
}

async function rejects(fn: () => Promise<unknown>, re?: RegExp): Promise<void> {
  const err = await fn().then(() => undefined, (e: unknown) => e ?? new Error("rejected"));
  assert.ok(err instanceof Error, "expected a rejection");
  if (re) assert.match((err as Error).message, re);
}

/** Collects events from a stream in the background; `until` waits (bounded) for a condition on them. */
function collect(stream: AsyncIterable<LeaseEvent>) {
  const events: LeaseEvent[] = [];
  let notify: (() => void) | undefined;
  const done = (async () => {
    for await (const e of stream) {
      events.push(e);
      notify?.();
    }
  })();
  return {
    events,
    done,
    async until(pred: (events: LeaseEvent[]) => boolean, ms: number, what: string): Promise<void> {
      const deadline = Date.now() + ms;
      while (!pred(events)) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for ${what}; events: ${JSON.stringify(events.map(summary))}`);
        await new Promise<void>((r) => {
          const t = setTimeout(r, Math.min(left, 50));
          notify = () => {
            clearTimeout(t);
            r();
          };
        });
      }
    },
  };
}

function summary(e: LeaseEvent): string {
  if (e.type === "snapshot") return `snapshot[${e.leases.map((l) => text(l.subnet)).join(",")}]`;
  return `${e.type}:${text(e.lease.subnet)}`;
}

/** Current set of other leases implied by an event stream. */
function replay(events: LeaseEvent[]): Set<string> {
  const set = new Set<string>();
  for (const e of events) {
    if (e.type === "snapshot") {
      set.clear();
      for (const l of e.leases) set.add(formatSubnetKey(l));
    } else if (e.type === "added") set.add(formatSubnetKey(e.lease));
    else if (e.type === "removed") set.delete(formatSubnetKey(e.lease));
  }
  return set;
}

export function leaseManagerConformance(h: RegistryHarness): void {
  const test = suite(`LeaseManager on ${h.name}`);
  const stops: AbortController[] = [];
  const controller = () => {
    const c = new AbortController();
    setMaxListeners(100, c.signal); // several managers, loops and in-flight calls share one signal in these tests
    stops.push(c);
    return c;
  };
  test.before.each(async () => {
    await h.reset();
  });
  test.after.each(() => {
    for (const c of stops.splice(0)) c.abort();
  });
  test.after(async () => {
    await h.close();
  });

  test("acquire() allocates an in-range subnet and returns the same one when called again (flannel TestAcquireLease)", async () => {
    const r = h.open();
    await seed(r);
    const m = new LeaseManager(r, FAST);
    const attrs = { publicIp: ip("1.2.3.4"), backendType: "vxlan", backendData: { VNI: 1 } };
    const l1 = await m.acquire(FLANNEL_CONF, attrs);
    assert.ok(inRange(l1, 1, 25), `lease ${text(l1.subnet)} in 10.3.1.0..10.3.25.0`);
    assert.not.ok(["10.3.1.0/24", "10.3.2.0/24", "10.3.4.0/24", "10.3.5.0/24"].includes(text(l1.subnet)), "not a taken subnet");
    assert.equal(l1.publicIp, ip("1.2.3.4"));
    assert.equal(l1.backendData, { VNI: 1 });
    assert.ok(l1.expiration !== undefined && l1.expiration > Date.now() + 50_000, "expiration about ttlMs ahead");
    const l2 = await new LeaseManager(h.open(), FAST).acquire(FLANNEL_CONF, attrs);
    assert.is(text(l2.subnet), text(l1.subnet), "the lease carrying the public IP is reused");
    const all = await r.list();
    assert.is(all.filter((l) => l.publicIp?.address === "1.2.3.4").length, 1);
  });

  test("acquire() reuses the previous subnet when free (flannel: Found previously leased subnet)", async () => {
    const r = h.open();
    await seed(r);
    const l = await new LeaseManager(r, FAST).acquire(FLANNEL_CONF, { publicIp: ip("1.2.3.4") }, { previousSubnet: cidr("10.3.6.0/24") });
    assert.is(text(l.subnet), "10.3.6.0/24");
  });

  test("acquire() ignores a previous subnet outside the network, or one held by another lease", async () => {
    const r = h.open();
    await seed(r);
    const m = new LeaseManager(r, FAST);
    const l = await m.acquire(FLANNEL_CONF, { publicIp: ip("1.2.3.4") }, { previousSubnet: cidr("10.4.1.0/24") });
    assert.ok(inRange(l, 1, 25), text(l.subnet));
    const l2 = await m.acquire(FLANNEL_CONF, { publicIp: ip("1.2.3.5") }, { previousSubnet: cidr("10.3.2.0/24") });
    assert.is.not(text(l2.subnet), "10.3.2.0/24");
    assert.ok(inRange(l2, 1, 25));
  });

  test("acquire() replaces a lease that no longer fits a changed config (flannel: config change gives a new lease)", async () => {
    const r = h.open();
    await seed(r);
    const m = new LeaseManager(r, FAST);
    const old = await m.acquire(FLANNEL_CONF, { publicIp: ip("1.2.3.4") });
    const conf2 = parseNetConf(`{ "Network": "10.4.0.0/16" }`);
    const l = await m.acquire(conf2, { publicIp: ip("1.2.3.4") });
    assert.ok(inRange(l, 1, 255, "10.4"), text(l.subnet));
    const keys = (await r.list()).map((x) => formatSubnetKey(x));
    assert.not.ok(keys.includes(formatSubnetKey(old)), "the incompatible lease was deleted");
    assert.ok(keys.includes(formatSubnetKey(l)));
  });

  test("acquire() allocates IPv4 and IPv6 subnets on a dual-stack network and reuses both", async () => {
    const conf = parseNetConf(`{ "Network": "10.5.0.0/16", "EnableIPv6": true, "IPv6Network": "fd00:5::/48" }`);
    const m = new LeaseManager(h.open(), FAST);
    const attrs = { publicIp: ip("192.168.0.1"), publicIpv6: ip("fc00::1") };
    const l = await m.acquire(conf, attrs);
    assert.ok(l.subnet && l.subnet.prefixLength === 24 && l.subnet.address.startsWith("10.5."));
    assert.ok(l.ipv6Subnet && l.ipv6Subnet.prefixLength === 64 && l.ipv6Subnet.address.startsWith("fd00:5:"), text(l.ipv6Subnet));
    const again = await new LeaseManager(h.open(), FAST).acquire(conf, attrs);
    assert.is(formatSubnetKey(again), formatSubnetKey(l));
    const other = await m.acquire(conf, { publicIp: ip("192.168.0.2"), publicIpv6: ip("fc00::2") });
    assert.is.not(text(other.subnet), text(l.subnet));
    assert.is.not(text(other.ipv6Subnet), text(l.ipv6Subnet));
  });

  test("acquire() throws OutOfSubnetsError (out of subnets) when the window is full", async () => {
    const conf = parseNetConf(`{ "Network": "10.6.0.0/16", "SubnetMin": "10.6.1.0", "SubnetMax": "10.6.3.0" }`);
    const m = new LeaseManager(h.open(), FAST);
    for (let i = 1; i <= 3; i++) await m.acquire(conf, { publicIp: ip(`192.168.1.${i}`) });
    const err = await m.acquire(conf, { publicIp: ip("192.168.1.9") }).catch((e: unknown) => e);
    assert.instance(err, OutOfSubnetsError);
    assert.is((err as Error).message, "out of subnets");
  });

  test("acquire() from 40 nodes at once gives 40 distinct subnets (lost races are retried)", async () => {
    const conf = parseNetConf(`{ "Network": "10.7.0.0/16" }`);
    const leases = await Promise.all(
      Array.from({ length: 40 }, (_, i) => new LeaseManager(i % 2 ? h.open() : h.open(), FAST).acquire(conf, { publicIp: ip(`192.168.2.${i + 1}`) })),
    );
    assert.is(new Set(leases.map((l) => text(l.subnet))).size, 40);
    const stored = await h.open().list();
    assert.is(stored.length, 40);
    assert.is(new Set(stored.map((l) => text(l.subnet))).size, 40);
  });

  test("renew() keeps the value and extends the expiration (flannel TestRenewLease)", async () => {
    const r = h.open();
    const m = new LeaseManager(r, { ...FAST, ttlMs: 5_000, renewMarginMs: 1_000 });
    const attrs = { publicIp: ip("1.2.3.4"), backendType: "host-gw", backendData: null };
    const l = await m.acquire(FLANNEL_CONF, attrs);
    await new Promise((res) => setTimeout(res, 50));
    const m2 = new LeaseManager(r, { ...FAST, ttlMs: 60_000 });
    const renewed = await m2.renew(l);
    assert.ok(renewed.expiration! > l.expiration! + 50_000, "fresh TTL");
    const [stored] = (await r.list()).filter((x) => formatSubnetKey(x) === formatSubnetKey(l));
    assert.ok(stored);
    assert.equal({ ...stored, expiration: 0 }, { ...l, expiration: 0 });
    assert.ok(Math.abs(stored!.expiration! - (Date.now() + 60_000)) < 2_000, "stored TTL about 60 s");
  });

  test("release() deletes the lease, and does not delete another node's lease", async () => {
    const r = h.open();
    const m = new LeaseManager(r, FAST);
    const l = await m.acquire(FLANNEL_CONF, { publicIp: ip("1.2.3.4") });
    assert.is(await r.delete({ ...l, publicIp: ip("9.9.9.9") }), false);
    assert.is((await r.list()).length, 1);
    await m.release(l);
    assert.is((await r.list()).length, 0);
  });

  test("registry create() refuses a held subnet and update() refuses another owner's key", async () => {
    const r = h.open();
    await r.create({ subnet: cidr("10.3.9.0/24"), publicIp: ip("1.1.1.1") }, { ttlMs: 60_000 });
    await rejects(() => r.create({ subnet: cidr("10.3.9.0/24"), publicIp: ip("2.2.2.2") }, { ttlMs: 60_000 }), /10\.3\.9\.0-24/);
    await rejects(() => r.update({ subnet: cidr("10.3.9.0/24"), publicIp: ip("2.2.2.2") }, { ttlMs: 60_000 }));
    // Dual-stack keys differ from the v4-only key, but the IPv4 subnet is still held.
    await rejects(() => r.create({ subnet: cidr("10.3.9.0/24"), ipv6Subnet: cidr("fd00::/64"), publicIp: ip("2.2.2.2") }, { ttlMs: 60_000 }));
    await r.create({ subnet: cidr("10.3.10.0/24"), ipv6Subnet: cidr("fd00::/64"), publicIp: ip("3.3.3.3") }, { ttlMs: 60_000 });
    await rejects(() => r.create({ subnet: cidr("10.3.11.0/24"), ipv6Subnet: cidr("fd00::/64"), publicIp: ip("4.4.4.4") }, { ttlMs: 60_000 }));
    const u = await r.update({ subnet: cidr("10.3.9.0/24"), publicIp: ip("1.1.1.1"), backendType: "udp" }, { ttlMs: 60_000 });
    assert.is(u.backendType, "udp");
    assert.is((await r.list()).length, 2);
  });

  test("watch() yields a snapshot, then exactly one added for a new lease, never the own lease (flannel TestWatchLeaseAdded)", async () => {
    const r = h.open();
    await seed(r);
    const m = new LeaseManager(r, FAST);
    const own = await m.acquire(FLANNEL_CONF, { publicIp: ip("1.2.3.4") });
    const stop = controller();
    const w = collect(m.watch({ signal: stop.signal, ownLease: own }));
    await w.until((e) => e.length >= 1, 5_000, "snapshot");
    const first = w.events[0]!;
    assert.is(first.type, "snapshot");
    assert.is(first.type === "snapshot" && first.leases.length, 5);
    await r.create({ subnet: cidr("10.3.30.0/24"), publicIp: ip("1.1.1.2") }, { ttlMs: 60_000 });
    await m.renew(own); // own renewals are never reported
    await w.until((e) => e.some((x) => x.type === "added"), 5_000, "added");
    await new Promise((res) => setTimeout(res, 300));
    const added = w.events.filter((x) => x.type === "added");
    assert.is(added.length, 1);
    assert.is(added[0]!.type === "added" && text(added[0]!.lease.subnet), "10.3.30.0/24");
    assert.not.ok(w.events.some((x) => x.type !== "snapshot" && formatSubnetKey(x.lease) === formatSubnetKey(own)));
    stop.abort();
    await withTimeout(w.done, 5_000, "watch to end on abort");
  });

  test("watch() reports TTL expiry as removed (flannel TestWatchLeaseRemoved)", async () => {
    const r = h.open();
    const m = new LeaseManager(r, FAST);
    const stop = controller();
    const w = collect(m.watch({ signal: stop.signal }));
    await w.until((e) => e.length >= 1, 5_000, "snapshot");
    await r.create({ subnet: cidr("10.3.31.0/24"), publicIp: ip("1.1.1.3") }, { ttlMs: 600 });
    await w.until((e) => e.some((x) => x.type === "added"), 5_000, "added");
    await w.until((e) => e.some((x) => x.type === "removed"), 8_000, "removed after expiry");
    const removed = w.events.find((x) => x.type === "removed");
    assert.is(removed?.type === "removed" && text(removed.lease.subnet), "10.3.31.0/24");
    assert.is(replay(w.events).size, 0);
  });

  test("watch() reports own-removed when the own lease vanishes, and keepAlive() re-publishes the same subnet", async () => {
    const r = h.open();
    const m = new LeaseManager(r, FAST);
    const own = await m.acquire(FLANNEL_CONF, { publicIp: ip("1.2.3.4") });
    const stop = controller();
    const w = collect(m.watch({ signal: stop.signal, ownLease: own }));
    await w.until((e) => e.length >= 1, 5_000, "snapshot");
    const republished: Lease[] = [];
    const alive = m.keepAlive(own, { signal: stop.signal, onLease: (e) => e.type === "republished" && republished.push(e.lease) }).catch((e: unknown) => e);
    await new Promise((res) => setTimeout(res, 200));
    assert.ok(await h.open().delete(own));
    await w.until((e) => e.some((x) => x.type === "own-removed"), 5_000, "own-removed");
    const deadline = Date.now() + 5_000;
    while (republished.length === 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    assert.is(republished.length, 1);
    const now = await r.list();
    assert.equal(now.map((l) => text(l.subnet)), [text(own.subnet)]);
    stop.abort();
    assert.is(await withTimeout(alive, 5_000, "keepAlive to end on abort"), undefined);
  });

  test("keepAlive() renews before expiry, renewMarginMs ahead", async () => {
    const r = h.open();
    const m = new LeaseManager(r, { ...FAST, ttlMs: 1_500, renewMarginMs: 1_000 });
    const own = await m.acquire(FLANNEL_CONF, { publicIp: ip("1.2.3.4") });
    const stop = controller();
    const renewed: Lease[] = [];
    const alive = m.keepAlive(own, { signal: stop.signal, onLease: (e) => e.type === "renewed" && renewed.push(e.lease) }).catch((e: unknown) => e);
    await new Promise((res) => setTimeout(res, 2_500));
    assert.ok(renewed.length >= 3, `renewed ${renewed.length} times in 2.5 s (every ~0.5 s)`);
    assert.is((await r.list()).length, 1, "never expired");
    stop.abort();
    assert.is(await withTimeout(alive, 5_000, "keepAlive end"), undefined);
  });

  test("keepAlive() rejects with LeaseLostError when another node takes the subnet", async () => {
    const r = h.open();
    const m = new LeaseManager(r, FAST);
    const own = await m.acquire(FLANNEL_CONF, { publicIp: ip("1.2.3.4") });
    const stop = controller();
    const alive = m.keepAlive(own, { signal: stop.signal }).then(() => undefined, (e: unknown) => e);
    await new Promise((res) => setTimeout(res, 200));
    const other = h.open();
    const deleted = other.delete(own);
    const created = other.create({ subnet: own.subnet!, publicIp: ip("6.6.6.6") }, { ttlMs: 60_000 });
    await deleted;
    await created;
    const err = await withTimeout(alive, 5_000, "keepAlive to fail");
    assert.instance(err, LeaseLostError);
  });

  for (const keepData of [false, true]) {
    test(`watchers converge and leases are re-published after a store restart ${keepData ? "with" : "without"} data`, async () => {
      const nodes = [0, 1, 2].map(() => new LeaseManager(h.open(), FAST));
      const leases = await Promise.all(nodes.map((m, i) => m.acquire(FLANNEL_CONF, { publicIp: ip(`10.10.0.${i + 1}`) })));
      const stop = controller();
      const alive = nodes.map((m, i) => m.keepAlive(leases[i]!, { signal: stop.signal }).catch((e: unknown) => e));
      const watchers = nodes.map((m, i) => collect(m.watch({ signal: stop.signal, ownLease: leases[i]! })));
      for (const w of watchers) await w.until((e) => replay(e).size === 2, 5_000, "initial view");
      await h.restart({ keepData });
      // After the restart each node re-publishes its own lease (same subnet) and every watcher sees the other two.
      for (const [i, w] of watchers.entries()) {
        await w.until((e) => replay(e).size === 2, 15_000, `watcher ${i} to converge`);
      }
      const deadline = Date.now() + 15_000;
      let stored: Lease[] = [];
      while (Date.now() < deadline) {
        stored = await h.open().list().catch(() => []);
        if (stored.length === 3) break;
        await new Promise((res) => setTimeout(res, 100));
      }
      assert.equal(stored.map((l) => text(l.subnet)).sort(), leases.map((l) => text(l.subnet)).sort());
      for (const [i, w] of watchers.entries()) {
        const expected = leases.filter((_, j) => j !== i).map((l) => formatSubnetKey(l)).sort();
        await w.until((e) => JSON.stringify([...replay(e)].sort()) === JSON.stringify(expected), 10_000, `watcher ${i} final set`);
      }
      stop.abort();
      const results = await withTimeout(Promise.all(alive), 5_000, "keepAlive loops to end");
      assert.equal(results, [undefined, undefined, undefined]);
    });
  }

  test.run();
}
