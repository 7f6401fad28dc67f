import { test } from "uvu";
import * as assert from "uvu/assert";
import { MemoryEntriesKernel } from "./memory_entries_kernel.ts";

const EMPTY = { neighbours: [], fdb: [], routes: [] };
const route = { dst: "10.244.2.0/24", dev: "eth0", via: "192.168.1.2" };

test("MemoryEntriesKernel.apply() replaces idempotently and fails to delete a missing entry", async () => {
  const k = new MemoryEntriesKernel();
  await k.apply({ add: { ...EMPTY, routes: [route] }, remove: EMPTY });
  await k.apply({ add: { ...EMPTY, routes: [{ ...route, via: "192.168.1.3" }] }, remove: EMPTY });
  assert.equal(k.entries().routes, [{ ...route, via: "192.168.1.3" }]);
  await k.apply({ add: EMPTY, remove: { ...EMPTY, routes: [{ ...route, dst: "10.244.3.0/24" }] } }).then(
    () => assert.unreachable(),
    (e: Error) => assert.match(e.message, /No such file/),
  );
});

test("MemoryEntriesKernel.apply() stops at the failing step and keeps earlier ones", async () => {
  const k = new MemoryEntriesKernel({ failOn: (s) => (s.kind === "route" ? new Error("unreachable") : undefined) });
  const neighbour = { dev: "flannel.1", address: "10.244.2.0", lladdr: "aa:aa:aa:aa:aa:aa" };
  await k.apply({ add: { neighbours: [neighbour], fdb: [], routes: [route] }, remove: EMPTY }).catch(() => undefined);
  assert.equal(k.entries(), { neighbours: [neighbour], fdb: [], routes: [] });
  assert.is(k.applied.length, 1);
});

test("MemoryEntriesKernel.read() returns owned entries only", async () => {
  const k = new MemoryEntriesKernel().load({ routes: [route, { dst: "0.0.0.0/0", dev: "eth0", via: "192.168.1.1" }] });
  const owned = await k.read({ entryDevices: [], routeDevices: ["eth0"], routeNetworks: [{ family: 4, address: "10.244.0.0", prefixLength: 16 }] });
  assert.equal(owned.routes, [route]);
  k.remove({ routes: [route] });
  assert.is(k.entries().routes.length, 1);
});

test.run();
