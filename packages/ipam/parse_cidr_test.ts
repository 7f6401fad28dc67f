import { test } from "uvu";
import * as assert from "uvu/assert";
import { canParseCidr, cidrOf, formatCidr, formatIpWithPrefix, parseCidr, parseIpWithPrefix, tryParseCidr } from "./parse_cidr.ts";
import { parseIp } from "./parse_ip.ts";

test("parseCidr() normalises to the network address, as flannel's Network", () => {
  assert.equal(parseCidr("10.3.1.0/16"), { family: 4, address: "10.3.0.0", prefixLength: 16 });
  assert.equal(parseCidr("10.244.1.5/24"), { family: 4, address: "10.244.1.0", prefixLength: 24 });
  assert.equal(parseCidr("0.0.0.0/0"), { family: 4, address: "0.0.0.0", prefixLength: 0 });
  assert.equal(parseCidr("10.0.0.1/32"), { family: 4, address: "10.0.0.1", prefixLength: 32 });
  assert.equal(parseCidr("2001:cafe:42::1/64"), { family: 6, address: "2001:cafe:42::", prefixLength: 64 });
  assert.equal(parseCidr("fc00::/48"), { family: 6, address: "fc00::", prefixLength: 48 });
  assert.equal(parseCidr("fc00::1/128"), { family: 6, address: "fc00::1", prefixLength: 128 });
});

test("parseCidr() with strict rejects host bits and names the network", () => {
  assert.throws(() => parseCidr("10.3.1.0/16", { strict: true }), (e: Error) => e instanceof SyntaxError && /10\.3\.0\.0\/16/.test(e.message));
  assert.equal(parseCidr("10.3.0.0/16", { strict: true }), { family: 4, address: "10.3.0.0", prefixLength: 16 });
  assert.is(tryParseCidr("10.3.1.0/16", { strict: true }), undefined);
  assert.is(canParseCidr("10.3.1.0/16"), true);
});

test("parseCidr() rejects junk with a SyntaxError", () => {
  for (const bad of ["10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/024", "10.0.0.0/-1", "10.0.0.0/8 ", "010.0.0.0/8", "::/129", "/24",
    "10.0.0.0/24/1", "10.0.0.0/2a", "fe80::%1/64", "not-a-cidr"]) {
    assert.throws(() => parseCidr(bad), (e: Error) => e instanceof SyntaxError && e.message.includes(JSON.stringify(bad)), bad);
    assert.is(tryParseCidr(bad), undefined, bad);
    assert.is(canParseCidr(bad), false, bad);
  }
});

test("parseIpWithPrefix() keeps the address and its network, as Go's net.ParseCIDR", () => {
  const { ip, cidr } = parseIpWithPrefix("10.5.72.1/24");
  assert.equal(ip, { family: 4, address: "10.5.72.1" });
  assert.equal(cidr, { family: 4, address: "10.5.72.0", prefixLength: 24 });
  assert.throws(() => parseIpWithPrefix("10.5.72.1"), (e: unknown) => e instanceof SyntaxError);
});

test("formatCidr() and formatIpWithPrefix() print CIDR text", () => {
  assert.is(formatCidr(parseCidr("fc00::/48")), "fc00::/48");
  assert.is(formatIpWithPrefix(parseIp("10.244.1.5"), parseCidr("10.244.1.0/24")), "10.244.1.5/24");
  assert.is(formatIpWithPrefix(parseIp("2001:cafe:42::1"), 64), "2001:cafe:42::1/64");
  assert.throws(() => formatIpWithPrefix(parseIp("10.0.0.1"), parseCidr("::/0")), (e: unknown) => e instanceof RangeError);
  assert.throws(() => formatIpWithPrefix(parseIp("10.0.0.1"), 33), (e: unknown) => e instanceof RangeError);
});

test("cidrOf() clears host bits and checks the prefix length", () => {
  assert.equal(cidrOf(parseIp("192.168.1.77"), 26), { family: 4, address: "192.168.1.64", prefixLength: 26 });
  assert.equal(cidrOf(parseIp("2001:db8::ffff"), 112), { family: 6, address: "2001:db8::", prefixLength: 112 });
  assert.throws(() => cidrOf(parseIp("10.0.0.1"), 40), (e: unknown) => e instanceof RangeError);
});

test.run();
