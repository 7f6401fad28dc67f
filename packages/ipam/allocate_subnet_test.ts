import { test } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { cidrOverlaps } from "./cidr_overlaps.ts";
import { subnetAt } from "./subnet_at.ts";
import { allocateSubnet, OutOfSubnetsError, subnetFitsWindow } from "./allocate_subnet.ts";
import type { SubnetWindow } from "./allocate_subnet.ts";
import { iterateSubnets } from "./iterate_subnets.ts";
import { formatCidr, parseCidr } from "./parse_cidr.ts";
import { parseIp } from "./parse_ip.ts";

const c = (t: string) => parseCidr(t);
// flannel pkg/subnet/etcd/subnet_test.go: Network 10.3.0.0/16, SubnetMin 10.3.1.0, SubnetMax 10.3.25.0, SubnetLen 24.
const FLANNEL: SubnetWindow = { network: c("10.3.0.0/16"), subnetLen: 24, subnetMin: parseIp("10.3.1.0"), subnetMax: parseIp("10.3.25.0") };
const FLANNEL_TAKEN = ["10.3.1.0/24", "10.3.2.0/24", "10.3.4.0/24", "10.3.5.0/24", "10.3.31.0/24"].map(c);

test("allocateSubnet() gives a free in-range subnet (flannel's lease vectors)", () => {
  for (let i = 0; i < 50; i++) {
    const sn = allocateSubnet(FLANNEL, { taken: FLANNEL_TAKEN });
    assert.ok(subnetFitsWindow(FLANNEL, sn), formatCidr(sn));
    assert.not.ok(FLANNEL_TAKEN.some((t) => formatCidr(t) === formatCidr(sn)), formatCidr(sn));
  }
});

test("allocateSubnet() picks at random among the free subnets, in walk order", () => {
  assert.is(formatCidr(allocateSubnet(FLANNEL, { taken: FLANNEL_TAKEN, random: () => 0 })), "10.3.3.0/24");
  assert.is(formatCidr(allocateSubnet(FLANNEL, { taken: FLANNEL_TAKEN, random: () => 0.9999 })), "10.3.25.0/24");
  // free: 3, 6..25 = 21 subnets; index 1 is 10.3.6.0
  assert.is(formatCidr(allocateSubnet(FLANNEL, { taken: FLANNEL_TAKEN, random: () => 1.5 / 21 })), "10.3.6.0/24");
});

test("allocateSubnet() reuses a free, compatible previous subnet", () => {
  assert.is(formatCidr(allocateSubnet(FLANNEL, { taken: FLANNEL_TAKEN, previous: c("10.3.6.0/24"), random: () => 0 })), "10.3.6.0/24");
});

test("allocateSubnet() ignores an incompatible or taken previous subnet", () => {
  const r = () => 0;
  assert.is(formatCidr(allocateSubnet(FLANNEL, { taken: FLANNEL_TAKEN, previous: c("10.4.1.0/24"), random: r })), "10.3.3.0/24");
  assert.is(formatCidr(allocateSubnet(FLANNEL, { taken: FLANNEL_TAKEN, previous: c("10.3.2.0/24"), random: r })), "10.3.3.0/24");
  assert.is(formatCidr(allocateSubnet(FLANNEL, { taken: FLANNEL_TAKEN, previous: c("10.3.6.0/25"), random: r })), "10.3.3.0/24");
  assert.is(formatCidr(allocateSubnet(FLANNEL, { taken: FLANNEL_TAKEN, previous: c("10.3.26.0/24"), random: r })), "10.3.3.0/24");
  // a taken lease of another length that covers the previous subnet also blocks it
  assert.is(formatCidr(allocateSubnet(FLANNEL, { taken: [c("10.3.6.0/23")], previous: c("10.3.7.0/24"), random: r })), "10.3.1.0/24");
});

test("allocateSubnet() treats taken subnets of other lengths by overlap", () => {
  const taken = [c("10.3.0.0/20")]; // covers 10.3.0.0 - 10.3.15.255
  assert.is(formatCidr(allocateSubnet(FLANNEL, { taken, random: () => 0 })), "10.3.16.0/24");
  const small = [c("10.3.1.128/25")];
  assert.is(formatCidr(allocateSubnet(FLANNEL, { taken: small, random: () => 0 })), "10.3.2.0/24");
});

test("allocateSubnet() collects at most 100 candidates", () => {
  const w: SubnetWindow = { network: c("10.0.0.0/8"), subnetLen: 24, subnetMin: parseIp("10.0.1.0"), subnetMax: parseIp("10.255.255.0") };
  assert.is(formatCidr(allocateSubnet(w, { random: () => 0.99999 })), "10.0.100.0/24");
  assert.is(formatCidr(allocateSubnet(w, { random: () => 0.99999, candidates: 3 })), "10.0.3.0/24");
});

test("allocateSubnet() throws OutOfSubnetsError with flannel's exact message when the window is full", () => {
  const taken = [...iterateSubnets(FLANNEL.network, { prefixLength: 24 })];
  try {
    allocateSubnet(FLANNEL, { taken });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, OutOfSubnetsError);
    assert.is((err as Error).message, "out of subnets");
    assert.is((err as Error).name, "OutOfSubnetsError");
    assert.is((err as OutOfSubnetsError).window, FLANNEL);
  }
  assert.throws(() => allocateSubnet(FLANNEL, { taken: [c("10.0.0.0/8")] }), (e: unknown) => e instanceof OutOfSubnetsError);
});

test("allocateSubnet() handles a /8 of /24s with all but the last taken quickly", () => {
  const w: SubnetWindow = { network: c("10.0.0.0/8"), subnetLen: 24, subnetMin: parseIp("10.0.1.0"), subnetMax: parseIp("10.255.255.0") };
  const taken = [...iterateSubnets(w.network, { prefixLength: 24, max: parseIp("10.255.254.0") })];
  const start = performance.now();
  assert.is(formatCidr(allocateSubnet(w, { taken })), "10.255.255.0/24");
  assert.ok(performance.now() - start < 2000, `took ${performance.now() - start} ms`);
});

test("allocateSubnet() works for IPv6 (/48 split into /64s) independently of IPv4", () => {
  // flannel's IPv6 defaults: fc00::/48, min fc00:0:0:1::, max fc00:0:0:ffff::
  const w: SubnetWindow = { network: c("fc00::/48"), subnetLen: 64, subnetMin: parseIp("fc00:0:0:1::"), subnetMax: parseIp("fc00:0:0:ffff::") };
  const taken = [...iterateSubnets(w.network, { prefixLength: 64, max: parseIp("fc00:0:0:fffe::") }), c("10.0.0.0/8")];
  assert.is(formatCidr(allocateSubnet(w, { taken })), "fc00:0:0:ffff::/64");
  assert.is(formatCidr(allocateSubnet(w, { random: () => 0 })), "fc00:0:0:1::/64");
  assert.throws(() => allocateSubnet(w, { taken: [c("fc00::/48")] }), (e: unknown) => e instanceof OutOfSubnetsError);
});

test("allocateSubnet() rejects an inconsistent window with RangeError", () => {
  const bad = (patch: Partial<SubnetWindow>) => () => allocateSubnet({ ...FLANNEL, ...patch });
  assert.throws(bad({ subnetMin: parseIp("10.4.0.0") }), /not in the range of the network/);
  assert.throws(bad({ subnetMax: parseIp("10.3.8.128") }), /not on a SubnetLen boundary: 10\.3\.8\.128/);
  assert.throws(bad({ subnetLen: 8 }), (e: unknown) => e instanceof RangeError);
  assert.throws(bad({ subnetMin: parseIp("fc00::") }), (e: unknown) => e instanceof RangeError);
  assert.throws(() => allocateSubnet(FLANNEL, { candidates: 0 }), (e: unknown) => e instanceof RangeError);
});

test("subnetFitsWindow() is flannel's isSubnetConfigCompat", () => {
  assert.ok(subnetFitsWindow(FLANNEL, c("10.3.1.0/24")));
  assert.ok(subnetFitsWindow(FLANNEL, c("10.3.25.0/24")));
  assert.not.ok(subnetFitsWindow(FLANNEL, c("10.3.26.0/24")));
  assert.not.ok(subnetFitsWindow(FLANNEL, c("10.3.0.0/24")));
  assert.not.ok(subnetFitsWindow(FLANNEL, c("10.3.2.0/25")));
  assert.not.ok(subnetFitsWindow(FLANNEL, c("fc00::/24")));
});

test("property: allocateSubnet() returns a free subnet of the window, or throws only when none is free", () => {
  // window: 10.20.0.0/20 split into /26 (64 subnets), min/max random; taken: random subnets of lengths 22..28
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 63 }),
      fc.integer({ min: 0, max: 63 }),
      fc.array(fc.record({ len: fc.integer({ min: 22, max: 28 }), index: fc.nat() }), { maxLength: 40 }),
      fc.double({ min: 0, max: 0.999999, noNaN: true }),
      (i, j, takenSpec, r) => {
        const network = c("10.20.0.0/20");
        const [lo, hi] = i <= j ? [i, j] : [j, i];
        const window: SubnetWindow = {
          network,
          subnetLen: 26,
          subnetMin: subnetAt(network, { prefixLength: 26, index: lo }),
          subnetMax: subnetAt(network, { prefixLength: 26, index: hi }),
        };
        const taken = takenSpec.map(({ len, index }) => subnetAt(network, { prefixLength: len, index: index % 2 ** (len - 20) }));
        const free = [...iterateSubnets(network, { prefixLength: 26, min: window.subnetMin, max: window.subnetMax })].filter(
          (sn) => !taken.some((t) => cidrOverlaps(sn, t)),
        );
        if (free.length === 0) {
          assert.throws(() => allocateSubnet(window, { taken, random: () => r }), (e: unknown) => e instanceof OutOfSubnetsError);
          return;
        }
        const got = allocateSubnet(window, { taken, random: () => r });
        assert.ok(subnetFitsWindow(window, got));
        assert.not.ok(taken.some((t) => cidrOverlaps(got, t)), formatCidr(got));
        assert.is(formatCidr(got), formatCidr(free.slice(0, 100)[Math.floor(r * Math.min(100, free.length))]!));
      },
    ),
    { numRuns: 500 },
  );
});

test.run();
