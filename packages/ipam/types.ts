/** Shared data types of @weft/ipam: plain readonly data, operated on by free functions. */

/** An address family: 4 for IPv4, 6 for IPv6. */
export type IpFamily = 4 | 6;

/** One IP address. `address` is the canonical text form (dotted quad; RFC 5952 for IPv6, as Go's `net.IP.String()`). */
export interface IpAddr {
  readonly family: IpFamily;
  readonly address: string;
}

/** A CIDR block. `address` is always the network address (host bits cleared), in canonical text form. */
export interface Cidr {
  readonly family: IpFamily;
  readonly address: string;
  readonly prefixLength: number;
}

/** Who holds a pod address: a container id and the interface name inside it (CNI_CONTAINERID, CNI_IFNAME). */
export interface IpamAttachment {
  readonly containerId: string;
  readonly ifname: string;
}

/**
 * One reserved pod address. `ifname` is `undefined` for state written by old host-local versions
 * (a file holding only the container id), and `containerId` is `undefined` when the store knows the
 * address is taken but not by whom (yet).
 */
export interface IpamReservation {
  readonly ip: IpAddr;
  readonly containerId: string | undefined;
  readonly ifname: string | undefined;
}

/** Options for {@linkcode IpamStore.reserve}. */
export interface IpamReserveOptions {
  /** The range set this address belongs to; its `last_reserved_ip.<n>` is updated. @default 0 */
  rangeSetIndex?: number;
}

/** Options for {@linkcode IpamStore.release}. */
export interface IpamReleaseOptions {
  /**
   * Free the address only while it is still held by this attachment (an entry holding only this
   * container id also matches). Guards against freeing an address that another process has
   * meanwhile released and handed to someone else. @default undefined (free whoever holds it)
   */
  owner?: IpamAttachment;
}

/** Options for {@linkcode IpamStore.sync}. */
export interface IpamSyncOptions {
  /**
   * Re-read every entry, not only new, vanished and owner-unknown ones (a store may otherwise trust
   * owners it already knows; reads that matter, such as lookups and owner-checked releases, confirm them). @default false
   */
  full?: boolean;
}

/**
 * Where pod-address reservations live (host-local's `backend.Store`, without its lock: every
 * implementation makes `reserve` atomic by itself). Implementations: {@linkcode MemoryIpamStore}
 * (also the fake for tests) and {@linkcode DiskIpamStore} (host-local's on-disk format).
 * All methods are safe to call concurrently.
 */
export interface IpamStore {
  /**
   * Reserves `ip` for `attachment` atomically: true when this call took it, false when it was
   * already taken. On success the range set's last reserved address becomes `ip`.
   */
  reserve(ip: IpAddr, attachment: IpamAttachment, options?: IpamReserveOptions): Promise<boolean>;
  /** The last address reserved in a range set (host-local's `last_reserved_ip.<n>`), if any. */
  lastReserved(rangeSetIndex: number): Promise<IpAddr | undefined>;
  /** Frees one address; true when this call freed it. */
  release(ip: IpAddr, options?: IpamReleaseOptions): Promise<boolean>;
  /**
   * The reservations of `attachment` (host-local's `GetByID`): entries with the same container id and
   * ifname, plus entries written by old host-local versions that carry only the same container id
   * (their `ifname` is `undefined`). Container ids are compared with surrounding whitespace trimmed.
   */
  findByAttachment(attachment: IpamAttachment): Promise<IpamReservation[]>;
  /** Every reservation, sorted by address. */
  list(): Promise<IpamReservation[]>;
  /** Re-reads state that other processes may have changed (a no-op for in-memory stores). */
  sync(options?: IpamSyncOptions): Promise<void>;
  /** Releases resources; the store must not be used afterwards. */
  close(): Promise<void>;
}
