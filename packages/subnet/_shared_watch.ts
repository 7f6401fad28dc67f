// One registry watch shared by the consumers of a LeaseManager (private).
import { AsyncQueue } from "./_async.ts";
import { leaseKey } from "./_lease.ts";
import type { Lease, LeaseRegistry, RegistryEvent, RegistryWatchOptions } from "./types.ts";

/**
 * Fans one `registry.watch()` out to any number of consumers. A node agent watches the leases twice (the peer
 * watch that programs routes, and `keepAlive`, which looks for its own lease); with a watch each, every change
 * would be fetched from the store, decoded and diffed twice (1,000 leases written at once: 2,000 re-reads).
 *
 * The registry watch starts with the first consumer and stops when the last one leaves. A consumer that joins
 * while it runs starts with a snapshot of the current state (once the registry's first snapshot has arrived),
 * then gets the same events as everyone else, in the same order. When the registry watch fails, every
 * consumer's stream throws that error; the next consumer starts a new registry watch.
 */
export class SharedRegistryWatch {
  readonly #registry: Pick<LeaseRegistry, "watch">;
  readonly #consumers = new Set<AsyncQueue<RegistryEvent>>();
  #stop: AbortController | undefined;
  /** The current leases by key; undefined until the registry's first snapshot. */
  #state: Map<string, Lease> | undefined;

  constructor(registry: Pick<LeaseRegistry, "watch">) {
    this.#registry = registry;
  }

  /** The number of consumers now. */
  get consumers(): number {
    return this.#consumers.size;
  }

  watch(options: RegistryWatchOptions): AsyncIterable<RegistryEvent> {
    const { signal } = options;
    const leave = (): void => {
      signal.removeEventListener("abort", leave);
      queue.close();
      if (!this.#consumers.delete(queue) || this.#consumers.size > 0) return;
      this.#stop?.abort();
      this.#stop = undefined;
      this.#state = undefined;
    };
    const queue = new AsyncQueue<RegistryEvent>(leave);
    if (signal.aborted) {
      queue.close();
      return queue;
    }
    if (this.#state) queue.push({ type: "snapshot", leases: [...this.#state.values()] });
    this.#consumers.add(queue);
    signal.addEventListener("abort", leave, { once: true });
    if (!this.#stop) this.#start();
    return queue;
  }

  #start(): void {
    const stop = new AbortController();
    this.#stop = stop;
    const current = () => this.#stop === stop;
    void (async () => {
      try {
        for await (const event of this.#registry.watch({ signal: stop.signal })) {
          if (!current()) break;
          this.#track(event);
          for (const queue of this.#consumers) queue.push(event);
        }
        if (current()) for (const queue of this.#consumers) queue.close();
      } catch (err) {
        if (current()) for (const queue of this.#consumers) queue.fail(err);
      } finally {
        if (current()) {
          this.#consumers.clear();
          this.#stop = undefined;
          this.#state = undefined;
        }
      }
    })();
  }

  #track(event: RegistryEvent): void {
    if (event.type === "snapshot") {
      this.#state = new Map(event.leases.map((l) => [leaseKey(l), l]));
      return;
    }
    const state = this.#state;
    if (!state) return; // (registries start with a snapshot)
    if (event.type === "added") state.set(leaseKey(event.lease), event.lease);
    else state.delete(leaseKey(event.lease));
  }
}
