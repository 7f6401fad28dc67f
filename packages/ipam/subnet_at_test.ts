import { test } from "uvu";
import * as assert from "uvu/assert";
import { formatCidr, parseCidr } from "./parse_cidr.ts";
import { cidrSize, subnetAt, subnetCount } from "./subnet_at.ts";

test("subnetAt() returns subnet number n, negative from the end", () => {
  const net = parseCidr("10.244.0.0/16");
  assert.is(formatCidr(subnetAt(net, { prefixLength: 24, index: 0 })), "10.244.0.0/24");
  assert.is(formatCidr(subnetAt(net, { prefixLength: 24, index: 5 })), "10.244.5.0/24");
  assert.is(formatCidr(subnetAt(net, { prefixLength: 24, index: -1 })), "10.244.255.0/24");
  assert.is(formatCidr(subnetAt(net, { prefixLength: 16, index: 0 })), "10.244.0.0/16");
  assert.is(formatCidr(subnetAt(parseCidr("fc00::/48"), { prefixLength: 64, index: 1 })), "fc00:0:0:1::/64");
  assert.is(formatCidr(subnetAt(parseCidr("fc00::/48"), { prefixLength: 64, index: 65535n })), "fc00:0:0:ffff::/64");
});

test("subnetAt() throws RangeError for an index or prefix out of range", () => {
  const net = parseCidr("10.244.0.0/16");
  assert.throws(() => subnetAt(net, { prefixLength: 24, index: 256 }), (e: unknown) => e instanceof RangeError);
  assert.throws(() => subnetAt(net, { prefixLength: 24, index: -257 }), (e: unknown) => e instanceof RangeError);
  assert.throws(() => subnetAt(net, { prefixLength: 8, index: 0 }), (e: unknown) => e instanceof RangeError);
  assert.throws(() => subnetAt(net, { prefixLength: 33, index: 0 }), (e: unknown) => e instanceof RangeError);
});

test("subnetCount() and cidrSize() count subnets and addresses", () => {
  assert.is(subnetCount(parseCidr("10.0.0.0/8"), 24), 65536n);
  assert.is(subnetCount(parseCidr("fc00::/48"), 64), 65536n);
  assert.is(cidrSize(parseCidr("10.0.0.0/24")), 256n);
  assert.is(cidrSize(parseCidr("::/64")), 1n << 64n);
});

test.run();
