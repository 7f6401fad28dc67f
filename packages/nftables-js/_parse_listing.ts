// Parser for `nft -s -a list table <family> <name>` text output (nft 1.0.x). Text rather than JSON
// because rules come back as the rule text nft prints (JSON only has expression trees) and because
// nft 1.0.6's JSON omits table and chain comments.
import type { Chain, ChainHook, ChainPolicy, ChainType, Element, Family, ListedMap, ListedRule, ListedSet, Listing, NftMap, NftSet, Rule, SetFlag, Table } from "./types.ts";
import { priorityValue } from "./_validate.ts";

const FLAG_ORDER: readonly SetFlag[] = ["constant", "dynamic", "interval", "timeout"];

/** Sorts set flags into nftables-js' canonical order (nft prints them in its own order). */
export function canonicalFlags(flags: readonly string[]): SetFlag[] {
  return FLAG_ORDER.filter((f) => flags.includes(f));
}

/** Parses an nft duration (`3h`, `2h59m59s880ms`, `1d`, `10s`) into whole seconds (rounded). */
export function parseDuration(text: string): number | undefined {
  const re = /(\d+)(ms|d|h|m|s)/g;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index !== consumed) return undefined;
    consumed = re.lastIndex;
    const n = Number(m[1]);
    total += m[2] === "d" ? n * 86400 : m[2] === "h" ? n * 3600 : m[2] === "m" ? n * 60 : m[2] === "s" ? n : n / 1000;
  }
  if (consumed !== text.length || consumed === 0) return undefined;
  return Math.round(total);
}

/** Splits `text` at `sep` where it occurs outside double quotes and braces. */
export function splitTopLevel(text: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inQuote = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') inQuote = !inQuote;
    else if (inQuote) continue;
    else if (c === "{") depth++;
    else if (c === "}") depth--;
    else if (depth === 0 && text.startsWith(sep, i)) {
      out.push(text.slice(start, i));
      start = i + sep.length;
      i += sep.length - 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

const ELEMENT_KEY_RE = /^(.*?)(?: timeout (\S+))?(?: expires (\S+))?(?: comment "([^"]*)")?$/;

/** Parses one element as nft prints it (`1.1.1.2 . udp . 53 timeout 10s comment "x" : goto c`). */
export function parseElement(text: string, kind: "set" | "map", name: string): Element {
  const [keySide = "", ...rest] = splitTopLevel(text.trim(), " : ");
  const m = ELEMENT_KEY_RE.exec(keySide.trim())!;
  const key = m[1]!.split(" . ");
  let el: Element = kind === "set" ? { kind: "element", set: name, key } : { kind: "element", map: name, key };
  if (rest.length > 0) el = { ...el, value: rest.join(" : ").trim().split(" . ") };
  if (m[4] !== undefined) el = { ...el, comment: m[4] };
  if (m[2] !== undefined) {
    const t = parseDuration(m[2]);
    if (t !== undefined) el = { ...el, timeoutSeconds: t };
  }
  return el;
}

const TABLE_RE = /^table (\S+) (\S+) \{(?: # handle (\d+))?$/;
const SET_RE = /^(set|map) (\S+) \{(?: # handle (\d+))?$/;
const CHAIN_RE = /^chain (\S+) \{(?: # handle (\d+))?$/;
const BASE_RE = /^type (\S+) hook (\S+)(?: device \S+)? priority (.+?);(?: policy (\S+);)?$/;
const RULE_RE = /^(.*) # handle (\d+)$/;
const COMMENT_RE = /^comment "([^"]*)"$/;
const OPENS_BLOCK_RE = /\{(?: # handle \d+)?$/;

/** Parses the text listing of one table. */
export function parseListing(text: string): Listing {
  const lines = text.split("\n");
  let i = 0;
  const next = () => (lines[i++] ?? "").trim();
  let header: RegExpExecArray | null = null;
  while (i < lines.length && !header) header = TABLE_RE.exec(next());
  if (!header) throw new SyntaxError("nft listing: no table header found");
  const family = header[1] as Family;
  const name = header[2]!;
  let table: Table = { kind: "table" };
  if (header[3]) table = { ...table, handle: Number(header[3]) };
  const chains: Chain[] = [];
  const rules: ListedRule[] = [];
  const sets: ListedSet[] = [];
  const maps: ListedMap[] = [];
  const elements: Element[] = [];

  const skipBlock = () => {
    let depth = 1;
    while (i < lines.length && depth > 0) {
      const l = next();
      if (OPENS_BLOCK_RE.test(l)) depth++;
      else if (l === "}") depth--;
    }
  };

  while (i < lines.length) {
    const line = next();
    if (line === "" || line.startsWith("flags ")) continue;
    if (line === "}") break;
    let m = COMMENT_RE.exec(line);
    if (m) {
      table = { ...table, comment: m[1]! };
      continue;
    }
    m = SET_RE.exec(line);
    if (m) {
      const kind = m[1] as "set" | "map";
      const setName = m[2]!;
      const props: { type: string; flags: string[]; timeoutSeconds?: number; size?: number; comment?: string; handle?: number } = { type: "", flags: [] };
      if (m[3]) props.handle = Number(m[3]);
      for (;;) {
        const l = next();
        if (l === "}" || i >= lines.length) break;
        let pm: RegExpExecArray | null;
        if (l.startsWith("type ")) props.type = l.slice(5);
        else if (l.startsWith("typeof ")) props.type = l;
        else if (l.startsWith("flags ")) props.flags = l.slice(6).split(",");
        else if (l.startsWith("timeout ")) {
          const t = parseDuration(l.slice(8));
          if (t !== undefined) props.timeoutSeconds = t;
        } else if (l.startsWith("size ")) props.size = Number(l.slice(5));
        else if ((pm = COMMENT_RE.exec(l))) props.comment = pm[1]!;
        else if (l.startsWith("elements = {")) {
          const scan = { depth: 1, inQuote: false };
          const parts = [l.slice("elements = {".length)];
          while (!closes(parts[parts.length - 1]!, scan) && i < lines.length) parts.push(next());
          let body = parts.join(" ").trim();
          if (body.endsWith("}")) body = body.slice(0, -1);
          for (const part of splitTopLevel(body, ",")) {
            if (part.trim() !== "") elements.push(parseElement(part, kind, setName));
          }
        }
      }
      if (props.timeoutSeconds !== undefined && !props.flags.includes("timeout")) props.flags.push("timeout");
      let obj: NftSet | NftMap = { kind, name: setName, type: props.type } as NftSet | NftMap;
      const flags = canonicalFlags(props.flags);
      if (flags.length) obj = { ...obj, flags };
      if (props.timeoutSeconds !== undefined) obj = { ...obj, timeoutSeconds: props.timeoutSeconds };
      if (props.size !== undefined) obj = { ...obj, size: props.size };
      if (props.comment !== undefined) obj = { ...obj, comment: props.comment };
      if (props.handle !== undefined) obj = { ...obj, handle: props.handle };
      if (obj.kind === "set") sets.push(obj as ListedSet);
      else maps.push(obj as ListedMap);
      continue;
    }
    m = CHAIN_RE.exec(line);
    if (m) {
      let chain: Chain = { kind: "chain", name: m[1]! };
      const handle = m[2] ? Number(m[2]) : undefined;
      for (;;) {
        const l = next();
        if (l === "}" || i >= lines.length) break;
        if (l === "") continue;
        let cm: RegExpExecArray | null;
        if ((cm = RULE_RE.exec(l))) {
          let body = cm[1]!;
          let rule: Rule & { rule: string } = { kind: "rule", chain: chain.name, rule: body };
          const c = /^(.*) comment "([^"]*)"$/.exec(body);
          if (c) {
            body = c[1]!;
            rule = { kind: "rule", chain: chain.name, rule: body, comment: c[2]! };
          }
          rules.push({ ...rule, handle: Number(cm[2]) });
        } else if ((cm = COMMENT_RE.exec(l))) chain = { ...chain, comment: cm[1]! };
        else if ((cm = BASE_RE.exec(l))) {
          const prio = priorityValue(cm[3]!.trim());
          chain = { ...chain, type: cm[1] as ChainType, hook: cm[2] as ChainHook };
          if (prio !== undefined) chain = { ...chain, priority: prio };
          if (cm[4]) chain = { ...chain, policy: cm[4] as ChainPolicy };
        }
      }
      if (handle !== undefined) chain = { ...chain, handle };
      chains.push(chain);
      continue;
    }
    if (OPENS_BLOCK_RE.test(line)) skipBlock(); // flowtables, counters, quotas, ct helpers, ...
  }
  return { family, name, table, chains, rules, sets, maps, elements };
}

/** Scans one more piece of an `elements = { … }` body; true once the outer brace closes. */
function closes(piece: string, state: { depth: number; inQuote: boolean }): boolean {
  for (const c of piece) {
    if (c === '"') state.inQuote = !state.inQuote;
    else if (state.inQuote) continue;
    else if (c === "{") state.depth++;
    else if (c === "}" && --state.depth === 0) return true;
  }
  return false;
}
