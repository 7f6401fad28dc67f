/**
 * The error thrown for an invalid net-conf.json.
 *
 * @module
 */
import type { NetConf } from "./types.ts";

/** Which part of the configuration a {@linkcode NetConfError} is about: a {@linkcode NetConf} field, or `"document"` for the JSON text itself. */
export type NetConfField = keyof NetConf | "document";

/** Options of the {@linkcode NetConfError} constructor. */
export interface NetConfErrorOptions {
  /** The underlying error, if any. @default undefined */
  cause?: unknown;
}

/**
 * An invalid network configuration. `message` is flannel's exact text where flannel has one
 * (e.g. `SubnetLen must be less than /31`), so logs read the same as flanneld's; otherwise it is
 * close to what Go's encoding/json says. `field` names the offending {@linkcode NetConf} field.
 *
 * @example
 * ```ts
 * import { NetConfError, parseNetConf } from "@weft/netconf";
 * try {
 *   parseNetConf('{"Network": "10.0.0.0/30"}');
 * } catch (err) {
 *   if (err instanceof NetConfError) console.error(err.field, err.message); // "network" "network is too small. ..."
 * }
 * ```
 */
export class NetConfError extends Error {
  /** The offending field. */
  readonly field: NetConfField;

  constructor(message: string, field: NetConfField, options: NetConfErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "NetConfError";
    this.field = field;
  }
}
