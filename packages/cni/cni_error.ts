import type { CniErrorJson } from "./types.ts";

/** Options for {@linkcode CniError}. */
export interface CniErrorOptions {
  /** Longer explanation printed as `details`; @default none */
  details?: string;
  /** The underlying error; @default none */
  cause?: unknown;
}

/**
 * A failure with a CNI error code (`CNI_ERROR`), printed by the dispatcher as the spec's error
 * JSON on stdout with exit code 1. Any other thrown error becomes code 100 (Weft internal).
 */
export class CniError extends Error {
  readonly code: number;
  readonly details: string | undefined;
  constructor(code: number, msg: string, options: CniErrorOptions = {}) {
    super(msg, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CniError";
    this.code = code;
    this.details = options.details;
  }

  /** The spec's error object for `cniVersion`. */
  toJSON(cniVersion: string): CniErrorJson {
    const out: CniErrorJson = { cniVersion, code: this.code, msg: this.message };
    if (this.details !== undefined && this.details !== "") out.details = this.details;
    return out;
  }
}

/** True when `err` is a {@linkcode CniError} (optionally with the given code). */
export function isCniError(err: unknown, code?: number): err is CniError {
  return err instanceof CniError && (code === undefined || err.code === code);
}
