// List continue tokens in kube-apiserver's format (k8s.io/apiserver/pkg/storage/continue.go): unpadded base64url
// of the JSON `{"v":"meta.k8s.io/v1","rv":<revision>,"start":"<next key, relative to the list's key prefix>"}`.
// The start key is the last key the previous page looked at plus "\u0000", so it sorts right after it.
// `rv` -1 means "continue at the latest revision" (the inconsistent token a 410 answer carries).

/** The only token version the server understands. */
export const CONTINUE_TOKEN_VERSION = "meta.k8s.io/v1";

/** A decoded continue token. */
export interface ContinueToken {
  /** Revision of the list's snapshot, or -1 for "latest". */
  rv: number;
  /** First key (relative to the key prefix) the next page may contain. */
  start: string;
}

/** A token the server cannot use; the message is the text after kube-apiserver's "invalid continue token: ". */
export class ContinueTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ContinueTokenError";
  }
}

const NOT_VALID = "continue key is not valid";

/** Encodes the token for a list that goes on at key `start` of revision `rv`. */
export function encodeContinue(start: string, rv: number): string {
  return Buffer.from(JSON.stringify({ v: CONTINUE_TOKEN_VERSION, rv, start }), "utf8").toString("base64url");
}

/**
 * Decodes a token, with the checks of kube-apiserver's `DecodeContinue`: base64url without padding, a JSON object,
 * version `meta.k8s.io/v1`, a non-zero integer `rv`, a non-empty `start` that `path.Clean` would not change
 * (no `..`, `.`, `//` or trailing `/`, which would let a client range outside its key prefix).
 * @throws {ContinueTokenError}
 */
export function decodeContinue(token: string): ContinueToken {
  const bad = token.search(/[^A-Za-z0-9_-]/);
  if (bad >= 0) throw new ContinueTokenError(`${NOT_VALID}: illegal base64 data at input byte ${bad}`);
  if (token.length % 4 === 1) throw new ContinueTokenError(`${NOT_VALID}: illegal base64 data at input byte ${token.length - 1}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch (err) {
    throw new ContinueTokenError(`${NOT_VALID}: ${(err as Error).message}`);
  }
  if (parsed === null) parsed = {}; // Go's json.Unmarshal leaves the zero value for null
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new ContinueTokenError(`${NOT_VALID}: json: cannot unmarshal ${Array.isArray(parsed) ? "array" : typeof parsed} into Go value of type storage.continueToken`);
  }
  const fields = parsed as { v?: unknown; rv?: unknown; start?: unknown };
  const v = fields.v ?? "";
  const rv = fields.rv ?? 0;
  const start = fields.start ?? "";
  if (typeof v !== "string") throw new ContinueTokenError(`${NOT_VALID}: json: cannot unmarshal ${typeof v} into Go struct field continueToken.v of type string`);
  if (typeof rv !== "number" || !Number.isSafeInteger(rv)) {
    throw new ContinueTokenError(`${NOT_VALID}: json: cannot unmarshal ${typeof rv} into Go struct field continueToken.rv of type int64`);
  }
  if (typeof start !== "string") throw new ContinueTokenError(`${NOT_VALID}: json: cannot unmarshal ${typeof start} into Go struct field continueToken.start of type string`);
  if (v !== CONTINUE_TOKEN_VERSION) throw new ContinueTokenError(`${NOT_VALID}: server does not recognize this encoded version ${v}`);
  if (rv === 0) throw new ContinueTokenError(`${NOT_VALID}: incorrect encoded start resourceVersion (version meta.k8s.io/v1)`);
  if (start === "") throw new ContinueTokenError(`${NOT_VALID}: encoded start key empty (version meta.k8s.io/v1)`);
  const rooted = start.startsWith("/") ? start : `/${start}`;
  if (!isClean(rooted)) throw new ContinueTokenError(`${NOT_VALID}: ${start}`);
  return { rv, start: rooted.slice(1) };
}

/** Whether Go's `path.Clean` leaves a rooted path unchanged. */
function isClean(p: string): boolean {
  if (p.length > 1 && p.endsWith("/")) return false;
  if (p.includes("//")) return false;
  return !p.split("/").some((seg) => seg === "." || seg === "..");
}
