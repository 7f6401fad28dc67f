// Spec constants: versions and error codes.

/** The spec versions this plugin accepts in a config and can print results for (oldest first). */
export const SUPPORTED_VERSIONS: readonly string[] = ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"];

/** The newest spec version implemented: VERSION answers with it when the request names none. */
export const IMPLEMENTED_VERSION = "1.1.0";

/** Error codes of the spec (SPEC.md "Error") and Weft's own (100+). */
export const CNI_ERROR = {
  /** Incompatible CNI version. */
  incompatibleVersion: 1,
  /** Unsupported field in the network config; the message names key and value. */
  unsupportedField: 2,
  /** Container unknown or does not exist. */
  unknownContainer: 3,
  /** Invalid necessary environment variables; the message names them. */
  invalidEnvironment: 4,
  /** I/O failure. */
  ioFailure: 5,
  /** Failed to decode content. */
  decodingFailure: 6,
  /** Invalid network config. */
  invalidNetworkConfig: 7,
  /** Try again later: a transient condition. */
  tryAgainLater: 11,
  /** STATUS: the plugin is not available. */
  pluginNotAvailable: 50,
  /** STATUS: not available, and existing containers may have limited connectivity. */
  pluginNotAvailableLimitedConnectivity: 51,
  /** Weft: a kernel or internal failure. */
  internal: 100,
  /** Weft: the CNI_NETNS path does not exist. */
  netnsNotFound: 101,
  /** Weft: no free address left in the node subnet. */
  addressesExhausted: 102,
  /** Weft: the (container, interface) pair is already set up. */
  alreadyExists: 103,
  /** Weft: a requested address (CNI_ARGS `IP`, `args.cni.ips`, `runtimeConfig.ips`) is held by another attachment. */
  addressNotAvailable: 104,
} as const;
