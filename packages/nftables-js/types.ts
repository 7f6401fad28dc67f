/**
 * The nftables object model: plain data, discriminated by `kind`.
 *
 * Objects never carry their table: an {@linkcode Nftables} handle (or a
 * {@linkcode Transaction}) is bound to one family + table, as in knftables.
 * Names are nft identifiers (`[A-Za-z0-9_./-]`, starting with a letter, `_` or `.`,
 * at most 256 characters); comments are at most 128 characters without quotes,
 * backslashes or control characters.
 *
 * @module
 */

/** The address families nftables-js manages. */
export type Family = "ip" | "ip6" | "inet";

/** Base chain types. */
export type ChainType = "filter" | "nat" | "route";

/** Base chain hooks (the `ip`/`ip6`/`inet` families). */
export type ChainHook = "prerouting" | "input" | "forward" | "output" | "postrouting";

/** Base chain policies. */
export type ChainPolicy = "accept" | "drop";

/** Symbolic base chain priorities, optionally offset (`"dstnat - 10"` is not accepted; use `"dstnat-10"`). */
export type PrioritySymbol = "raw" | "mangle" | "dstnat" | "filter" | "security" | "srcnat";

/** Set and map flags. */
export type SetFlag = "constant" | "dynamic" | "interval" | "timeout";

/** The table itself. Its family and name come from the {@linkcode Nftables} handle. */
export interface Table {
  readonly kind: "table";
  /** A comment stored with the table (at most 128 characters). */
  readonly comment?: string;
  /** Kernel handle; filled in by listing, ignored when rendering. */
  readonly handle?: number;
}

/** A regular chain (no `type`/`hook`), or a base chain (`type` + `hook` + `priority`). */
export interface Chain {
  readonly kind: "chain";
  readonly name: string;
  /** Base chains only: the chain type. */
  readonly type?: ChainType;
  /** Base chains only: the netfilter hook. */
  readonly hook?: ChainHook;
  /**
   * Base chains only: a number, a symbolic name (`"dstnat"`) or a symbolic name with an offset
   * (`"dstnat-10"`, `"srcnat+5"`). Symbolic names are rendered as numbers (knftables does the same),
   * so listing always gives a number back.
   */
  readonly priority?: number | PrioritySymbol | `${PrioritySymbol}${"+" | "-"}${number}`;
  /** Base chains only: the default verdict; the kernel reports `"accept"` when not set. */
  readonly policy?: ChainPolicy;
  readonly comment?: string;
  /** Kernel handle; filled in by listing. */
  readonly handle?: number;
}

/** A rule: free nft rule text plus an optional comment. */
export interface Rule {
  readonly kind: "rule";
  readonly chain: string;
  /**
   * The rule body in nft syntax (`ip daddr @cluster-ips reject`). No newlines, `;` or `#`;
   * braces and double quotes must be balanced. Listing returns the body as nft prints it.
   * Required except for `delete` (which needs only `chain` and `handle`).
   */
  readonly rule?: string;
  readonly comment?: string;
  /**
   * Position: with `add`, place after the rule at this 0-based index; with `insert`, before it.
   * Mutually exclusive with `handle` for positioning.
   */
  readonly index?: number;
  /**
   * Kernel handle: required by `replace` and `delete`; with `add`/`insert` it positions the
   * new rule after/before the rule with this handle. Filled in by listing.
   */
  readonly handle?: number;
}

/** Properties shared by sets and maps. */
interface SetLike {
  readonly name: string;
  /**
   * The key type (`"ipv4_addr"`, `"ipv4_addr . inet_proto . inet_service"`); for maps followed by
   * `" : "` and the value type (`"ipv4_addr . inet_proto . inet_service : verdict"`).
   * Required for `add`/`create`; `delete` and `flush` need only the name. Always set by listing.
   */
  readonly type?: string;
  readonly flags?: readonly SetFlag[];
  /** Default element timeout in seconds (needs the `timeout` flag or implies it). */
  readonly timeoutSeconds?: number;
  /** Maximum number of elements. */
  readonly size?: number;
  readonly comment?: string;
  /** Kernel handle; filled in by listing. */
  readonly handle?: number;
}

/** A named set. (Called `NftSet` so it does not shadow the global `Set`.) */
export interface NftSet extends SetLike {
  readonly kind: "set";
}

/** A named map, including verdict maps (`type … : verdict`). */
export interface NftMap extends SetLike {
  readonly kind: "map";
}

/** An element of a set (`set`) or a map (`map`): exactly one of the two names is given. */
export interface Element {
  readonly kind: "element";
  readonly set?: string;
  readonly map?: string;
  /** Key parts, joined with `" . "` for concatenated types (`["10.0.0.1", "tcp", "80"]`). */
  readonly key: readonly string[];
  /** Map elements: value parts (`["goto service-x"]`, `["drop"]`, `["10.0.0.2", "8080"]`). */
  readonly value?: readonly string[];
  readonly comment?: string;
  /** Per-element timeout in seconds (the set needs the `timeout` flag). */
  readonly timeoutSeconds?: number;
}

/** Anything a transaction operates on. */
export type NftObject = Table | Chain | Rule | NftSet | NftMap | Element;

/** Transaction verbs. */
export type Verb = "add" | "create" | "insert" | "replace" | "delete" | "flush";

/** One queued operation of a transaction. */
export interface Operation {
  readonly verb: Verb;
  readonly object: NftObject;
}

/** A rule as listing returns it: always with its text (as nft prints it) and its handle. */
export type ListedRule = Rule & { readonly rule: string; readonly handle: number };

/** A set as listing returns it: always with its type. */
export type ListedSet = NftSet & { readonly type: string };

/** A map as listing returns it: always with its type. */
export type ListedMap = NftMap & { readonly type: string };

/** A table read back from the kernel (or the fake), as the same objects used to write it. */
export interface Listing {
  readonly family: Family;
  readonly name: string;
  readonly table: Table;
  /** Chains in listing order. */
  readonly chains: readonly Chain[];
  /** Rules in order within each chain, chains in the order of `chains`; each has its text and `handle`. */
  readonly rules: readonly ListedRule[];
  readonly sets: readonly ListedSet[];
  readonly maps: readonly ListedMap[];
  /** Elements of every set and map (empty when listed with `elements: false`). */
  readonly elements: readonly Element[];
}

/** What {@linkcode Nftables.check} found out about this machine. */
export interface SupportReport {
  /** True when nft exists and the kernel accepted every feature. */
  readonly ok: boolean;
  /** `nft --version` output (`"nftables v1.0.6 (Lester Gooch #5)"`), or undefined when nft is missing. */
  readonly version?: string;
  /** Per feature: undefined when accepted, else nft's complaint. */
  readonly features: Readonly<Record<SupportFeature, string | undefined>>;
}

/** The kernel features Weft needs, probed by {@linkcode Nftables.check}. */
export type SupportFeature = "nft" | "comments" | "nat" | "ct" | "numgen" | "fib" | "setTimeouts" | "verdictMaps" | "concatenations";
