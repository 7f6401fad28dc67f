import type { Chain, Element, Family, ListedMap, ListedRule, ListedSet, Listing, NftMap, NftObject, NftSet, Operation, Rule, SupportReport, Table } from "./types.ts";
import type { ListOptions, Nftables, RunOptions } from "./nftables.ts";
import { Transaction } from "./transaction.ts";
import { NftablesError, type NftablesErrorKind } from "./errors.ts";
import { renderOperation } from "./_render.ts";
import { canonicalFlags, parseDuration, parseElement, splitTopLevel } from "./_parse_listing.ts";
import { priorityValue } from "./_validate.ts";

/** Options for {@linkcode FakeNftables}. */
export interface FakeNftablesOptions {
  /** Address family of the table. */
  family: Family;
  /** Table name. */
  table: string;
}

interface FakeRule {
  rule: Rule;
  handle: number;
  /** Chains this rule jumps or goes to. */
  chainRefs: string[];
  /** Sets and maps this rule uses (`@name`). */
  setRefs: string[];
}

interface FakeChain {
  chain: Chain;
  handle: number;
  rules: FakeRule[];
}

interface FakeSet {
  obj: NftSet | NftMap;
  handle: number;
  /** Elements by key text (`1.2.3.4 . tcp . 80`). */
  elements: Map<string, Element>;
}

interface FakeState {
  table: { table: Table; handle: number } | undefined;
  chains: Map<string, FakeChain>;
  /** Sets and maps share one namespace in nftables. */
  sets: Map<string, FakeSet>;
  nextHandle: number;
}

const emptyState = (): FakeState => ({ table: undefined, chains: new Map(), sets: new Map(), nextHandle: 1 });

function copyState(s: FakeState): FakeState {
  const chains = new Map<string, FakeChain>();
  for (const [k, c] of s.chains) chains.set(k, { ...c, rules: [...c.rules] });
  const sets = new Map<string, FakeSet>();
  for (const [k, v] of s.sets) sets.set(k, { ...v, elements: new Map(v.elements) });
  return { table: s.table, chains, sets, nextHandle: s.nextHandle };
}

const NAME = "[A-Za-z_.][A-Za-z0-9_./-]*";
const CHAIN_REF_RE = new RegExp(`\\b(?:jump|goto)\\s+(${NAME})`, "g");
const SET_REF_RE = new RegExp(`@(${NAME})`, "g");

/** Chain names referenced by `jump X` / `goto X` in rule text or a verdict. */
function chainRefsOf(text: string): string[] {
  return [...text.matchAll(CHAIN_REF_RE)].map((m) => m[1]!);
}

const keyText = (el: Element) => el.key.join(" . ");
const strip = <T extends { handle?: number }>(o: T): T => {
  if (o.handle === undefined) return o;
  const { handle: _h, ...rest } = o;
  return rest as T;
};

/** Thrown inside the fake's apply loop; carries the kind and a reason. */
class Reject extends Error {
  constructor(
    readonly kind: NftablesErrorKind,
    reason: string,
  ) {
    super(reason);
  }
}

/**
 * An in-memory {@linkcode Nftables} for unit tests, modelled on knftables' fake.
 *
 * `run` applies a transaction to a copy of the state and commits only when every operation
 * succeeds, throwing the same error kinds as the real implementation: a missing table, chain, set,
 * map, rule handle or element → notFound; `create` of an existing object, or `add` of an existing
 * object with a different definition (element value, chain type, set type) → alreadyExists;
 * deleting a chain that has rules or is the target of a `jump`/`goto` (in a rule or a verdict map),
 * or a set/map used by a rule (`@name`) → busy; `jump`/`goto`/`@name` to something missing →
 * notFound. `flush table` empties every chain but leaves set elements, as nft does.
 *
 * Differences from the kernel: rule text is stored verbatim (nft prints it normalized, e.g.
 * `ip protocol tcp tcp dport 80` comes back as `tcp dport 80`), rule syntax is not checked, and
 * handles are numbered from 1 in creation order.
 */
export class FakeNftables implements Nftables {
  readonly family: Family;
  readonly table: string;
  /** The last transaction passed to `run`, also when it failed. */
  lastTransaction: Transaction | undefined;
  #state: FakeState = emptyState();

  constructor(options: FakeNftablesOptions) {
    this.family = options.family;
    this.table = options.table;
  }

  newTransaction(): Transaction {
    return new Transaction(this.family, this.table);
  }

  async run(tx: Transaction, options: RunOptions = {}): Promise<void> {
    this.lastTransaction = tx;
    if (tx.error) throw tx.error;
    if (tx.family !== this.family || tx.table !== this.table) {
      throw new NftablesError("invalid", `Cannot run transaction: it is for ${tx.family} ${tx.table}, this handle manages ${this.family} ${this.table}`);
    }
    const ops = tx.operations;
    const atomic = options.atomic ?? true;
    const chunkSize = atomic ? Math.max(1, ops.length) : (options.chunkSize ?? 1000);
    if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) throw new RangeError(`chunkSize must be a positive integer, got ${String(options.chunkSize)}`);
    for (let start = 0; start < ops.length; start += chunkSize) {
      const next = copyState(this.#state);
      for (let i = start; i < Math.min(ops.length, start + chunkSize); i++) {
        try {
          this.#apply(next, ops[i]!);
        } catch (err) {
          if (!(err instanceof Reject)) throw err;
          const text = renderOperation(this.family, this.table, ops[i]!);
          throw new NftablesError(err.kind, `Cannot apply operation ${i} (${text}): ${err.message}`, { operation: ops[i]!, operationIndex: i });
        }
      }
      if (!options.dryRun) this.#state = next;
    }
  }

  async list(options: ListOptions = {}): Promise<Listing> {
    const s = this.#state;
    if (!s.table) throw new NftablesError("notFound", `Cannot list table ${this.family} ${this.table}: No such file or directory`);
    const chains: Chain[] = [];
    const rules: ListedRule[] = [];
    for (const c of s.chains.values()) {
      const listed: Chain = c.chain.type !== undefined && c.chain.policy === undefined ? { ...c.chain, policy: "accept" } : c.chain;
      chains.push({ ...listed, handle: c.handle });
      for (const r of c.rules) rules.push({ ...r.rule, rule: r.rule.rule ?? "", handle: r.handle });
    }
    const sets: ListedSet[] = [];
    const maps: ListedMap[] = [];
    const elements: Element[] = [];
    for (const v of s.sets.values()) {
      const o = { ...v.obj, type: v.obj.type ?? "", handle: v.handle };
      if (o.kind === "set") sets.push(o);
      else maps.push(o);
      if (options.elements !== false) elements.push(...v.elements.values());
    }
    return { family: this.family, name: this.table, table: { ...s.table.table, handle: s.table.handle }, chains, rules, sets, maps, elements };
  }

  async check(): Promise<SupportReport> {
    return {
      ok: true,
      version: "nftables-js fake",
      features: { nft: undefined, comments: undefined, nat: undefined, ct: undefined, numgen: undefined, fib: undefined, setTimeouts: undefined, verdictMaps: undefined, concatenations: undefined },
    };
  }

  /**
   * The whole table as an `nft -f` script of `add …` lines, one object per line: the table, chains,
   * sets and maps, then rules (chain by chain, in order) and elements. "" when there is no table.
   */
  dump(): string {
    const s = this.#state;
    if (!s.table) return "";
    const ops: Operation[] = [{ verb: "add", object: s.table.table }];
    for (const c of s.chains.values()) ops.push({ verb: "add", object: c.chain });
    for (const v of s.sets.values()) ops.push({ verb: "add", object: v.obj });
    for (const c of s.chains.values()) for (const r of c.rules) ops.push({ verb: "add", object: r.rule });
    for (const v of s.sets.values()) for (const e of v.elements.values()) ops.push({ verb: "add", object: e });
    return ops.map((op) => renderOperation(this.family, this.table, op) + "\n").join("");
  }

  /**
   * Replaces the state with the objects of an `nft -f` script of `add`/`create` lines for this
   * table: the output of {@linkcode dump}, or a transaction's `toString()`. Throws SyntaxError for
   * lines it cannot read and NftablesError when the script would be rejected.
   */
  load(dump: string): void {
    const state = emptyState();
    const lines = dump.split("\n");
    for (let n = 0; n < lines.length; n++) {
      let line = lines[n]!.trim();
      if (line === "" || line.startsWith("#")) continue;
      if (/^(add|create) element /.test(line) && line.endsWith("{")) {
        while (n + 1 < lines.length && lines[n]!.trim() !== "}") line += " " + lines[++n]!.trim();
      }
      for (const op of this.#parseLine(state, line, n + 1)) {
        try {
          this.#apply(state, op);
        } catch (err) {
          if (!(err instanceof Reject)) throw err;
          throw new NftablesError(err.kind, `Cannot load line ${n + 1} (${line.slice(0, 200)}): ${err.message}`, { operation: op });
        }
      }
    }
    this.#state = state;
  }

  #parseLine(state: FakeState, line: string, lineNo: number): Operation[] {
    const bad = (why: string) => new SyntaxError(`Cannot load line ${lineNo}: ${why}: ${line.slice(0, 200)}`);
    const m = /^(add|create) (table|chain|rule|set|map|element) (\S+) (\S+)(?: (.*))?$/.exec(line);
    if (!m) throw bad("expected an add or create command");
    const verb = m[1] as "add" | "create";
    const kind = m[2]!;
    if (m[3] !== this.family || m[4] !== this.table) throw bad(`not table ${this.family} ${this.table}`);
    const rest = m[5] ?? "";
    const props = (body: string) => {
      const out: Record<string, string> = {};
      const inner = /^\{(.*)\}$/.exec(body.trim())?.[1];
      if (inner === undefined) throw bad("expected { … }");
      for (const part of splitTopLevel(inner, ";")) {
        const p = part.trim();
        if (p === "") continue;
        const sp = p.indexOf(" ");
        out[sp < 0 ? p : p.slice(0, sp)] = sp < 0 ? "" : p.slice(sp + 1);
      }
      return out;
    };
    const unquote = (s: string | undefined) => (s === undefined ? undefined : (/^"([^"]*)"$/.exec(s)?.[1] ?? s));
    switch (kind) {
      case "table": {
        const p = rest ? props(rest) : {};
        const table: Table = p.comment !== undefined ? { kind: "table", comment: unquote(p.comment)! } : { kind: "table" };
        return [{ verb, object: table }];
      }
      case "chain": {
        const sp = rest.indexOf(" ");
        const name = sp < 0 ? rest : rest.slice(0, sp);
        let chain: Chain = { kind: "chain", name };
        if (sp >= 0) {
          const p = props(rest.slice(sp + 1));
          if (p.type !== undefined) {
            const bm = /^(\S+) hook (\S+) priority (\S+)$/.exec(p.type);
            if (!bm) throw bad("bad base chain definition");
            chain = { ...chain, type: bm[1] as Chain["type"] & string, hook: bm[2] as Chain["hook"] & string, priority: priorityValue(bm[3]) ?? 0 };
          }
          if (p.policy !== undefined) chain = { ...chain, policy: p.policy as "accept" | "drop" };
          if (p.comment !== undefined) chain = { ...chain, comment: unquote(p.comment)! };
        }
        return [{ verb, object: chain }];
      }
      case "set":
      case "map": {
        const sp = rest.indexOf(" ");
        if (sp < 0) throw bad(`${kind} needs { type … }`);
        const p = props(rest.slice(sp + 1));
        let obj = { kind, name: rest.slice(0, sp), type: p.type ?? "" } as NftSet | NftMap;
        if (p.flags !== undefined) obj = { ...obj, flags: p.flags.split(",") as NftSet["flags"] & string[] };
        if (p.timeout !== undefined) obj = { ...obj, timeoutSeconds: parseDuration(p.timeout) ?? 0 };
        if (p.size !== undefined) obj = { ...obj, size: Number(p.size) };
        if (p.comment !== undefined) obj = { ...obj, comment: unquote(p.comment)! };
        return [{ verb, object: obj }];
      }
      case "rule": {
        const rm = /^(\S+)(?: (index|handle) (\d+))? (.*)$/.exec(rest);
        if (!rm) throw bad("rule needs a chain and text");
        const cm = /^(.*) comment "([^"]*)"$/.exec(rm[4]!);
        let rule: Rule = cm ? { kind: "rule", chain: rm[1]!, rule: cm[1]!, comment: cm[2]! } : { kind: "rule", chain: rm[1]!, rule: rm[4]! };
        if (rm[2] === "index") rule = { ...rule, index: Number(rm[3]) };
        if (rm[2] === "handle") rule = { ...rule, handle: Number(rm[3]) };
        return [{ verb: "add", object: rule }];
      }
      default: {
        const em = /^(\S+) \{(.*)\}$/.exec(rest);
        if (!em) throw bad("element needs { … }");
        const target = state.sets.get(em[1]!);
        const setKind = target?.obj.kind ?? "set";
        return splitTopLevel(em[2]!, ",")
          .filter((e) => e.trim() !== "")
          .map((e) => ({ verb, object: parseElement(e, setKind, em[1]!) }));
      }
    }
  }

  #apply(s: FakeState, op: Operation): void {
    const { verb, object: obj } = op;
    if (obj.kind === "table") return this.#applyTable(s, verb, obj);
    if (!s.table) throw new Reject("notFound", `table ${this.family} ${this.table} does not exist`);
    switch (obj.kind) {
      case "chain":
        return applyChain(s, verb, obj);
      case "rule":
        return applyRule(s, verb, obj);
      case "set":
      case "map":
        return applySet(s, verb, obj);
      case "element":
        return applyElement(s, verb, obj);
    }
  }

  #applyTable(s: FakeState, verb: Operation["verb"], table: Table): void {
    if (verb === "add" || verb === "create") {
      if (s.table) {
        if (verb === "create") throw new Reject("alreadyExists", `table ${this.family} ${this.table} exists`);
        return;
      }
      s.table = { table: strip(table), handle: 1 };
      return;
    }
    if (!s.table) throw new Reject("notFound", `table ${this.family} ${this.table} does not exist`);
    if (verb === "delete") {
      const fresh = emptyState();
      s.table = undefined;
      s.chains = fresh.chains;
      s.sets = fresh.sets;
    } else for (const c of s.chains.values()) c.rules = [];
  }
}

function sameDefinition(a: Chain, b: Chain): boolean {
  return a.type === b.type && a.hook === b.hook && priorityValue(a.priority) === priorityValue(b.priority);
}

function chainUsers(s: FakeState, name: string): string | undefined {
  for (const c of s.chains.values()) for (const r of c.rules) if (r.chainRefs.includes(name)) return `a rule in chain ${c.chain.name}`;
  for (const v of s.sets.values()) {
    if (v.obj.kind !== "map") continue;
    for (const e of v.elements.values()) if (e.value && chainRefsOf(e.value.join(" ")).includes(name)) return `an element of map ${v.obj.name}`;
  }
  return undefined;
}

function applyChain(s: FakeState, verb: Operation["verb"], chain: Chain): void {
  const existing = s.chains.get(chain.name);
  if (verb === "add" || verb === "create") {
    if (existing) {
      if (verb === "create") throw new Reject("alreadyExists", `chain ${chain.name} exists`);
      if (!sameDefinition(existing.chain, chain)) throw new Reject("alreadyExists", `chain ${chain.name} exists with a different type, hook or priority`);
      if (chain.policy !== undefined) existing.chain = { ...existing.chain, policy: chain.policy };
      return;
    }
    let stored: Chain = strip(chain);
    if (stored.priority !== undefined) stored = { ...stored, priority: priorityValue(stored.priority)! };
    s.chains.set(chain.name, { chain: stored, handle: s.nextHandle++, rules: [] });
    return;
  }
  if (!existing) throw new Reject("notFound", `chain ${chain.name} does not exist`);
  if (verb === "flush") {
    existing.rules = [];
    return;
  }
  if (existing.rules.length > 0) throw new Reject("busy", `chain ${chain.name} is not empty`);
  const user = chainUsers(s, chain.name);
  if (user) throw new Reject("busy", `chain ${chain.name} is referenced by ${user}`);
  s.chains.delete(chain.name);
}

function rulePosition(c: FakeChain, rule: Rule): number {
  if (rule.index !== undefined) {
    if (rule.index >= c.rules.length) throw new Reject("notFound", `chain ${c.chain.name} has no rule at index ${rule.index}`);
    return rule.index;
  }
  const at = c.rules.findIndex((r) => r.handle === rule.handle);
  if (at < 0) throw new Reject("notFound", `chain ${c.chain.name} has no rule with handle ${rule.handle}`);
  return at;
}

function applyRule(s: FakeState, verb: Operation["verb"], rule: Rule): void {
  const c = s.chains.get(rule.chain);
  if (!c) throw new Reject("notFound", `chain ${rule.chain} does not exist`);
  if (verb === "delete") {
    c.rules.splice(rulePosition(c, { ...rule, index: undefined }), 1);
    return;
  }
  const chainRefs = chainRefsOf(rule.rule ?? "");
  for (const ref of chainRefs) if (!s.chains.has(ref)) throw new Reject("notFound", `chain ${ref} (jump/goto target) does not exist`);
  const setRefs = [...(rule.rule ?? "").matchAll(SET_REF_RE)].map((m) => m[1]!);
  for (const ref of setRefs) if (!s.sets.has(ref)) throw new Reject("notFound", `set or map ${ref} does not exist`);
  const { index: _i, handle: _h, ...stored } = rule;
  if (verb === "replace") {
    const at = rulePosition(c, { ...rule, index: undefined });
    c.rules[at] = { rule: stored, handle: c.rules[at]!.handle, chainRefs, setRefs };
    return;
  }
  const entry: FakeRule = { rule: stored, handle: s.nextHandle++, chainRefs, setRefs };
  const positioned = rule.index !== undefined || rule.handle !== undefined;
  if (verb === "add") c.rules.splice(positioned ? rulePosition(c, rule) + 1 : c.rules.length, 0, entry);
  else c.rules.splice(positioned ? rulePosition(c, rule) : 0, 0, entry);
}

function normalizeSet<T extends NftSet | NftMap>(obj: T): T {
  let o = strip(obj);
  const flags = canonicalFlags([...(o.flags ?? []), ...(o.timeoutSeconds !== undefined ? ["timeout"] : [])]);
  if (flags.length) o = { ...o, flags };
  else if (o.flags) {
    const { flags: _f, ...rest } = o;
    o = rest as T;
  }
  return o;
}

function applySet(s: FakeState, verb: Operation["verb"], obj: NftSet | NftMap): void {
  const existing = s.sets.get(obj.name);
  if (verb === "add" || verb === "create") {
    if (existing) {
      if (verb === "create") throw new Reject("alreadyExists", `${existing.obj.kind} ${obj.name} exists`);
      if (existing.obj.kind !== obj.kind || existing.obj.type !== obj.type) throw new Reject("alreadyExists", `${existing.obj.kind} ${obj.name} exists with a different type`);
      return;
    }
    s.sets.set(obj.name, { obj: normalizeSet(obj), handle: s.nextHandle++, elements: new Map() });
    return;
  }
  if (!existing || existing.obj.kind !== obj.kind) throw new Reject("notFound", `${obj.kind} ${obj.name} does not exist`);
  if (verb === "flush") {
    existing.elements = new Map();
    return;
  }
  for (const c of s.chains.values()) {
    for (const r of c.rules) if (r.setRefs.includes(obj.name)) throw new Reject("busy", `${obj.kind} ${obj.name} is used by a rule in chain ${c.chain.name}`);
  }
  s.sets.delete(obj.name);
}

function applyElement(s: FakeState, verb: Operation["verb"], el: Element): void {
  const name = (el.set ?? el.map)!;
  const target = s.sets.get(name);
  if (!target) throw new Reject("notFound", `set or map ${name} does not exist`);
  const kind = el.set !== undefined ? "set" : "map";
  if (target.obj.kind !== kind) throw new Reject("invalid", `${name} is a ${target.obj.kind}, not a ${kind}`);
  const [keyType = "", valueType] = (target.obj.type ?? "").split(" : ");
  const arity = keyType.split(" . ").length;
  if (el.key.length !== arity) throw new Reject("invalid", `key ${keyText(el)} does not match type ${keyType}`);
  const key = keyText(el);
  const existing = target.elements.get(key);
  if (verb === "delete") {
    if (!existing) throw new Reject("notFound", `element ${key} of ${name} does not exist`);
    target.elements.delete(key);
    return;
  }
  if (valueType !== undefined && valueType !== "verdict" && el.value!.length !== valueType.split(" . ").length) {
    throw new Reject("invalid", `value ${el.value!.join(" . ")} does not match type ${valueType}`);
  }
  if (el.timeoutSeconds !== undefined && !(target.obj.flags ?? []).includes("timeout")) throw new Reject("invalid", `${name} has no timeout flag`);
  if (existing) {
    if (verb === "create") throw new Reject("alreadyExists", `element ${key} of ${name} exists`);
    if ((existing.value ?? []).join(" . ") !== (el.value ?? []).join(" . ")) throw new Reject("alreadyExists", `element ${key} of ${name} exists with a different value`);
    return;
  }
  if (el.value) for (const ref of chainRefsOf(el.value.join(" "))) if (!s.chains.has(ref)) throw new Reject("notFound", `chain ${ref} (verdict target) does not exist`);
  target.elements.set(key, el);
}
