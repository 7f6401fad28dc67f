import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseDuration, parseElement, parseListing, splitTopLevel } from "./_parse_listing.ts";

// Output of `nft -s -a list table ip x` (nft 1.0.6), trimmed.
const LISTING = `table ip x { # handle 13
	flags dormant
	comment "hi"

	set s { # handle 4
		type ipv4_addr
		timeout 3h
		comment "sc"
		elements = { 1.2.3.4, 1.2.3.5 timeout 10s expires 9s880ms comment "e, f" }
	}

	map m { # handle 5
		type ipv4_addr . inet_proto . inet_service : verdict
		elements = { 1.1.1.2 . udp . 53 comment "x" : drop,
			     1.1.1.1 . tcp . 80 : goto c }
	}

	set t { # handle 16
		type ipv4_addr . inet_service
		size 100
		flags interval,timeout
	}

	chain a { # handle 1
		ip daddr @s tcp dport { 80, 443 } counter accept comment "r1" # handle 8
	}

	chain b { # handle 3
		comment "c"
		type nat hook output priority -100; policy accept;
		iifname "eth0" numgen random mod 2 vmap { 0 : goto a, 1 : jump a } # handle 12
	}

	flowtable ft { # handle 20
		hook ingress priority filter
		devices = { lo }
	}

	counter cnt { # handle 21
		packets 0 bytes 0
	}

	chain f { # handle 13
		type filter hook input priority filter - 10; policy drop;
	}
}
`;

test("parseListing() reads tables, chains, rules, sets, maps and elements from nft's text", () => {
  const l = parseListing(LISTING);
  assert.is(l.family, "ip");
  assert.is(l.name, "x");
  assert.equal(l.table, { kind: "table", handle: 13, comment: "hi" });
  assert.equal(l.chains, [
    { kind: "chain", name: "a", handle: 1 },
    { kind: "chain", name: "b", comment: "c", type: "nat", hook: "output", priority: -100, policy: "accept", handle: 3 },
    { kind: "chain", name: "f", type: "filter", hook: "input", priority: -10, policy: "drop", handle: 13 },
  ]);
  assert.equal(l.rules, [
    { kind: "rule", chain: "a", rule: "ip daddr @s tcp dport { 80, 443 } counter accept", comment: "r1", handle: 8 },
    { kind: "rule", chain: "b", rule: 'iifname "eth0" numgen random mod 2 vmap { 0 : goto a, 1 : jump a }', handle: 12 },
  ]);
  assert.equal(l.sets, [
    { kind: "set", name: "s", type: "ipv4_addr", flags: ["timeout"], timeoutSeconds: 10800, comment: "sc", handle: 4 },
    { kind: "set", name: "t", type: "ipv4_addr . inet_service", flags: ["interval", "timeout"], size: 100, handle: 16 },
  ]);
  assert.equal(l.maps, [{ kind: "map", name: "m", type: "ipv4_addr . inet_proto . inet_service : verdict", handle: 5 }]);
  assert.equal(l.elements, [
    { kind: "element", set: "s", key: ["1.2.3.4"] },
    { kind: "element", set: "s", key: ["1.2.3.5"], comment: "e, f", timeoutSeconds: 10 },
    { kind: "element", map: "m", key: ["1.1.1.2", "udp", "53"], value: ["drop"], comment: "x" },
    { kind: "element", map: "m", key: ["1.1.1.1", "tcp", "80"], value: ["goto c"] },
  ]);
});

test("parseListing() throws SyntaxError when there is no table", () => {
  assert.throws(() => parseListing("nothing here\n"), (e: Error) => e instanceof SyntaxError);
});

test("parseDuration() reads nft durations into seconds", () => {
  assert.is(parseDuration("3h"), 10800);
  assert.is(parseDuration("1d2h3m4s"), 93784);
  assert.is(parseDuration("2h59m59s880ms"), 10800);
  assert.is(parseDuration("10s"), 10);
  assert.is(parseDuration("10x"), undefined);
  assert.is(parseDuration(""), undefined);
});

test("splitTopLevel() ignores separators inside quotes and braces", () => {
  assert.equal(splitTopLevel('a, "b, c", { d, e }, f', ","), ["a", ' "b, c"', " { d, e }", " f"]);
});

test("parseElement() reads IPv6 keys, ranges and concatenated values", () => {
  assert.equal(parseElement("fd00::1 . tcp . 80-90 : fd00::2 . 8080", "map", "m"), { kind: "element", map: "m", key: ["fd00::1", "tcp", "80-90"], value: ["fd00::2", "8080"] });
});

test.run();
