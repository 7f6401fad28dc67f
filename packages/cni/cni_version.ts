import { CniError } from "./cni_error.ts";
import { CNI_ERROR, SUPPORTED_VERSIONS } from "./constants.ts";

function parts(version: string): [number, number, number] | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/**
 * Compares two spec versions (`"0.3.1"` < `"1.0.0"`). Throws `SyntaxError` on a version that is
 * not `MAJOR.MINOR.PATCH`.
 */
export function compareVersions(a: string, b: string): number {
  const pa = parts(a);
  const pb = parts(b);
  if (!pa) throw new SyntaxError(`Cannot compare CNI versions: "${a}" is not MAJOR.MINOR.PATCH`);
  if (!pb) throw new SyntaxError(`Cannot compare CNI versions: "${b}" is not MAJOR.MINOR.PATCH`);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return 0;
}

/** True when `version` is one this plugin accepts (`SUPPORTED_VERSIONS`). */
export function isSupportedVersion(version: string): boolean {
  return SUPPORTED_VERSIONS.includes(version);
}

/**
 * Throws the spec's code 1 unless `version` (a config's `cniVersion`; a missing one counts as
 * "0.1.0", as in libcni's skel) is supported.
 */
export function checkVersion(version: string | undefined): string {
  const v = version === undefined || version === "" ? "0.1.0" : version;
  if (!isSupportedVersion(v)) {
    throw new CniError(CNI_ERROR.incompatibleVersion, "incompatible CNI versions", {
      details: `config is "${v}", plugin supports [${SUPPORTED_VERSIONS.map((s) => `"${s}"`).join(" ")}]`,
    });
  }
  return v;
}

/**
 * Throws code 1 when `command` does not exist in `version`: CHECK needs 0.4.0, STATUS and GC 1.1.0.
 */
export function checkCommandVersion(command: string, version: string): void {
  const needs = command === "CHECK" ? "0.4.0" : command === "STATUS" || command === "GC" ? "1.1.0" : undefined;
  if (needs && compareVersions(version, needs) < 0) {
    throw new CniError(CNI_ERROR.incompatibleVersion, `config version does not allow ${command}`, {
      details: `cniVersion "${version}" is older than ${needs}, the first version with ${command}`,
    });
  }
}
