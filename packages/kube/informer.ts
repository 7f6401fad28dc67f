/**
 * List/watch informer, the client-go Reflector + Informer loop on client-node 1.4's `Watch`:
 *
 * 1. LIST the collection (a consistent read) and replace the cache with the result; objects missing from the list
 *    are reported as deleted, new ones as added, changed ones (different resourceVersion) as updated. So a relist
 *    after 410 Gone loses no events: the handlers see the difference between the old cache and the server.
 *    The list is read in pages of `pageSize` (500, as client-go's reflector) with `limit` + `continue`; the pages
 *    are one snapshot at the first page's resourceVersion and are collected before the cache is compared, so the
 *    handlers see exactly what one big list would give. When a continue token expires (410 before the last page)
 *    the list starts over from scratch as one unpaginated list, as client-go's pager does (`FullListIfExpired`):
 *    paging again could expire again on a busy cluster.
 * 2. WATCH from the list's resourceVersion with `allowWatchBookmarks=true` and a server-side `timeoutSeconds`.
 *    Every event (including BOOKMARK) advances the resourceVersion; when the stream ends normally (timeout, server
 *    restart, dropped connection) the watch resumes from the last resourceVersion without a list.
 * 3. An ERROR event with Status code 410 (`Expired`, "too old resource version"), or an HTTP 410, goes back to 1.
 *    Other errors back off exponentially (`backoffInitialMs` doubling up to `backoffMaxMs`) and retry.
 * 4. Every `resyncMs` the handlers' `update(obj, obj)` is called for every cached object (client-go's resync).
 *
 * client-node's own `ListWatch`/`makeInformer` was not used: it does not request bookmarks, stops for good after a
 * list or connection error (no backoff, no retry), and has no resync and no AbortSignal.
 */
import { Watch } from "@kubernetes/client-node";
import type { KubeConfig } from "@kubernetes/client-node";
import { KubeApiError, KubeClient } from "./kube_client.ts";
import type { KubeStatus } from "./kube_client.ts";
import { ObjectCache, objectKey } from "./object_cache.ts";
import type { ReadonlyObjectCache } from "./object_cache.ts";
import { ENDPOINT_SLICES, NODES, SERVICES, resourcePath } from "./resources.ts";
import type { ResourceDescriptor } from "./resources.ts";
import { REAL_TIMERS } from "./types.ts";
import type { KubeObject, Timers, V1EndpointSlice, V1Node, V1Service } from "./types.ts";

/** Callbacks for cache changes. Exceptions thrown by a handler go to `onError` and do not stop the informer. */
export interface InformerHandlers<T> {
  /** A new object (from a list or an ADDED/MODIFIED event for an unknown key). */
  add?(object: T): void;
  /** A changed object; on resync `object === old`. */
  update?(object: T, old: T): void;
  /** A removed object: the last state the server sent, or the cached one when a relist found it gone. */
  delete?(object: T): void;
  /** The cache holds a complete list (after the first list and after each relist). */
  synced?(): void;
}

/** Options for {@linkcode Informer}. */
export interface InformerOptions {
  /** Watch one namespace only. @default undefined (all namespaces) */
  namespace?: string;
  /** Label selector, e.g. `"app=web,tier!=db"`. @default undefined */
  labelSelector?: string;
  /** Field selector, e.g. `"metadata.name=node-1"`. @default undefined */
  fieldSelector?: string;
  /** Period of resync (`update(obj, obj)` for every object); 0 disables it. @default 300000 (flannel's 5 min) */
  resyncMs?: number;
  /** First retry delay after an error. @default 200 */
  backoffInitialMs?: number;
  /** Largest retry delay. @default 30000 */
  backoffMaxMs?: number;
  /** Server-side watch timeout; the watch is then resumed. @default a random value in [300, 600) like client-go */
  watchTimeoutSeconds?: number;
  /**
   * Items per LIST request (the `limit` parameter); the pages are gathered into one snapshot before the cache is
   * updated. 0: one unpaginated list. @default 500 (client-go's reflector page size)
   */
  pageSize?: number;
  /** Timeout of each list request (each page). @default 60000 */
  listTimeoutMs?: number;
  /** Timers for backoff and resync (inject a fake clock in tests). @default REAL_TIMERS */
  timers?: Timers;
  /** Receives errors that the informer retries (list/watch failures, handler exceptions). @default undefined */
  onError?(err: unknown): void;
}

/** Counters of what the informer did; tests and metrics read them. */
export interface InformerStats {
  /** Complete LISTs (all pages) that succeeded. */
  lists: number;
  /** LIST pages received: a list of n pages counts n (pages of a list abandoned after a 410 count too). */
  pages: number;
  /** WATCH requests started. */
  watches: number;
  /** Relists caused by 410 Gone: a watch's resourceVersion or a list's continue token was too old. */
  expired: number;
  /** BOOKMARK events received. */
  bookmarks: number;
  /** Errors retried with backoff. */
  errors: number;
  /** Resync rounds run. */
  resyncs: number;
}

/** Options for {@linkcode Informer.waitForSync}. */
export interface WaitForSyncOptions {
  /** Give up after this long. @default 600000 (flannel waits 10 min) */
  timeoutMs?: number;
  /** @default undefined */
  signal?: AbortSignal;
}

/** The informer did not complete its first list in time. */
export class InformerSyncTimeoutError extends Error {
  /** Plural of the resource, e.g. `"nodes"`. */
  readonly resource: string;
  readonly timeoutMs: number;
  constructor(resource: string, timeoutMs: number) {
    super(`Cannot sync ${resource} informer: no complete list within ${timeoutMs} ms`);
    this.name = "InformerSyncTimeoutError";
    this.resource = resource;
    this.timeoutMs = timeoutMs;
  }
}

type WatchOutcome = "closed" | "expired" | "aborted";

/** A list/watch informer with a cache for one resource. Start it with `run(signal)`. */
export class Informer<T extends KubeObject> {
  readonly resource: ResourceDescriptor<T>;
  readonly stats: InformerStats = { lists: 0, pages: 0, watches: 0, expired: 0, bookmarks: 0, errors: 0, resyncs: 0 };
  readonly #cache = new ObjectCache<T>();
  readonly #client: KubeClient;
  readonly #watch: Watch;
  readonly #options: InformerOptions;
  readonly #timers: Timers;
  readonly #pageSize: number;
  readonly #handlers = new Set<InformerHandlers<T>>();
  #rv = "";
  #synced = false;
  #running = false;
  #syncWaiters: Array<() => void> = [];

  constructor(kubeConfig: KubeConfig, resource: ResourceDescriptor<T>, options: InformerOptions = {}) {
    if (options.namespace !== undefined && !resource.namespaced) {
      throw new TypeError(`Cannot create informer: ${resource.plural} are cluster-scoped but namespace "${options.namespace}" was given`);
    }
    const pageSize = options.pageSize ?? 500;
    if (!Number.isSafeInteger(pageSize) || pageSize < 0) {
      throw new RangeError(`Cannot create informer: pageSize must be a non-negative integer, got ${options.pageSize}`);
    }
    this.resource = resource;
    this.#options = options;
    this.#pageSize = pageSize;
    this.#timers = options.timers ?? REAL_TIMERS;
    this.#client = new KubeClient(kubeConfig, { requestTimeoutMs: options.listTimeoutMs ?? 60_000 });
    this.#watch = new Watch(kubeConfig);
  }

  /** The objects seen so far, by `objectKey()`. */
  get cache(): ReadonlyObjectCache<T> {
    return this.#cache;
  }

  /** The last resourceVersion seen (list, event or bookmark); `""` before the first list. */
  get resourceVersion(): string {
    return this.#rv;
  }

  /** Whether the cache has been filled by a complete list. */
  get hasSynced(): boolean {
    return this.#synced;
  }

  /** Adds handlers; returns a function that removes them. */
  on(handlers: InformerHandlers<T>): () => void {
    this.#handlers.add(handlers);
    return () => this.#handlers.delete(handlers);
  }

  /** Resolves once the cache holds a complete list. @throws {InformerSyncTimeoutError} */
  waitForSync(options: WaitForSyncOptions = {}): Promise<void> {
    if (this.#synced) return Promise.resolve();
    const timeoutMs = options.timeoutMs ?? 600_000;
    return new Promise<void>((resolve, reject) => {
      const signal = options.signal;
      const done = () => {
        this.#timers.clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = () => {
        this.#timers.clearTimeout(timer);
        this.#syncWaiters = this.#syncWaiters.filter((w) => w !== done);
        reject(signal?.reason ?? new Error("aborted"));
      };
      const timer = this.#timers.setTimeout(() => {
        this.#syncWaiters = this.#syncWaiters.filter((w) => w !== done);
        signal?.removeEventListener("abort", onAbort);
        reject(new InformerSyncTimeoutError(this.resource.plural, timeoutMs));
      }, timeoutMs);
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#syncWaiters.push(done);
    });
  }

  /** Lists and watches until `signal` aborts; resolves then. @throws {Error} when already running */
  async run(signal: AbortSignal): Promise<void> {
    if (this.#running) throw new Error(`Cannot run ${this.resource.plural} informer: it is already running`);
    this.#running = true;
    const resyncMs = this.#options.resyncMs ?? 300_000;
    let resyncTimer: unknown;
    const scheduleResync = () => {
      resyncTimer = this.#timers.setTimeout(() => {
        if (signal.aborted) return;
        if (this.#synced) this.#resync();
        scheduleResync();
      }, resyncMs);
    };
    if (resyncMs > 0) scheduleResync();
    let needList = true;
    let attempt = 0;
    try {
      while (!signal.aborted) {
        try {
          if (needList) {
            await this.#list(signal);
            needList = false;
            attempt = 0;
          }
          const started = Date.now();
          const before = this.stats.bookmarks + this.#eventsSeen;
          const outcome = await this.#watchOnce(signal);
          if (outcome === "aborted") break;
          if (outcome === "expired") {
            this.stats.expired += 1;
            needList = true;
            continue;
          }
          // A stream that ends at once without any event would spin: treat it like an error.
          if (this.stats.bookmarks + this.#eventsSeen === before && Date.now() - started < 1000) {
            await this.#sleep(this.#backoff(attempt++), signal);
          } else {
            attempt = 0;
          }
        } catch (err) {
          if (signal.aborted) break;
          if (err instanceof KubeApiError && err.statusCode === 410) {
            this.stats.expired += 1;
            needList = true;
            continue;
          }
          this.stats.errors += 1;
          this.#report(err);
          await this.#sleep(this.#backoff(attempt++), signal);
        }
      }
    } finally {
      if (resyncTimer !== undefined) this.#timers.clearTimeout(resyncTimer);
      this.#running = false;
    }
  }

  #eventsSeen = 0;

  #backoff(attempt: number): number {
    const initial = this.#options.backoffInitialMs ?? 200;
    const max = this.#options.backoffMaxMs ?? 30_000;
    return Math.min(max, initial * 2 ** Math.min(attempt, 30));
  }

  #sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const onAbort = () => {
        this.#timers.clearTimeout(timer);
        resolve();
      };
      const timer = this.#timers.setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  #report(err: unknown): void {
    try {
      this.#options.onError?.(err);
    } catch {
      // an error reporter that throws must not stop the informer
    }
  }

  #emit(fn: (h: InformerHandlers<T>) => void): void {
    for (const h of [...this.#handlers]) {
      try {
        fn(h);
      } catch (err) {
        this.#report(err);
      }
    }
  }

  /** Reads every page of the list into one snapshot (see {@linkcode KubeClient.listAll}). */
  #listAll(signal: AbortSignal): Promise<{ items: T[]; resourceVersion: string }> {
    const o = this.#options;
    return this.#client.listAll(this.resource, {
      ...(o.namespace !== undefined ? { namespace: o.namespace } : {}),
      ...(o.labelSelector !== undefined ? { labelSelector: o.labelSelector } : {}),
      ...(o.fieldSelector !== undefined ? { fieldSelector: o.fieldSelector } : {}),
      pageSize: this.#pageSize,
      onPage: () => void (this.stats.pages += 1),
      onExpired: () => void (this.stats.expired += 1),
      signal,
    });
  }

  async #list(signal: AbortSignal): Promise<void> {
    const list = await this.#listAll(signal);
    this.stats.lists += 1;
    const fresh = new Map<string, T>();
    for (const item of list.items) fresh.set(objectKey(item), item);
    for (const key of this.#cache.keys()) {
      if (fresh.has(key)) continue;
      const gone = this.#cache.delete(key);
      if (gone) this.#emit((h) => h.delete?.(gone));
    }
    for (const item of fresh.values()) {
      const old = this.#cache.set(item);
      if (!old) this.#emit((h) => h.add?.(item));
      else if (old.metadata?.resourceVersion !== item.metadata?.resourceVersion) this.#emit((h) => h.update?.(item, old));
    }
    this.#rv = list.resourceVersion;
    this.#synced = true;
    const waiters = this.#syncWaiters;
    this.#syncWaiters = [];
    for (const w of waiters) w();
    this.#emit((h) => h.synced?.());
  }

  #resync(): void {
    this.stats.resyncs += 1;
    for (const obj of this.#cache.list()) this.#emit((h) => h.update?.(obj, obj));
  }

  #onEvent(type: string, obj: T): void {
    switch (type) {
      case "ADDED":
      case "MODIFIED": {
        const full = { ...obj, apiVersion: obj.apiVersion ?? this.resource.apiVersion, kind: obj.kind ?? this.resource.kind };
        const old = this.#cache.set(full);
        if (old) this.#emit((h) => h.update?.(full, old));
        else this.#emit((h) => h.add?.(full));
        break;
      }
      case "DELETED": {
        const old = this.#cache.delete(objectKey(obj));
        if (old) this.#emit((h) => h.delete?.(obj));
        break;
      }
      case "BOOKMARK":
        this.stats.bookmarks += 1;
        break;
      default:
        return;
    }
    if (type !== "BOOKMARK") this.#eventsSeen += 1;
    const rv = obj.metadata?.resourceVersion;
    if (rv) this.#rv = rv;
  }

  #watchOnce(signal: AbortSignal): Promise<WatchOutcome> {
    const o = this.#options;
    const path = resourcePath(this.resource, o.namespace !== undefined ? { namespace: o.namespace } : {});
    const timeoutSeconds = o.watchTimeoutSeconds ?? Math.floor(300 + Math.random() * 300);
    const query: Record<string, string | number | boolean> = {
      resourceVersion: this.#rv,
      allowWatchBookmarks: true,
      timeoutSeconds,
    };
    if (o.labelSelector !== undefined) query.labelSelector = o.labelSelector;
    if (o.fieldSelector !== undefined) query.fieldSelector = o.fieldSelector;
    this.stats.watches += 1;
    return new Promise<WatchOutcome>((resolve, reject) => {
      let finished = false;
      let expired = false;
      let failure: Error | undefined;
      let controller: AbortController | undefined;
      const finish = (fn: () => void) => {
        if (finished) return;
        finished = true;
        signal.removeEventListener("abort", onAbort);
        controller?.abort();
        fn();
      };
      const onAbort = () => finish(() => resolve("aborted"));
      signal.addEventListener("abort", onAbort, { once: true });
      const onEvent = (type: string, obj: unknown) => {
        if (finished) return;
        if (type === "ERROR") {
          const status = obj as KubeStatus;
          if (status?.code === 410) {
            expired = true;
          } else {
            failure = new KubeApiError(`WATCH ${path}: ${status?.code ?? "?"} ${status?.message ?? "error event"}`, {
              statusCode: status?.code ?? 0,
              path,
              status,
            });
          }
          finish(() => (expired ? resolve("expired") : reject(failure)));
          return;
        }
        this.#onEvent(type, obj as T);
      };
      const onDone = (err: unknown) => {
        if (finished) return;
        if (err) {
          const e = err as { statusCode?: number; message?: string };
          const wrapped = typeof e.statusCode === "number"
            ? new KubeApiError(`WATCH ${path}: ${e.statusCode} ${e.message ?? ""}`.trim(), { statusCode: e.statusCode, path }, { cause: err })
            : err;
          finish(() => reject(wrapped));
        } else {
          finish(() => resolve("closed"));
        }
      };
      this.#watch.watch(path, query, onEvent, onDone).then(
        (c) => {
          controller = c;
          if (finished) c.abort();
        },
        (err) => onDone(err ?? new Error("watch failed")),
      );
    });
  }
}

/** A Node informer (`/api/v1/nodes`). */
export function createNodeInformer(kubeConfig: KubeConfig, options: InformerOptions = {}): Informer<V1Node> {
  return new Informer(kubeConfig, NODES, options);
}

/** A Service informer (`/api/v1/services`, or one namespace). */
export function createServiceInformer(kubeConfig: KubeConfig, options: InformerOptions = {}): Informer<V1Service> {
  return new Informer(kubeConfig, SERVICES, options);
}

/** An EndpointSlice informer (`/apis/discovery.k8s.io/v1/endpointslices`, or one namespace). */
export function createEndpointSliceInformer(kubeConfig: KubeConfig, options: InformerOptions = {}): Informer<V1EndpointSlice> {
  return new Informer(kubeConfig, ENDPOINT_SLICES, options);
}
