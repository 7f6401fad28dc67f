import type { Lease, LeaseEvent, LeaseRegistry, RegistryEvent, WatchLeasesOptions } from "./types.ts";
import { leaseKey, sameAttrs, sameOwner } from "./_lease.ts";

/** Options of {@linkcode LeaseWatcher}. */
export interface LeaseWatcherOptions {
  /** This node's lease, or a getter when it can change. @default none (every lease is reported) */
  ownLease?: Lease | (() => Lease | undefined);
}

/**
 * Turns a registry's raw events into the stream consumers want (flannel's `lease.LeaseWatcher`): the first
 * snapshot passes through (without the node's own lease); later snapshots (after reconnects, resyncs) are diffed
 * against what was reported, giving `added` for new or changed leases and `removed` for vanished ones; `added` for
 * a lease whose attributes did not change (a renewal) is dropped; the own lease is never reported, and its
 * disappearance (or its key being taken by another owner) gives one `own-removed` until it is back.
 *
 * @example
 * ```ts
 * const w = new LeaseWatcher({ ownLease: mine });
 * w.apply({ type: "snapshot", leases: [mine, other] }); // [{ type: "snapshot", leases: [other] }]
 * w.apply({ type: "snapshot", leases: [mine] });        // [{ type: "removed", lease: other }]
 * ```
 */
export class LeaseWatcher {
  #known = new Map<string, Lease>();
  #started = false;
  #ownPresent = true;
  #ownKey: string | undefined;
  readonly #own: (() => Lease | undefined) | undefined;

  constructor(options: LeaseWatcherOptions = {}) {
    const own = options.ownLease;
    this.#own = typeof own === "function" ? own : own ? () => own : undefined;
  }

  /** The other nodes' leases as last reported. */
  get leases(): Lease[] {
    return [...this.#known.values()];
  }

  #ownGone(own: Lease | undefined, out: LeaseEvent[]): void {
    if (own && this.#ownPresent) out.push({ type: "own-removed", lease: own });
    this.#ownPresent = false;
  }

  /** Applies one registry event and returns the events to report, in order. */
  apply(event: RegistryEvent): LeaseEvent[] {
    const own = this.#own?.();
    const ownKey = own ? leaseKey(own) : undefined;
    if (ownKey !== this.#ownKey) {
      // A new own lease (re-acquired): assume it is present, as it was just written.
      this.#ownKey = ownKey;
      this.#ownPresent = true;
      if (ownKey !== undefined) this.#known.delete(ownKey);
    }
    const out: LeaseEvent[] = [];
    // Module-level helpers rather than closures made per call: apply() runs once per lease event (1,000 in a burst).
    if (!this.#started) {
      this.#started = true;
      if (event.type !== "snapshot") out.push({ type: "snapshot", leases: [] });
      else {
        const others: Lease[] = [];
        let ownSeen = false;
        for (const l of event.leases) {
          if (isOwn(l, ownKey)) ownSeen = ownHere(l, own);
          else {
            others.push(l);
            this.#known.set(leaseKey(l), l);
          }
        }
        out.push({ type: "snapshot", leases: others });
        if (own && !ownSeen) this.#ownGone(own, out);
        return out;
      }
    }
    switch (event.type) {
      case "snapshot": {
        const next = new Map<string, Lease>();
        let ownSeen = false;
        for (const l of event.leases) {
          if (isOwn(l, ownKey)) ownSeen = ownHere(l, own);
          else next.set(leaseKey(l), l);
        }
        for (const [k, l] of this.#known) if (!next.has(k)) out.push({ type: "removed", lease: l });
        for (const [k, l] of next) {
          const before = this.#known.get(k);
          if (!before || !sameAttrs(before, l)) out.push({ type: "added", lease: l });
        }
        this.#known = next;
        if (own) {
          if (ownSeen) this.#ownPresent = true;
          else this.#ownGone(own, out);
        }
        break;
      }
      case "added": {
        const l = event.lease;
        if (isOwn(l, ownKey)) {
          if (ownHere(l, own)) this.#ownPresent = true;
          else this.#ownGone(own, out);
          break;
        }
        const k = leaseKey(l);
        const before = this.#known.get(k);
        this.#known.set(k, l);
        if (!before || !sameAttrs(before, l)) out.push({ type: "added", lease: l });
        break;
      }
      case "removed": {
        const l = event.lease;
        if (isOwn(l, ownKey)) {
          this.#ownGone(own, out);
          break;
        }
        const k = leaseKey(l);
        const before = this.#known.get(k);
        if (before) {
          this.#known.delete(k);
          out.push({ type: "removed", lease: before });
        }
        break;
      }
    }
    return out;
  }
}

function isOwn(l: Lease, ownKey: string | undefined): boolean {
  return ownKey !== undefined && leaseKey(l) === ownKey;
}

function ownHere(l: Lease, own: Lease | undefined): boolean {
  return own !== undefined && sameOwner(l, own);
}

/**
 * Watches a registry through a {@linkcode LeaseWatcher}: one snapshot of the other nodes' leases, then changes,
 * until `options.signal` aborts (the stream then ends without an error).
 */
export async function* watchLeases(registry: Pick<LeaseRegistry, "watch">, options: WatchLeasesOptions): AsyncGenerator<LeaseEvent> {
  const watcher = new LeaseWatcher(options.ownLease !== undefined ? { ownLease: options.ownLease } : {});
  for await (const event of registry.watch({ signal: options.signal })) {
    if (options.signal.aborted) return;
    for (const out of watcher.apply(event)) yield out;
  }
}
