import type { Operation } from "./types.ts";

/** The few kinds every nftables-js failure is sorted into (the fake throws the same kinds). */
export type NftablesErrorKind =
  /** A table, chain, set, map, rule or element does not exist (ENOENT). */
  | "notFound"
  /** `create` of something that exists (EEXIST). */
  | "alreadyExists"
  /** Still in use: deleting a non-empty or referenced chain, a referenced set (EBUSY). */
  | "busy"
  /** Rejected before running (bad name, injection attempt) or nft's syntax/semantic errors. */
  | "invalid"
  /** nft missing, not permitted, timed out, or anything else. */
  | "failed";

/** Options for {@linkcode NftablesError}. */
export interface NftablesErrorOptions {
  /** The underlying error; @default undefined */
  cause?: unknown;
  /** The operation that failed, when known; @default undefined */
  operation?: Operation;
  /** Its index in the transaction; @default undefined */
  operationIndex?: number;
  /** nft's stderr, when nft ran; @default undefined */
  stderr?: string;
}

// A global brand, so that errors from a second copy of this module (the separately bundled
// `nftables-js/testing` entry) are still recognised by `instanceof` and the predicates.
const BRAND = Symbol.for("nftables-js.NftablesError");

/** A failure of an nft operation, sorted into a {@linkcode NftablesErrorKind}. */
export class NftablesError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  readonly kind: NftablesErrorKind;
  /** The failing operation, when it could be identified. */
  readonly operation?: Operation;
  /** Index of the failing operation in its transaction. */
  readonly operationIndex?: number;
  /** nft's stderr, when nft ran. */
  readonly stderr?: string;

  constructor(kind: NftablesErrorKind, message: string, options: NftablesErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "NftablesError";
    Object.defineProperty(this, BRAND, { value: true });
    this.kind = kind;
    if (options.operation) this.operation = options.operation;
    if (options.operationIndex !== undefined) this.operationIndex = options.operationIndex;
    if (options.stderr !== undefined) this.stderr = options.stderr;
  }
}

function hasKind(err: unknown, kind: NftablesErrorKind): boolean {
  return err instanceof NftablesError && err.kind === kind;
}

/** True when `err` says an object does not exist. */
export function isNotFound(err: unknown): boolean {
  return hasKind(err, "notFound");
}

/** True when `err` says an object already exists (`create`). */
export function isAlreadyExists(err: unknown): boolean {
  return hasKind(err, "alreadyExists");
}

/** True when `err` says an object is still in use (non-empty or referenced chain, referenced set). */
export function isBusy(err: unknown): boolean {
  return hasKind(err, "busy");
}

/** True when the transaction was rejected as invalid (validation before running, or nft's syntax errors). */
export function isInvalid(err: unknown): boolean {
  return hasKind(err, "invalid");
}

/**
 * Sorts one nft error message (the text after `Error: `) into a kind: errno texts as nft prints them
 * for kernel rejections, `invalid` for nft's own syntax and type errors.
 */
export function errorKindOf(message: string): NftablesErrorKind {
  if (/No such file or directory/i.test(message)) return "notFound";
  if (/File exists/i.test(message)) return "alreadyExists";
  if (/Device or resource busy/i.test(message)) return "busy";
  if (/Invalid argument|Operation not supported|Numerical result out of range/i.test(message)) return "invalid";
  if (/^Could not process rule:|Operation not permitted|not permitted|killed after|could not be started/i.test(message)) return "failed";
  return "invalid";
}
