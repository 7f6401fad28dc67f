/**
 * Types shared by the files of @weft/kube. The object types are client-node's own models; objects held by an
 * informer are the API server's JSON as received (timestamps are RFC 3339 strings, not `Date`s).
 */
export type {
  KubeConfig,
  V1EndpointSlice,
  V1Node,
  V1ObjectMeta,
  V1Pod,
  V1Service,
} from "@kubernetes/client-node";

import type { V1ObjectMeta } from "@kubernetes/client-node";

/** Any Kubernetes object: what informers and caches hold. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
}

/** Timer functions, injectable so tests can drive backoff and resync with a fake clock. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real timers (`globalThis.setTimeout`), unref'ed so a pending backoff never keeps the process alive. */
export const REAL_TIMERS: Timers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};
