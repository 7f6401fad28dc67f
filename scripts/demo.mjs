#!/usr/bin/env node
// `npm run demo`: until the node agent lands (issue: weftd + testbed), this prints what the demo will do.
console.log(`Weft demo (not yet runnable: the node agent weftd and tools/testbed have not landed)

When they land, this command will, as root and entirely inside network namespaces it creates:
  1. build a 3-node cluster (underlay switch namespace, node namespaces on 198.18.0.0/15, Redis),
  2. start weftd in every node with the backend given by --backend (default vxlan),
  3. create pods through the real weft-cni binary,
  4. print nodes, subnets, backends and VTEP MACs, and a pod-to-pod reachability matrix,
  5. tear everything down (--keep leaves it running),
and end with: demo: <reachable>/<total> pod pairs reachable`);
