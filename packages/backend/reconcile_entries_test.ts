import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseCidr } from "@weft/ipam";
import { MemoryEntriesKernel } from "./memory_entries_kernel.ts";
import { FakeIpRoute, FakeIpSession } from "@weft/iproute/testing";
import { iprouteEntries, ownsFdb, ownsNeighbour, ownsRoute, reconcileEntries, type EntryOwnership } from "./reconcile_entries.ts";

const OWN: EntryOwnership = {
  entryDevices: ["flannel.1"],
  routeDevices: ["flannel.1", "eth0"],
  routeNetworks: [parseCidr("10.244.0.0/16"), parseCidr("fd00:10:244::/56")],
  exclude: [parseCidr("10.244.1.0/24")],
};

test("ownsRoute() takes gatewayed routes inside the Network on our devices, never our own subnet", () => {
  assert.ok(ownsRoute(OWN, { dst: "10.244.2.0/24", dev: "flannel.1", via: "10.244.2.0", onlink: true }));
  assert.ok(ownsRoute(OWN, { dst: "10.244.3.0/24", dev: "eth0", via: "192.168.1.3" }));
  assert.ok(ownsRoute(OWN, { dst: "fd00:10:244:2::/64", dev: "eth0", via: "fd00::2" }));
  assert.not.ok(ownsRoute(OWN, { dst: "10.244.1.0/24", dev: "eth0", via: "192.168.1.9" }), "own subnet");
  assert.not.ok(ownsRoute(OWN, { dst: "10.244.0.0/16", dev: "eth0", via: "192.168.1.9" }), "the whole Network");
  assert.not.ok(ownsRoute(OWN, { dst: "10.245.0.0/24", dev: "eth0", via: "192.168.1.9" }), "outside");
  assert.not.ok(ownsRoute(OWN, { dst: "10.244.4.0/24", dev: "cni0", via: "10.244.4.1" }), "other device");
  assert.not.ok(ownsRoute(OWN, { dst: "10.244.4.0/24", dev: "eth0" }), "no gateway");
  assert.not.ok(ownsRoute(OWN, { dst: "default", dev: "eth0", via: "192.168.1.1" }));
});

test("ownsNeighbour() and ownsFdb() take entries on our devices only", () => {
  assert.ok(ownsNeighbour(OWN, { dev: "flannel.1", address: "10.244.2.0", lladdr: "aa:aa:aa:aa:aa:aa" }));
  assert.not.ok(ownsNeighbour(OWN, { dev: "eth0", address: "192.168.1.1", lladdr: "aa:aa:aa:aa:aa:aa" }));
  assert.ok(ownsFdb(OWN, { dev: "flannel.1", lladdr: "aa:aa:aa:aa:aa:aa", dst: "192.168.1.2" }));
  assert.not.ok(ownsFdb(OWN, { dev: "flannel.1", lladdr: "aa:aa:aa:aa:aa:aa", dst: "" }));
});

test("reconcileEntries() applies only the difference, once, and nothing when converged", async () => {
  const kernel = new MemoryEntriesKernel().load({ routes: [{ dst: "10.244.9.0/24", dev: "eth0", via: "192.168.1.9" }] });
  const desired = { neighbours: [], fdb: [], routes: [{ dst: "10.244.2.0/24", dev: "eth0", via: "192.168.1.2" }] };
  const diff = await reconcileEntries(kernel, desired, { ownership: OWN });
  assert.equal(diff.add.routes, desired.routes);
  assert.equal(diff.remove.routes, [{ dst: "10.244.9.0/24", dev: "eth0", via: "192.168.1.9" }]);
  assert.equal(kernel.entries().routes, desired.routes);
  assert.is(kernel.applied.length, 1);
  await reconcileEntries(kernel, desired, { ownership: OWN });
  assert.is(kernel.applied.length, 1);
});

test("reconcileEntries() with dryRun reports the diff and changes nothing", async () => {
  const kernel = new MemoryEntriesKernel();
  const diff = await reconcileEntries(kernel, { neighbours: [], fdb: [], routes: [{ dst: "10.244.2.0/24", dev: "eth0", via: "192.168.1.2" }] }, { ownership: OWN, dryRun: true });
  assert.is(diff.add.routes.length, 1);
  assert.equal(kernel.entries().routes, []);
});


// ---- iprouteEntries() over FakeIpRoute


async function vxlanHost(): Promise<FakeIpRoute> {
  const ip = new FakeIpRoute();
  await ip.link.add({ type: "veth", name: "eth0", peer: { name: "peer0" }, up: true });
  await ip.address.add({ dev: "eth0", address: "192.168.1.1/24" });
  await ip.link.add({ type: "vxlan", name: "flannel.1", id: 1, local: "192.168.1.1", dev: "eth0", learning: false, mtu: 1450, up: true });
  return ip;
}

const PEER2 = {
  neighbours: [{ dev: "flannel.1", address: "10.244.2.0", lladdr: "0e:00:00:00:00:02" }],
  fdb: [{ dev: "flannel.1", lladdr: "0e:00:00:00:00:02", dst: "192.168.1.2" }],
  routes: [{ dst: "10.244.2.0/24", dev: "flannel.1", via: "10.244.2.0", onlink: true }],
};

test("iprouteEntries().apply() writes neighbour and FDB entry (separate batches), then the onlink route", async () => {
  const ip = await vxlanHost();
  const before = ip.batches.length;
  await iprouteEntries(ip).apply({ add: PEER2, remove: { neighbours: [], fdb: [], routes: [] } });
  assert.equal(
    ip.batches.slice(before).map((b) => b.toString()),
    [
      "# ip\nneigh replace 10.244.2.0 lladdr 0e:00:00:00:00:02 dev flannel.1 nud permanent\n",
      "# bridge\nfdb replace 0e:00:00:00:00:02 dev flannel.1 dst 192.168.1.2 self permanent\n",
      "# ip\nroute replace 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink\n",
    ],
  );
  assert.match(ip.dump(), /neigh 10\.244\.2\.0 lladdr 0e:00:00:00:00:02 dev flannel\.1 nud permanent/);
});

test("iprouteEntries() with a session writes neighbour, FDB and route batches through it and large batches on their own", async () => {
  const ip = await vxlanHost();
  const session = new FakeIpSession(ip.forNetns(undefined)); // same kernel, its own batch record
  const before = ip.batches.length;
  const kernel = iprouteEntries(ip, { session: () => session, sessionMaxOps: 2 });
  await kernel.apply({ add: PEER2, remove: { neighbours: [], fdb: [], routes: [] } });
  assert.equal(
    session.jobs.map((j) => j.batch.toString()).sort(),
    [
      "# bridge\nfdb replace 0e:00:00:00:00:02 dev flannel.1 dst 192.168.1.2 self permanent\n",
      "# ip\nneigh replace 10.244.2.0 lladdr 0e:00:00:00:00:02 dev flannel.1 nud permanent\n",
      "# ip\nroute replace 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink\n",
    ],
  );
  assert.match(session.jobs.at(-1)!.batch.toString(), /^# ip\nroute replace/, "the route comes last");
  assert.is(ip.batches.length, before, "no process of its own");
  assert.match(ip.dump(), /10\.244\.2\.0\/24 via 10\.244\.2\.0 dev flannel\.1 onlink/);
  // three neighbours are more than sessionMaxOps: a batch process of its own
  const three = ["10.244.3.0", "10.244.4.0", "10.244.5.0"].map((address, i) => ({ dev: "flannel.1", address, lladdr: `0e:00:00:00:00:0${i + 3}` }));
  await kernel.apply({ add: { neighbours: three, fdb: [], routes: [] }, remove: { neighbours: [], fdb: [], routes: [] } });
  assert.is(session.jobs.length, 3);
  assert.is(ip.lastBatch?.size, 3);
  // no session (e.g. closed): everything on its own
  await iprouteEntries(ip, { session: () => undefined }).apply({ add: { neighbours: three.slice(0, 1), fdb: [], routes: [] }, remove: { neighbours: [], fdb: [], routes: [] } });
  assert.is(session.jobs.length, 3);
  assert.is(ip.lastBatch?.size, 1);
  assert.throws(() => iprouteEntries(ip, { sessionMaxOps: -1 }), (e: unknown) => e instanceof RangeError && /sessionMaxOps/.test((e as Error).message));
  // by default every ip batch, however large, goes through the session
  const many = Array.from({ length: 300 }, (_, i) => ({ dev: "flannel.1", address: `10.245.${i >> 8}.${i & 255}`, lladdr: "0e:00:00:00:01:01" }));
  const all = iprouteEntries(ip, { session: () => session });
  const batches = ip.batches.length;
  await all.apply({ add: { neighbours: many, fdb: [], routes: [] }, remove: { neighbours: [], fdb: [], routes: [] } });
  assert.is(session.jobs.length, 4);
  assert.is(session.jobs[3]!.batch.size, 300);
  assert.is(ip.batches.length, batches);
});

test("iprouteEntries().apply() calls onQueued once its route writes are queued in the session, before they finish", async () => {
  const ip = await vxlanHost();
  const session = new FakeIpSession(ip.forNetns(undefined));
  const events: string[] = [];
  const apply = session.apply.bind(session);
  session.apply = (b, o) => {
    events.push(`queue ${b.toString().split("\n")[1]!.split(" ")[0]}`);
    return apply(b, o).then(() => void events.push(`done ${b.toString().split("\n")[1]!.split(" ")[0]}`));
  };
  await iprouteEntries(ip, { session: () => session }).apply({ add: PEER2, remove: { neighbours: [], fdb: [], routes: [] } }, { onQueued: () => events.push("onQueued") });
  assert.equal(events.slice(-3), ["queue route", "onQueued", "done route"]);
  assert.is(events.filter((e) => e === "onQueued").length, 1);
  // without a session nothing is queued: onQueued is not called (the caller waits for apply() to settle)
  let called = false;
  await iprouteEntries(ip).apply({ add: PEER2, remove: { neighbours: [], fdb: [], routes: [] } }, { onQueued: () => (called = true) });
  assert.is(called, false);
});

test("iprouteEntries().apply() starts the route writes only after the neighbour and FDB batches have finished", async () => {
  const ip = await vxlanHost();
  const order: string[] = [];
  const apply = ip.apply.bind(ip);
  ip.apply = async (b, o) => {
    const what = b.toString().split("\n")[1]!.split(" ")[0]!;
    order.push(`start ${what}`);
    await new Promise((r) => setTimeout(r, what === "fdb" ? 20 : 5));
    await apply(b, o);
    order.push(`end ${what}`);
  };
  await iprouteEntries(ip).apply({ add: PEER2, remove: { neighbours: [], fdb: [], routes: [] } });
  assert.equal(order, ["start neigh", "start fdb", "end neigh", "end fdb", "start route", "end route"]);
});

test("iprouteEntries().apply() removes a leaving peer's route before its neighbour and FDB entry", async () => {
  const ip = await vxlanHost();
  const kernel = iprouteEntries(ip);
  await kernel.apply({ add: PEER2, remove: { neighbours: [], fdb: [], routes: [] } });
  const before = ip.batches.length;
  await kernel.apply({ add: { neighbours: [], fdb: [], routes: [] }, remove: PEER2 });
  const scripts = ip.batches.slice(before).map((b) => b.toString());
  assert.is(scripts.length, 3);
  assert.match(scripts[0]!, /^# ip\nroute del 10\.244\.2\.0\/24/);
  assert.not.match(ip.dump(), /flannel\.1 (onlink|nud|dst)/);
});

test("iprouteEntries().read() returns owned entries only, and nothing for a missing device", async () => {
  const ip = await vxlanHost();
  const kernel = iprouteEntries(ip);
  await kernel.apply({ add: PEER2, remove: { neighbours: [], fdb: [], routes: [] } });
  await ip.route.add({ dst: "10.99.0.0/16", via: "192.168.1.254", dev: "eth0" });
  await ip.fdb.add({ dev: "flannel.1", lladdr: "0e:00:00:00:00:77", dst: "192.168.1.77", permanent: false }); // learned-like
  const ownership: EntryOwnership = { ...OWN, exclude: [] };
  assert.equal(await kernel.read(ownership), PEER2);
  assert.equal(await kernel.read({ entryDevices: ["flannel.9"], routeDevices: [], routeNetworks: [] }), { neighbours: [], fdb: [], routes: [] });
});

test("reconcileEntries() over iproute removes a departed peer in one batch", async () => {
  const ip = await vxlanHost();
  const kernel = iprouteEntries(ip);
  await kernel.apply({ add: PEER2, remove: { neighbours: [], fdb: [], routes: [] } });
  const diff = await reconcileEntries(kernel, { neighbours: [], fdb: [], routes: [] }, { ownership: OWN });
  assert.equal(diff.remove, PEER2);
  assert.not.match(ip.dump(), /flannel\.1 (onlink|nud|dst)/);
  assert.not.match(ip.dump(), /^(neigh|fdb|route 10\.244)/m);
});

test.run();
