import { Batch, type BatchOp } from "./batch.ts";
import { BatchError } from "./ip_route_error.ts";
import type {
  AddressOps, ApplyOptions, FdbOps, IpRoute, LinkOps, ListAddressesOptions, ListFdbOptions, ListLinksOptions,
  ListNeighboursOptions, ListRoutesOptions, MonitorOptions, NeighOps, RouteOps, SysctlOps,
} from "./ip_route.ts";
import type { Address, FdbEntry, IpEvent, IpFamily, Link, Neighbour, Route } from "./types.ts";

/**
 * The grouped single-operation API (`ip.link.add()`, `ip.route.replace()`, ...) on top of
 * `apply()` and a few readers, shared by the real implementation and the fake so both behave the
 * same: a single operation is a one-operation batch whose failure is rethrown unwrapped.
 */
export abstract class IpRouteBase implements IpRoute {
  abstract readonly netns: string | undefined;
  abstract apply(batch: Batch, options?: ApplyOptions): Promise<void>;
  abstract monitor(options?: MonitorOptions): AsyncIterable<IpEvent>;
  protected abstract listLinks(options: ListLinksOptions): Promise<Link[]>;
  protected abstract getLink(name: string): Promise<Link | undefined>;
  protected abstract listAddresses(options: ListAddressesOptions): Promise<Address[]>;
  protected abstract listRoutes(options: ListRoutesOptions): Promise<Route[]>;
  protected abstract getRoute(address: string): Promise<Route | undefined>;
  protected abstract listNeighbours(options: ListNeighboursOptions): Promise<Neighbour[]>;
  protected abstract listFdb(options: ListFdbOptions): Promise<FdbEntry[]>;
  protected abstract sysctlGet(key: string): Promise<string>;
  protected abstract sysctlSet(key: string, value: string | number): Promise<void>;

  batch(): Batch {
    return new Batch();
  }

  protected async one(op: BatchOp): Promise<void> {
    const b = new Batch().push(op);
    try {
      await this.apply(b);
    } catch (err) {
      if (err instanceof BatchError && err.failures.length === 1 && err.failures[0]) throw err.failures[0];
      throw err;
    }
  }

  readonly link: LinkOps = {
    add: (spec) => this.one({ op: "link.add", spec }),
    set: (name, changes) => this.one({ op: "link.set", name, changes }),
    delete: (name) => this.one({ op: "link.delete", name }),
    list: (options = {}) => this.listLinks(options),
    get: (name) => this.getLink(name),
  };

  readonly address: AddressOps = {
    add: (spec) => this.one({ op: "address.add", spec }),
    replace: (spec) => this.one({ op: "address.replace", spec }),
    delete: (spec) => this.one({ op: "address.delete", spec }),
    flush: (dev, options: { readonly family?: IpFamily } = {}) =>
      this.one({ op: "address.flush", dev, ...(options.family ? { family: options.family } : {}) }),
    list: (options = {}) => this.listAddresses(options),
  };

  readonly route: RouteOps = {
    add: (spec) => this.one({ op: "route.add", spec }),
    replace: (spec) => this.one({ op: "route.replace", spec }),
    delete: (spec) => this.one({ op: "route.delete", spec }),
    list: (options = {}) => this.listRoutes(options),
    get: (address) => this.getRoute(address),
  };

  readonly neigh: NeighOps = {
    add: (spec) => this.one({ op: "neigh.add", spec }),
    replace: (spec) => this.one({ op: "neigh.replace", spec }),
    delete: (spec) => this.one({ op: "neigh.delete", spec }),
    list: (options = {}) => this.listNeighbours(options),
  };

  readonly fdb: FdbOps = {
    add: (spec) => this.one({ op: "fdb.add", spec }),
    append: (spec) => this.one({ op: "fdb.append", spec }),
    replace: (spec) => this.one({ op: "fdb.replace", spec }),
    delete: (spec) => this.one({ op: "fdb.delete", spec }),
    list: (options = {}) => this.listFdb(options),
  };

  readonly sysctl: SysctlOps = {
    get: (key) => this.sysctlGet(key),
    set: (key, value) => this.sysctlSet(key, value),
  };
}
