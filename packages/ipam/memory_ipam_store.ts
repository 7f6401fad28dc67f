import { heldBy } from "./_reservation.ts";
import { compareIp } from "./compare_ip.ts";
import type { IpAddr, IpamAttachment, IpamReleaseOptions, IpamReservation, IpamReserveOptions, IpamStore, IpamSyncOptions } from "./types.ts";

/** Options for {@linkcode MemoryIpamStore}. */
export interface MemoryIpamStoreOptions {
  /** Reservations to start with (e.g. to seed a test). @default [] */
  reservations?: Iterable<IpamReservation>;
  /** Last reserved address per range-set index to start with. @default {} */
  lastReserved?: Readonly<Record<number, IpAddr>>;
}

const key = (ip: IpAddr) => `${ip.family}/${ip.address}`;

/**
 * An {@linkcode IpamStore} in memory: for one process (e.g. a warm CNI server whose state needs no
 * persistence) and as the fake in tests. Same semantics as the disk store.
 */
export class MemoryIpamStore implements IpamStore {
  readonly #entries = new Map<string, IpamReservation>();
  /** containerId -> keys of its entries. */
  readonly #byId = new Map<string, Set<string>>();
  readonly #last = new Map<number, IpAddr>();

  constructor(options: MemoryIpamStoreOptions = {}) {
    for (const r of options.reservations ?? []) this.#put(key(r.ip), r);
    for (const [i, ip] of Object.entries(options.lastReserved ?? {})) this.#last.set(Number(i), ip);
  }

  async reserve(ip: IpAddr, attachment: IpamAttachment, options: IpamReserveOptions = {}): Promise<boolean> {
    const k = key(ip);
    if (this.#entries.has(k)) return false;
    this.#put(k, { ip, containerId: attachment.containerId.trim(), ifname: attachment.ifname });
    this.#last.set(options.rangeSetIndex ?? 0, ip);
    return true;
  }

  async lastReserved(rangeSetIndex: number): Promise<IpAddr | undefined> {
    return this.#last.get(rangeSetIndex);
  }

  async release(ip: IpAddr, options: IpamReleaseOptions = {}): Promise<boolean> {
    const k = key(ip);
    const r = this.#entries.get(k);
    if (!r) return false;
    if (options.owner && !heldBy(r, options.owner)) return false;
    this.#del(k);
    return true;
  }

  #put(k: string, r: IpamReservation): void {
    this.#del(k);
    this.#entries.set(k, r);
    if (r.containerId === undefined) return;
    let keys = this.#byId.get(r.containerId);
    if (!keys) this.#byId.set(r.containerId, (keys = new Set()));
    keys.add(k);
  }

  #del(k: string): void {
    const old = this.#entries.get(k);
    this.#entries.delete(k);
    if (old?.containerId === undefined) return;
    const keys = this.#byId.get(old.containerId);
    keys?.delete(k);
    if (keys?.size === 0) this.#byId.delete(old.containerId);
  }

  async findByAttachment(attachment: IpamAttachment): Promise<IpamReservation[]> {
    const out: IpamReservation[] = [];
    for (const k of this.#byId.get(attachment.containerId.trim()) ?? []) {
      const r = this.#entries.get(k);
      if (r && heldBy(r, attachment)) out.push(r);
    }
    return out.sort((a, b) => compareIp(a.ip, b.ip));
  }

  async list(): Promise<IpamReservation[]> {
    return [...this.#entries.values()].sort((a, b) => compareIp(a.ip, b.ip));
  }

  async sync(_options?: IpamSyncOptions): Promise<void> {}

  async close(): Promise<void> {}
}
