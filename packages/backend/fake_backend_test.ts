import { test } from "uvu";
import * as assert from "uvu/assert";
import type { NetConf } from "@weft/netconf";
import type { Lease, LeaseAttrs } from "@weft/subnet";
import { FakeBackend } from "./fake_backend.ts";

const lease = (n: number, type = "fake"): Lease => ({ subnet: { family: 4, address: `10.244.${n}.0`, prefixLength: 24 }, publicIp: { family: 4, address: `192.0.2.${n}` }, backendType: type });

test("FakeBackend.registerNetwork() acquires the lease with its attributes", async () => {
  let got: LeaseAttrs | undefined;
  const net = await new FakeBackend({ backendData: { x: 1 }, mtu: 1400 }).registerNetwork({} as NetConf, {
    acquireLease: async (attrs) => ((got = attrs), lease(1)),
  });
  assert.equal(got, { publicIp: { family: 4, address: "192.0.2.1" }, backendType: "fake", backendData: { x: 1 } });
  assert.is(net.mtu, 1400);
  assert.is(net.lease.subnet?.address, "10.244.1.0");
});

test("FakeNetwork keeps peers of its type from events and ignores its own lease", async () => {
  const net = await new FakeBackend().registerNetwork({} as NetConf, { acquireLease: async () => lease(1) });
  await net.handleLeaseEvent({ type: "snapshot", leases: [lease(1), lease(2), lease(3, "vxlan")] });
  assert.equal([...net.peers.keys()], ["10.244.2.0/24"]);
  await net.handleLeaseEvent({ type: "added", lease: lease(4) });
  await net.handleLeaseEvent({ type: "removed", lease: lease(2) });
  assert.equal([...net.peers.keys()], ["10.244.4.0/24"]);
  assert.is(net.events.length, 3);
});

test("FakeNetwork.run() resolves after abort and FakeBackend can fail", async () => {
  const net = await new FakeBackend().registerNetwork({} as NetConf, { acquireLease: async () => lease(1) });
  const ac = new AbortController();
  const p = net.run(ac.signal);
  assert.ok(net.running);
  ac.abort();
  await p;
  assert.not.ok(net.running);
  const failing = new FakeBackend({ failWith: new Error("boom") });
  await failing.registerNetwork({} as NetConf, { acquireLease: async () => lease(1) }).then(
    () => assert.unreachable(),
    (e: Error) => assert.is(e.message, "boom"),
  );
});

test.run();
