import type { Family, NftObject, Operation, Verb } from "./types.ts";
import { NftablesError } from "./errors.ts";
import { checkName, validateOperation } from "./_validate.ts";
import { renderOperations } from "./_render.ts";

/**
 * An ordered batch of operations on one table, applied all at once by `Nftables.run`.
 *
 * Builder methods never throw: the first invalid operation is recorded in {@linkcode error}
 * (it and every later operation are dropped) and `run` rejects with it before anything runs.
 * Objects are validated when queued, so names, comments, keys and rule text cannot break out of
 * their place in the script.
 */
export class Transaction {
  readonly family: Family;
  readonly table: string;
  readonly #ops: Operation[] = [];
  #error: NftablesError | undefined;

  /** A transaction for `table` in `family`; usually obtained from `Nftables.newTransaction()`. */
  constructor(family: Family, table: string) {
    this.family = family;
    this.table = table;
    if (family !== "ip" && family !== "ip6" && family !== "inet") {
      this.#error = new NftablesError("invalid", `Cannot use family ${JSON.stringify(family)}: expected ip, ip6 or inet`);
    } else {
      const err = checkName("table name", table);
      if (err) this.#error = new NftablesError("invalid", `Cannot use table: ${err}`);
    }
  }

  /** The queued operations (valid ones only). */
  get operations(): readonly Operation[] {
    return this.#ops;
  }

  /** Number of queued operations. */
  get numOperations(): number {
    return this.#ops.length;
  }

  /** The first validation error, if any; `run` rejects with it. */
  get error(): NftablesError | undefined {
    return this.#error;
  }

  #push(verb: Verb, input: NftObject): this {
    if (this.#error) return this;
    // Validate and keep a copy, so changing the caller's object afterwards cannot slip past the checks.
    const object = copyObject(input);
    const problem = validateOperation(verb, object);
    if (problem) {
      const what = object && typeof object === "object" ? String(object.kind) : "object";
      this.#error = new NftablesError("invalid", `Cannot ${verb} ${what}: ${problem}`, {
        operation: { verb, object },
        operationIndex: this.#ops.length,
      });
      return this;
    }
    this.#ops.push({ verb, object });
    return this;
  }

  /** Adds an object if it is missing (idempotent for tables, chains, sets, maps, elements); appends a rule, or places it after `index`/`handle`. */
  add(object: NftObject): this {
    return this.#push("add", object);
  }

  /** Adds an object and fails (alreadyExists) if it exists. Not for rules. */
  create(object: NftObject): this {
    return this.#push("create", object);
  }

  /** Inserts a rule at the head of its chain, or before the rule at `index` / with `handle`. */
  insert(rule: NftObject): this {
    return this.#push("insert", rule);
  }

  /** Replaces the rule with `handle` by this rule's text and comment. */
  replace(rule: NftObject): this {
    return this.#push("replace", rule);
  }

  /** Deletes an object, which must exist (notFound otherwise). Rules need a `handle`, elements only their key. */
  delete(object: NftObject): this {
    return this.#push("delete", object);
  }

  /** Empties a table (all rules of all chains, all elements), a chain (its rules), a set or a map. */
  flush(object: NftObject): this {
    return this.#push("flush", object);
  }

  /** The exact `nft -f -` script, plus a final `# ERROR: …` line when the transaction is invalid. */
  toString(): string {
    const { text } = renderOperations(this.family, this.table, this.#ops);
    return this.#error ? `${text}# ERROR: ${this.#error.message}\n` : text;
  }
}


function copyObject(o: NftObject): NftObject {
  if (o === null || typeof o !== "object") return o;
  if (o.kind !== "element") return o.kind === "set" || o.kind === "map" ? (o.flags ? { ...o, flags: o.flags.slice() } : { ...o }) : { ...o };
  const key = Array.isArray(o.key) ? o.key.slice() : o.key;
  return o.value === undefined ? { ...o, key } : { ...o, key, value: Array.isArray(o.value) ? o.value.slice() : o.value };
}
