// Patch formats the API server accepts: JSON merge patch (RFC 7386), a strategic merge patch subset
// (lists with a merge key merge by that key; `$patch: delete|replace`; null deletes), and JSON patch (RFC 6902).

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

export function isPlainObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** RFC 7386. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return clone(patch);
  const out: JsonObject = isPlainObject(target) ? { ...(clone(target) as JsonObject) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v) as Json;
  }
  return out;
}

/** Lists that merge by a key, as the Kubernetes types declare with patchStrategy=merge,patchMergeKey=... */
const MERGE_KEYS: Record<string, string> = {
  "status.conditions": "type",
  "status.addresses": "type",
  "spec.ports": "port",
  "spec.containers": "name",
  "spec.initContainers": "name",
  "metadata.ownerReferences": "uid",
};
/** Lists of scalars that merge as sets. */
const SET_LISTS = new Set(["metadata.finalizers"]);

export function strategicMergePatch(target: unknown, patch: unknown, path = ""): unknown {
  if (!isPlainObject(patch)) return clone(patch);
  if (patch.$patch === "replace") {
    const rest = { ...patch };
    delete rest.$patch;
    return clone(rest);
  }
  const out: JsonObject = isPlainObject(target) ? { ...(clone(target) as JsonObject) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith("$")) continue; // $setElementOrder/..., $retainKeys, $deleteFromPrimitiveList/...: ordering hints
    const childPath = path ? `${path}.${k}` : k;
    if (v === null) {
      delete out[k];
    } else if (Array.isArray(v) && MERGE_KEYS[childPath] !== undefined) {
      out[k] = mergeKeyedList(out[k], v, MERGE_KEYS[childPath]!, childPath) as Json;
    } else if (Array.isArray(v) && SET_LISTS.has(childPath)) {
      const existing = Array.isArray(out[k]) ? (out[k] as Json[]) : [];
      out[k] = [...existing, ...v.filter((x) => !existing.includes(x))];
    } else if (isPlainObject(v)) {
      if (v.$patch === "delete") delete out[k];
      else out[k] = strategicMergePatch(out[k], v, childPath) as Json;
    } else {
      out[k] = clone(v);
    }
  }
  return out;
}

function mergeKeyedList(target: unknown, patch: Json[], key: string, path: string): Json[] {
  const out: Json[] = Array.isArray(target) ? clone(target) : [];
  for (const item of patch) {
    if (!isPlainObject(item)) {
      out.push(clone(item));
      continue;
    }
    const idx = out.findIndex((x) => isPlainObject(x) && x[key] === item[key]);
    if (item.$patch === "delete") {
      if (idx >= 0) out.splice(idx, 1);
    } else if (idx >= 0) {
      out[idx] = strategicMergePatch(out[idx], item, path) as Json;
    } else {
      const rest = { ...item };
      delete rest.$patch;
      out.push(clone(rest));
    }
  }
  return out;
}

export class PatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PatchError";
  }
}

/** RFC 6902 (add, remove, replace, test, copy, move). */
export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new PatchError("json patch must be an array of operations");
  let doc = clone(target) as Json;
  for (const op of ops as Array<{ op?: string; path?: string; value?: Json; from?: string }>) {
    const path = parsePointer(op.path ?? "");
    switch (op.op) {
      case "add":
        doc = setAt(doc, path, clone(op.value as Json), "add");
        break;
      case "replace":
        getAt(doc, path);
        doc = setAt(doc, path, clone(op.value as Json), "replace");
        break;
      case "remove":
        getAt(doc, path);
        doc = removeAt(doc, path);
        break;
      case "test":
        if (JSON.stringify(getAt(doc, path)) !== JSON.stringify(op.value)) {
          throw new PatchError(`testing value ${op.path} failed`);
        }
        break;
      case "copy":
      case "move": {
        const from = parsePointer(op.from ?? "");
        const v = clone(getAt(doc, from));
        if (op.op === "move") doc = removeAt(doc, from);
        doc = setAt(doc, path, v, "add");
        break;
      }
      default:
        throw new PatchError(`Unexpected kind: ${String(op.op)}`);
    }
  }
  return doc;
}

function parsePointer(p: string): string[] {
  if (p === "") return [];
  if (!p.startsWith("/")) throw new PatchError(`invalid JSON pointer ${p}`);
  return p.slice(1).split("/").map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function getAt(doc: Json, path: string[]): Json {
  let cur: Json = doc;
  for (const seg of path) {
    if (Array.isArray(cur)) cur = cur[Number(seg)] as Json;
    else if (isPlainObject(cur)) cur = cur[seg] as Json;
    else cur = undefined as unknown as Json;
    if (cur === undefined) throw new PatchError(`missing path /${path.join("/")}`);
  }
  return cur;
}

function setAt(doc: Json, path: string[], value: Json, mode: "add" | "replace"): Json {
  if (path.length === 0) return value;
  const parent = getAt(doc, path.slice(0, -1));
  const last = path[path.length - 1]!;
  if (Array.isArray(parent)) {
    const i = last === "-" ? parent.length : Number(last);
    if (!Number.isInteger(i) || i < 0 || i > parent.length) throw new PatchError(`bad array index ${last}`);
    if (mode === "add") parent.splice(i, 0, value);
    else parent[i] = value;
  } else if (isPlainObject(parent)) {
    parent[last] = value;
  } else {
    throw new PatchError(`cannot set /${path.join("/")}`);
  }
  return doc;
}

function removeAt(doc: Json, path: string[]): Json {
  const parent = getAt(doc, path.slice(0, -1));
  const last = path[path.length - 1]!;
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else if (isPlainObject(parent)) delete parent[last];
  return doc;
}
