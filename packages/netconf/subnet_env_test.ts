import { test } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { formatCidr, parseCidr } from "@weft/ipam";
import type { Cidr } from "@weft/ipam";
import { formatSubnetEnv, parseSubnetEnv } from "./subnet_env.ts";

const c = parseCidr;
const f = (x: Cidr | undefined) => (x ? formatCidr(x) : undefined);

test("formatSubnetEnv() writes flannel's dual-stack documentation example exactly", () => {
  const text = formatSubnetEnv({
    network: c("10.42.0.0/16"),
    subnet: c("10.42.0.0/24"),
    ipv6Network: c("2001:cafe:42::/56"),
    ipv6Subnet: c("2001:cafe:42::/64"),
    mtu: 1450,
    ipMasq: true,
  });
  assert.is(
    text,
    "FLANNEL_NETWORK=10.42.0.0/16\nFLANNEL_SUBNET=10.42.0.1/24\nFLANNEL_IPV6_NETWORK=2001:cafe:42::/56\nFLANNEL_IPV6_SUBNET=2001:cafe:42::1/64\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n",
  );
});

test("formatSubnetEnv() writes flannel's dist/sample_subnet.env exactly (IPv4 only)", () => {
  const text = formatSubnetEnv({ network: c("10.1.0.0/16"), subnet: c("10.1.74.0/24"), mtu: 1472, ipMasq: false });
  assert.is(text, "FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.74.1/24\nFLANNEL_MTU=1472\nFLANNEL_IPMASQ=false\n");
});

test("formatSubnetEnv() IPv6 only writes no IPv4 lines", () => {
  const text = formatSubnetEnv({ ipv6Network: c("fc00::/48"), ipv6Subnet: c("fc00:0:0:5::/64"), mtu: 1430, ipMasq: true });
  assert.is(text, "FLANNEL_IPV6_NETWORK=fc00::/48\nFLANNEL_IPV6_SUBNET=fc00:0:0:5::1/64\nFLANNEL_MTU=1430\nFLANNEL_IPMASQ=true\n");
});

test("formatSubnetEnv() with no networks still writes MTU and IPMASQ", () => {
  assert.is(formatSubnetEnv({ mtu: 1500, ipMasq: false }), "FLANNEL_MTU=1500\nFLANNEL_IPMASQ=false\n");
});

test("formatSubnetEnv() rejects half pairs, wrong families and bad values", () => {
  assert.throws(() => formatSubnetEnv({ network: c("10.0.0.0/8"), mtu: 1450, ipMasq: true }), /network and env.subnet/);
  assert.throws(() => formatSubnetEnv({ ipv6Subnet: c("fc00::/64"), mtu: 1450, ipMasq: true }), /ipv6Network and env.ipv6Subnet/);
  assert.throws(() => formatSubnetEnv({ network: c("fc00::/48"), subnet: c("fc00::/64"), mtu: 1450, ipMasq: true }), /IPv4/);
  assert.throws(() => formatSubnetEnv({ mtu: -1, ipMasq: true }), (e: unknown) => e instanceof TypeError);
  assert.throws(() => formatSubnetEnv({ mtu: 1.5, ipMasq: true }), (e: unknown) => e instanceof TypeError);
  assert.throws(() => formatSubnetEnv({ mtu: 1500, ipMasq: "yes" as unknown as boolean }), (e: unknown) => e instanceof TypeError);
  assert.throws(() => formatSubnetEnv({ network: c("10.0.0.0/8"), subnet: c("10.0.0.1/32"), mtu: 1, ipMasq: true }), (e: unknown) => e instanceof RangeError);
});

test("parseSubnetEnv() reads flannel's file and normalises subnets like net.ParseCIDR", () => {
  const env = parseSubnetEnv("FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.17.1/24\nFLANNEL_MTU=1472\nFLANNEL_IPMASQ=true\n");
  assert.is(f(env.network), "10.1.0.0/16");
  assert.is(f(env.subnet), "10.1.17.0/24");
  assert.is(env.mtu, 1472);
  assert.is(env.ipMasq, true);
  assert.is(env.ipv6Network, undefined);
  assert.equal(env.ipv6Subnets, []);
  assert.is(env.values.FLANNEL_SUBNET, "10.1.17.1/24");
});

test("parseSubnetEnv() comma lists: invalid entries skipped, several entries give no single value (flannel main_test)", () => {
  const warnings: string[] = [];
  const env = parseSubnetEnv("FLANNEL_SUBNET=10.244.1.0/24,not-a-cidr,10.244.2.0/24\n", { onWarning: (m) => warnings.push(m) });
  assert.equal(env.subnets.map(f), ["10.244.1.0/24", "10.244.2.0/24"]);
  assert.is(env.subnet, undefined);
  assert.is(warnings.length, 2);
  assert.match(warnings[0]!, /not-a-cidr/);
  const bad = parseSubnetEnv("FLANNEL_SUBNET=not-a-cidr\n");
  assert.equal(bad.subnets, []);
  assert.is(bad.subnet, undefined);
});

test("parseSubnetEnv() de-duplicates networks and keeps several (flannel CNI multiple networks)", () => {
  const env = parseSubnetEnv("FLANNEL_NETWORK=10.1.0.0/16,192.168.0.0/16,10.1.0.0/16\nFLANNEL_SUBNET=10.1.17.1/24\n");
  assert.equal(env.networks.map(f), ["10.1.0.0/16", "192.168.0.0/16"]);
  assert.is(env.network, undefined);
  assert.is(f(env.subnet), "10.1.17.0/24");
});

test("parseSubnetEnv() keeps families apart", () => {
  const env = parseSubnetEnv("FLANNEL_NETWORK=fc00::/48\nFLANNEL_IPV6_NETWORK=fc00::/48,10.0.0.0/8\nFLANNEL_IPV6_SUBNET=fc00::1/64\n");
  assert.equal(env.networks, []);
  assert.equal(env.ipv6Networks.map(f), ["fc00::/48"]);
  assert.is(f(env.ipv6Subnet), "fc00::/64");
});

test("parseSubnetEnv() tolerates comments, blank lines, export, quotes, CRLF and unknown keys", () => {
  const env = parseSubnetEnv('# written by hand\r\n\r\nexport FLANNEL_NETWORK="10.5.0.0/16"\r\nFLANNEL_SUBNET = 10.5.3.1/24  # mine\r\nOTHER=x=y\r\ngarbage line\r\nFLANNEL_IPMASQ=false\r\n');
  assert.is(f(env.network), "10.5.0.0/16");
  assert.is(f(env.subnet), "10.5.3.0/24");
  assert.is(env.ipMasq, false);
  assert.is(env.mtu, undefined);
  assert.is(env.values.OTHER, "x=y");
});

test("parseSubnetEnv() FLANNEL_IPMASQ is true only for exactly 'true'; a bad MTU is skipped", () => {
  const env = parseSubnetEnv("FLANNEL_IPMASQ=TRUE\nFLANNEL_MTU=-5\n");
  assert.is(env.ipMasq, false);
  assert.is(env.mtu, undefined);
  assert.is(parseSubnetEnv("FLANNEL_MTU=99999999999\n").mtu, undefined);
});

test("parseSubnetEnv() an empty file gives empty results", () => {
  const env = parseSubnetEnv("");
  assert.equal(env.networks, []);
  assert.is(env.subnet, undefined);
  assert.is(env.mtu, undefined);
  assert.is(env.ipMasq, undefined);
  assert.equal(env.values, {});
});

const v4Subnet = fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 1, max: 30 })).map(([n, len]) => {
  const addr = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
  return c(`${addr}/${len}`);
});
const v6Subnet = fc.tuple(fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }), fc.integer({ min: 1, max: 126 })).map(
  ([groups, len]) => c(`${groups.map((g) => g.toString(16)).join(":")}/${len}`),
);

test("formatSubnetEnv() / parseSubnetEnv() round-trip (property)", () => {
  fc.assert(
    fc.property(
      fc.option(fc.tuple(v4Subnet, v4Subnet), { nil: undefined }),
      fc.option(fc.tuple(v6Subnet, v6Subnet), { nil: undefined }),
      fc.integer({ min: 0, max: 65535 }),
      fc.boolean(),
      (v4, v6, mtu, ipMasq) => {
        const input = { network: v4?.[0], subnet: v4?.[1], ipv6Network: v6?.[0], ipv6Subnet: v6?.[1], mtu, ipMasq };
        const out = parseSubnetEnv(formatSubnetEnv(input));
        assert.is(f(out.network), f(input.network));
        assert.is(f(out.subnet), f(input.subnet));
        assert.is(f(out.ipv6Network), f(input.ipv6Network));
        assert.is(f(out.ipv6Subnet), f(input.ipv6Subnet));
        assert.is(out.mtu, mtu);
        assert.is(out.ipMasq, ipMasq);
      },
    ),
    { numRuns: 1000 },
  );
});

test("parseSubnetEnv() never throws (property)", () => {
  fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 200 }), (s) => typeof parseSubnetEnv(s) === "object"), { numRuns: 2000 });
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.constantFrom("FLANNEL_NETWORK", "FLANNEL_SUBNET", "FLANNEL_IPV6_SUBNET", "FLANNEL_MTU", "X"), fc.string()), { maxLength: 6 }), (kv) => {
      const env = parseSubnetEnv(kv.map(([k, v]) => `${k}=${v}`).join("\n"));
      return env.subnets.every((s) => s.family === 4) && env.ipv6Subnets.every((s) => s.family === 6);
    }),
    { numRuns: 2000 },
  );
});

test.run();
