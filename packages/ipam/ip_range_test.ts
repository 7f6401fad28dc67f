import { test } from "uvu";
import * as assert from "uvu/assert";
import { canonicalizeRange, canonicalizeRangeSet, formatRange, formatRangeSet, rangeContains } from "./ip_range.ts";
import { parseCidr } from "./parse_cidr.ts";
import { parseIp } from "./parse_ip.ts";

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message}`;
  }
  return "no error";
}

test("canonicalizeRange() fills host-local's defaults", () => {
  const r = canonicalizeRange({ subnet: "192.0.2.0/24" });
  assert.equal(r, {
    subnet: { family: 4, address: "192.0.2.0", prefixLength: 24 },
    rangeStart: { family: 4, address: "192.0.2.1" },
    rangeEnd: { family: 4, address: "192.0.2.254" },
    gateway: { family: 4, address: "192.0.2.1" },
  });
  assert.is(canonicalizeRange({ subnet: "192.0.2.0/25" }).rangeEnd.address, "192.0.2.126");
  const v6 = canonicalizeRange({ subnet: "2001:db8:1::/64" });
  assert.is(v6.rangeStart.address, "2001:db8:1::1");
  assert.is(v6.rangeEnd.address, "2001:db8:1:0:ffff:ffff:ffff:ffff");
  assert.is(v6.gateway.address, "2001:db8:1::1");
});

test("canonicalizeRange() keeps given fields, as text or parsed values", () => {
  const r = canonicalizeRange({ subnet: parseCidr("10.1.2.0/24"), rangeStart: "10.1.2.10", rangeEnd: parseIp("10.1.2.20"), gateway: "10.1.2.254" });
  assert.is(formatRange(r), "10.1.2.10-10.1.2.20");
  assert.is(r.gateway.address, "10.1.2.254");
});

test("canonicalizeRange() rejects bad ranges with host-local's messages", () => {
  assert.is(message(() => canonicalizeRange({ subnet: "192.0.2.5/24" })), "RangeError: Network has host bits set. For a subnet mask of length 24 the network address is 192.0.2.0");
  assert.is(message(() => canonicalizeRange({ subnet: "192.0.2.0/31" })), "RangeError: Network 192.0.2.0/31 too small to allocate from");
  assert.is(message(() => canonicalizeRange({ subnet: "192.0.2.0/32" })), "RangeError: Network 192.0.2.0/32 too small to allocate from");
  assert.is(message(() => canonicalizeRange({ subnet: "192.0.2.0/24", rangeStart: "192.0.3.0" })), "RangeError: RangeStart 192.0.3.0 not in network 192.0.2.0/24");
  assert.is(message(() => canonicalizeRange({ subnet: "192.0.2.0/24", rangeEnd: "192.0.3.0" })), "RangeError: RangeEnd 192.0.3.0 not in network 192.0.2.0/24");
  assert.match(message(() => canonicalizeRange({ subnet: "192.0.2/24" })), /^SyntaxError: /);
  assert.is(message(() => canonicalizeRange({ subnet: "2001:db8::/127" })), "RangeError: Network 2001:db8::/127 too small to allocate from");
});

test("canonicalizeRangeSet() rejects empty, mixed-family and overlapping sets", () => {
  assert.is(message(() => canonicalizeRangeSet([])), "RangeError: empty range set");
  assert.is(message(() => canonicalizeRangeSet([{ subnet: "10.0.0.0/24" }, { subnet: "2001:db8::/64" }])), "RangeError: mixed address families");
  assert.is(
    message(() => canonicalizeRangeSet([{ subnet: "10.0.0.0/24" }, { subnet: "10.0.0.0/26" }])),
    "RangeError: subnets 10.0.0.1-10.0.0.254 and 10.0.0.1-10.0.0.62 overlap",
  );
  const ok = canonicalizeRangeSet([{ subnet: "10.0.0.0/24", rangeEnd: "10.0.0.100" }, { subnet: "10.0.0.0/24", rangeStart: "10.0.0.101" }]);
  assert.is(formatRangeSet(ok), "10.0.0.1-10.0.0.100,10.0.0.101-10.0.0.254");
});

test("rangeContains() checks the subnet and rangeStart..rangeEnd", () => {
  const r = canonicalizeRange({ subnet: "10.0.0.0/24", rangeStart: "10.0.0.10", rangeEnd: "10.0.0.20" });
  assert.ok(rangeContains(r, parseIp("10.0.0.10")));
  assert.ok(rangeContains(r, parseIp("10.0.0.20")));
  assert.not.ok(rangeContains(r, parseIp("10.0.0.9")));
  assert.not.ok(rangeContains(r, parseIp("10.0.0.21")));
  assert.not.ok(rangeContains(r, parseIp("::a00:a")));
});

test.run();
