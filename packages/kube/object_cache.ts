import type { KubeObject } from "./types.ts";

/**
 * The cache key of an object, as client-go's `MetaNamespaceKeyFunc`: `"<namespace>/<name>"` for namespaced
 * objects and `"<name>"` for cluster-scoped ones.
 * @throws {TypeError} when the object has no `metadata.name`
 */
export function objectKey(object: KubeObject): string {
  const name = object.metadata?.name;
  if (!name) throw new TypeError("Cannot key object: metadata.name is missing");
  const ns = object.metadata?.namespace;
  return ns ? `${ns}/${name}` : name;
}

/** Read access to an informer's cache. */
export interface ReadonlyObjectCache<T extends KubeObject> {
  /** The object with this key (`"ns/name"` or `"name"`), or undefined. */
  get(key: string): T | undefined;
  /** All objects, or only those in `namespace`. */
  list(namespace?: string): T[];
  /** All keys. */
  keys(): string[];
  /** Number of objects. */
  readonly size: number;
}

/** A map of Kubernetes objects by `objectKey()`; the store behind an informer. */
export class ObjectCache<T extends KubeObject> implements ReadonlyObjectCache<T> {
  #items = new Map<string, T>();

  get size(): number {
    return this.#items.size;
  }

  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  list(namespace?: string): T[] {
    const all = [...this.#items.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  keys(): string[] {
    return [...this.#items.keys()];
  }

  /** Stores the object and returns the one it replaced, if any. */
  set(object: T): T | undefined {
    const key = objectKey(object);
    const old = this.#items.get(key);
    this.#items.set(key, object);
    return old;
  }

  /** Removes the object with this key and returns it, if it was there. */
  delete(key: string): T | undefined {
    const old = this.#items.get(key);
    this.#items.delete(key);
    return old;
  }

  clear(): void {
    this.#items.clear();
  }
}
