import { CniError } from "./cni_error.ts";
import { CNI_ERROR } from "./constants.ts";

/** The `CNI_ARGS` keys Weft understands (the ones Kubernetes runtimes send, plus `IP` and `MAC`). */
export const KNOWN_CNI_ARGS: readonly string[] = [
  "IgnoreUnknown",
  "K8S_POD_NAMESPACE",
  "K8S_POD_NAME",
  "K8S_POD_INFRA_CONTAINER_ID",
  "K8S_POD_UID",
  "IP",
  "MAC",
];

/** Options for {@linkcode parseCniArgs}. */
export interface ParseCniArgsOptions {
  /** Keys accepted without `IgnoreUnknown`; @default KNOWN_CNI_ARGS */
  known?: readonly string[];
}

/**
 * Parses `CNI_ARGS` (`K1=V1;K2=V2`) the way libcni's `LoadArgs` does: every pair must split on `=`
 * into exactly two parts, and an unknown key is an error unless `IgnoreUnknown` is `1`/`true`.
 * Errors are code 4 (invalid environment variables) naming CNI_ARGS and the pair.
 */
export function parseCniArgs(text: string | undefined, options: ParseCniArgsOptions = {}): Array<[string, string]> {
  if (text === undefined || text === "") return [];
  const pairs: Array<[string, string]> = [];
  for (const item of text.split(";")) {
    const kv = item.split("=");
    if (kv.length !== 2) {
      throw new CniError(CNI_ERROR.invalidEnvironment, `CNI_ARGS: invalid pair "${item}"`, {
        details: "every CNI_ARGS item must be KEY=VALUE, items separated by ';'",
      });
    }
    pairs.push([kv[0]!, kv[1]!]);
  }
  const ignore = pairs.some(([k, v]) => k === "IgnoreUnknown" && /^(1|true)$/i.test(v));
  if (!ignore) {
    const known = options.known ?? KNOWN_CNI_ARGS;
    const unknown = pairs.find(([k]) => !known.includes(k));
    if (unknown) {
      throw new CniError(CNI_ERROR.invalidEnvironment, `CNI_ARGS: unknown key "${unknown[0]}"`, {
        details: "set IgnoreUnknown=1 to ignore keys this plugin does not know",
      });
    }
  }
  return pairs;
}

/** The value of `key` in parsed CNI_ARGS, or undefined. */
export function cniArg(args: ReadonlyArray<readonly [string, string]>, key: string): string | undefined {
  return args.find(([k]) => k === key)?.[1];
}
