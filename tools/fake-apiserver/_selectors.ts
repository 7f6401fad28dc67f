// Label and field selectors, the subset of k8s.io/apimachinery/pkg/labels and /fields that clients send.

type Req = { key: string; op: "=" | "!=" | "in" | "notin" | "exists" | "!exists"; values: string[] };

export class SelectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SelectorError";
  }
}

/** Parses a label selector: `a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`, `a notin (x)`, comma-separated. */
export function parseLabelSelector(s: string): (labels: Record<string, string> | undefined) => boolean {
  const reqs: Req[] = [];
  for (const part of splitTopLevel(s)) {
    const t = part.trim();
    if (!t) continue;
    let m: RegExpMatchArray | null;
    if ((m = t.match(/^([A-Za-z0-9._\/-]+)\s+(in|notin)\s+\(([^)]*)\)$/))) {
      reqs.push({ key: m[1]!, op: m[2] as "in" | "notin", values: m[3]!.split(",").map((v) => v.trim()) });
    } else if ((m = t.match(/^([A-Za-z0-9._\/-]+)\s*(==|=|!=)\s*([A-Za-z0-9._-]*)$/))) {
      reqs.push({ key: m[1]!, op: m[2] === "!=" ? "!=" : "=", values: [m[3]!] });
    } else if ((m = t.match(/^!([A-Za-z0-9._\/-]+)$/))) {
      reqs.push({ key: m[1]!, op: "!exists", values: [] });
    } else if ((m = t.match(/^([A-Za-z0-9._\/-]+)$/))) {
      reqs.push({ key: m[1]!, op: "exists", values: [] });
    } else {
      throw new SelectorError(`unable to parse requirement: ${t}`);
    }
  }
  return (labels) => reqs.every((r) => matches(r, labels?.[r.key]));
}

/** Parses a field selector: `path=value`, `path==value`, `path!=value`, comma-separated. */
export function parseFieldSelector(s: string): (fields: (path: string) => string | undefined) => boolean {
  const reqs: Req[] = [];
  for (const part of s.split(",")) {
    const t = part.trim();
    if (!t) continue;
    const m = t.match(/^([A-Za-z0-9._-]+)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw new SelectorError(`invalid selector: '${s}'; can't understand '${t}'`);
    reqs.push({ key: m[1]!, op: m[2] === "!=" ? "!=" : "=", values: [m[3]!] });
  }
  return (fields) => reqs.every((r) => matches(r, fields(r.key) ?? ""));
}

function matches(r: Req, v: string | undefined): boolean {
  switch (r.op) {
    case "=":
      return v === r.values[0];
    case "!=":
      return v !== r.values[0];
    case "in":
      return v !== undefined && r.values.includes(v);
    case "notin":
      return v === undefined || !r.values.includes(v);
    case "exists":
      return v !== undefined;
    case "!exists":
      return v === undefined;
  }
}

function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of s) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else {
      cur += ch;
    }
  }
  out.push(cur);
  return out;
}
