/** vxlan's lease backend data, flannel's `vxlanLeaseAttrs`. */
export interface VxlanBackendData {
  readonly vni: number;
  /** The VTEP MAC, lower-case and colon-separated, e.g. `0e:2a:b1:00:00:01`. */
  readonly vtepMac: string;
}

const MAC_RE = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;
const MAC_DASH_RE = /^[0-9a-f]{2}(?:-[0-9a-f]{2}){5}$/i;

/**
 * The JSON object flannel publishes: `{"VNI":1,"VtepMAC":"0e:2a:…"}` — key order and casing as
 * flannel writes it, so `JSON.stringify` of the result is byte-identical to flanneld's annotation.
 * flannel stores VNI as uint16 here (vxlanLeaseAttrs), so VNIs above 65535 are refused rather
 * than silently truncated as flanneld would.
 */
export function formatVxlanBackendData(data: VxlanBackendData): { VNI: number; VtepMAC: string } {
  if (!Number.isInteger(data.vni) || data.vni < 0 || data.vni > 0xffff) {
    throw new RangeError(`vni: ${data.vni} does not fit flannel's 16-bit VNI field in backend data`);
  }
  return { VNI: data.vni, VtepMAC: normalizeMac(data.vtepMac) };
}

/**
 * Reads a peer's backend data (an object, or its JSON text as stored in annotations). Accepts
 * what Go's net.ParseMAC accepts for 6-byte addresses (colons or dashes) and matches keys
 * case-insensitively. Throws SyntaxError for anything else.
 */
export function parseVxlanBackendData(value: unknown): VxlanBackendData {
  let obj = value;
  if (typeof obj === "string") {
    try {
      obj = JSON.parse(obj);
    } catch (err) {
      throw new SyntaxError(`backendData: not JSON: ${(err as Error).message}`, { cause: err });
    }
  }
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) throw new SyntaxError("backendData: must be a JSON object");
  let vni: unknown;
  let mac: unknown;
  for (const [key, v] of Object.entries(obj)) {
    if (key.toLowerCase() === "vni") vni = v;
    else if (key.toLowerCase() === "vtepmac") mac = v;
  }
  if (vni === undefined) vni = 0;
  if (typeof vni !== "number" || !Number.isInteger(vni) || vni < 0 || vni > 0xffff) {
    throw new SyntaxError(`backendData.VNI: not a 16-bit integer: ${JSON.stringify(vni)}`);
  }
  if (typeof mac !== "string" || !(MAC_RE.test(mac) || MAC_DASH_RE.test(mac))) {
    throw new SyntaxError(`backendData.VtepMAC: not a MAC address: ${JSON.stringify(mac)}`);
  }
  return { vni, vtepMac: normalizeMac(mac) };
}

/** Lower-case, colon-separated form of a 6-byte MAC; throws SyntaxError otherwise. */
export function normalizeMac(mac: string): string {
  if (!(MAC_RE.test(mac) || MAC_DASH_RE.test(mac))) throw new SyntaxError(`not a MAC address: ${JSON.stringify(mac)}`);
  return mac.toLowerCase().replaceAll("-", ":");
}

/** Options for {@linkcode randomVtepMac}. */
export interface RandomVtepMacOptions {
  /** Source of random bytes; @default crypto.getRandomValues */
  random?: (n: number) => Uint8Array;
}

/** A random locally administered unicast MAC (`b[0] = (b[0] & 0xfe) | 0x02`), as flannel's mac.NewHardwareAddr. */
export function randomVtepMac(options: RandomVtepMacOptions = {}): string {
  const random = options.random ?? ((n: number) => crypto.getRandomValues(new Uint8Array(n)));
  const b = random(6);
  if (b.length !== 6) throw new RangeError("random: must return 6 bytes");
  b[0] = ((b[0] ?? 0) & 0xfe) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join(":");
}
