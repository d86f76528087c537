import { chmod, chown, rm } from 'node:fs/promises';
import * as net from 'node:net';

/** Where the relay connects, and how code in the sandbox names MLflow. */
export interface RelayAddress {
  target: { host: string; port: number };
  /** Resolves to 127.0.0.1 inside (generated /etc/hosts), where the launcher's forwarder listens. */
  insideHost: string;
  /** MLFLOW_TRACKING_URI inside. */
  insideUri: string;
}

/**
 * Same port, and the same host name when the URI has one, so MLflow's Host header check
 * (--allowed-hosts) sees the name it serves. An IP address becomes 127.0.0.1 inside.
 */
export function relayAddress(trackingUri: string): RelayAddress {
  const url = new URL(trackingUri);
  const port = Number(url.port || 80);
  if (url.protocol !== 'http:') throw new Error(`the sandbox relays plain HTTP only; MLFLOW_TRACKING_URI is ${trackingUri}`);
  if (port < 1024) throw new Error(`the sandbox cannot listen on port ${port} (below 1024); give MLflow a higher port`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const insideHost = net.isIP(host) ? '127.0.0.1' : host;
  return { target: { host, port }, insideHost, insideUri: `http://${insideHost}:${port}${url.pathname.replace(/\/$/, '')}` };
}

/** Enough for MLflow's client (a small connection pool); more is a job hammering the server. */
const MAX_CONNECTIONS = 32;

/**
 * The host end of a job's only way out: a unix socket whose every connection is piped to MLflow's
 * TCP port. The destination is fixed here; code in the sandbox cannot choose another one.
 */
export class MlflowRelay {
  private readonly connections = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    readonly socketPath: string,
  ) {}

  static async start(
    socketPath: string,
    target: { host: string; port: number },
    owner?: { uid: number; gid: number },
  ): Promise<MlflowRelay> {
    await rm(socketPath, { force: true });
    const server = net.createServer();
    server.maxConnections = MAX_CONNECTIONS;
    const relay = new MlflowRelay(server, socketPath);
    server.on('connection', (client) => relay.pipe(client, target));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // Only the job's uid may connect (and root, which is us).
    if (owner) await chown(socketPath, owner.uid, owner.gid);
    await chmod(socketPath, 0o600);
    return relay;
  }

  async close(): Promise<void> {
    for (const connection of this.connections) connection.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.socketPath, { force: true });
  }

  private pipe(client: net.Socket, target: { host: string; port: number }): void {
    const upstream = net.connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      this.connections.add(socket);
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      socket.on('close', () => this.connections.delete(socket));
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
