import { test } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { formatCidr } from "@weft/ipam";
import { NetConfError } from "./net_conf_error.ts";
import { parseNetConf, UDP_DEFAULT_WARNING } from "./parse_net_conf.ts";
import type { NetConf } from "./types.ts";

function throwsNetConf(fn: () => unknown, message: string, field?: string): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, NetConfError);
    assert.is((err as NetConfError).message, message);
    if (field !== undefined) assert.is((err as NetConfError).field, field);
    return;
  }
  assert.unreachable(`expected NetConfError ${message}`);
}

const cidr = (c: NetConf["network"]) => (c ? formatCidr(c) : undefined);

// ---- flannel's four config tests (pkg/subnet/config_test.go) ----

test("parseNetConf() TestConfigDefaults: network 10.3.0.0/16 gets SubnetLen 24, min .1.0, max .255.0", () => {
  const conf = parseNetConf('{ "network": "10.3.0.0/16" }');
  assert.is(cidr(conf.network), "10.3.0.0/16");
  assert.is(conf.subnetMin?.address, "10.3.1.0");
  assert.is(conf.subnetMax?.address, "10.3.255.0");
  assert.is(conf.subnetLen, 24);
});

test("parseNetConf() TestIPv6ConfigDefaults: fc00::/48 gets /64, min fc00:0:0:1::, max fc00:0:0:ffff::", () => {
  const conf = parseNetConf('{ "enableIPv6": true, "ipv6Network": "fc00::/48", "enableIPv4": false }');
  assert.is(cidr(conf.ipv6Network), "fc00::/48");
  assert.is(conf.ipv6SubnetMin?.address, "fc00:0:0:1::");
  assert.is(conf.ipv6SubnetMax?.address, "fc00:0:0:ffff::");
  assert.is(conf.ipv6SubnetLen, 64);
  assert.is(conf.enableIPv4, false);
  assert.is(conf.network, undefined);
});

test("parseNetConf() TestConfigOverrides (parse only) keeps the given values", () => {
  const conf = parseNetConf('{ "Network": "10.3.0.0/16", "SubnetMin": "10.3.5.0", "SubnetMax": "10.3.8.0", "SubnetLen": 28 }', { check: false });
  assert.is(cidr(conf.network), "10.3.0.0/16");
  assert.is(conf.subnetMin?.address, "10.3.5.0");
  assert.is(conf.subnetMax?.address, "10.3.8.0");
  assert.is(conf.subnetLen, 28);
});

test("parseNetConf() TestIPv6ConfigOverrides (parse only) keeps the given values", () => {
  const conf = parseNetConf(
    '{ "EnableIPv6": true, "IPv6Network": "fc00::/48", "IPv6SubnetMin": "fc00:0:0:1::", "IPv6SubnetMax": "fc00:0:0:f::", "IPv6SubnetLen": 124, "enableIPv4": false }',
    { check: false },
  );
  assert.is(cidr(conf.ipv6Network), "fc00::/48");
  assert.is(conf.ipv6SubnetMin?.address, "fc00:0:0:1::");
  assert.is(conf.ipv6SubnetMax?.address, "fc00:0:0:f::");
  assert.is(conf.ipv6SubnetLen, 124);
});

// ---- parse-only vs checked ----

test("parseNetConf() with check: false leaves defaults unset and does not validate", () => {
  const conf = parseNetConf('{"Network": "10.0.0.0/30", "SubnetLen": 99}', { check: false });
  assert.is(conf.subnetLen, 99);
  assert.is(conf.subnetMin, undefined);
  const empty = parseNetConf("{}", { check: false });
  assert.is(empty.network, undefined);
  assert.is(empty.enableIPv4, true);
});

test("parseNetConf() overrides pass the check too", () => {
  const conf = parseNetConf('{ "Network": "10.3.0.0/16", "SubnetMin": "10.3.5.0", "SubnetMax": "10.3.8.0", "SubnetLen": 28 }');
  assert.is(conf.subnetLen, 28);
  assert.is(conf.subnetMax?.address, "10.3.8.0");
});

// ---- normalisation and defaults ----

test("parseNetConf() normalises Network and IPv6Network to the network address", () => {
  const conf = parseNetConf('{"Network": "10.3.1.0/16", "EnableIPv6": true, "IPv6Network": "fc00::1:2/48"}', { check: false });
  assert.is(cidr(conf.network), "10.3.0.0/16");
  assert.is(cidr(conf.ipv6Network), "fc00::/48");
});

test("parseNetConf() canonicalises IPv6 addresses", () => {
  const conf = parseNetConf('{"IPv6SubnetMin": "FC00:0000:0000:0001:0000:0000:0000:0000"}', { check: false });
  assert.is(conf.ipv6SubnetMin?.address, "fc00:0:0:1::");
});

test("parseNetConf() matches keys case-insensitively (Go's folding) and ignores unknown keys", () => {
  const conf = parseNetConf('{"NETWORK": "10.1.0.0/16", "subnetlen": 26, "eNaBlEnFtAbLeS": true, "bogus": [1, {"x": null}], "BackendType": "ignored"}');
  assert.is(cidr(conf.network), "10.1.0.0/16");
  assert.is(conf.subnetLen, 26);
  assert.is(conf.enableNFTables, true);
  assert.is(conf.backendType, "udp");
  // U+017F (long s) folds to "s" in Go, so this key is SubnetLen.
  assert.is(parseNetConf('{"Network": "10.1.0.0/16", "\u017fubnetLen": 25}').subnetLen, 25);
});

test("parseNetConf() lets the last of several matching keys win, as Go does", () => {
  const conf = parseNetConf('{"network": "10.1.0.0/16", "Network": "10.2.0.0/16", "network": "10.3.0.0/16"}');
  assert.is(cidr(conf.network), "10.3.0.0/16");
});

test("parseNetConf() defaults: EnableIPv4 true, EnableIPv6 and EnableNFTables false", () => {
  const conf = parseNetConf('{"Network": "10.1.0.0/16"}');
  assert.is(conf.enableIPv4, true);
  assert.is(conf.enableIPv6, false);
  assert.is(conf.enableNFTables, false);
  assert.is(conf.ipv6Network, undefined);
  assert.is(conf.ipv6SubnetLen, 0);
});

test("parseNetConf() null leaves bool and number fields at their defaults", () => {
  const conf = parseNetConf('{"Network": "10.1.0.0/16", "EnableIPv4": null, "SubnetLen": null, "IPv6SubnetMin": null}');
  assert.is(conf.enableIPv4, true);
  assert.is(conf.subnetLen, 24);
  assert.is(conf.ipv6SubnetMin, undefined);
});

test("parseNetConf() accepts a JSON null document like Go (then the check wants a Network)", () => {
  const conf = parseNetConf("null", { check: false });
  assert.is(conf.enableIPv4, true);
  assert.is(conf.backendType, "udp");
  throwsNetConf(() => parseNetConf("null"), "please define a correct Network parameter in the flannel config", "network");
});

test("parseNetConf() enableIPv4 false with IPv6 only needs no Network", () => {
  const conf = parseNetConf('{"EnableIPv4": false, "EnableIPv6": true, "IPv6Network": "2001:db8::/56", "Backend": {"Type": "host-gw"}}');
  assert.is(conf.ipv6SubnetLen, 64);
  assert.is(conf.ipv6SubnetMax?.address, "2001:db8:0:ff::");
});

// ---- Backend ----

test("parseNetConf() keeps Backend as an object and lower-cases its type", () => {
  const conf = parseNetConf('{"Network": "10.0.0.0/8", "Backend": {"Type": "VXLAN", "VNI": 4096, "Port": 4789, "DirectRouting": true}}');
  assert.is(conf.backendType, "vxlan");
  assert.equal(conf.backend, { Type: "VXLAN", VNI: 4096, Port: 4789, DirectRouting: true });
});

test("parseNetConf() reads the backend type key case-insensitively", () => {
  assert.is(parseNetConf('{"Backend": {"type": "Host-GW"}}', { check: false }).backendType, "host-gw");
});

test("parseNetConf() absent Backend means udp, with a warning recommending vxlan", () => {
  const warnings: string[] = [];
  const conf = parseNetConf('{"Network": "10.0.0.0/8"}', { onWarning: (m) => warnings.push(m) });
  assert.is(conf.backendType, "udp");
  assert.is(conf.backend, undefined);
  assert.equal(warnings, [UDP_DEFAULT_WARNING]);
  assert.match(UDP_DEFAULT_WARNING, /vxlan/);
});

test("parseNetConf() gives no warning when Backend is present", () => {
  const warnings: string[] = [];
  parseNetConf('{"Network": "10.0.0.0/8", "Backend": {"Type": "vxlan"}}', { onWarning: (m) => warnings.push(m) });
  assert.equal(warnings, []);
});

test("parseNetConf() Backend {} or null gives an empty type, as flannel", () => {
  assert.is(parseNetConf('{"Backend": {}}', { check: false }).backendType, "");
  const nullBackend = parseNetConf('{"Backend": null}', { check: false });
  assert.is(nullBackend.backendType, "");
  assert.is(nullBackend.backend, undefined);
});

test("parseNetConf() Backend errors are wrapped like flannel's", () => {
  throwsNetConf(
    () => parseNetConf('{"Backend": "vxlan"}', { check: false }),
    "error decoding Backend property of config: json: cannot unmarshal string into Go value of type struct { Type string }",
    "backend",
  );
  throwsNetConf(
    () => parseNetConf('{"Backend": [1]}', { check: false }),
    "error decoding Backend property of config: json: cannot unmarshal array into Go value of type struct { Type string }",
    "backend",
  );
  throwsNetConf(
    () => parseNetConf('{"Backend": {"Type": 1}}', { check: false }),
    "error decoding Backend property of config: json: cannot unmarshal number into Go struct field .Type of type string",
    "backend",
  );
});

// ---- JSON-level errors (Go encoding/json wording) ----

test("parseNetConf() syntax errors read like Go's", () => {
  throwsNetConf(() => parseNetConf(""), "unexpected end of JSON input", "document");
  throwsNetConf(() => parseNetConf("   "), "unexpected end of JSON input", "document");
  throwsNetConf(() => parseNetConf('{"Network": "10.0.0.0/8"'), "unexpected end of JSON input", "document");
  throwsNetConf(() => parseNetConf("x"), "invalid character 'x' looking for beginning of value", "document");
  throwsNetConf(() => parseNetConf("{x}"), "invalid character 'x' looking for beginning of object key string", "document");
  throwsNetConf(() => parseNetConf('{"a" 1}'), "invalid character '1' after object key", "document");
  throwsNetConf(() => parseNetConf('{"a": 1 "b": 2}'), "invalid character '\"' after object key:value pair", "document");
  throwsNetConf(() => parseNetConf("[1 2]"), "invalid character '2' after array element", "document");
  throwsNetConf(() => parseNetConf("{} {}"), "invalid character '{' after top-level value", "document");
  throwsNetConf(() => parseNetConf("tru"), "unexpected end of JSON input", "document");
  throwsNetConf(() => parseNetConf("trux"), "invalid character 'x' in literal true (expecting 'e')", "document");
  throwsNetConf(() => parseNetConf('"\\x"'), "invalid character 'x' in string escape code", "document");
  throwsNetConf(() => parseNetConf('"a\nb"'), "invalid character '\\n' in string literal", "document");
  throwsNetConf(() => parseNetConf("-"), "unexpected end of JSON input", "document");
  throwsNetConf(() => parseNetConf("-a"), "invalid character 'a' in numeric literal", "document");
  throwsNetConf(() => parseNetConf("1.x"), "invalid character 'x' after decimal point in numeric literal", "document");
  throwsNetConf(() => parseNetConf("01"), "invalid character '1' after top-level value", "document");
  throwsNetConf(() => parseNetConf("{'a': 1}"), "invalid character '\\'' looking for beginning of object key string", "document");
});

test("parseNetConf() deep nesting is Go's max-depth error, never a stack overflow", () => {
  const nest = (n: number) => "[".repeat(n) + "]".repeat(n);
  throwsNetConf(() => parseNetConf(nest(10000)), "json: cannot unmarshal array into Go value of type subnet.Config", "document");
  throwsNetConf(() => parseNetConf(nest(10001)), "exceeded max depth", "document");
  throwsNetConf(() => parseNetConf("[".repeat(300000)), "exceeded max depth", "document");
  const deepBackend = `{"Backend": {"Type": "vxlan", "x": ${'{"a":'.repeat(9000)}1${"}".repeat(9000)}}}`;
  assert.is(parseNetConf(deepBackend, { check: false }).backendType, "vxlan");
});

test("parseNetConf() a document that is not an object is a Go type error", () => {
  throwsNetConf(() => parseNetConf("[]"), "json: cannot unmarshal array into Go value of type subnet.Config", "document");
  throwsNetConf(() => parseNetConf('"x"'), "json: cannot unmarshal string into Go value of type subnet.Config", "document");
  throwsNetConf(() => parseNetConf("42"), "json: cannot unmarshal number into Go value of type subnet.Config", "document");
  throwsNetConf(() => parseNetConf("true"), "json: cannot unmarshal bool into Go value of type subnet.Config", "document");
});

test("parseNetConf() wrong field types are Go UnmarshalTypeErrors", () => {
  const m = (v: string, f: string, t: string) => `json: cannot unmarshal ${v} into Go struct field Config.${f} of type ${t}`;
  throwsNetConf(() => parseNetConf('{"SubnetLen": -1}'), m("number -1", "SubnetLen", "uint"), "subnetLen");
  throwsNetConf(() => parseNetConf('{"SubnetLen": 1.5}'), m("number 1.5", "SubnetLen", "uint"), "subnetLen");
  throwsNetConf(() => parseNetConf('{"SubnetLen": 1e2}'), m("number 1e2", "SubnetLen", "uint"), "subnetLen");
  throwsNetConf(() => parseNetConf('{"SubnetLen": 18446744073709551616}'), m("number 18446744073709551616", "SubnetLen", "uint"), "subnetLen");
  throwsNetConf(() => parseNetConf('{"IPv6SubnetLen": "64"}'), m("string", "IPv6SubnetLen", "uint"), "ipv6SubnetLen");
  throwsNetConf(() => parseNetConf('{"SubnetLen": {}}'), m("object", "SubnetLen", "uint"), "subnetLen");
  throwsNetConf(() => parseNetConf('{"EnableIPv6": "true"}'), m("string", "EnableIPv6", "bool"), "enableIPv6");
  throwsNetConf(() => parseNetConf('{"EnableIPv4": 1}'), m("number", "EnableIPv4", "bool"), "enableIPv4");
  throwsNetConf(() => parseNetConf('{"EnableNFTables": []}'), m("array", "EnableNFTables", "bool"), "enableNFTables");
});

test("parseNetConf() reports the first type error, but an address error first if it stops decoding", () => {
  const m = (v: string, f: string, t: string) => `json: cannot unmarshal ${v} into Go struct field Config.${f} of type ${t}`;
  throwsNetConf(() => parseNetConf('{"SubnetLen": "a", "EnableIPv6": 1}'), m("string", "SubnetLen", "uint"), "subnetLen");
  throwsNetConf(() => parseNetConf('{"SubnetLen": "a", "Network": "bad"}'), "invalid CIDR address: bad", "network");
  // a type error is reported even when the rest would fail the check
  throwsNetConf(() => parseNetConf('{"SubnetLen": true}'), m("bool", "SubnetLen", "uint"), "subnetLen");
});

test("parseNetConf() address field errors are flannel's", () => {
  throwsNetConf(() => parseNetConf('{"Network": "10.0.0.0"}'), "invalid CIDR address: 10.0.0.0", "network");
  throwsNetConf(() => parseNetConf('{"Network": "10.0.0.0/33"}'), "invalid CIDR address: 10.0.0.0/33", "network");
  throwsNetConf(() => parseNetConf('{"Network": 5}'), "invalid CIDR address: 5", "network");
  throwsNetConf(() => parseNetConf('{"Network": null}'), "invalid CIDR address: null", "network");
  throwsNetConf(() => parseNetConf('{"Network": "fc00::/48"}'), "invalid IPv4 CIDR format", "network");
  throwsNetConf(() => parseNetConf('{"IPv6Network": "nope"}'), "invalid CIDR address: nope", "ipv6Network");
  throwsNetConf(() => parseNetConf('{"IPv6Network": "10.0.0.0/8"}'), "invalid IPv6 CIDR format", "ipv6Network");
  throwsNetConf(() => parseNetConf('{"SubnetMin": "10.0.0"}'), "invalid IP address format", "subnetMin");
  throwsNetConf(() => parseNetConf('{"SubnetMax": "fc00::"}'), "invalid IPv4 address format", "subnetMax");
  throwsNetConf(() => parseNetConf('{"IPv6SubnetMin": "zz::"}'), "invalid IP address format", "ipv6SubnetMin");
});

test("parseNetConf() accepts a prefix length with leading zeros, as Go's ParseCIDR does", () => {
  assert.is(cidr(parseNetConf('{"Network": "10.0.0.0/008"}').network), "10.0.0.0/8");
});

test("parseNetConf() an IPv4 address in IPv6SubnetMin becomes IPv4-mapped (then fails the range check)", () => {
  const conf = parseNetConf('{"IPv6SubnetMin": "10.0.0.1"}', { check: false });
  assert.is(conf.ipv6SubnetMin?.family, 6);
  throwsNetConf(
    () => parseNetConf('{"EnableIPv4": false, "EnableIPv6": true, "IPv6Network": "fc00::/48", "IPv6SubnetMin": "10.0.0.1"}'),
    "IPv6SubnetMin is not in the range of the IPv6Network",
    "ipv6SubnetMin",
  );
});

test("parseNetConf() check errors come through with flannel's text", () => {
  throwsNetConf(() => parseNetConf("{}"), "please define a correct Network parameter in the flannel config", "network");
  throwsNetConf(() => parseNetConf('{"Network": "10.0.0.0/8", "SubnetLen": 31}'), "SubnetLen must be less than /31", "subnetLen");
  throwsNetConf(() => parseNetConf('{"Network": "10.0.0.0/29"}'), "network is too small. Minimum useful network prefix is /28", "network");
  throwsNetConf(() => parseNetConf('{"EnableIPv6": true, "Network": "10.0.0.0/8"}'), "please define a correct IPv6Network parameter in the flannel config", "ipv6Network");
});

test("parseNetConf() rejects a non-string argument with TypeError", () => {
  assert.throws(() => parseNetConf(42 as unknown as string), (e: unknown) => e instanceof TypeError);
});

// ---- flannel's fuzz seeds (pkg/subnet/fuzz_test.go): parse-only must never fail other than cleanly ----

test("parseNetConf() flannel fuzz seeds parse or throw NetConfError", () => {
  const ok = (t: string) => parseNetConf(t, { check: false });
  assert.is(cidr(ok('{"Network":"10.0.0.0/8"}').network), "10.0.0.0/8");
  const vx = ok('{"Network":"10.0.0.0/8","SubnetLen":24,"Backend":{"Type":"vxlan"}}');
  assert.is(vx.subnetLen, 24);
  assert.is(vx.backendType, "vxlan");
  const hg = ok('{"EnableIPv6":true,"IPv6Network":"fc00::/48","Backend":{"Type":"host-gw"}}');
  assert.is(hg.enableIPv6, true);
  assert.is(hg.backendType, "host-gw");
  const mm = ok('{"Network":"10.0.0.0/8","SubnetMin":"10.0.1.0","SubnetMax":"10.0.20.0"}');
  assert.is(mm.subnetMax?.address, "10.0.20.0");
  throwsNetConf(() => ok(""), "unexpected end of JSON input", "document");
  assert.is(ok("{}").backendType, "udp");
});

// ---- property tests ----

function parsesOrNetConfError(text: string, check: boolean): boolean {
  try {
    const conf = parseNetConf(text, { check });
    return typeof conf.backendType === "string" && typeof conf.enableIPv4 === "boolean";
  } catch (err) {
    if (err instanceof NetConfError) return typeof err.message === "string" && err.message.length > 0;
    throw err;
  }
}

const VALID = [
  '{"Network":"10.0.0.0/8"}',
  '{"Network":"10.0.0.0/8","SubnetLen":24,"Backend":{"Type":"vxlan"}}',
  '{"EnableIPv6":true,"IPv6Network":"fc00::/48","Backend":{"Type":"host-gw"}}',
  '{"Network":"10.0.0.0/8","SubnetMin":"10.0.1.0","SubnetMax":"10.0.20.0"}',
  '{"Network":"10.244.0.0/16","EnableIPv6":true,"IPv6Network":"fd00:10:244::/56","IPv6SubnetLen":64,"EnableNFTables":true,"Backend":{"Type":"vxlan","VNI":1}}',
];

const fieldNames = fc.constantFrom(
  "Network", "network", "SubnetLen", "SubnetMin", "SubnetMax", "EnableIPv4", "EnableIPv6", "EnableNFTables",
  "IPv6Network", "IPv6SubnetLen", "IPv6SubnetMin", "IPv6SubnetMax", "Backend", "BackendType", "other",
);
const fieldValues = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom("10.0.0.0/8", "10.3.1.0/16", "fc00::/48", "10.0.1.0", "fc00:0:0:1::", "0.0.0.0/0", "::/0", "10.0.0.0/30", "::ffff:10.0.0.0/104"),
  fc.integer({ min: -2, max: 140 }),
  fc.record({ Type: fc.oneof(fc.string(), fc.integer(), fc.constant(null)) }, { requiredKeys: [] }),
);

test("parseNetConf() property: random strings either parse or throw NetConfError", () => {
  fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 80 }), fc.boolean(), (s, check) => parsesOrNetConfError(s, check)), { numRuns: 3000 });
});

test("parseNetConf() property: random JSON values either parse or throw NetConfError", () => {
  fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), fc.boolean(), (v, check) => parsesOrNetConfError(JSON.stringify(v), check)), { numRuns: 2000 });
});

test("parseNetConf() property: objects of known fields with random values either parse or throw NetConfError", () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fieldNames, fieldValues), { maxLength: 8 }), fc.boolean(), (entries, check) => {
      const text = `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(",")}}`;
      return parsesOrNetConfError(text, check);
    }),
    { numRuns: 3000 },
  );
});

test("parseNetConf() property: mutated valid configs either parse or throw NetConfError", () => {
  const mutation = fc.tuple(fc.nat(), fc.nat({ max: 3 }), fc.string({ unit: "binary", maxLength: 4 }));
  fc.assert(
    fc.property(fc.constantFrom(...VALID), fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.boolean(), (seed, mutations, check) => {
      let text = seed;
      for (const [pos, len, insert] of mutations) {
        const at = pos % (text.length + 1);
        text = text.slice(0, at) + insert + text.slice(at + len);
      }
      return parsesOrNetConfError(text, check);
    }),
    { numRuns: 3000 },
  );
});

test("parseNetConf() property: a checked config has an aligned, in-range subnet window", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 28 }), (octet, prefix) => {
      let conf: NetConf;
      try {
        conf = parseNetConf(`{"Network": "${octet}.0.0.0/${prefix}", "Backend": {"Type": "vxlan"}}`);
      } catch (err) {
        return err instanceof NetConfError;
      }
      const len = conf.subnetLen;
      return len >= prefix + 2 && len <= 30 && conf.subnetMin !== undefined && conf.subnetMax !== undefined;
    }),
    { numRuns: 500 },
  );
});

test.run();
