import { test } from "uvu";
import * as assert from "uvu/assert";
import { checkName, checkRuleText, priorityValue, validateOperation } from "./_validate.ts";
import type { NftObject } from "./types.ts";

const rejects = (obj: NftObject, re: RegExp, verb: "add" | "delete" = "add") => {
  const err = validateOperation(verb, obj);
  assert.ok(err, `expected ${JSON.stringify(obj)} to be rejected`);
  assert.match(err!, re);
};

test("checkName() accepts kube-proxy style names and rejects anything that could leave the field", () => {
  for (const ok of ["services", "service-ULMVA6XW-ns1/svc1/tcp/p80", "endpoint-X__10.180.0.1/80", "_x", ".hidden", "KUBE-SVC-1"]) {
    assert.is(checkName("chain name", ok), undefined, ok);
  }
  for (const bad of ["", "a b", "a;b", "a\nb", 'a"b', "a{b", "a}b", "a#b", "1abc", "-x", "x".repeat(257), "a\\b"]) {
    assert.ok(checkName("chain name", bad), JSON.stringify(bad));
  }
});

test("checkName() rejects nft keywords, which nft cannot parse as names", () => {
  assert.match(checkName("chain name", "fwd") ?? "", /keyword/);
  assert.match(checkName("set name", "missing") ?? "", /keyword/);
  assert.is(checkName("chain name", "nat-out"), undefined);
  assert.is(checkName("chain name", "input"), undefined);
});

test("checkRuleText() allows quotes and braces that are balanced, nothing that ends the command", () => {
  assert.is(checkRuleText('iifname "eth0" numgen random mod 2 vmap { 0 : goto a, 1 : jump a }'), undefined);
  assert.is(checkRuleText('meta comment "a;b#c" accept'), undefined);
  for (const bad of ["accept; flush ruleset", "accept\nflush ruleset", "accept\r", "accept # hidden", "accept }", "ip daddr { 1.2.3.4", 'iifname "eth0', "", "   "]) {
    assert.ok(checkRuleText(bad), JSON.stringify(bad));
  }
});

test("validateOperation() rejects comments with quotes, backslashes or newlines and overlong comments", () => {
  rejects({ kind: "chain", name: "c", comment: 'x" ; flush ruleset ; "' }, /comment/);
  rejects({ kind: "table", comment: "a\nb" }, /comment/);
  rejects({ kind: "rule", chain: "c", rule: "accept", comment: "a\\" }, /comment/);
  rejects({ kind: "set", name: "s", type: "ipv4_addr", comment: "x".repeat(129) }, /longer than 128/);
  assert.is(validateOperation("add", { kind: "chain", name: "c", comment: "ns/svc:port; {ok}" }), undefined);
});

test("validateOperation() rejects element keys and values that could add elements or close the set", () => {
  rejects({ kind: "element", set: "s", key: ["1.2.3.4 }"] }, /key part/);
  rejects({ kind: "element", set: "s", key: ["1.2.3.4, 5.6.7.8"] }, /key part/);
  rejects({ kind: "element", set: "s", key: ["1.2.3.4 : accept"] }, /key part/);
  rejects({ kind: "element", map: "m", key: ["1.2.3.4"], value: ["accept }; flush ruleset"] }, /value part/);
  rejects({ kind: "element", map: "m", key: ["1.2.3.4"], value: ["goto  x"] }, /value part/);
  rejects({ kind: "element", map: "m", key: ["1.2.3.4"], value: ["goto fwd"] }, /keyword/);
  rejects({ kind: "element", map: "m", key: ["1.2.3.4"] }, /needs a value/);
  rejects({ kind: "element", set: "s", key: ["1.2.3.4"], value: ["accept"] }, /cannot have a value/);
  rejects({ kind: "element", key: ["1.2.3.4"] }, /exactly one of set or map/);
  rejects({ kind: "element", set: "s", map: "m", key: ["1.2.3.4"] }, /exactly one of set or map/);
  assert.is(validateOperation("add", { kind: "element", map: "m", key: ["fd00::1", "tcp", "80-90"], value: ["goto svc-1"] }), undefined);
  assert.is(validateOperation("delete", { kind: "element", map: "m", key: ["10.0.0.0/8"] }), undefined);
});

test("validateOperation() checks set types, flags, timeouts and base chain fields", () => {
  rejects({ kind: "set", name: "s", type: "ipv4_addr ; flags interval" }, /type/);
  rejects({ kind: "set", name: "s", type: "ipv4_addr : verdict" }, /type/);
  rejects({ kind: "map", name: "m", type: "ipv4_addr" }, /type/);
  rejects({ kind: "set", name: "s", type: "ipv4_addr", flags: ["bogus" as "timeout"] }, /unknown flag/);
  rejects({ kind: "set", name: "s", type: "ipv4_addr", timeoutSeconds: 1.5 }, /timeoutSeconds/);
  rejects({ kind: "chain", name: "c", type: "nat" }, /hook/);
  rejects({ kind: "chain", name: "c", type: "nat", hook: "output", priority: "dstnat; flush" as "dstnat" }, /priority/);
  rejects({ kind: "chain", name: "c", policy: "drop" }, /base chain/);
  rejects({ kind: "rule", chain: "c", handle: 0 }, /handle/, "delete");
  assert.is(validateOperation("delete", { kind: "set", name: "s" }), undefined);
});

test("priorityValue() maps symbolic priorities with offsets to numbers", () => {
  assert.is(priorityValue("dstnat"), -100);
  assert.is(priorityValue("dstnat-10"), -110);
  assert.is(priorityValue("srcnat + 5"), 105);
  assert.is(priorityValue("filter - 10"), -10);
  assert.is(priorityValue(-300), -300);
  assert.is(priorityValue("-150"), -150);
  assert.is(priorityValue("nope"), undefined);
  assert.is(priorityValue(1.5), undefined);
});

test.run();
