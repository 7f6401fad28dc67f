import type { Backend, BackendDeps, BackendFactory } from "./types.ts";

/** Thrown by {@linkcode BackendRegistry.create} for a `Backend.Type` that no factory serves. */
export class UnknownBackendError extends Error {
  /** The requested type as given in net-conf.json. */
  readonly type: string;
  /** The types the registry knows, lower-cased and sorted. */
  readonly known: readonly string[];
  constructor(type: string, known: readonly string[]) {
    super(`Cannot create backend: unknown backend type "${type}" (known: ${known.join(", ") || "none"})`);
    this.name = "UnknownBackendError";
    this.type = type;
    this.known = known;
  }
}

/**
 * An explicit map from `Backend.Type` (compared lower-cased, as flannel does) to backend factories.
 * Nothing registers itself by import side effect: the agent builds the registry from its built-in
 * backends plus any third-party backend packages it was told to load.
 *
 * @example
 * ```ts
 * const registry = new BackendRegistry({ vxlan: createVxlanBackend, "host-gw": createHostGwBackend });
 * const backend = registry.create(netConf.backendType, { iproute, externalInterface });
 * ```
 */
export class BackendRegistry {
  readonly #factories = new Map<string, BackendFactory>();

  constructor(factories: Readonly<Record<string, BackendFactory>> = {}) {
    for (const [type, factory] of Object.entries(factories)) this.register(type, factory);
  }

  /** Adds a factory; registering the same type twice is a TypeError (a second package must not silently win). */
  register(type: string, factory: BackendFactory): this {
    const key = normalizeType(type);
    if (typeof factory !== "function") throw new TypeError(`backend "${key}": factory must be a function`);
    if (this.#factories.has(key)) throw new TypeError(`backend "${key}" is already registered`);
    this.#factories.set(key, factory);
    return this;
  }

  /** Whether a factory serves `type` (case-insensitive). */
  has(type: string): boolean {
    return this.#factories.has(type.trim().toLowerCase());
  }

  /** The registered types, lower-cased and sorted. */
  types(): string[] {
    return [...this.#factories.keys()].sort();
  }

  /**
   * Builds the backend for `type`; throws {@linkcode UnknownBackendError} when none is registered,
   * and a TypeError when the factory returns a backend of another type.
   */
  create(type: string, deps: BackendDeps): Backend {
    const key = type.trim().toLowerCase();
    const factory = this.#factories.get(key);
    if (!factory) throw new UnknownBackendError(type, this.types());
    const backend = factory(deps);
    if (backend.type.toLowerCase() !== key) {
      throw new TypeError(`backend "${key}": factory returned a backend of type "${backend.type}"`);
    }
    return backend;
  }
}

function normalizeType(type: string): string {
  const key = type.trim().toLowerCase();
  if (key === "") throw new TypeError("backend type must not be empty");
  return key;
}
