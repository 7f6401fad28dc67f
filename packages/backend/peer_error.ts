/**
 * A failure that concerns one peer only (its entries could not be computed or programmed). The
 * network records it, logs it, and keeps serving every other peer.
 */
export class PeerError extends Error {
  /** The peer's lease subnet, e.g. `10.244.2.0/24`. */
  readonly subnet: string;
  constructor(subnet: string, message: string, options?: { cause?: unknown }) {
    super(`Peer ${subnet}: ${message}`, options);
    this.name = "PeerError";
    this.subnet = subnet;
  }
}
