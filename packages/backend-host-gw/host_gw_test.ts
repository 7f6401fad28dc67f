import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseCidr, parseIp } from "@weft/ipam";
import type { Lease, LeaseAttrs } from "@weft/subnet";
import { CONF, EXT, fakeHost } from "./_test_helpers.ts";
import { createHostGwBackend, HOST_GW_NAT_MESSAGE, HostGwNatError } from "./host_gw.ts";

test("createHostGwBackend() refuses to start behind NAT with flannel's message", async () => {
  const ip = await fakeHost();
  try {
    createHostGwBackend({ iproute: ip, externalInterface: { ...EXT, publicIp: parseIp("203.0.113.1") } });
    assert.unreachable("should throw");
  } catch (err) {
    assert.instance(err, HostGwNatError);
    assert.is((err as Error).message, "your PublicIP differs from interface IP, meaning that probably you're on a NAT, which is not supported by host-gw backend");
    assert.is((err as HostGwNatError).publicIp, "203.0.113.1");
    assert.is(HOST_GW_NAT_MESSAGE, (err as Error).message);
  }
  assert.is(createHostGwBackend({ iproute: ip, externalInterface: { ...EXT, publicIp: parseIp("192.168.1.1") } }).type, "host-gw");
});

test("registerNetwork() publishes host-gw with the public IP and null backend data; MTU is the interface MTU", async () => {
  const ip = await fakeHost();
  let attrs: LeaseAttrs | undefined;
  const net = await createHostGwBackend({ iproute: ip, externalInterface: { ...EXT, mtu: 9001 } }).registerNetwork(CONF, {
    acquireLease: async (a): Promise<Lease> => ((attrs = a), { ...a, subnet: parseCidr("10.244.1.0/24") }),
  });
  assert.equal(attrs, { publicIp: parseIp("192.168.1.1"), backendType: "host-gw", backendData: null });
  assert.is(net.mtu, 9001);
  assert.is(net.backendType, "host-gw");
  assert.equal(net.lease.subnet, parseCidr("10.244.1.0/24"));
});

test("registerNetwork() needs an interface address for each enabled family", async () => {
  const ip = await fakeHost();
  await createHostGwBackend({ iproute: ip, externalInterface: EXT })
    .registerNetwork({ ...CONF, enableIPv6: true, ipv6Network: parseCidr("fd00:10::/56") }, { acquireLease: async (a) => ({ ...a }) })
    .then(
      () => assert.unreachable(),
      (e: Error) => assert.match(e.message, /eth0 has no IPv6 address/),
    );
});

test.run();
