import { test } from "uvu";
import * as assert from "uvu/assert";
import { compareCidr, compareIp, ipEquals } from "./compare_ip.ts";
import { parseCidr } from "./parse_cidr.ts";
import { parseIp } from "./parse_ip.ts";

test("compareIp() orders numerically, IPv4 before IPv6", () => {
  const sorted = ["10.0.0.10", "::1", "10.0.0.9", "9.255.255.255", "2001:db8::", "::"].map(parseIp).sort(compareIp).map((i) => i.address);
  assert.equal(sorted, ["9.255.255.255", "10.0.0.9", "10.0.0.10", "::", "::1", "2001:db8::"]);
  assert.is(compareIp(parseIp("10.0.0.1"), parseIp("10.0.0.1")), 0);
  assert.is(compareIp(parseIp("10.0.0.2"), parseIp("10.0.0.1")), 1);
});

test("ipEquals() compares family and value", () => {
  assert.ok(ipEquals(parseIp("2001:db8::1"), parseIp("2001:0db8:0::1")));
  assert.not.ok(ipEquals(parseIp("0.0.0.0"), parseIp("::")));
});

test("compareCidr() orders by address then prefix length", () => {
  const s = ["10.0.0.0/16", "10.0.0.0/8", "9.0.0.0/8"].map((t) => parseCidr(t)).sort(compareCidr).map((c) => `${c.address}/${c.prefixLength}`);
  assert.equal(s, ["9.0.0.0/8", "10.0.0.0/8", "10.0.0.0/16"]);
});

test.run();
