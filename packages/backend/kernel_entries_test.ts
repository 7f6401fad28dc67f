import { test } from "uvu";
import * as assert from "uvu/assert";
import { diffEntries, EMPTY_ENTRIES, isEmptyEntries, mergeEntries, type KernelEntries } from "./kernel_entries.ts";

const peer = (n: number, mac: string, pub = `192.168.1.${n}`): KernelEntries => ({
  neighbours: [{ dev: "flannel.1", address: `10.244.${n}.0`, lladdr: mac }],
  fdb: [{ dev: "flannel.1", lladdr: mac, dst: pub }],
  routes: [{ dst: `10.244.${n}.0/24`, dev: "flannel.1", via: `10.244.${n}.0`, onlink: true }],
});

test("diffEntries() adds everything when the kernel is empty", () => {
  const d = diffEntries(peer(2, "aa:aa:aa:aa:aa:02"), EMPTY_ENTRIES);
  assert.equal(d.add, peer(2, "aa:aa:aa:aa:aa:02"));
  assert.ok(isEmptyEntries(d.remove));
});

test("diffEntries() is empty when desired equals actual, ignoring MAC case", () => {
  const d = diffEntries(peer(2, "aa:aa:aa:aa:aa:02"), peer(2, "AA:AA:AA:AA:AA:02"));
  assert.ok(isEmptyEntries(d.add));
  assert.ok(isEmptyEntries(d.remove));
});

test("diffEntries() replaces the neighbour and removes the old FDB entry when a peer's MAC changes", () => {
  const d = diffEntries(peer(2, "bb:bb:bb:bb:bb:02"), peer(2, "aa:aa:aa:aa:aa:02"));
  assert.equal(d.add.neighbours, [{ dev: "flannel.1", address: "10.244.2.0", lladdr: "bb:bb:bb:bb:bb:02" }]);
  assert.equal(d.add.fdb, [{ dev: "flannel.1", lladdr: "bb:bb:bb:bb:bb:02", dst: "192.168.1.2" }]);
  assert.equal(d.add.routes, []);
  assert.equal(d.remove.fdb, [{ dev: "flannel.1", lladdr: "aa:aa:aa:aa:aa:02", dst: "192.168.1.2" }]);
  assert.equal(d.remove.neighbours, []);
});

test("diffEntries() removes a departed peer's three entries and replaces a changed route", () => {
  const actual = mergeEntries(peer(2, "aa:aa:aa:aa:aa:02"), peer(3, "aa:aa:aa:aa:aa:03"));
  const desired: KernelEntries = { ...peer(2, "aa:aa:aa:aa:aa:02"), routes: [{ dst: "10.244.2.0/24", dev: "eth0", via: "192.168.1.2" }] };
  const d = diffEntries(desired, actual);
  assert.equal(d.remove, peer(3, "aa:aa:aa:aa:aa:03"));
  assert.equal(d.add.routes, [{ dst: "10.244.2.0/24", dev: "eth0", via: "192.168.1.2" }]);
});

test.run();
