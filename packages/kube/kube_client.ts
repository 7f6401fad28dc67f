import * as http from "node:http";
import * as https from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";
import { resourcePath } from "./resources.ts";
import type { ResourceDescriptor } from "./resources.ts";
import type { KubeObject, V1Node, V1Pod } from "./types.ts";
import { NODES } from "./resources.ts";

/** A Kubernetes `Status` object, as the API server sends with errors. */
export interface KubeStatus {
  kind?: string;
  apiVersion?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; kind?: string; group?: string };
}

/** The API server answered with an error status. Carries the HTTP status code, the Status `reason` and the path. */
export class KubeApiError extends Error {
  /** HTTP status code (404, 409, 410, ...), or 0 when no response arrived. */
  readonly statusCode: number;
  /** Status `reason` (`NotFound`, `Conflict`, `AlreadyExists`, `Expired`, `Gone`, ...) when the server sent one. */
  readonly reason: string | undefined;
  /** Request path. */
  readonly path: string;
  /** The Status object, when the body was one. */
  readonly status: KubeStatus | undefined;
  constructor(message: string, init: { statusCode: number; path: string; status?: KubeStatus }, options?: ErrorOptions) {
    super(message, options);
    this.name = "KubeApiError";
    this.statusCode = init.statusCode;
    this.path = init.path;
    this.status = init.status;
    this.reason = init.status?.reason;
  }
}

/** Whether `err` is a 404 from the API server. */
export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 404;
}
/** Whether `err` is a 409 (update conflict or already exists). */
export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 409;
}
/** Whether `err` is a 410 Gone (resourceVersion too old). */
export function isGone(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 410;
}

/** Patch formats: strategic merge (the default, as kubectl), JSON merge (RFC 7386) and JSON patch (RFC 6902). */
export type PatchType = "strategic" | "merge" | "json";

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  strategic: "application/strategic-merge-patch+json",
  merge: "application/merge-patch+json",
  json: "application/json-patch+json",
};

/** Options for {@linkcode KubeClient.request}. */
export interface KubeRequestOptions {
  /** JSON body. @default undefined */
  body?: unknown;
  /** Content-Type of the body. @default "application/json" */
  contentType?: string;
  /** Query parameters (undefined values are left out). @default {} */
  query?: Record<string, string | number | boolean | undefined>;
  /** Abort the request. @default undefined */
  signal?: AbortSignal;
  /** Per-request timeout. @default the client's requestTimeoutMs */
  timeoutMs?: number;
}

/** Options for {@linkcode KubeClient}. */
export interface KubeClientOptions {
  /** Timeout of each non-watch request. @default 30000 */
  requestTimeoutMs?: number;
}

/** Options for {@linkcode KubeClient.list}. */
export interface KubeListOptions {
  /** @default undefined (all namespaces) */
  namespace?: string;
  /** @default undefined */
  labelSelector?: string;
  /** @default undefined */
  fieldSelector?: string;
  /** @default undefined (a consistent read) */
  resourceVersion?: string;
  /**
   * At most this many items (the `limit` query parameter, client-node's `limit`); when more remain the answer's
   * `continue` is set. 0 or undefined: everything in one answer. @default undefined
   */
  limit?: number;
  /**
   * The `continue` token of the previous page (client-node's `_continue`), with otherwise the same options; the
   * server answers 410 Gone (`isGone`) once the token's snapshot is too old. @default undefined
   */
  continue?: string;
  /** @default undefined */
  signal?: AbortSignal;
}

/** Options for {@linkcode KubeClient.listAll}. */
export interface KubeListAllOptions extends Omit<KubeListOptions, "limit" | "continue" | "resourceVersion"> {
  /** Items per page (`limit`); 0 = one unpaginated list. @default 500 (client-go's page size) */
  pageSize?: number;
  /** Called for every page received (for statistics). @default none */
  onPage?: () => void;
  /** Called when a continue token expired and the list starts again unpaginated. @default none */
  onExpired?: () => void;
}

/** The result of {@linkcode KubeClient.list}: the objects and the list's resourceVersion. */
export interface KubeList<T> {
  items: T[];
  /** The resourceVersion of the list's snapshot (the same on every page of a paginated list). */
  resourceVersion: string;
  /** Token for the next page (`metadata.continue`); `""` when this was the last page. */
  continue: string;
  /** How many items remain after this page (`metadata.remainingItemCount`), when the server knows. */
  remainingItemCount?: number;
}

/** Options for {@linkcode KubeClient.patch}. */
export interface KubePatchOptions {
  /** @default "strategic" */
  type?: PatchType;
  /** e.g. `"status"`. @default undefined */
  subresource?: string;
  /** @default undefined */
  namespace?: string;
  /** @default undefined */
  signal?: AbortSignal;
}

/** Options for {@linkcode KubeClient.get}. */
export interface KubeGetOptions {
  /** @default undefined */
  namespace?: string;
  /** @default undefined */
  signal?: AbortSignal;
}

/**
 * A small JSON client over a `KubeConfig` (its TLS, token and exec/auth providers). Objects come back as the API
 * server's JSON, the same shape informers hold. Non-2xx answers throw {@linkcode KubeApiError}.
 */
export class KubeClient {
  readonly kubeConfig: KubeConfig;
  readonly #timeoutMs: number;

  constructor(kubeConfig: KubeConfig, options: KubeClientOptions = {}) {
    this.kubeConfig = kubeConfig;
    this.#timeoutMs = options.requestTimeoutMs ?? 30_000;
  }

  /** Sends one request to `path` (e.g. `/api/v1/nodes`) and parses the JSON answer. */
  async request<T = unknown>(method: string, path: string, options: KubeRequestOptions = {}): Promise<T> {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new KubeConfigMissing();
    const url = new URL(cluster.server.replace(/\/$/, "") + path);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const opts: https.RequestOptions = { method, headers: { Accept: "application/json" } };
    await this.kubeConfig.applyToHTTPSOptions(opts);
    const body = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const headers = opts.headers as http.OutgoingHttpHeaders;
    if (body) {
      headers["Content-Type"] = options.contentType ?? "application/json";
      headers["Content-Length"] = body.length;
    }
    const mod = url.protocol === "https:" ? https : http;
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    return new Promise<T>((resolve, reject) => {
      const req = mod.request(url, { ...opts, signal: options.signal, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const code = res.statusCode ?? 0;
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch (cause) {
            if (code >= 200 && code < 300) {
              reject(new KubeApiError(`${method} ${path}: response is not JSON`, { statusCode: code, path }, { cause }));
              return;
            }
          }
          if (code >= 200 && code < 300) {
            resolve(parsed as T);
            return;
          }
          const status = isStatus(parsed) ? parsed : undefined;
          const msg = status?.message ?? (text.slice(0, 200) || http.STATUS_CODES[code] || "no response");
          reject(new KubeApiError(`${method} ${path}: ${code} ${msg}`, { statusCode: code, path, ...(status ? { status } : {}) }));
        });
      });
      req.on("timeout", () => req.destroy(new Error(`${method} ${path}: timed out after ${timeoutMs} ms`)));
      req.on("error", (cause) => {
        if (cause instanceof KubeApiError) reject(cause);
        else reject(new KubeApiError(`${method} ${path}: ${cause.message}`, { statusCode: 0, path }, { cause }));
      });
      req.end(body);
    });
  }

  /** GETs one object. @throws {KubeApiError} 404 when it does not exist (see `isNotFound`) */
  get<T extends KubeObject>(resource: ResourceDescriptor<T>, name: string, options: KubeGetOptions = {}): Promise<T> {
    const path = resourcePath(resource, { name, ...(options.namespace !== undefined ? { namespace: options.namespace } : {}) });
    return this.request<T>("GET", path, options.signal ? { signal: options.signal } : {});
  }

  /**
   * Lists a collection (or one page of it, with `limit`/`continue`) and returns its items, resourceVersion and
   * continue token.
   */
  async list<T extends KubeObject>(resource: ResourceDescriptor<T>, options: KubeListOptions = {}): Promise<KubeList<T>> {
    if (options.limit !== undefined && !(Number.isSafeInteger(options.limit) && options.limit >= 0)) {
      throw new RangeError(`Cannot list ${resource.plural}: limit must be a non-negative integer, got ${options.limit}`);
    }
    const path = resourcePath(resource, options.namespace !== undefined ? { namespace: options.namespace } : {});
    type ListBody = { items?: T[] | null; metadata?: { resourceVersion?: string; continue?: string; remainingItemCount?: number } };
    const list = await this.request<ListBody>("GET", path, {
      query: {
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        resourceVersion: options.resourceVersion,
        limit: options.limit !== undefined && options.limit > 0 ? options.limit : undefined,
        continue: options.continue !== undefined && options.continue !== "" ? options.continue : undefined,
      },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const items = (list?.items ?? []).map((o) => ({ ...o, apiVersion: o.apiVersion ?? resource.apiVersion, kind: o.kind ?? resource.kind }));
    const remaining = list?.metadata?.remainingItemCount;
    return {
      items,
      resourceVersion: list?.metadata?.resourceVersion ?? "",
      continue: list?.metadata?.continue ?? "",
      ...(typeof remaining === "number" ? { remainingItemCount: remaining } : {}),
    };
  }

  /**
   * Lists a whole collection page by page (`pageSize` items each, as client-go's pager) into one snapshot: every
   * page is read at the first page's resourceVersion. When a continue token expires (410 Gone before the last page)
   * the pages read so far are dropped and the collection is read again in one unpaginated list, as client-go does.
   * @throws {RangeError} when `pageSize` is not a non-negative integer
   */
  async listAll<T extends KubeObject>(resource: ResourceDescriptor<T>, options: KubeListAllOptions = {}): Promise<{ items: T[]; resourceVersion: string }> {
    const { pageSize = 500, onPage, onExpired, ...base } = options;
    if (!Number.isSafeInteger(pageSize) || pageSize < 0) {
      throw new RangeError(`Cannot list ${resource.plural}: pageSize must be a non-negative integer, got ${pageSize}`);
    }
    let limit = pageSize;
    let items: T[] = [];
    let resourceVersion = "";
    let token = "";
    for (;;) {
      let page: KubeList<T>;
      try {
        page = await this.list(resource, { ...base, ...(limit > 0 ? { limit } : {}), ...(token !== "" ? { continue: token } : {}) });
      } catch (err) {
        if (token === "" || !isGone(err)) throw err;
        onExpired?.();
        items = [];
        resourceVersion = "";
        token = "";
        limit = 0;
        continue;
      }
      onPage?.();
      if (resourceVersion === "") resourceVersion = page.resourceVersion;
      for (const item of page.items) items.push(item);
      if (page.continue === "") return { items, resourceVersion };
      if (page.continue === token) {
        throw new KubeApiError(`LIST ${resource.plural}: the server sent the same continue token twice`, {
          statusCode: 0,
          path: resourcePath(resource, base.namespace !== undefined ? { namespace: base.namespace } : {}),
        });
      }
      token = page.continue;
    }
  }

  /** PATCHes one object (or its subresource) and returns the result. */
  patch<T extends KubeObject>(resource: ResourceDescriptor<T>, name: string, patch: unknown, options: KubePatchOptions = {}): Promise<T> {
    const path = resourcePath(resource, {
      name,
      ...(options.namespace !== undefined ? { namespace: options.namespace } : {}),
      ...(options.subresource !== undefined ? { subresource: options.subresource } : {}),
    });
    return this.request<T>("PATCH", path, {
      body: patch,
      contentType: PATCH_CONTENT_TYPES[options.type ?? "strategic"],
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /** GET `/api/v1/nodes/<name>`. */
  getNode(name: string, options: { signal?: AbortSignal } = {}): Promise<V1Node> {
    return this.get(NODES, name, options);
  }

  /** GET `/api/v1/namespaces/<namespace>/pods/<name>`. */
  getPod(namespace: string, name: string, options: { signal?: AbortSignal } = {}): Promise<V1Pod> {
    return this.request<V1Pod>("GET", `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`, options);
  }

  /** PATCH `/api/v1/nodes/<name>/status` (strategic merge by default: conditions merge by `type`). */
  patchNodeStatus(name: string, patch: unknown, options: { type?: PatchType; signal?: AbortSignal } = {}): Promise<V1Node> {
    return this.patch(NODES, name, patch, { ...options, subresource: "status" });
  }
}

class KubeConfigMissing extends TypeError {
  constructor() {
    super("Cannot send request: the KubeConfig has no current cluster");
  }
}

function isStatus(v: unknown): v is KubeStatus {
  return typeof v === "object" && v !== null && (v as KubeStatus).kind === "Status";
}
