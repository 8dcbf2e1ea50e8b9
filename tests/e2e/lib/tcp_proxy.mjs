// A TCP proxy on 127.0.0.1 that a test can cut and restore, to take a server away from the
// processes that connect through it without stopping the server, which other tests may share.

import { connect, createServer } from 'node:net';

export class TcpProxy {
  // Starts a proxy to `targetHost`:`targetPort` on a free loopback port. Resolves with the proxy.
  static async start(targetHost, targetPort) {
    const proxy = new TcpProxy(targetHost, targetPort);
    await new Promise((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', resolve);
    });
    proxy.port = proxy.server.address().port;
    return proxy;
  }

  constructor(targetHost, targetPort) {
    this.cut = false;
    this.sockets = new Set();
    this.server = createServer((client) => this.accept(client, targetHost, targetPort));
  }

  accept(client, targetHost, targetPort) {
    if (this.cut) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, targetHost);
    for (const [socket, peer] of [[client, upstream], [upstream, client]]) {
      this.sockets.add(socket);
      socket.on('error', () => peer.destroy());
      socket.on('close', () => {
        this.sockets.delete(socket);
        peer.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }

  // Closes every open connection and closes each new one at once, as a server that went away.
  disconnect() {
    this.cut = true;
    for (const socket of this.sockets) socket.destroy();
  }

  // Lets new connections through again.
  reconnect() {
    this.cut = false;
  }

  async close() {
    this.disconnect();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
