import type { Batch } from "./batch.ts";
import type { FakeIpRoute } from "./fake_ip_route.ts";
import { BatchError, IpRouteError } from "./ip_route_error.ts";
import type { IpSession, SessionApplyOptions } from "./ip_session.ts";

/**
 * The fake {@linkcode IpSession}: applies each batch directly to a {@linkcode FakeIpRoute} (and a
 * `next` batch to `ip.forNetns(next.netns)`), one job at a time in call order, with the session's
 * rules: `next` runs only when the main batch had no failure (always with `continueOnError`), its
 * failures carry its namespace, and nothing is accepted after `close()`.
 *
 * @example
 * ```ts
 * import { Batch } from "@weft/iproute";
 * import { FakeIpRoute, FakeIpSession } from "@weft/iproute/testing";
 * const host = new FakeIpRoute();
 * const session = new FakeIpSession(host);
 * await session.apply(new Batch().addLink({ type: "bridge", name: "cni0", up: true }));
 * console.log(host.dump());
 * ```
 */
export class FakeIpSession implements IpSession {
  readonly #ip: FakeIpRoute;
  #tail: Promise<unknown> = Promise.resolve();
  #pending = 0;
  #closed = false;
  /** Every job applied, in order: the main batch and the `next` one. */
  readonly jobs: Array<{ readonly batch: Batch; readonly next?: { readonly netns: string; readonly batch: Batch } }> = [];

  constructor(ip: FakeIpRoute) {
    this.#ip = ip;
  }

  get netns(): string | undefined {
    return this.#ip.netns;
  }

  get pending(): number {
    return this.#pending;
  }

  apply(batch: Batch, options: SessionApplyOptions = {}): Promise<void> {
    if (this.#closed) return Promise.reject(new IpRouteError("Failed", "apply", "the ip session is closed", this.netns !== undefined ? { netns: this.netns } : {}));
    if (batch.error) return Promise.reject(batch.error);
    if (options.next?.batch.error) return Promise.reject(options.next.batch.error);
    this.#pending++;
    const run = this.#tail.then(() => this.#run(batch, options)).finally(() => this.#pending--);
    this.#tail = run.catch(() => {});
    return run;
  }

  async #run(batch: Batch, options: SessionApplyOptions): Promise<void> {
    const { next, continueOnError } = options;
    this.jobs.push({ batch, ...(next ? { next } : {}) });
    const failures: IpRouteError[] = [];
    const collect = async (p: Promise<void>) => {
      try {
        await p;
      } catch (err) {
        if (!(err instanceof BatchError)) throw err;
        failures.push(...err.failures);
      }
    };
    const apply = { continueOnError: continueOnError === true };
    await collect(this.#ip.apply(batch, apply));
    if (next && next.batch.size > 0 && (continueOnError || failures.length === 0)) {
      await collect(this.#ip.forNetns(next.netns).apply(next.batch, apply));
    }
    if (failures.length) throw new BatchError(failures, batch.size + (next?.batch.size ?? 0));
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#tail;
  }
}
