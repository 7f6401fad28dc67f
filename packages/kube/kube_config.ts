import { existsSync, readFileSync } from "node:fs";
import { isIPv6 } from "node:net";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import type { Cluster, User } from "@kubernetes/client-node";

/** Where a service account's files are mounted in a pod. */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** Options for {@linkcode loadKubeConfig}. */
export interface LoadKubeConfigOptions {
  /** A kubeconfig file (flannel's `--kubeconfig-file`). Its current context is used. @default undefined */
  kubeconfigPath?: string;
  /**
   * The API server URL (flannel's `--kube-api-url`). With `kubeconfigPath` it replaces the server of the current
   * cluster; alone it gives an unauthenticated (or `token`) client. @default undefined
   */
  apiUrl?: string;
  /** Bearer token used with `apiUrl` alone. @default undefined (no Authorization header) */
  token?: string;
  /**
   * Use the pod's service account (`KUBERNETES_SERVICE_HOST`/`_PORT` + token + CA). When undefined, in-cluster config
   * is used only if neither `kubeconfigPath` nor `apiUrl` is given. @default undefined
   */
  inCluster?: boolean;
  /** Directory with `token`, `ca.crt` and `namespace`. @default "/var/run/secrets/kubernetes.io/serviceaccount" */
  serviceAccountDir?: string;
  /** Environment to read `KUBERNETES_SERVICE_HOST`/`KUBERNETES_SERVICE_PORT` from. @default process.env */
  env?: Record<string, string | undefined>;
}

/** No usable configuration was found, or a file could not be read. Carries the source that failed. */
export class KubeConfigError extends Error {
  /** The file or environment variable that was missing or bad. */
  readonly source: string;
  constructor(message: string, source: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "KubeConfigError";
    this.source = source;
  }
}

/**
 * Builds a client-node `KubeConfig` from a kubeconfig file, an explicit API URL, or the in-cluster service
 * account, in flannel's order: `apiUrl`/`kubeconfigPath` when given, otherwise in-cluster.
 * @throws {KubeConfigError} when nothing is configured or a file is unreadable
 * @throws {TypeError} when `apiUrl` is not an http(s) URL
 */
export function loadKubeConfig(options: LoadKubeConfigOptions = {}): KubeConfig {
  const kc = new KubeConfig();
  const useCluster = options.inCluster ?? (options.kubeconfigPath === undefined && options.apiUrl === undefined);
  if (options.apiUrl !== undefined) checkUrl(options.apiUrl);
  if (useCluster) {
    loadInCluster(kc, options);
  } else if (options.kubeconfigPath !== undefined) {
    if (!existsSync(options.kubeconfigPath)) {
      throw new KubeConfigError(`Cannot load kubeconfig: file ${options.kubeconfigPath} does not exist`, options.kubeconfigPath);
    }
    try {
      kc.loadFromFile(options.kubeconfigPath);
    } catch (cause) {
      throw new KubeConfigError(`Cannot load kubeconfig: ${options.kubeconfigPath}: ${(cause as Error).message}`, options.kubeconfigPath, { cause });
    }
    if (!kc.getCurrentCluster()) {
      throw new KubeConfigError(`Cannot load kubeconfig: ${options.kubeconfigPath} has no current context with a cluster`, options.kubeconfigPath);
    }
  }
  if (options.apiUrl !== undefined) {
    const current = kc.getCurrentCluster();
    if (current) {
      const url = options.apiUrl;
      const clusters = kc.clusters.map((c): Cluster =>
        c.name === current.name ? { ...c, server: url, skipTLSVerify: c.skipTLSVerify || url.startsWith("http:") } : c
      );
      kc.loadFromOptions({ clusters, contexts: kc.contexts, users: kc.users, currentContext: kc.currentContext });
    } else {
      const user: User = options.token !== undefined ? { name: "weft", token: options.token } : { name: "weft" };
      // client-node 1.x refuses http:// unless skipTLSVerify is set; plain http has no TLS to verify anyway.
      kc.loadFromClusterAndUser({ name: "weft", server: options.apiUrl, skipTLSVerify: options.apiUrl.startsWith("http:") }, user);
    }
  }
  return kc;
}

function checkUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new TypeError(`Cannot load kube config: apiUrl "${url}" is not a URL`, { cause });
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new TypeError(`Cannot load kube config: apiUrl "${url}" must use http or https`);
  }
}

function loadInCluster(kc: KubeConfig, options: LoadKubeConfigOptions): void {
  const env = options.env ?? process.env;
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    throw new KubeConfigError(
      "Cannot load in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set (or give kubeconfigPath or apiUrl)",
      "KUBERNETES_SERVICE_HOST",
    );
  }
  const dir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const tokenFile = join(dir, "token");
  if (!existsSync(tokenFile)) {
    throw new KubeConfigError(`Cannot load in-cluster config: service account token ${tokenFile} does not exist`, tokenFile);
  }
  const caFile = join(dir, "ca.crt");
  const server = `https://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  const cluster: Cluster = existsSync(caFile)
    ? { name: "inCluster", server, caFile, skipTLSVerify: false }
    : { name: "inCluster", server, skipTLSVerify: false };
  const nsFile = join(dir, "namespace");
  const namespace = existsSync(nsFile) ? readFileSync(nsFile, "utf8").trim() : undefined;
  kc.loadFromOptions({
    clusters: [cluster],
    // The tokenFile auth provider re-reads the (rotated) token every 60 s, as client-go does.
    users: [{ name: "inClusterUser", authProvider: { name: "tokenFile", config: { tokenFile } } }],
    contexts: [{ name: "inClusterContext", cluster: "inCluster", user: "inClusterUser", ...(namespace ? { namespace } : {}) }],
    currentContext: "inClusterContext",
  });
}
