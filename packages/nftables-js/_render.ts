// Rendering of validated operations as an `nft -f` script, with a line -> operation index.
import type { Element, Family, Operation, Verb } from "./types.ts";
import { priorityValue } from "./_validate.ts";

/** A rendered script plus, for each line (0-based), the index of the operation it came from. */
export interface RenderedScript {
  readonly text: string;
  /** `lineOps[n]` is the operation index of line n + 1 (nft counts lines from 1). */
  readonly lineOps: readonly number[];
}

/** Options for {@linkcode renderOperations}. */
export interface RenderOperationsOptions {
  /** First operation to render; @default 0 */
  start?: number;
  /** One past the last operation to render; @default ops.length */
  end?: number;
}

/**
 * Renders operations (already validated, e.g. from a {@linkcode Transaction}) as an `nft -f` script,
 * keeping for each line the index of its operation so nft's `LINE:COL` errors can be traced back.
 * Consecutive element operations with the same verb on the same set or map become one command
 * with one element per line.
 */
export function renderOperations(family: Family, table: string, ops: readonly Operation[], options: RenderOperationsOptions = {}): RenderedScript {
  const end = options.end ?? ops.length;
  // String concatenation (V8 ropes) is faster here than collecting lines and joining them.
  let text = "";
  const lineOps: number[] = [];
  for (let i = options.start ?? 0; i < end; i++) {
    const op = ops[i]!;
    const obj = op.object;
    if (obj.kind === "element") {
      const target = obj.set ?? obj.map;
      let j = i + 1;
      while (j < end) {
        const next = ops[j]!;
        if (next.verb !== op.verb || next.object.kind !== "element" || (next.object.set ?? next.object.map) !== target) break;
        j++;
      }
      const head = `${op.verb} element ${family} ${table} ${target} {`;
      if (j === i + 1) {
        text += `${head} ${renderElement(obj, op.verb)} }\n`;
        lineOps.push(i);
      } else {
        text += head + "\n";
        lineOps.push(i);
        for (let k = i; k < j; k++) {
          text += "\t" + renderElement(ops[k]!.object as Element, op.verb) + (k < j - 1 ? ",\n" : "\n");
          lineOps.push(k);
        }
        text += "}\n";
        lineOps.push(j - 1);
      }
      i = j - 1;
      continue;
    }
    text += renderOne(family, table, op) + "\n";
    lineOps.push(i);
  }
  return { text, lineOps };
}

/** One operation on one line (elements included), e.g. to name a failing operation in an error. */
export function renderOperation(family: Family, table: string, op: Operation): string {
  if (op.object.kind === "element") {
    return `${op.verb} element ${family} ${table} ${op.object.set ?? op.object.map} { ${renderElement(op.object, op.verb)} }`;
  }
  return renderOne(family, table, op);
}

const comment = (c: string | undefined) => (c === undefined ? "" : ` comment "${c}"`);

function joinParts(parts: readonly string[]): string {
  if (parts.length === 1) return parts[0]!;
  let s = parts[0]!;
  for (let i = 1; i < parts.length; i++) s += " . " + parts[i]!;
  return s;
}

function renderElement(el: Element, verb: Verb): string {
  let s = joinParts(el.key);
  if (verb === "delete") return s;
  if (el.timeoutSeconds !== undefined) s += ` timeout ${el.timeoutSeconds}s`;
  s += comment(el.comment);
  if (el.value !== undefined) s += " : " + joinParts(el.value);
  return s;
}

function renderOne(family: Family, table: string, op: Operation): string {
  const { verb, object: obj } = op;
  const head = `${verb} ${obj.kind} ${family} ${table}`;
  const defining = verb === "add" || verb === "create";
  switch (obj.kind) {
    case "table":
      return defining && obj.comment !== undefined ? `${head} { comment "${obj.comment}" ; }` : head;
    case "chain": {
      if (!defining) return `${head} ${obj.name}`;
      const parts: string[] = [];
      if (obj.type !== undefined) parts.push(`type ${obj.type} hook ${obj.hook} priority ${priorityValue(obj.priority)} ;`);
      if (obj.policy !== undefined) parts.push(`policy ${obj.policy} ;`);
      if (obj.comment !== undefined) parts.push(`comment "${obj.comment}" ;`);
      return parts.length ? `${head} ${obj.name} { ${parts.join(" ")} }` : `${head} ${obj.name}`;
    }
    case "rule": {
      let s = `${head} ${obj.chain}`;
      if (verb === "replace" || verb === "delete") s += ` handle ${obj.handle}`;
      else if (obj.index !== undefined) s += ` index ${obj.index}`;
      else if (obj.handle !== undefined) s += ` handle ${obj.handle}`;
      if (verb === "delete") return s;
      return `${s} ${obj.rule}${comment(obj.comment)}`;
    }
    case "set":
    case "map": {
      if (!defining) return `${head} ${obj.name}`;
      let body = `type ${obj.type} ;`;
      if (obj.flags !== undefined && obj.flags.length > 0) body += ` flags ${obj.flags.join(",")} ;`;
      if (obj.timeoutSeconds !== undefined) body += ` timeout ${obj.timeoutSeconds}s ;`;
      if (obj.size !== undefined) body += ` size ${obj.size} ;`;
      if (obj.comment !== undefined) body += ` comment "${obj.comment}" ;`;
      return `${head} ${obj.name} { ${body} }`;
    }
    default:
      throw new TypeError(`renderOperations: cannot render ${String((obj as { kind: unknown }).kind)}`);
  }
}
