// Validation of objects before anything is rendered: every value that ends up in the `nft -f`
// script is checked so that it cannot leave its field (quotes, newlines, `;`, braces, `#`).
import type { Chain, Element, NftMap, NftObject, NftSet, Rule, Verb } from "./types.ts";
import { NFT_KEYWORDS } from "./_keywords.ts";

/** Longest name nft accepts (NFT_NAME_MAXLEN is 256 including the NUL). */
export const NAME_LENGTH_MAX = 256;
/** Longest comment (knftables' limit; the kernel allows 256 bytes of user data). */
export const COMMENT_LENGTH_MAX = 128;

const NAME_RE = /^[A-Za-z_.][A-Za-z0-9_./-]*$/;
const COMMENT_RE = /^[^"\\\x00-\x1f\x7f]*$/;
const TYPE_PART = "[a-z][a-z0-9_]*";
const SET_TYPE_RE = new RegExp(`^${TYPE_PART}( \\. ${TYPE_PART})*$`);
const MAP_TYPE_RE = new RegExp(`^${TYPE_PART}( \\. ${TYPE_PART})* : ${TYPE_PART}( \\. ${TYPE_PART})*$`);
const KEY_PART_RE = /^[^\s{},;"#\\]+$/;
const VALUE_PART_RE = /^[^\s{},;"#\\]+( [^\s{},;"#\\]+)?$/;
const FLAGS = new Set(["constant", "dynamic", "interval", "timeout"]);
const TYPES = new Set(["filter", "nat", "route"]);
const HOOKS = new Set(["prerouting", "input", "forward", "output", "postrouting"]);
const POLICIES = new Set(["accept", "drop"]);

/** Symbolic base-chain priorities for the ip, ip6 and inet families. */
export const PRIORITIES: Readonly<Record<string, number>> = {
  raw: -300,
  mangle: -150,
  dstnat: -100,
  filter: 0,
  security: 50,
  srcnat: 100,
};

/** The numeric value of a priority (`-100`, `"dstnat"`, `"dstnat-10"`), or undefined when invalid. */
export function priorityValue(priority: unknown): number | undefined {
  if (typeof priority === "number") return Number.isInteger(priority) ? priority : undefined;
  if (typeof priority !== "string") return undefined;
  const m = /^([a-z]+)(?:\s*([+-])\s*(\d+))?$/.exec(priority);
  if (!m) return /^-?\d+$/.test(priority) ? Number(priority) : undefined;
  const base = PRIORITIES[m[1]!];
  if (base === undefined) return undefined;
  return m[2] === undefined ? base : m[2] === "+" ? base + Number(m[3]) : base - Number(m[3]);
}

// Names seen valid before; transactions repeat the same few set and chain names many times.
const goodNames = new Set<string>();

export function checkName(field: string, name: unknown): string | undefined {
  if (typeof name === "string" && goodNames.has(name)) return undefined;
  const err = checkNameUncached(field, name);
  if (err === undefined) {
    if (goodNames.size >= 100_000) goodNames.clear();
    goodNames.add(name as string);
  }
  return err;
}

function checkNameUncached(field: string, name: unknown): string | undefined {
  if (typeof name !== "string" || name === "") return `${field} is missing`;
  if (name.length > NAME_LENGTH_MAX) return `${field} is longer than ${NAME_LENGTH_MAX} characters`;
  if (!NAME_RE.test(name)) return `${field} ${JSON.stringify(name)} may only contain letters, digits and _ . / - (starting with a letter, _ or .)`;
  if (NFT_KEYWORDS.has(name)) return `${field} ${JSON.stringify(name)} is an nft keyword, which nft cannot parse as a name`;
  return undefined;
}

function checkComment(comment: unknown): string | undefined {
  if (comment === undefined) return undefined;
  if (typeof comment !== "string") return "comment is not a string";
  if (comment.length > COMMENT_LENGTH_MAX) return `comment is longer than ${COMMENT_LENGTH_MAX} characters`;
  if (!COMMENT_RE.test(comment)) return `comment ${JSON.stringify(comment)} contains a quote, backslash or control character`;
  return undefined;
}

function checkCount(field: string, n: unknown, min: number): string | undefined {
  if (n === undefined) return undefined;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < min) return `${field} must be an integer >= ${min}, got ${String(n)}`;
  return undefined;
}

/** Checks rule text: one line, no `;` or `#` outside quotes, balanced quotes and braces. */
export function checkRuleText(text: unknown): string | undefined {
  if (typeof text !== "string" || text.trim() === "") return "rule text is missing";
  if (/[\x00-\x1f\x7f]/.test(text)) return `rule text ${JSON.stringify(text)} contains a newline or control character`;
  let inQuote = false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') inQuote = !inQuote;
    else if (inQuote) {
      if (c === "\\") return `rule text ${JSON.stringify(text)} contains a backslash in a quoted string`;
    } else if (c === ";" || c === "#") return `rule text ${JSON.stringify(text)} contains "${c}"`;
    else if (c === "{") depth++;
    else if (c === "}" && --depth < 0) return `rule text ${JSON.stringify(text)} closes a brace it did not open`;
  }
  if (inQuote) return `rule text ${JSON.stringify(text)} has an unterminated quote`;
  if (depth !== 0) return `rule text ${JSON.stringify(text)} has an unclosed brace`;
  return undefined;
}

function checkChain(verb: Verb, chain: Chain): string | undefined {
  const err = checkName("chain name", chain.name) ?? checkComment(chain.comment);
  if (err) return err;
  if (verb === "delete" || verb === "flush") return undefined;
  const base = chain.type !== undefined || chain.hook !== undefined || chain.priority !== undefined;
  if (!base) return chain.policy !== undefined ? `chain ${chain.name}: policy is only allowed on a base chain (with type, hook and priority)` : undefined;
  if (chain.type === undefined || !TYPES.has(chain.type)) return `chain ${chain.name}: type must be one of filter, nat, route`;
  if (chain.hook === undefined || !HOOKS.has(chain.hook)) return `chain ${chain.name}: hook must be one of ${[...HOOKS].join(", ")}`;
  if (priorityValue(chain.priority) === undefined) return `chain ${chain.name}: priority ${JSON.stringify(chain.priority)} is not a number or symbolic priority`;
  if (chain.policy !== undefined && !POLICIES.has(chain.policy)) return `chain ${chain.name}: policy must be accept or drop`;
  return undefined;
}

function checkRule(verb: Verb, rule: Rule): string | undefined {
  const err = checkName("rule chain", rule.chain) ?? checkComment(rule.comment) ?? checkCount("rule index", rule.index, 0) ?? checkCount("rule handle", rule.handle, 1);
  if (err) return err;
  if (rule.index !== undefined && rule.handle !== undefined && verb !== "replace" && verb !== "delete") return "rule index and handle are mutually exclusive";
  if ((verb === "replace" || verb === "delete") && rule.handle === undefined) return `${verb} of a rule needs its handle`;
  if (verb === "delete") return undefined;
  return checkRuleText(rule.rule);
}

function checkSetLike(verb: Verb, set: NftSet | NftMap): string | undefined {
  const err = checkName(`${set.kind} name`, set.name) ?? checkComment(set.comment);
  if (err) return err;
  if (verb === "delete" || verb === "flush") return undefined;
  const re = set.kind === "map" ? MAP_TYPE_RE : SET_TYPE_RE;
  if (typeof set.type !== "string" || !re.test(set.type)) {
    return `${set.kind} ${set.name}: type ${JSON.stringify(set.type)} is not a ${set.kind === "map" ? "\"key . key : value\"" : "\"key . key\""} type`;
  }
  for (const f of set.flags ?? []) if (!FLAGS.has(f)) return `${set.kind} ${set.name}: unknown flag ${JSON.stringify(f)}`;
  return checkCount(`${set.kind} ${set.name}: timeoutSeconds`, set.timeoutSeconds, 1) ?? checkCount(`${set.kind} ${set.name}: size`, set.size, 1);
}

function checkElement(verb: Verb, el: Element): string | undefined {
  if ((el.set === undefined) === (el.map === undefined)) return "element needs exactly one of set or map";
  const err = checkName(el.set !== undefined ? "element set" : "element map", el.set ?? el.map) ?? checkComment(el.comment);
  if (err) return err;
  if (!Array.isArray(el.key) || el.key.length === 0) return "element key is missing";
  for (const k of el.key) if (typeof k !== "string" || !KEY_PART_RE.test(k)) return `element key part ${JSON.stringify(k)} contains whitespace or one of { } , ; " # \\`;
  if (el.set !== undefined && el.value !== undefined) return `element of set ${el.set} cannot have a value`;
  if (el.map !== undefined && verb !== "delete") {
    if (!Array.isArray(el.value) || el.value.length === 0) return `element of map ${el.map} needs a value`;
    for (const v of el.value) {
      if (typeof v !== "string" || !VALUE_PART_RE.test(v)) return `element value part ${JSON.stringify(v)} contains one of { } , ; " # \\ or extra whitespace`;
      if (v.startsWith("goto ") || v.startsWith("jump ")) {
        const err = checkName("element verdict chain", v.slice(5));
        if (err) return err;
      }
    }
  }
  return checkCount("element timeoutSeconds", el.timeoutSeconds, 1);
}

const ALLOWED: Record<Verb, ReadonlySet<NftObject["kind"]>> = {
  add: new Set(["table", "chain", "rule", "set", "map", "element"]),
  create: new Set(["table", "chain", "set", "map", "element"]),
  insert: new Set(["rule"]),
  replace: new Set(["rule"]),
  delete: new Set(["table", "chain", "rule", "set", "map", "element"]),
  flush: new Set(["table", "chain", "set", "map"]),
};

/** Returns why `verb object` cannot be rendered, or undefined when it is fine. */
export function validateOperation(verb: Verb, object: NftObject): string | undefined {
  if (object === null || typeof object !== "object") return `${verb}: object is missing`;
  const allowed = ALLOWED[verb];
  if (!allowed) return `unknown verb ${JSON.stringify(verb)}`;
  if (!allowed.has(object.kind)) return `${verb} is not possible on a ${String(object.kind)}`;
  switch (object.kind) {
    case "table":
      return checkComment(object.comment);
    case "chain":
      return checkChain(verb, object);
    case "rule":
      return checkRule(verb, object);
    case "set":
    case "map":
      return checkSetLike(verb, object);
    case "element":
      return checkElement(verb, object);
    default:
      return `unknown object kind ${JSON.stringify((object as { kind: unknown }).kind)}`;
  }
}
