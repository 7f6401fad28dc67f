import { test } from "uvu";
import * as assert from "uvu/assert";
import { iterateSubnets } from "./iterate_subnets.ts";
import { formatCidr, parseCidr } from "./parse_cidr.ts";
import { parseIp } from "./parse_ip.ts";

test("iterateSubnets() yields every subnet in order by default", () => {
  assert.equal([...iterateSubnets(parseCidr("10.0.0.0/29"), { prefixLength: 30 })].map(formatCidr), ["10.0.0.0/30", "10.0.0.4/30"]);
});

test("iterateSubnets() honours min and max (inclusive), as flannel's SubnetMin/SubnetMax", () => {
  const got = [...iterateSubnets(parseCidr("10.3.0.0/16"), { prefixLength: 24, min: parseIp("10.3.5.0"), max: parseIp("10.3.8.0") })];
  assert.equal(got.map(formatCidr), ["10.3.5.0/24", "10.3.6.0/24", "10.3.7.0/24", "10.3.8.0/24"]);
  const v6 = [...iterateSubnets(parseCidr("fc00::/48"), { prefixLength: 64, min: parseIp("fc00:0:0:fffe::") })];
  assert.equal(v6.map(formatCidr), ["fc00:0:0:fffe::/64", "fc00:0:0:ffff::/64"]);
});

test("iterateSubnets() is lazy on huge networks", () => {
  const it = iterateSubnets(parseCidr("::/0"), { prefixLength: 64 });
  assert.is(formatCidr(it.next().value!), "::/64");
  assert.is(formatCidr(it.next().value!), "0:0:0:1::/64");
});

test("iterateSubnets() throws RangeError for bounds outside the network or a bad prefix", () => {
  assert.throws(() => [...iterateSubnets(parseCidr("10.3.0.0/16"), { prefixLength: 24, min: parseIp("10.4.0.0") })], (e: unknown) => e instanceof RangeError);
  assert.throws(() => [...iterateSubnets(parseCidr("10.3.0.0/16"), { prefixLength: 24, max: parseIp("::1") })], (e: unknown) => e instanceof RangeError);
  assert.throws(() => [...iterateSubnets(parseCidr("10.3.0.0/16"), { prefixLength: 8 })], (e: unknown) => e instanceof RangeError);
});

test.run();
