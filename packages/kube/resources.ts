import type { KubeObject, V1EndpointSlice, V1Node, V1Service } from "./types.ts";

/** Where a resource lives in the API and what its objects look like. */
export interface ResourceDescriptor<T extends KubeObject = KubeObject> {
  /** Object kind, e.g. `"Node"`. */
  readonly kind: string;
  /** `apiVersion` of its objects, e.g. `"v1"` or `"discovery.k8s.io/v1"`. */
  readonly apiVersion: string;
  /** Lower-case plural used in URLs, e.g. `"nodes"`. */
  readonly plural: string;
  /** Whether objects live in namespaces. */
  readonly namespaced: boolean;
  /** Phantom field carrying the object type; never set. */
  readonly _type?: T;
}

/** Nodes (`/api/v1/nodes`). */
export const NODES: ResourceDescriptor<V1Node> = { kind: "Node", apiVersion: "v1", plural: "nodes", namespaced: false };
/** Services (`/api/v1/services`). */
export const SERVICES: ResourceDescriptor<V1Service> = {
  kind: "Service",
  apiVersion: "v1",
  plural: "services",
  namespaced: true,
};
/** EndpointSlices (`/apis/discovery.k8s.io/v1/endpointslices`). */
export const ENDPOINT_SLICES: ResourceDescriptor<V1EndpointSlice> = {
  kind: "EndpointSlice",
  apiVersion: "discovery.k8s.io/v1",
  plural: "endpointslices",
  namespaced: true,
};

/** Options for {@linkcode resourcePath}. */
export interface ResourcePathOptions {
  /** Restrict to one namespace (namespaced resources only). @default undefined (all namespaces) */
  namespace?: string;
  /** One object's name. @default undefined (the collection) */
  name?: string;
  /** A subresource such as `"status"` (needs `name`). @default undefined */
  subresource?: string;
}

/**
 * The URL path of a resource collection or object, e.g. `/api/v1/nodes/n1/status` or
 * `/apis/discovery.k8s.io/v1/namespaces/default/endpointslices`.
 * @throws {TypeError} for a namespace on a cluster-scoped resource or a subresource without a name
 */
export function resourcePath(resource: ResourceDescriptor, options: ResourcePathOptions = {}): string {
  const base = resource.apiVersion.includes("/") ? `/apis/${resource.apiVersion}` : `/api/${resource.apiVersion}`;
  if (options.namespace !== undefined && !resource.namespaced) {
    throw new TypeError(`Cannot build path: ${resource.plural} are cluster-scoped but namespace "${options.namespace}" was given`);
  }
  if (options.subresource !== undefined && options.name === undefined) {
    throw new TypeError(`Cannot build path: subresource "${options.subresource}" needs a name`);
  }
  let path = base;
  if (options.namespace !== undefined) path += `/namespaces/${encodeURIComponent(options.namespace)}`;
  path += `/${resource.plural}`;
  if (options.name !== undefined) path += `/${encodeURIComponent(options.name)}`;
  if (options.subresource !== undefined) path += `/${options.subresource}`;
  return path;
}
