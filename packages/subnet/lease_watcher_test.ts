import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseCidr, parseIp } from "@weft/ipam";
import { LeaseWatcher, watchLeases } from "./lease_watcher.ts";
import { MemoryLeaseRegistry } from "./memory_lease_registry.ts";
import type { Lease, LeaseEvent } from "./types.ts";

const lease = (s: string, ip: string, extra: Partial<Lease> = {}): Lease => ({ subnet: parseCidr(s), publicIp: parseIp(ip), ...extra });
const own = lease("10.0.1.0/24", "1.1.1.1");
const a = lease("10.0.2.0/24", "1.1.1.2");
const b = lease("10.0.3.0/24", "1.1.1.3");
const c = lease("10.0.4.0/24", "1.1.1.4");

test("LeaseWatcher.apply() passes the first snapshot through without the own lease", () => {
  const w = new LeaseWatcher({ ownLease: own });
  assert.equal(w.apply({ type: "snapshot", leases: [own, a, b] }), [{ type: "snapshot", leases: [a, b] }]);
});

test("LeaseWatcher.apply() diffs later snapshots into added and removed (flannel's Reset)", () => {
  const w = new LeaseWatcher({ ownLease: own });
  w.apply({ type: "snapshot", leases: [own, a, b] });
  assert.equal(w.apply({ type: "snapshot", leases: [own, b, c] }), [
    { type: "removed", lease: a },
    { type: "added", lease: c },
  ]);
  assert.equal(w.leases, [b, c]);
});

test("LeaseWatcher.apply() reports a changed lease as added and drops renewals that change nothing", () => {
  const w = new LeaseWatcher();
  w.apply({ type: "snapshot", leases: [a] });
  assert.equal(w.apply({ type: "added", lease: { ...a, expiration: 123 } }), []);
  const changed = { ...a, backendType: "vxlan" };
  assert.equal(w.apply({ type: "added", lease: changed }), [{ type: "added", lease: changed }]);
  assert.equal(w.apply({ type: "snapshot", leases: [{ ...changed, expiration: 456 }] }), []);
});

test("LeaseWatcher.apply() reports removed only for known leases, with the known attributes", () => {
  const w = new LeaseWatcher();
  w.apply({ type: "snapshot", leases: [a] });
  assert.equal(w.apply({ type: "removed", lease: { subnet: b.subnet! } }), []);
  assert.equal(w.apply({ type: "removed", lease: { subnet: a.subnet! } }), [{ type: "removed", lease: a }]);
});

test("LeaseWatcher.apply() never reports the own lease and gives own-removed once when it vanishes", () => {
  const w = new LeaseWatcher({ ownLease: own });
  w.apply({ type: "snapshot", leases: [own] });
  assert.equal(w.apply({ type: "added", lease: { ...own, backendType: "vxlan" } }), []);
  assert.equal(w.apply({ type: "removed", lease: own }), [{ type: "own-removed", lease: own }]);
  assert.equal(w.apply({ type: "snapshot", leases: [] }), [], "only once");
  assert.equal(w.apply({ type: "added", lease: own }), []);
  assert.equal(w.apply({ type: "snapshot", leases: [a] }), [{ type: "added", lease: a }, { type: "own-removed", lease: own }]);
});

test("LeaseWatcher.apply() treats the own key held by another owner as own-removed", () => {
  const w = new LeaseWatcher({ ownLease: own });
  w.apply({ type: "snapshot", leases: [own] });
  const foreign = lease("10.0.1.0/24", "6.6.6.6");
  assert.equal(w.apply({ type: "added", lease: foreign }), [{ type: "own-removed", lease: own }]);
});

test("LeaseWatcher.apply() gives own-removed when the first snapshot lacks the own lease", () => {
  const w = new LeaseWatcher({ ownLease: own });
  assert.equal(w.apply({ type: "snapshot", leases: [a] }), [{ type: "snapshot", leases: [a] }, { type: "own-removed", lease: own }]);
});

test("LeaseWatcher.apply() follows an own-lease getter when the node re-acquires another subnet", () => {
  let mine: Lease = own;
  const w = new LeaseWatcher({ ownLease: () => mine });
  w.apply({ type: "snapshot", leases: [own, a] });
  mine = a; // re-acquired: now a is ours, own is someone else's (e.g. expired and taken)
  assert.equal(w.apply({ type: "snapshot", leases: [own, a] }), [{ type: "added", lease: own }]);
  assert.equal(w.leases, [own]);
});

test("LeaseWatcher.apply() starts with an empty snapshot when the first event is not a snapshot", () => {
  const w = new LeaseWatcher();
  assert.equal(w.apply({ type: "added", lease: a }), [{ type: "snapshot", leases: [] }, { type: "added", lease: a }]);
});

test("watchLeases() streams a registry through a LeaseWatcher and ends on abort", async () => {
  const r = new MemoryLeaseRegistry();
  await r.create(own);
  await r.create(a);
  const stop = new AbortController();
  const seen: LeaseEvent[] = [];
  const done = (async () => {
    for await (const e of watchLeases(r, { signal: stop.signal, ownLease: own })) {
      seen.push(e);
      if (seen.length === 2) stop.abort();
    }
  })();
  await r.create(b);
  await done;
  assert.equal(seen.map((e) => e.type), ["snapshot", "added"]);
});

test.run();
