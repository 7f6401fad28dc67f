import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseCidr, parseIp } from "@weft/ipam";
import type { Lease, LeaseAttrs } from "@weft/subnet";
import { CONF, EXT, fakeHost } from "./_test_helpers.ts";
import { createVxlanBackend } from "./vxlan.ts";
import type { VxlanNetwork } from "./vxlan_network.ts";

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

test("registerNetwork() with EnableIPv6 creates flannel-v6.<VNI> and publishes backendV6Data", async () => {
  const ip = await fakeHost();
  await ip.address.add({ dev: "eth0", address: "fd00:1::1/64" });
  let attrs: LeaseAttrs | undefined;
  const conf = { ...CONF, enableIPv6: true, ipv6Network: parseCidr("fd00:10::/56") };
  const net = await createVxlanBackend({ iproute: ip, externalInterface: { ...EXT, addressV6: parseIp("fd00:1::1") } }).registerNetwork(conf, {
    acquireLease: async (a): Promise<Lease> => ((attrs = a), { ...a, subnet: parseCidr("10.244.1.0/24"), ipv6Subnet: parseCidr("fd00:10:0:1::/64") }),
    previousBackendV6Data: { VNI: 1, VtepMAC: "0e:2a:00:00:06:01" },
  });
  assert.equal(attrs?.publicIpv6, parseIp("fd00:1::1"));
  assert.is(JSON.stringify(attrs?.backendV6Data), '{"VNI":1,"VtepMAC":"0e:2a:00:00:06:01"}');
  assert.ok(attrs?.backendData, "IPv4 data too");
  const dump = ip.dump();
  assert.match(dump, /link flannel-v6\.1 type vxlan id 1 local fd00:1::1 dev eth0 dstport 8472 nolearning mtu 1430 up/);
  assert.match(dump, /link flannel\.1 type vxlan id 1 local 192\.168\.1\.1 dev eth0 dstport 8472 nolearning mtu 1450 up/);
  assert.is(net.mtu, 1430);
  assert.match(dump, /addr fd00:10:0:1::\/128 dev flannel-v6\.1/);
  assert.match(dump, /addr 10\.244\.1\.0\/32 dev flannel\.1/);
  assert.equal((net as VxlanNetwork).deviceNames, ["flannel.1", "flannel-v6.1"]);
});

test("registerNetwork() refuses a missing interface address and bad config with clear errors", async () => {
  const ip = await fakeHost();
  const backend = createVxlanBackend({ iproute: ip, externalInterface: EXT });
  await backend.registerNetwork({ ...CONF, enableIPv6: true, ipv6Network: parseCidr("fd00:10::/56") }, { acquireLease: async (a) => lease1(a) }).then(
    () => assert.unreachable(),
    (e: Error) => assert.match(e.message, /eth0 has no IPv6 address/),
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
