/**
 * iproute2 failures as a few kinds, tested with predicates ({@linkcode isNotFound},
 * {@linkcode isExists}, {@linkcode isUnreachable}). The fake throws the same kinds.
 */

/** What went wrong, as far as callers branch on it. */
export type IpRouteErrorKind =
  | "NotFound" // missing device, route, address, neighbour, FDB entry or namespace
  | "Exists" // the object is already there
  | "Unreachable" // gateway not reachable ("Nexthop has invalid gateway", ENETUNREACH)
  | "Invalid" // the kernel or iproute2 rejected the arguments
  | "Permission" // EPERM (not root, or the namespace is read-only)
  | "Unsupported" // unknown link type or operation
  | "Failed"; // anything else (timeout, unexpected output)

/** Options of {@linkcode IpRouteError}. */
export interface IpRouteErrorOptions {
  /** The device the operation was about. @default undefined */
  readonly device?: string;
  /** The namespace it ran in. @default undefined (own namespace) */
  readonly netns?: string;
  /** The tool's stderr for this failure. @default "" */
  readonly stderr?: string;
  /** Index of the failed operation in its batch. @default undefined */
  readonly index?: number;
  /** The underlying error. @default undefined */
  readonly cause?: unknown;
}

const BRAND = Symbol.for("@weft/iproute.IpRouteError");

/** A failed iproute2 operation. `op` is the command as iproute2 reads it (`route replace 10.244.2.0/24 via ...`). */
export class IpRouteError extends Error {
  readonly kind: IpRouteErrorKind;
  readonly op: string;
  readonly device: string | undefined;
  readonly netns: string | undefined;
  readonly stderr: string;
  readonly index: number | undefined;
  /** The reason alone, without the operation. */
  readonly detail: string;

  constructor(kind: IpRouteErrorKind, op: string, detail: string, options: IpRouteErrorOptions = {}) {
    const where = [options.device ? `device ${options.device}` : "", options.netns ? `netns ${options.netns}` : ""].filter(Boolean).join(", ");
    super(`Cannot ${op}${where ? ` (${where})` : ""}: ${detail}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "IpRouteError";
    this.kind = kind;
    this.op = op;
    this.device = options.device;
    this.netns = options.netns;
    this.stderr = options.stderr ?? "";
    this.index = options.index;
    this.detail = detail;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/** A batch in which one or more operations failed; kind, op and device are those of the first failure. */
export class BatchError extends IpRouteError {
  /** Every failure, in batch order (one unless `continueOnError`). */
  readonly failures: readonly IpRouteError[];
  /** How many operations the batch had. */
  readonly total: number;

  constructor(failures: readonly IpRouteError[], total: number) {
    const first = failures[0];
    if (!first) throw new RangeError("BatchError needs at least one failure");
    const more = failures.length > 1 ? ` (and ${failures.length - 1} more of ${total} operations failed)` : "";
    super(first.kind, first.op, `${first.detail}${more}`, {
      device: first.device, netns: first.netns, stderr: first.stderr, index: first.index, cause: first,
    });
    this.name = "BatchError";
    this.failures = failures;
    this.total = total;
  }
}

const RULES: ReadonlyArray<readonly [RegExp, IpRouteErrorKind]> = [
  [/Nexthop has invalid gateway|Network is unreachable|No route to host|invalid gateway|Nexthop device is not up|Device for nexthop is not up/i, "Unreachable"],
  [/File exists|already exists|already assigned|Address already in use/i, "Exists"],
  [/Cannot find device|No such device|does not exist|not found|No such process|No such file or directory|Cannot open network namespace|Invalid "netns" value|Object not found|Peer netns reference is invalid/i, "NotFound"],
  [/Operation not permitted|Permission denied/i, "Permission"],
  [/Operation not supported|Unknown device type|not supported|Unknown type/i, "Unsupported"],
  [/Invalid argument|is wrong|Garbage instead of arguments|Error: (argument|either|an inet|inet prefix)|invalid|expected|Numerical result out of range|Not enough information|less than|greater than/i, "Invalid"],
];

/** The kind of an iproute2 error message. */
export function classifyStderr(stderr: string): IpRouteErrorKind {
  for (const [re, kind] of RULES) if (re.test(stderr)) return kind;
  return "Failed";
}

/**
 * Structural check instead of `instanceof`: the built `mod.js` and `testing.js` each carry their own
 * copy of the classes, and errors thrown by the fake must satisfy the predicates imported from mod.
 */
function kindOf(err: unknown): IpRouteErrorKind | undefined {
  if (err instanceof IpRouteError) return err.kind;
  if (err === null || typeof err !== "object" || (err as { [BRAND]?: unknown })[BRAND] !== true) return undefined;
  const kind = (err as { kind?: unknown }).kind;
  return typeof kind === "string" ? (kind as IpRouteErrorKind) : undefined;
}

/** Whether `err` says the device (or route, address, entry, namespace) does not exist. */
export function isNotFound(err: unknown): boolean {
  return kindOf(err) === "NotFound";
}

/** Whether `err` says the object already exists. */
export function isExists(err: unknown): boolean {
  return kindOf(err) === "Exists";
}

/** Whether `err` says a route's gateway is not reachable (e.g. "Nexthop has invalid gateway"). */
export function isUnreachable(err: unknown): boolean {
  return kindOf(err) === "Unreachable";
}
