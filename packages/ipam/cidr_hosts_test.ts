import { test } from "uvu";
import * as assert from "uvu/assert";
import { broadcastOf, firstUsable, gatewayOf, lastUsable } from "./cidr_hosts.ts";
import { parseCidr } from "./parse_cidr.ts";

const c = (t: string) => parseCidr(t);

test("firstUsable(), gatewayOf(), lastUsable(), broadcastOf() for an IPv4 /24", () => {
  assert.is(firstUsable(c("10.244.1.0/24")).address, "10.244.1.1");
  assert.is(gatewayOf(c("10.244.1.0/24")).address, "10.244.1.1");
  assert.is(lastUsable(c("10.244.1.0/24")).address, "10.244.1.254");
  assert.is(broadcastOf(c("10.244.1.0/24")).address, "10.244.1.255");
  assert.is(lastUsable(c("10.0.0.0/25")).address, "10.0.0.126");
});

test("IPv4 /31 and /32 have no network/broadcast reservation", () => {
  assert.is(firstUsable(c("10.0.0.0/31")).address, "10.0.0.0");
  assert.is(lastUsable(c("10.0.0.0/31")).address, "10.0.0.1");
  assert.is(firstUsable(c("10.0.0.7/32")).address, "10.0.0.7");
  assert.is(lastUsable(c("10.0.0.7/32")).address, "10.0.0.7");
  assert.throws(() => gatewayOf(c("10.0.0.7/32")), (e: unknown) => e instanceof RangeError);
});

test("IPv6 has no broadcast: the last address is usable, as host-local's rangeEnd", () => {
  assert.is(gatewayOf(c("2001:cafe:42::/64")).address, "2001:cafe:42::1");
  assert.is(lastUsable(c("2001:cafe:42::/64")).address, "2001:cafe:42:0:ffff:ffff:ffff:ffff");
  assert.is(broadcastOf(c("2001:cafe:42::/64")).address, "2001:cafe:42:0:ffff:ffff:ffff:ffff");
});

test.run();
