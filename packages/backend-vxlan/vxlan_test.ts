import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseCidr, parseIp } from "@weft/ipam";
import type { Lease, LeaseAttrs } from "@weft/subnet";
import { CONF, EXT, fakeHost } from "./_test_helpers.ts";
import { createVxlanBackend } from "./vxlan.ts";

const lease1 = (attrs: LeaseAttrs): Lease => ({ ...attrs, subnet: parseCidr("10.244.1.0/24") });

test("registerNetwork() creates flannel.1, acquires the lease with flannel's attributes and configures the device", async () => {
  const ip = await fakeHost();
  let attrs: LeaseAttrs | undefined;
  const net = await createVxlanBackend({ iproute: ip, externalInterface: EXT }).registerNetwork(CONF, {
    acquireLease: async (a) => ((attrs = a), lease1(a)),
    previousBackendData: { VNI: 1, VtepMAC: "0e:2a:aa:bb:cc:dd" },
  });
  assert.equal(attrs?.publicIp, parseIp("192.168.1.1"));
  assert.is(attrs?.backendType, "vxlan");
  assert.is(JSON.stringify(attrs?.backendData), '{"VNI":1,"VtepMAC":"0e:2a:aa:bb:cc:dd"}');
  assert.is(net.mtu, 1450);
  assert.is(net.backendType, "vxlan");
  const dump = ip.dump();
  assert.match(dump, /link flannel\.1 type vxlan id 1 local 192\.168\.1\.1 dev eth0 dstport 8472 nolearning mtu 1450 up/);
  assert.match(dump, /addr 10\.244\.1\.0\/32 dev flannel\.1/);
  assert.is((await ip.link.get("flannel.1"))?.mac, "0e:2a:aa:bb:cc:dd");
  assert.not.match(dump, /route 10\.244\.0\.0\/16/, "no route for the whole Network");
});

test("registerNetwork() honours VNI, Port, GBP, MTU and a public IP that differs from the interface IP", async () => {
  const ip = await fakeHost();
  let attrs: LeaseAttrs | undefined;
  const net = await createVxlanBackend({ iproute: ip, externalInterface: { ...EXT, publicIp: parseIp("203.0.113.1") } }).registerNetwork(
    { ...CONF, backend: { Type: "vxlan", VNI: 42, Port: 4789, GBP: true, MTU: 1400 } },
    { acquireLease: async (a) => ((attrs = a), lease1(a)) },
  );
  assert.is(net.mtu, 1350);
  assert.equal(attrs?.publicIp, parseIp("203.0.113.1"));
  assert.is((attrs?.backendData as { VNI: number }).VNI, 42);
  const link = await ip.link.get("flannel.42");
  assert.equal([link?.vxlan?.id, link?.vxlan?.dstport, link?.vxlan?.gbp, link?.vxlan?.local, link?.mtu], [42, 4789, true, "192.168.1.1", 1350]);
});

test("registerNetwork() takes a random MAC when the previous backend data is unusable", async () => {
  const ip = await fakeHost();
  const net = await createVxlanBackend({ iproute: ip, externalInterface: EXT }).registerNetwork(CONF, {
    acquireLease: async (a) => lease1(a),
    previousBackendData: "garbage",
  });
  const mac = (net.lease.backendData as { VtepMAC: string }).VtepMAC;
  assert.is(parseInt(mac.slice(0, 2), 16) & 3, 2, "locally administered unicast");
  assert.is((await ip.link.get("flannel.1"))?.mac, mac);
});

test("registerNetwork() refuses IPv6 and a missing interface address with clear errors", async () => {
  const ip = await fakeHost();
  const backend = createVxlanBackend({ iproute: ip, externalInterface: EXT });
  await backend.registerNetwork({ ...CONF, enableIPv6: true }, { acquireLease: async (a) => lease1(a) }).then(
    () => assert.unreachable(),
    (e: Error) => assert.match(e.message, /^EnableIPv6: .*IPv4 only/),
  );
  const noAddr = createVxlanBackend({ iproute: ip, externalInterface: { name: "eth0", index: 2, mtu: 1500 } });
  await noAddr.registerNetwork(CONF, { acquireLease: async (a) => lease1(a) }).then(
    () => assert.unreachable(),
    (e: Error) => assert.match(e.message, /eth0 has no IPv4 address/),
  );
  await backend.registerNetwork({ ...CONF, backend: { VNI: "x" } }, { acquireLease: async (a) => lease1(a) }).then(
    () => assert.unreachable(),
    (e: Error) => assert.instance(e, TypeError),
  );
});

test.run();
