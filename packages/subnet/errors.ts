/**
 * Thrown by a {@linkcode LeaseRegistry} write when another live lease holds the key or one of the subnets.
 * The manager retries acquisition when it sees it.
 */
export class LeaseConflictError extends Error {
  /** The subnet key that could not be written, e.g. `10.244.1.0-24`. */
  readonly key: string;
  constructor(key: string, options?: { cause?: unknown; reason?: string }) {
    super(`Cannot write lease ${key}: ${options?.reason ?? "the subnet is held by another lease"}`, { cause: options?.cause });
    this.name = "LeaseConflictError";
    this.key = key;
  }
}

/**
 * Thrown by `LeaseManager.acquire()` when every attempt lost a race (flannel's text:
 * `max retries reached trying to acquire a subnet`).
 */
export class LeaseAcquireError extends Error {
  /** How many attempts were made. */
  readonly attempts: number;
  constructor(attempts: number, options?: { cause?: unknown }) {
    super("max retries reached trying to acquire a subnet", { cause: options?.cause });
    this.name = "LeaseAcquireError";
    this.attempts = attempts;
  }
}

/**
 * Thrown by `LeaseManager.keepAlive()` when this node's subnet is now held by another node
 * (flannel logs `Lease has been revoked. Shutting down daemon.` and exits).
 */
export class LeaseLostError extends Error {
  /** The subnet key this node held. */
  readonly key: string;
  constructor(key: string, options?: { cause?: unknown }) {
    super(`Lease has been revoked: ${key} is held by another node`, { cause: options?.cause });
    this.name = "LeaseLostError";
    this.key = key;
  }
}
