import { test } from "uvu";
import * as assert from "uvu/assert";
import { formatCidr, parseCidr } from "@weft/ipam";
import { formatSubnetKey, parseSubnetKey } from "./subnet_key.ts";

test("parseSubnetKey() reads flannel's IPv4 key and round-trips (subnet_test.go)", () => {
  const parts = parseSubnetKey("10.12.13.0-24");
  assert.ok(parts?.subnet);
  assert.is(formatCidr(parts.subnet), "10.12.13.0/24");
  assert.is(parts.ipv6Subnet, undefined);
  assert.is(formatSubnetKey(parts), "10.12.13.0-24");
});

test("parseSubnetKey() reads flannel's dual-stack key and round-trips", () => {
  const parts = parseSubnetKey("10.12.13.0-24&fd00:12:13::-56");
  assert.is(formatCidr(parts!.subnet!), "10.12.13.0/24");
  assert.is(formatCidr(parts!.ipv6Subnet!), "fd00:12:13::/56");
  assert.is(formatSubnetKey(parts!), "10.12.13.0-24&fd00:12:13::-56");
});

test("parseSubnetKey() returns undefined for each of flannel's invalid keys", () => {
  for (const key of [
    "10", "10.12.13.0", "10.12.13-24", "10.12.13.300-24", "10.12.13.0-24hi", "&2001::-56", "10.12.13.0-24&:12:13:-56",
    "10.12.13.0-24&20011::-56", "10.12.13.0-24&2001-56", "10.12.13.0-24&2001::", "10.12.13.0-24&2001::-56hi",
    "10.12.13.0-32", "10.12.13.0-24&fd00::-128", "not-a-subnet", "0.0.0.0-0",
  ]) {
    assert.is(parseSubnetKey(key), undefined, key);
  }
});

test("formatSubnetKey() writes an IPv6-only key with a zero IPv4 part and parseSubnetKey() reads it back", () => {
  const key = formatSubnetKey({ ipv6Subnet: parseCidr("fd00:1::/64") });
  assert.is(key, "0.0.0.0-0&fd00:1::-64");
  const parts = parseSubnetKey(key);
  assert.is(parts?.subnet, undefined);
  assert.is(formatCidr(parts!.ipv6Subnet!), "fd00:1::/64");
});

test("formatSubnetKey() rejects a lease without subnets and swapped families with TypeError", () => {
  assert.throws(() => formatSubnetKey({}), (e: unknown) => e instanceof TypeError);
  assert.throws(() => formatSubnetKey({ subnet: parseCidr("fd00::/64") }), (e: unknown) => e instanceof TypeError);
  assert.throws(() => formatSubnetKey({ subnet: parseCidr("10.0.0.0/24"), ipv6Subnet: parseCidr("10.1.0.0/24") }), (e: unknown) => e instanceof TypeError);
});

test.run();
