// The shared conformance suite: the same scenarios run against FakeNftables (unit tests,
// _conformance_test.ts) and against the kernel through createNftables (nftables_integration_test.ts).
// Each scenario states the outcome of every step (ok or an error kind) and the table afterwards, as
// a canonical dump (sorted `add …` lines without handles), so both implementations must agree.
import type { Listing, NftObject, Operation, Verb } from "./types.ts";
import type { Nftables, RunOptions } from "./nftables.ts";
import type { Transaction } from "./transaction.ts";
import { NftablesError, isNotFound, type NftablesErrorKind } from "./errors.ts";
import { renderOperation } from "./_render.ts";

/** One step: build a transaction (seeing the current listing, for handles) and say how it ends. */
export interface Step {
  tx: (tx: Transaction, current: Listing | undefined) => Transaction;
  options?: RunOptions;
  /** The expected error kind; ok when undefined. */
  fails?: NftablesErrorKind;
  /** The index of the operation the error must name. */
  failingOp?: number;
}

export interface Scenario {
  name: string;
  steps: Step[];
  /** Canonical dump afterwards ("" when the table must not exist). */
  expect: string;
}

/** Sorted, handle-free `add …` lines for a listing; "" for no table. */
export function canonicalDump(listing: Listing | undefined): string {
  if (!listing) return "";
  const render = (object: NftObject) => renderOperation(listing.family, listing.name, { verb: "add", object: stripHandle(object) });
  const objects = [
    ...[...listing.chains].sort(byName).map(render),
    ...[...listing.sets, ...listing.maps].sort(byName).map(render),
  ];
  const chainOrder = [...listing.chains].sort(byName).map((c) => c.name);
  const rules = chainOrder.flatMap((c) => listing.rules.filter((r) => r.chain === c).map(render));
  const elements = listing.elements.map(render).sort();
  return [render(listing.table), ...objects, ...rules, ...elements].join("\n") + "\n";
}

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function stripHandle<T extends NftObject>(o: T): T {
  if (!("handle" in o) || o.handle === undefined) return o;
  const { handle: _h, ...rest } = o as T & { handle?: number };
  return rest as T;
}

async function listOrNone(nft: Nftables): Promise<Listing | undefined> {
  try {
    return await nft.list();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Runs a scenario; returns problems found (empty = conforms) and the ops it ran. */
export async function runScenario(nft: Nftables, scenario: Scenario): Promise<{ problems: string[]; ops: Operation[] }> {
  const problems: string[] = [];
  const ops: Operation[] = [];
  for (const [i, step] of scenario.steps.entries()) {
    const before = await listOrNone(nft);
    const tx = step.tx(nft.newTransaction(), before);
    ops.push(...tx.operations);
    let error: unknown;
    try {
      await nft.run(tx, step.options);
    } catch (err) {
      error = err;
    }
    if (step.fails === undefined) {
      if (error) problems.push(`step ${i}: expected success, got ${(error as Error).message}`);
      continue;
    }
    if (!(error instanceof NftablesError)) {
      problems.push(`step ${i}: expected a ${step.fails} error, got ${error ? String(error) : "success"}`);
      continue;
    }
    if (error.kind !== step.fails) problems.push(`step ${i}: expected kind ${step.fails}, got ${error.kind}: ${error.message}`);
    if (step.failingOp !== undefined && error.operationIndex !== step.failingOp) {
      problems.push(`step ${i}: expected the error to name operation ${step.failingOp}, got ${String(error.operationIndex)}: ${error.message}`);
    }
    if ((step.options?.atomic ?? true) && canonicalDump(await listOrNone(nft)) !== canonicalDump(before)) {
      problems.push(`step ${i}: a failed atomic transaction changed the table`);
    }
  }
  const got = canonicalDump(await listOrNone(nft));
  if (got !== scenario.expect) problems.push(`final table differs:\n--- expected\n${scenario.expect}--- got\n${got}`);
  return { problems, ops };
}

const T = "add table ip TABLE";

/** Expected dump lines use TABLE as the table name; replaced per run. */
export function expectFor(scenario: Scenario, family: string, table: string): string {
  return scenario.expect.replaceAll(" ip TABLE", ` ${family} ${table}`);
}

const base = (tx: Transaction) =>
  tx
    .add({ kind: "table", comment: "conformance" })
    .add({ kind: "chain", name: "a" })
    .add({ kind: "chain", name: "c", comment: "target" });

const lines = (...l: string[]) => l.map((x) => x + "\n").join("");

/** Every verb × object kind the suite must exercise. */
export const REQUIRED_COVERAGE: readonly `${Verb} ${NftObject["kind"]}`[] = [
  "add table", "create table", "delete table", "flush table",
  "add chain", "create chain", "delete chain", "flush chain",
  "add rule", "insert rule", "replace rule", "delete rule",
  "add set", "create set", "delete set", "flush set",
  "add map", "create map", "delete map", "flush map",
  "add element", "create element", "delete element",
];

export const SCENARIOS: readonly Scenario[] = [
  {
    name: "every object kind is created and listed back",
    steps: [
      {
        tx: (tx) =>
          base(tx)
            .add({ kind: "chain", name: "nat-out", type: "nat", hook: "output", priority: "dstnat", policy: "accept", comment: "nat" })
            .add({ kind: "chain", name: "in", type: "filter", hook: "input", priority: "filter-10", policy: "drop" })
            .add({ kind: "set", name: "s", type: "ipv4_addr", flags: ["timeout"], timeoutSeconds: 10800, comment: "blocked" })
            .add({ kind: "set", name: "ports", type: "inet_proto . inet_service" })
            .add({ kind: "map", name: "vm", type: "ipv4_addr . inet_proto . inet_service : verdict", comment: "services" })
            .add({ kind: "map", name: "dm", type: "ipv4_addr : ipv4_addr . inet_service", flags: ["interval"] })
            .add({ kind: "element", set: "s", key: ["10.0.0.1"] })
            .add({ kind: "element", set: "s", key: ["10.0.0.2"], timeoutSeconds: 60, comment: "short" })
            .add({ kind: "element", set: "ports", key: ["tcp", "80"] })
            .add({ kind: "element", map: "vm", key: ["172.30.0.1", "tcp", "80"], value: ["goto c"] })
            .add({ kind: "element", map: "vm", key: ["172.30.0.2", "udp", "53"], value: ["drop"], comment: "ns/svc:dns" })
            .add({ kind: "element", map: "dm", key: ["10.0.0.0/8"], value: ["192.0.2.1", "8080"] })
            .add({ kind: "rule", chain: "a", rule: "ip daddr @s tcp dport { 80, 443 } accept", comment: "blocklist" })
            .add({ kind: "rule", chain: "a", rule: "ip daddr . meta l4proto . th dport vmap @vm" })
            .add({ kind: "rule", chain: "nat-out", rule: "numgen random mod 2 vmap { 0 : goto a, 1 : jump c }" })
            .add({ kind: "rule", chain: "in", rule: "ct state established,related accept" })
            .add({ kind: "rule", chain: "in", rule: "meta l4proto . th dport @ports accept" }),
      },
    ],
    expect: lines(
      `${T} { comment "conformance" ; }`,
      "add chain ip TABLE a",
      'add chain ip TABLE c { comment "target" ; }',
      "add chain ip TABLE in { type filter hook input priority -10 ; policy drop ; }",
      'add chain ip TABLE nat-out { type nat hook output priority -100 ; policy accept ; comment "nat" ; }',
      "add map ip TABLE dm { type ipv4_addr : ipv4_addr . inet_service ; flags interval ; }",
      "add set ip TABLE ports { type inet_proto . inet_service ; }",
      'add set ip TABLE s { type ipv4_addr ; flags timeout ; timeout 10800s ; comment "blocked" ; }',
      'add map ip TABLE vm { type ipv4_addr . inet_proto . inet_service : verdict ; comment "services" ; }',
      'add rule ip TABLE a ip daddr @s tcp dport { 80, 443 } accept comment "blocklist"',
      "add rule ip TABLE a ip daddr . meta l4proto . th dport vmap @vm",
      "add rule ip TABLE in ct state established,related accept",
      "add rule ip TABLE in meta l4proto . th dport @ports accept",
      "add rule ip TABLE nat-out numgen random mod 2 vmap { 0 : goto a, 1 : jump c }",
      "add element ip TABLE dm { 10.0.0.0/8 : 192.0.2.1 . 8080 }",
      "add element ip TABLE ports { tcp . 80 }",
      "add element ip TABLE s { 10.0.0.1 }",
      'add element ip TABLE s { 10.0.0.2 timeout 60s comment "short" }',
      "add element ip TABLE vm { 172.30.0.1 . tcp . 80 : goto c }",
      'add element ip TABLE vm { 172.30.0.2 . udp . 53 comment "ns/svc:dns" : drop }',
    ),
  },
  {
    name: "rules are inserted, positioned, replaced and deleted",
    steps: [
      { tx: (tx) => base(tx).add({ kind: "rule", chain: "a", rule: "jump c", comment: "one" }).add({ kind: "rule", chain: "a", rule: "drop" }) },
      { tx: (tx) => tx.insert({ kind: "rule", chain: "a", rule: "accept", comment: "head" }) },
      { tx: (tx) => tx.add({ kind: "rule", chain: "a", rule: "counter", index: 0 }) },
      { tx: (tx) => tx.insert({ kind: "rule", chain: "a", rule: "return", index: 3 }) },
      {
        tx: (tx, cur) => {
          const one = cur!.rules.find((r) => r.comment === "one")!;
          return tx.replace({ kind: "rule", chain: "a", rule: "goto c", comment: "replaced", handle: one.handle! });
        },
      },
      {
        tx: (tx, cur) => {
          const drop = cur!.rules.find((r) => r.rule === "drop")!;
          return tx.delete({ kind: "rule", chain: "a", handle: drop.handle! }).add({ kind: "rule", chain: "a", rule: "reject", handle: cur!.rules[0]!.handle! });
        },
      },
    ],
    expect: lines(
      `${T} { comment "conformance" ; }`,
      "add chain ip TABLE a",
      'add chain ip TABLE c { comment "target" ; }',
      'add rule ip TABLE a accept comment "head"',
      "add rule ip TABLE a reject",
      "add rule ip TABLE a counter",
      'add rule ip TABLE a goto c comment "replaced"',
      "add rule ip TABLE a return",
    ),
  },
  {
    name: "create fails on existing objects and add is idempotent",
    steps: [
      { tx: (tx) => base(tx).create({ kind: "set", name: "s", type: "ipv4_addr" }).create({ kind: "map", name: "m", type: "ipv4_addr : verdict" }) },
      { tx: (tx) => base(tx).add({ kind: "set", name: "s", type: "ipv4_addr" }).add({ kind: "map", name: "m", type: "ipv4_addr : verdict" }) },
      { tx: (tx) => tx.create({ kind: "table" }), fails: "alreadyExists", failingOp: 0 },
      { tx: (tx) => tx.add({ kind: "chain", name: "x" }).create({ kind: "chain", name: "a" }), fails: "alreadyExists", failingOp: 1 },
      { tx: (tx) => tx.create({ kind: "set", name: "s", type: "ipv4_addr" }), fails: "alreadyExists", failingOp: 0 },
      { tx: (tx) => tx.create({ kind: "map", name: "m", type: "ipv4_addr : verdict" }), fails: "alreadyExists", failingOp: 0 },
      { tx: (tx) => tx.create({ kind: "element", set: "s", key: ["192.0.2.1"] }).create({ kind: "element", map: "m", key: ["192.0.2.1"], value: ["accept"] }) },
      { tx: (tx) => tx.add({ kind: "element", set: "s", key: ["192.0.2.1"] }).add({ kind: "element", map: "m", key: ["192.0.2.1"], value: ["accept"] }) },
      { tx: (tx) => tx.create({ kind: "element", set: "s", key: ["192.0.2.1"] }), fails: "alreadyExists", failingOp: 0 },
      { tx: (tx) => tx.add({ kind: "element", map: "m", key: ["192.0.2.1"], value: ["drop"] }), fails: "alreadyExists", failingOp: 0 },
      { tx: (tx) => tx.add({ kind: "chain", name: "a", type: "filter", hook: "input", priority: 0 }), fails: "alreadyExists", failingOp: 0 },
    ],
    expect: lines(
      `${T} { comment "conformance" ; }`,
      "add chain ip TABLE a",
      'add chain ip TABLE c { comment "target" ; }',
      "add map ip TABLE m { type ipv4_addr : verdict ; }",
      "add set ip TABLE s { type ipv4_addr ; }",
      "add element ip TABLE m { 192.0.2.1 : accept }",
      "add element ip TABLE s { 192.0.2.1 }",
    ),
  },
  {
    name: "a failing transaction changes nothing and names the failing operation",
    steps: [
      { tx: (tx) => base(tx).add({ kind: "map", name: "m", type: "ipv4_addr : verdict" }) },
      {
        tx: (tx) =>
          tx
            .add({ kind: "chain", name: "new" })
            .add({ kind: "rule", chain: "a", rule: "accept" })
            .add({ kind: "element", map: "m", key: ["192.0.2.1"], value: ["goto c"] })
            .add({ kind: "element", map: "m", key: ["192.0.2.2"], value: ["goto nochain"] })
            .add({ kind: "element", map: "m", key: ["192.0.2.3"], value: ["goto c"] }),
        fails: "notFound",
        failingOp: 3,
      },
      { tx: (tx) => tx.add({ kind: "chain", name: "new" }).add({ kind: "rule", chain: "a", rule: "jump nochain" }), fails: "notFound", failingOp: 1 },
      { tx: (tx) => tx.add({ kind: "rule", chain: "nochain", rule: "accept" }), fails: "notFound", failingOp: 0 },
      { tx: (tx) => tx.add({ kind: "rule", chain: "a", rule: "ip daddr @noset accept" }), fails: "notFound", failingOp: 0 },
      { tx: (tx) => tx.delete({ kind: "element", map: "m", key: ["192.0.2.9"] }), fails: "notFound", failingOp: 0 },
      { tx: (tx) => tx.delete({ kind: "rule", chain: "a", handle: 99999 }), fails: "notFound", failingOp: 0 },
      { tx: (tx) => tx.replace({ kind: "rule", chain: "a", rule: "drop", handle: 99999 }), fails: "notFound", failingOp: 0 },
    ],
    expect: lines(`${T} { comment "conformance" ; }`, "add chain ip TABLE a", 'add chain ip TABLE c { comment "target" ; }', "add map ip TABLE m { type ipv4_addr : verdict ; }"),
  },
  {
    name: "chains, sets and maps in use cannot be deleted",
    steps: [
      {
        tx: (tx) =>
          base(tx)
            .add({ kind: "chain", name: "d" })
            .add({ kind: "set", name: "s", type: "ipv4_addr" })
            .add({ kind: "map", name: "m", type: "ipv4_addr : verdict" })
            .add({ kind: "element", map: "m", key: ["192.0.2.1"], value: ["jump d"] })
            .add({ kind: "rule", chain: "a", rule: "jump c" })
            .add({ kind: "rule", chain: "a", rule: "ip saddr @s drop" })
            .add({ kind: "rule", chain: "c", rule: "accept" }),
      },
      { tx: (tx) => tx.delete({ kind: "chain", name: "c" }), fails: "busy", failingOp: 0 },
      { tx: (tx) => tx.delete({ kind: "chain", name: "d" }), fails: "busy", failingOp: 0 },
      { tx: (tx) => tx.flush({ kind: "chain", name: "c" }).delete({ kind: "chain", name: "c" }), fails: "busy", failingOp: 1 },
      { tx: (tx) => tx.delete({ kind: "set", name: "s" }), fails: "busy", failingOp: 0 },
      { tx: (tx) => tx.delete({ kind: "chain", name: "nothere" }), fails: "notFound", failingOp: 0 },
      { tx: (tx) => tx.delete({ kind: "set", name: "nothere" }), fails: "notFound", failingOp: 0 },
      // Dropping the references first makes the deletes possible, in one transaction.
      {
        tx: (tx) =>
          tx
            .flush({ kind: "chain", name: "a" })
            .flush({ kind: "map", name: "m" })
            .flush({ kind: "chain", name: "c" })
            .delete({ kind: "chain", name: "c" })
            .delete({ kind: "chain", name: "d" })
            .delete({ kind: "set", name: "s" }),
      },
    ],
    expect: lines(`${T} { comment "conformance" ; }`, "add chain ip TABLE a", "add map ip TABLE m { type ipv4_addr : verdict ; }"),
  },
  {
    name: "flush empties chains, sets and maps; flush table keeps elements",
    steps: [
      {
        tx: (tx) =>
          base(tx)
            .add({ kind: "set", name: "s", type: "ipv4_addr" })
            .add({ kind: "map", name: "m", type: "ipv4_addr : verdict" })
            .add({ kind: "element", set: "s", key: ["192.0.2.1"] })
            .add({ kind: "element", set: "s", key: ["192.0.2.2"] })
            .add({ kind: "element", map: "m", key: ["192.0.2.1"], value: ["accept"] })
            .add({ kind: "rule", chain: "a", rule: "accept" })
            .add({ kind: "rule", chain: "c", rule: "drop" }),
      },
      { tx: (tx) => tx.flush({ kind: "set", name: "s" }).flush({ kind: "chain", name: "a" }) },
      { tx: (tx) => tx.add({ kind: "element", set: "s", key: ["192.0.2.3"] }).flush({ kind: "table" }) },
      { tx: (tx) => tx.flush({ kind: "map", name: "nothere" }), fails: "notFound", failingOp: 0 },
    ],
    expect: lines(
      `${T} { comment "conformance" ; }`,
      "add chain ip TABLE a",
      'add chain ip TABLE c { comment "target" ; }',
      "add map ip TABLE m { type ipv4_addr : verdict ; }",
      "add set ip TABLE s { type ipv4_addr ; }",
      "add element ip TABLE m { 192.0.2.1 : accept }",
      "add element ip TABLE s { 192.0.2.3 }",
    ),
  },
  {
    name: "objects are deleted one by one, then the table",
    steps: [
      {
        tx: (tx) =>
          base(tx)
            .add({ kind: "set", name: "s", type: "ipv4_addr" })
            .add({ kind: "map", name: "m", type: "ipv4_addr : verdict" })
            .add({ kind: "element", set: "s", key: ["192.0.2.1"] })
            .add({ kind: "element", set: "s", key: ["192.0.2.2"] })
            .add({ kind: "element", map: "m", key: ["192.0.2.1"], value: ["accept"] }),
      },
      { tx: (tx) => tx.delete({ kind: "element", set: "s", key: ["192.0.2.1"] }).delete({ kind: "element", map: "m", key: ["192.0.2.1"] }) },
      { tx: (tx) => tx.delete({ kind: "map", name: "m" }).delete({ kind: "chain", name: "c" }) },
      { tx: (tx) => tx.delete({ kind: "map", name: "m" }), fails: "notFound", failingOp: 0 },
      { tx: (tx) => tx.delete({ kind: "table" }) },
      { tx: (tx) => tx.delete({ kind: "table" }), fails: "notFound", failingOp: 0 },
      { tx: (tx) => tx.add({ kind: "chain", name: "a" }), fails: "notFound", failingOp: 0 },
    ],
    expect: "",
  },
  {
    name: "non-atomic runs apply chunk by chunk and stop at the failing chunk",
    steps: [
      { tx: (tx) => base(tx) },
      {
        tx: (tx) =>
          tx
            .add({ kind: "chain", name: "k1" })
            .add({ kind: "chain", name: "k2" })
            .add({ kind: "chain", name: "k3" })
            .add({ kind: "rule", chain: "nochain", rule: "accept" })
            .add({ kind: "chain", name: "k5" }),
        options: { atomic: false, chunkSize: 2 },
        fails: "notFound",
        failingOp: 3,
      },
    ],
    expect: lines(`${T} { comment "conformance" ; }`, "add chain ip TABLE a", 'add chain ip TABLE c { comment "target" ; }', "add chain ip TABLE k1", "add chain ip TABLE k2"),
  },
];
