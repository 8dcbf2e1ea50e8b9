// Several credgate processes that share one database, for the cluster and chaos tests. Each
// gateway has its own data directory, ports and --instance-id, and all share the master key and
// the admin key (CREDGATE_MASTER_KEY, CREDGATE_ADMIN_KEY), as docs/cluster.md requires of a
// deployment. Every gateway gets the same --public-url, gateway 0's URL, so that sign-ins run
// through gateway 0: login sessions live in the memory of the process that created the login
// link, and tests create links through gateway 0's management API.
//
// With a `storeUrl` the gateways get `--store URL`, `--instance-id gw<i>` and, with
// `leaseTtlSeconds`, `--refresh-lease-ttl SECONDS`. Without one the gateway runs on SQLite in
// its data directory and gets none of these flags, which only makes sense for a cluster of one.

import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { Credgate } from './credgate.mjs';
import { freePort, kOutputDir } from './processes.mjs';

// A fixed master key for the tests (`id:base64` of 32 bytes), so that every gateway can open
// the tokens that another sealed.
export const kClusterMasterKey = `cluster-test:${Buffer.alloc(32, 0x5a).toString('base64')}`;

export class Cluster {
  // Allocates ports and data directories for `size` gateways named `<name>-gw<i>`. Options:
  // `storeUrl`, `leaseTtlSeconds`, `extraArgs` (for every gateway).
  static async create({ name, size, storeUrl, leaseTtlSeconds, extraArgs = [] }) {
    if (storeUrl === undefined && size !== 1) {
      throw new Error(`a cluster of ${size} gateways needs a storeUrl: SQLite is not shared`);
    }
    const ports = await Promise.all(Array.from({ length: 2 * size }, freePort));
    const publicUrl = `http://127.0.0.1:${ports[0]}`;
    const gateways = [];
    for (let index = 0; index < size; index += 1) {
      const instanceId = `gw${index}`;
      const clusterArgs = storeUrl === undefined ? [] : [
        '--store', storeUrl,
        '--instance-id', instanceId,
        ...(leaseTtlSeconds === undefined ? [] : ['--refresh-lease-ttl', String(leaseTtlSeconds)]),
      ];
      const gateway = new Credgate({
        gatewayPort: ports[2 * index],
        managementPort: ports[2 * index + 1],
        dataDir: mkdtempSync(join(kOutputDir, `${name}-${instanceId}-data-`)),
        name: `${name}-${instanceId}`,
        publicUrl,
        extraArgs: [...clusterArgs, ...extraArgs],
        env: { CREDGATE_MASTER_KEY: kClusterMasterKey },
      });
      gateway.instanceId = instanceId;
      gateways.push(gateway);
    }
    return new Cluster(gateways, publicUrl);
  }

  constructor(gateways, publicUrl) {
    this.gateways = gateways;
    this.publicUrl = publicUrl;
  }

  get size() {
    return this.gateways.length;
  }

  // Adds `url` to every gateway's post-login redirect allow-list. Call it before start(): the
  // backend's URL, the usual target, is known only once the backend has started, and the backend
  // needs the cluster's public URL first.
  allowPostLoginRedirect(url) {
    for (const gateway of this.gateways) gateway.args.push('--post-login-redirect-allow', url);
  }

  // Starts every gateway at once, so that their migrations race as in a rolling deployment.
  async start() {
    await Promise.all(this.gateways.map((gateway) => gateway.start()));
  }

  // SIGKILLs gateway `index` and resolves once it has exited.
  async kill(index) {
    await this.gateways[index].kill();
  }

  // Starts gateway `index` again, with the shared master key plus `env` (for example
  // {CREDGATE_FAULT_PAUSE: 'before_token_request'}), and resolves once it is healthy. A gateway
  // that is still running is stopped first.
  async restart(index, env = {}) {
    const gateway = this.gateways[index];
    await gateway.stop();
    gateway.env = { CREDGATE_MASTER_KEY: kClusterMasterKey, ...env };
    await gateway.start();
  }

  // Stops every gateway and deletes the data directories.
  async stop() {
    await Promise.all(this.gateways.map((gateway) => gateway.stop()));
    for (const gateway of this.gateways) rmSync(gateway.dataDir, { recursive: true, force: true });
  }

  // Returns the last `chars` characters of every gateway's output, for assertion messages. The
  // whole output is in .test-output/e2e/<name>-gw<i>-<start>.log.
  output(chars = 3000) {
    return this.gateways
      .map((gateway) => `--- ${gateway.name} (last ${chars} characters)\n${gateway.output.slice(-chars)}`)
      .join('\n');
  }
}
