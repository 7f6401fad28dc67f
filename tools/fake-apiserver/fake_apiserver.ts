/**
 * A kube-apiserver stand-in for tests: plain HTTP on 127.0.0.1, JSON only, objects in memory.
 *
 * What it models (the parts Weft's clients rely on):
 * - One global resourceVersion counter, as etcd's revision: every create/update/delete takes the next number and
 *   stamps it on the object; lists carry the current number in `metadata.resourceVersion`.
 * - Watches stream newline-delimited `{"type","object"}` events. A watch from resourceVersion N replays the
 *   kept history after N, then follows live changes. Without a resourceVersion (or "0") it starts with synthetic
 *   ADDED events for the current objects. The history keeps the last `historySize` events; a watch from an older
 *   version gets HTTP 200 and a single ERROR event carrying a Status with code 410, reason `Expired`
 *   ("too old resource version: N (M)"), then the stream ends, as the real server's watch cache does.
 * - `allowWatchBookmarks=true` gets a BOOKMARK event (an object with only kind, apiVersion and
 *   metadata.resourceVersion) every `bookmarkIntervalMs`; `timeoutSeconds` ends the stream cleanly.
 * - Label and field selectors (`metadata.name`, `metadata.namespace`, `spec.nodeName` for pods) on list and watch;
 *   a watched object that stops matching arrives as DELETED, one that starts matching as ADDED.
 * - PATCH with JSON merge, strategic merge (conditions/addresses merge by `type`, ports by `port`) and JSON patch;
 *   the `status` subresource changes status and metadata only, the main resource keeps the old status.
 *   An update that changes nothing keeps the resourceVersion and sends no event.
 * - Lists are in key order (`name`, or `namespace/name` across namespaces), as etcd returns them. `limit` and
 *   `continue` page them like etcd3's GetList: each page looks at keys from the token's start key, fills up to
 *   `limit` matching objects (selectors filter while the page fills), and sets `metadata.continue` when keys remain
 *   (plus `metadata.remainingItemCount` when there is no selector). The pages of one list read the snapshot at the
 *   first page's resourceVersion (reconstructed from the watch history) and all report it. A token stays valid
 *   while that revision is in the kept history (`historySize` events, or until `compact()` after a later write);
 *   then 410 Expired (`CONTINUE_EXPIRED_MESSAGE`, with a token for an inconsistent remainder in
 *   `metadata.continue`). A malformed token is 400 BadRequest "invalid continue token: ...".
 * - Errors are `Status` objects: 404 NotFound, 409 Conflict / AlreadyExists, 401 Unauthorized, 415, 422, 400.
 *
 * Test control without HTTP: `create/update/patch/delete/get/list`, `compact()` (forget the history, so older
 * versions get 410), `dropWatches()` (end every watch stream), `restart()` (both), `sendBookmarks()`,
 * `failNextRequests()`, `onRequest()` (a hook before each request is served), and `requests` (a log of what clients
 * asked).
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ContinueTokenError, decodeContinue, encodeContinue } from "./_continue.ts";
import { PatchError, clone, isPlainObject, jsonPatch, mergePatch, strategicMergePatch } from "./_patch.ts";
import { SelectorError, parseFieldSelector, parseLabelSelector } from "./_selectors.ts";

/** Resources the fake serves. */
export type FakeResource = "nodes" | "pods" | "services" | "endpointslices";

interface ResourceInfo {
  kind: string;
  apiVersion: string;
  namespaced: boolean;
  hasStatus: boolean;
}

const RESOURCES: Record<FakeResource, ResourceInfo> = {
  nodes: { kind: "Node", apiVersion: "v1", namespaced: false, hasStatus: true },
  pods: { kind: "Pod", apiVersion: "v1", namespaced: true, hasStatus: true },
  services: { kind: "Service", apiVersion: "v1", namespaced: true, hasStatus: true },
  endpointslices: { kind: "EndpointSlice", apiVersion: "discovery.k8s.io/v1", namespaced: true, hasStatus: false },
};

/** A stored object: any JSON object with metadata. */
// deno-lint-ignore no-explicit-any
export type FakeObject = Record<string, any> & { metadata?: Record<string, any> };

/** Patch formats, as the Content-Type of a PATCH request selects them. */
export type FakePatchType = "merge" | "strategic" | "json";

/** Options for {@linkcode FakeApiServer.start}. */
export interface FakeApiServerOptions {
  /**
   * How many events (writes of any resource) the history keeps. Watches from older resourceVersions, and list
   * continue tokens whose snapshot is older, get 410 Expired. @default 1000
   */
  historySize?: number;
  /** Period of BOOKMARK events on watches that allow them; 0 disables them. @default 60000 */
  bookmarkIntervalMs?: number;
  /** Require `Authorization: Bearer <token>` (and put it in the kubeconfig). @default undefined (no auth) */
  token?: string;
  /** Port to listen on (on 127.0.0.1). @default 0 (a free port) */
  port?: number;
}

/** Options for the control methods that address one object. */
export interface FakeObjectOptions {
  /** Namespace of a namespaced resource. @default "default" for namespaced resources */
  namespace?: string;
}

/** Options for {@linkcode FakeApiServer.patch}. */
export interface FakePatchOptions extends FakeObjectOptions {
  /** @default "strategic" */
  type?: FakePatchType;
  /** `"status"` to patch the status subresource. @default undefined */
  subresource?: "status";
}

/** One request as a client sent it. */
export interface FakeRequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Whether it was a watch. */
  watch: boolean;
}

/** Options for {@linkcode FakeApiServer.failNextRequests}. */
export interface FailRequestsOptions {
  /** HTTP status of the injected failure. @default 500 */
  statusCode?: number;
  /** Only requests with this method. @default any */
  method?: string;
  /** Only watch requests (true) or only non-watch requests (false). @default any */
  watch?: boolean;
}

interface HistoryEvent {
  rv: number;
  resource: FakeResource;
  type: "ADDED" | "MODIFIED" | "DELETED";
  object: FakeObject;
  old: FakeObject | undefined;
}

interface Watcher {
  resource: FakeResource;
  namespace: string | undefined;
  match: (o: FakeObject) => boolean;
  res: http.ServerResponse;
  bookmarks: boolean;
  timers: NodeJS.Timeout[];
}

class HttpError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, string>,
    /** The Status's ListMeta, e.g. the inconsistent `continue` token of a 410 for an expired continue token. */
    readonly listMeta?: Record<string, string>,
  ) {
    super(message);
  }
}

/**
 * kube-apiserver's message (k8s.io/apiserver/pkg/storage/etcd3/errors.go `inconsistentContinue`) for a continue
 * token whose revision was compacted; the 410 Status then carries a token in `metadata.continue` that goes on
 * at the latest revision.
 */
export const CONTINUE_EXPIRED_MESSAGE = "The provided continue parameter is too old to display a consistent list result. " +
  "You can start a new list without the continue parameter, or use the continue token in this response to retrieve " +
  "the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that " +
  "were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

/** A kube-apiserver stand-in; see the module doc. Start with `FakeApiServer.start()`, end with `close()`. */
export class FakeApiServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** A kubeconfig file pointing at this server (with the token, if any). */
  readonly kubeconfigPath: string;
  /** Every request received, oldest first. */
  readonly requests: FakeRequestRecord[] = [];

  readonly #server: http.Server;
  readonly #dir: string;
  readonly #token: string | undefined;
  readonly #historySize: number;
  readonly #bookmarkIntervalMs: number;
  readonly #store = new Map<FakeResource, Map<string, FakeObject>>();
  #history: HistoryEvent[] = [];
  #rv = 0;
  #compactedRv = 0;
  readonly #watchers = new Set<Watcher>();
  #failures: Array<{ statusCode: number; method?: string; watch?: boolean }> = [];
  readonly #requestListeners = new Set<(request: FakeRequestRecord) => void>();

  private constructor(server: http.Server, url: string, dir: string, options: FakeApiServerOptions) {
    this.#server = server;
    this.url = url;
    this.#dir = dir;
    this.#token = options.token;
    this.#historySize = options.historySize ?? 1000;
    this.#bookmarkIntervalMs = options.bookmarkIntervalMs ?? 60_000;
    for (const r of Object.keys(RESOURCES) as FakeResource[]) this.#store.set(r, new Map());
    this.kubeconfigPath = join(dir, "kubeconfig");
    const user = options.token !== undefined ? { token: options.token } : {};
    const kubeconfig = {
      apiVersion: "v1",
      kind: "Config",
      // client-node 1.x refuses http:// servers unless insecure-skip-tls-verify is set (there is no TLS to verify).
      clusters: [{ name: "fake", cluster: { server: url, "insecure-skip-tls-verify": true } }],
      users: [{ name: "fake", user }],
      contexts: [{ name: "fake", context: { cluster: "fake", user: "fake", namespace: "default" } }],
      "current-context": "fake",
    };
    writeFileSync(this.kubeconfigPath, JSON.stringify(kubeconfig, null, 2));
  }

  /** Starts a server on 127.0.0.1 and writes its kubeconfig to a temporary directory. */
  static async start(options: FakeApiServerOptions = {}): Promise<FakeApiServer> {
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const dir = mkdtempSync(join(tmpdir(), "weft-fake-apiserver-"));
    const fake = new FakeApiServer(server, `http://127.0.0.1:${port}`, dir, options);
    server.on("request", (req, res) => fake.#handle(req, res));
    return fake;
  }

  /** The current (latest) resourceVersion. */
  get resourceVersion(): string {
    return String(this.#rv);
  }

  /** Number of open watch streams. */
  get watchCount(): number {
    return this.#watchers.size;
  }

  /** Stops the server, ends every watch and removes the kubeconfig directory. */
  async close(): Promise<void> {
    this.dropWatches();
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
    rmSync(this.#dir, { recursive: true, force: true });
  }

  // ---- test control ----

  /** Stores a new object (stamps uid, creationTimestamp, resourceVersion) and returns it. @throws {Error} 409 if it exists */
  create(resource: FakeResource, object: FakeObject): FakeObject {
    return clone(this.#create(resource, object, object.metadata?.namespace));
  }

  /** The stored object, or undefined. */
  get(resource: FakeResource, name: string, options: FakeObjectOptions = {}): FakeObject | undefined {
    const o = this.#store.get(resource)!.get(this.#key(resource, name, options.namespace));
    return o && clone(o);
  }

  /** All stored objects of a resource, optionally in one namespace. */
  list(resource: FakeResource, options: { namespace?: string } = {}): FakeObject[] {
    return [...this.#store.get(resource)!.values()]
      .filter((o) => options.namespace === undefined || o.metadata?.namespace === options.namespace)
      .map(clone);
  }

  /** Replaces an object (a resourceVersion in it must match). @throws {Error} 404/409 */
  update(resource: FakeResource, object: FakeObject): FakeObject {
    const name = object.metadata?.name;
    if (!name) throw new TypeError("Cannot update object: metadata.name is missing");
    return clone(this.#update(resource, name, object.metadata?.namespace, () => clone(object), undefined));
  }

  /** Patches an object like a PATCH request would. @throws {Error} 404/409/422 */
  patch(resource: FakeResource, name: string, patch: unknown, options: FakePatchOptions = {}): FakeObject {
    const type = options.type ?? "strategic";
    return clone(
      this.#update(resource, name, options.namespace, (old) => applyPatch(old, patch, type), options.subresource),
    );
  }

  /** Deletes an object and returns it. @throws {Error} 404 */
  delete(resource: FakeResource, name: string, options: FakeObjectOptions = {}): FakeObject {
    return clone(this.#delete(resource, name, options.namespace));
  }

  /**
   * Forgets the watch history (keeping the last `keep` events), so watches from older resourceVersions get
   * 410 Expired, as after an etcd compaction.
   */
  compact(options: { keep?: number } = {}): void {
    const keep = options.keep ?? 0;
    const dropped = this.#history.length - keep;
    if (dropped <= 0) return;
    this.#compactedRv = this.#history[dropped - 1]!.rv;
    this.#history = this.#history.slice(dropped);
    if (keep === 0) this.#compactedRv = this.#rv;
  }

  /** Ends every open watch stream (cleanly, or by destroying the socket); returns how many. */
  dropWatches(options: { abrupt?: boolean } = {}): number {
    const n = this.#watchers.size;
    for (const w of [...this.#watchers]) this.#endWatch(w, options.abrupt ?? false);
    return n;
  }

  /**
   * Simulates an API server restart: every watch connection is cut and the watch history is lost (a restarted
   * server's watch cache starts empty, so watches resumed from before get 410 Expired). Objects are kept.
   */
  restart(): void {
    this.dropWatches({ abrupt: true });
    this.compact();
  }

  /** Sends a BOOKMARK with the current resourceVersion to every watch that allows bookmarks. */
  sendBookmarks(): void {
    for (const w of this.#watchers) if (w.bookmarks) this.#bookmark(w);
  }

  /**
   * Calls `listener` for every request, after it is logged and before it is served (so a test can change the
   * store between the pages of a list, e.g. write and `compact()` to expire a continue token). A listener that
   * throws fails the request with 500. Returns a function that removes the listener.
   */
  onRequest(listener: (request: FakeRequestRecord) => void): () => void {
    this.#requestListeners.add(listener);
    return () => this.#requestListeners.delete(listener);
  }

  /** Makes the next `count` matching requests fail with a Status error. */
  failNextRequests(count: number, options: FailRequestsOptions = {}): void {
    for (let i = 0; i < count; i++) {
      this.#failures.push({
        statusCode: options.statusCode ?? 500,
        ...(options.method !== undefined ? { method: options.method } : {}),
        ...(options.watch !== undefined ? { watch: options.watch } : {}),
      });
    }
  }

  // ---- storage ----

  #key(resource: FakeResource, name: string, namespace: string | undefined): string {
    return RESOURCES[resource].namespaced ? `${namespace ?? "default"}/${name}` : name;
  }

  #nextRv(): number {
    this.#rv += 1;
    return this.#rv;
  }

  #create(resource: FakeResource, input: FakeObject, namespace: string | undefined): FakeObject {
    const info = RESOURCES[resource];
    if (!isPlainObject(input)) throw new HttpError(400, "BadRequest", "the body of the request was not an object");
    const obj = clone(input) as FakeObject;
    obj.metadata = isPlainObject(obj.metadata) ? obj.metadata : {};
    const name = obj.metadata.name as string | undefined;
    if (!name) {
      throw new HttpError(422, "Invalid", `${info.kind} "" is invalid: metadata.name: Required value: name or generateName is required`);
    }
    if (info.namespaced) {
      const ns = namespace ?? obj.metadata.namespace ?? "default";
      if (obj.metadata.namespace !== undefined && obj.metadata.namespace !== ns) {
        throw new HttpError(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request");
      }
      obj.metadata.namespace = ns;
    } else {
      delete obj.metadata.namespace;
    }
    const key = this.#key(resource, name, obj.metadata.namespace);
    const store = this.#store.get(resource)!;
    if (store.has(key)) throw new HttpError(409, "AlreadyExists", `${resource} "${name}" already exists`, this.#details(resource, name));
    obj.apiVersion = info.apiVersion;
    obj.kind = info.kind;
    obj.metadata.uid = randomUUID();
    obj.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    obj.metadata.resourceVersion = String(this.#nextRv());
    store.set(key, obj);
    this.#record(resource, "ADDED", obj, undefined);
    return obj;
  }

  #update(
    resource: FakeResource,
    name: string,
    namespace: string | undefined,
    change: (old: FakeObject) => unknown,
    subresource: "status" | undefined,
  ): FakeObject {
    const info = RESOURCES[resource];
    const store = this.#store.get(resource)!;
    const key = this.#key(resource, name, namespace);
    const old = store.get(key);
    if (!old) throw new HttpError(404, "NotFound", `${resource} "${name}" not found`, this.#details(resource, name));
    if (subresource === "status" && !info.hasStatus) {
      throw new HttpError(404, "NotFound", `the server could not find the requested resource`);
    }
    let next: FakeObject;
    try {
      next = change(clone(old)) as FakeObject;
    } catch (err) {
      if (err instanceof PatchError) throw new HttpError(422, "Invalid", err.message);
      throw err;
    }
    if (!isPlainObject(next)) throw new HttpError(400, "BadRequest", "the result is not an object");
    next.metadata = isPlainObject(next.metadata) ? next.metadata : {};
    if (next.metadata.name !== undefined && next.metadata.name !== name) {
      throw new HttpError(400, "BadRequest", `the name of the object (${next.metadata.name}) does not match the name on the URL (${name})`);
    }
    const wantRv = next.metadata.resourceVersion;
    if (wantRv !== undefined && wantRv !== "" && wantRv !== old.metadata!.resourceVersion) {
      throw new HttpError(
        409,
        "Conflict",
        `Operation cannot be fulfilled on ${resource} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        this.#details(resource, name),
      );
    }
    // Fields the server owns.
    next.apiVersion = info.apiVersion;
    next.kind = info.kind;
    next.metadata.name = name;
    next.metadata.uid = old.metadata!.uid;
    next.metadata.creationTimestamp = old.metadata!.creationTimestamp;
    if (info.namespaced) next.metadata.namespace = old.metadata!.namespace;
    else delete next.metadata.namespace;
    if (info.hasStatus) {
      if (subresource === "status") {
        if ("spec" in old) next.spec = clone(old.spec);
        else delete next.spec;
      } else if ("status" in old) next.status = clone(old.status);
      else delete next.status;
    }
    next.metadata.resourceVersion = old.metadata!.resourceVersion;
    if (JSON.stringify(next) === JSON.stringify(old)) return old; // no-op: no new version, no event
    next.metadata.resourceVersion = String(this.#nextRv());
    store.set(key, next);
    this.#record(resource, "MODIFIED", next, old);
    return next;
  }

  #delete(resource: FakeResource, name: string, namespace: string | undefined): FakeObject {
    const store = this.#store.get(resource)!;
    const key = this.#key(resource, name, namespace);
    const old = store.get(key);
    if (!old) throw new HttpError(404, "NotFound", `${resource} "${name}" not found`, this.#details(resource, name));
    store.delete(key);
    const gone = clone(old);
    gone.metadata!.resourceVersion = String(this.#nextRv());
    this.#record(resource, "DELETED", gone, old);
    return gone;
  }

  #details(resource: FakeResource, name: string): Record<string, string> {
    const group = RESOURCES[resource].apiVersion.includes("/") ? RESOURCES[resource].apiVersion.split("/")[0]! : undefined;
    return { name, kind: resource, ...(group ? { group } : {}) };
  }

  #record(resource: FakeResource, type: HistoryEvent["type"], object: FakeObject, old: FakeObject | undefined): void {
    const ev: HistoryEvent = { rv: this.#rv, resource, type, object: clone(object), old: old && clone(old) };
    this.#history.push(ev);
    if (this.#history.length > this.#historySize) {
      const dropped = this.#history.splice(0, this.#history.length - this.#historySize);
      this.#compactedRv = dropped[dropped.length - 1]!.rv;
    }
    for (const w of this.#watchers) this.#deliver(w, ev);
  }

  // ---- watches ----

  #deliver(w: Watcher, ev: HistoryEvent): void {
    if (ev.resource !== w.resource) return;
    const inNs = (o: FakeObject | undefined) => !!o && (w.namespace === undefined || o.metadata?.namespace === w.namespace);
    const now = inNs(ev.object) && w.match(ev.object);
    const before = ev.type === "MODIFIED" && inNs(ev.old) && w.match(ev.old!);
    let type: string | undefined;
    if (ev.type === "MODIFIED") {
      if (now && before) type = "MODIFIED";
      else if (now) type = "ADDED";
      else if (before) type = "DELETED";
    } else if (now) {
      type = ev.type;
    }
    if (!type) return;
    const object = type === "DELETED" && ev.type === "MODIFIED" ? { ...ev.object } : ev.object;
    w.res.write(JSON.stringify({ type, object }) + "\n");
  }

  #bookmark(w: Watcher): void {
    const info = RESOURCES[w.resource];
    const object = { kind: info.kind, apiVersion: info.apiVersion, metadata: { resourceVersion: String(this.#rv) } };
    w.res.write(JSON.stringify({ type: "BOOKMARK", object }) + "\n");
  }

  #endWatch(w: Watcher, abrupt: boolean): void {
    if (!this.#watchers.delete(w)) return;
    for (const t of w.timers) clearTimeout(t);
    if (abrupt) w.res.destroy();
    else w.res.end();
  }

  #startWatch(
    resource: FakeResource,
    namespace: string | undefined,
    query: URLSearchParams,
    match: (o: FakeObject) => boolean,
    res: http.ServerResponse,
  ): void {
    res.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked", "Cache-Control": "no-cache" });
    res.flushHeaders();
    const rvParam = query.get("resourceVersion") ?? "";
    if (rvParam !== "" && rvParam !== "0") {
      const from = Number(rvParam);
      if (!Number.isInteger(from) || from < 0) {
        res.end(JSON.stringify({ type: "ERROR", object: status(400, "BadRequest", `invalid resource version: ${rvParam}`) }) + "\n");
        return;
      }
      if (from < this.#compactedRv) {
        const message = `too old resource version: ${from} (${this.#compactedRv + 1})`;
        res.end(JSON.stringify({ type: "ERROR", object: status(410, "Expired", message) }) + "\n");
        return;
      }
    }
    const w: Watcher = { resource, namespace, match, res, bookmarks: query.get("allowWatchBookmarks") === "true", timers: [] };
    if (rvParam === "" || rvParam === "0") {
      for (const o of this.#store.get(resource)!.values()) {
        if ((namespace === undefined || o.metadata?.namespace === namespace) && match(o)) {
          res.write(JSON.stringify({ type: "ADDED", object: o }) + "\n");
        }
      }
    } else {
      const from = Number(rvParam);
      for (const ev of this.#history) if (ev.rv > from) this.#deliver(w, ev);
    }
    this.#watchers.add(w);
    if (w.bookmarks && this.#bookmarkIntervalMs > 0) {
      const t = setInterval(() => this.#bookmark(w), this.#bookmarkIntervalMs);
      t.unref();
      w.timers.push(t);
    }
    const timeoutSeconds = Number(query.get("timeoutSeconds") ?? "0");
    if (timeoutSeconds > 0) {
      const t = setTimeout(() => this.#endWatch(w, false), timeoutSeconds * 1000);
      t.unref();
      w.timers.push(t);
    }
    const gone = () => {
      this.#watchers.delete(w);
      for (const t of w.timers) clearTimeout(t);
    };
    // Not req "close": since Node 16 that fires once the request body has been read.
    res.on("close", gone);
  }

  // ---- HTTP ----

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      try {
        this.#route(req, res, Buffer.concat(chunks).toString("utf8"));
      } catch (err) {
        const e = err instanceof HttpError ? err : new HttpError(500, "InternalError", (err as Error).message ?? String(err));
        if (!res.headersSent) sendJson(res, e.code, status(e.code, e.reason, e.message, e.details, e.listMeta));
        else res.end();
      }
    });
  }

  #route(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
    const url = new URL(req.url ?? "/", this.url);
    const method = req.method ?? "GET";
    const query = url.searchParams;
    const isWatch = query.get("watch") === "true" || query.get("watch") === "1";
    const record: FakeRequestRecord = { method, path: url.pathname, query: Object.fromEntries(query), watch: isWatch };
    this.requests.push(record);
    for (const listener of [...this.#requestListeners]) listener(record);
    if (this.#token !== undefined && req.headers.authorization !== `Bearer ${this.#token}`) {
      throw new HttpError(401, "Unauthorized", "Unauthorized");
    }
    const failIdx = this.#failures.findIndex(
      (f) => (f.method === undefined || f.method === method) && (f.watch === undefined || f.watch === isWatch),
    );
    if (failIdx >= 0) {
      const f = this.#failures.splice(failIdx, 1)[0]!;
      throw new HttpError(f.statusCode, f.statusCode === 503 ? "ServiceUnavailable" : "InternalError", "injected failure");
    }
    const route = parsePath(url.pathname);
    if (!route) throw new HttpError(404, "NotFound", "the server could not find the requested resource");
    const { resource, namespace, name, subresource } = route;
    if (subresource !== undefined && subresource !== "status") {
      throw new HttpError(404, "NotFound", "the server could not find the requested resource");
    }
    const parseBody = (): unknown => {
      try {
        return JSON.parse(body);
      } catch {
        throw new HttpError(400, "BadRequest", "the body of the request could not be parsed as JSON");
      }
    };
    if (name === undefined) {
      if (method === "GET") {
        const match = this.#matcher(resource, query);
        if (isWatch) return this.#startWatch(resource, namespace, query, match, res);
        return sendJson(res, 200, this.#listPage(resource, namespace, query, match));
      }
      if (method === "POST") {
        if (RESOURCES[resource].namespaced && namespace === undefined) {
          throw new HttpError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
        }
        return sendJson(res, 201, this.#create(resource, parseBody() as FakeObject, namespace));
      }
      throw new HttpError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
    }
    if (RESOURCES[resource].namespaced && namespace === undefined) {
      throw new HttpError(404, "NotFound", "the server could not find the requested resource");
    }
    const sub = subresource === "status" ? ("status" as const) : undefined;
    switch (method) {
      case "GET": {
        const o = this.#store.get(resource)!.get(this.#key(resource, name, namespace));
        if (!o) throw new HttpError(404, "NotFound", `${resource} "${name}" not found`, this.#details(resource, name));
        return sendJson(res, 200, o);
      }
      case "PUT": {
        const input = parseBody() as FakeObject;
        return sendJson(res, 200, this.#update(resource, name, namespace, () => input, sub));
      }
      case "PATCH": {
        const ct = (req.headers["content-type"] ?? "").split(";")[0]!.trim();
        const type: FakePatchType | undefined = ct === "application/merge-patch+json"
          ? "merge"
          : ct === "application/strategic-merge-patch+json"
          ? "strategic"
          : ct === "application/json-patch+json"
          ? "json"
          : undefined;
        if (!type) {
          throw new HttpError(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`);
        }
        const patch = parseBody();
        return sendJson(res, 200, this.#update(resource, name, namespace, (old) => applyPatch(old, patch, type), sub));
      }
      case "DELETE":
        return sendJson(res, 200, this.#delete(resource, name, namespace));
      default:
        throw new HttpError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
    }
  }

  /**
   * One LIST answer, as etcd3's GetList builds it: the objects of the snapshot in key order (`name`, or
   * `namespace/name` across namespaces), from the continue token's start key on, filtered by the selectors while
   * the page fills; `limit` (> 0) caps the page and, when keys remain after the last one looked at, sets
   * `metadata.continue` (and `remainingItemCount` when there is no selector, so the count is exact).
   */
  #listPage(resource: FakeResource, namespace: string | undefined, query: URLSearchParams, match: (o: FakeObject) => boolean): FakeObject {
    const info = RESOURCES[resource];
    const limit = parseLimit(query.get("limit"));
    const token = query.get("continue") ?? "";
    let rv = this.#rv;
    let start = "";
    if (token !== "") {
      let decoded;
      try {
        decoded = decodeContinue(token);
      } catch (err) {
        if (err instanceof ContinueTokenError) throw new HttpError(400, "BadRequest", `invalid continue token: ${err.message}`);
        throw err;
      }
      const rvParam = query.get("resourceVersion") ?? "";
      if (rvParam !== "" && rvParam !== "0") {
        throw new HttpError(400, "BadRequest", "specifying resource version is not allowed when using continue");
      }
      start = decoded.start;
      if (decoded.rv > 0) {
        if (decoded.rv < this.#compactedRv) {
          throw new HttpError(410, "Expired", CONTINUE_EXPIRED_MESSAGE, undefined, { continue: encodeContinue(start, -1) });
        }
        if (decoded.rv > this.#rv) {
          throw new HttpError(500, "InternalError", "etcdserver: mvcc: required revision is a future revision");
        }
        rv = decoded.rv;
      }
      // rv -1 (the token of a 410 answer): go on at the latest revision, an inconsistent list.
    }
    const objects = rv === this.#rv ? this.#store.get(resource)! : this.#objectsAt(resource, rv);
    const entries: Array<[string, FakeObject]> = [];
    for (const o of objects.values()) {
      if (namespace !== undefined && o.metadata?.namespace !== namespace) continue;
      const key = namespace !== undefined || !info.namespaced ? o.metadata!.name : `${o.metadata!.namespace}/${o.metadata!.name}`;
      if (key >= start) entries.push([key, o]);
    }
    entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const items: FakeObject[] = [];
    let lastKey = "";
    let looked = 0;
    let hasMore = false;
    for (const [key, o] of entries) {
      if (limit > 0 && items.length >= limit) {
        hasMore = true;
        break;
      }
      lastKey = key;
      looked += 1;
      if (!match(o)) continue;
      const item = clone(o);
      delete item.apiVersion;
      delete item.kind;
      items.push(item);
    }
    const metadata: Record<string, unknown> = { resourceVersion: String(rv) };
    if (hasMore) {
      metadata.continue = encodeContinue(`${lastKey}\u0000`, rv);
      if (!query.get("labelSelector") && !query.get("fieldSelector")) metadata.remainingItemCount = entries.length - looked;
    }
    return { kind: `${info.kind}List`, apiVersion: info.apiVersion, metadata, items };
  }

  /** The objects of `resource` as they were at revision `rv` (>= the compacted revision): the store with the
   * kept history after `rv` undone. */
  #objectsAt(resource: FakeResource, rv: number): Map<string, FakeObject> {
    const objects = new Map(this.#store.get(resource)!);
    for (let i = this.#history.length - 1; i >= 0; i--) {
      const ev = this.#history[i]!;
      if (ev.rv <= rv) break;
      if (ev.resource !== resource) continue;
      const meta = (ev.old ?? ev.object).metadata!;
      const key = this.#key(resource, meta.name, meta.namespace);
      if (ev.type === "ADDED") objects.delete(key);
      else objects.set(key, ev.old!);
    }
    return objects;
  }

  #matcher(resource: FakeResource, query: URLSearchParams): (o: FakeObject) => boolean {
    try {
      const labels = query.get("labelSelector") ? parseLabelSelector(query.get("labelSelector")!) : undefined;
      const fields = query.get("fieldSelector") ? parseFieldSelector(query.get("fieldSelector")!) : undefined;
      return (o) =>
        (!labels || labels(o.metadata?.labels)) &&
        (!fields || fields((path) => fieldValue(resource, o, path)));
    } catch (err) {
      if (err instanceof SelectorError) throw new HttpError(400, "BadRequest", err.message);
      throw err;
    }
  }
}

function fieldValue(resource: FakeResource, o: FakeObject, path: string): string | undefined {
  switch (path) {
    case "metadata.name":
      return o.metadata?.name;
    case "metadata.namespace":
      return o.metadata?.namespace ?? "";
    case "spec.nodeName":
      return resource === "pods" ? (o.spec?.nodeName ?? "") : undefined;
    case "spec.unschedulable":
      return resource === "nodes" ? String(o.spec?.unschedulable ?? false) : undefined;
    default:
      throw new HttpError(400, "BadRequest", `field label not supported: ${path}`);
  }
}

function applyPatch(old: FakeObject, patch: unknown, type: FakePatchType): unknown {
  if (type === "json") return jsonPatch(old, patch);
  if (!isPlainObject(patch)) throw new PatchError("patch must be a JSON object");
  return type === "merge" ? mergePatch(old, patch) : strategicMergePatch(old, patch);
}

function parsePath(
  path: string,
): { resource: FakeResource; namespace?: string; name?: string; subresource?: string } | undefined {
  const segs = path.split("/").filter(Boolean).map(decodeURIComponent);
  let apiVersion: string;
  let rest: string[];
  if (segs[0] === "api" && segs[1] === "v1") {
    apiVersion = "v1";
    rest = segs.slice(2);
  } else if (segs[0] === "apis" && segs.length >= 3) {
    apiVersion = `${segs[1]}/${segs[2]}`;
    rest = segs.slice(3);
  } else {
    return undefined;
  }
  let namespace: string | undefined;
  if (rest[0] === "namespaces" && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const plural = rest[0] as FakeResource | undefined;
  if (!plural || !(plural in RESOURCES) || RESOURCES[plural].apiVersion !== apiVersion) return undefined;
  if (namespace !== undefined && !RESOURCES[plural].namespaced) return undefined;
  if (rest.length > 3) return undefined;
  return {
    resource: plural,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(rest[1] !== undefined ? { name: rest[1] } : {}),
    ...(rest[2] !== undefined ? { subresource: rest[2] } : {}),
  };
}

function parseLimit(value: string | null): number {
  if (value === null || value === "") return 0;
  if (!/^-?\d+$/.test(value)) throw new HttpError(400, "BadRequest", `invalid limit: "${value}" is not an integer`);
  return Math.max(0, Number(value)); // limit <= 0: no paging, as in etcd3's GetList
}

function status(
  code: number,
  reason: string,
  message: string,
  details?: Record<string, string>,
  listMeta?: Record<string, string>,
): FakeObject {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: listMeta ?? {},
    status: "Failure",
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
}

function sendJson(res: http.ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}
