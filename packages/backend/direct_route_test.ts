import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseIp } from "@weft/ipam";
import { FakeIpRoute } from "@weft/iproute/testing";
import { lookupDirectRoute } from "./direct_route.ts";

async function host(): Promise<FakeIpRoute> {
  const ip = new FakeIpRoute();
  await ip.link.add({ type: "veth", name: "eth0", peer: { name: "peer0" }, up: true });
  await ip.address.add({ dev: "eth0", address: "192.168.1.1/24" });
  await ip.route.add({ dst: "default", via: "192.168.1.254", dev: "eth0" });
  return ip;
}

test("lookupDirectRoute() gives the interface for an address on an attached network", async () => {
  assert.equal(await lookupDirectRoute(await host(), parseIp("192.168.1.7")), { dev: "eth0" });
});

test("lookupDirectRoute() is undefined for an address behind a gateway or without a route", async () => {
  const ip = await host();
  assert.is(await lookupDirectRoute(ip, parseIp("203.0.113.5")), undefined);
  await ip.route.delete({ dst: "default", via: "192.168.1.254", dev: "eth0" });
  assert.is(await lookupDirectRoute(ip, parseIp("203.0.113.5")), undefined);
});

test.run();
