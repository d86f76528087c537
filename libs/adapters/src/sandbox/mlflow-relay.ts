import { chmod, chown, rm } from 'node:fs/promises';
import * as http from 'node:http';
import * as net from 'node:net';
import { relayVerdict, RelayScope } from './relay-policy';

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
/** JSON API bodies are read whole to check them; artifact uploads stream through unread. */
const MAX_JSON_BODY = 16 * 2 ** 20;

/**
 * The host end of a job's only way out: an HTTP proxy on a unix socket that forwards to MLflow
 * what the scope allows (the job's own run) and answers everything else 403. The destination is
 * fixed here; code in the sandbox cannot choose another one.
 */
export class MlflowRelay {
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: http.Server,
    readonly socketPath: string,
    private readonly target: { host: string; port: number },
    private readonly scope: RelayScope,
  ) {}

  static async start(
    socketPath: string,
    target: { host: string; port: number },
    scope: Omit<RelayScope, 'modelIds'>,
    owner?: { uid: number; gid: number },
  ): Promise<MlflowRelay> {
    await rm(socketPath, { force: true });
    const server = http.createServer();
    server.maxConnections = MAX_CONNECTIONS;
    const relay = new MlflowRelay(server, socketPath, target, { ...scope, modelIds: new Set() });
    server.on('connection', (socket) => {
      relay.sockets.add(socket);
      socket.on('close', () => relay.sockets.delete(socket));
    });
    server.on('request', (request, response) => void relay.handle(request, response));
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
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.socketPath, { force: true });
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://relay');
    const method = request.method ?? 'GET';
    const isJsonCall = /\/api\/2\.0\/mlflow\//.test(url.pathname) && method !== 'GET';
    let raw: Buffer | undefined;
    let body: Record<string, unknown> | undefined;
    try {
      if (isJsonCall) {
        raw = await readBody(request);
        body = raw.length > 0 ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
      }
    } catch (error) {
      return refuse(response, 400, `the relay could not read the request body: ${(error as Error).message}`);
    }
    const reason = relayVerdict({ method, path: url.pathname, query: url.searchParams, body }, this.scope);
    if (reason) return refuse(response, 403, `refused by the LeadersBoard sandbox: ${reason}`);

    const learnsModel = method === 'POST' && url.pathname.endsWith('/logged-models');
    const upstream = http.request(
      { host: this.target.host, port: this.target.port, method, path: request.url, headers: request.headers },
      (answer) => {
        if (!learnsModel) {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
          return;
        }
        void readBody(answer).then((text) => {
          const modelId = /"model_id"\s*:\s*"([^"]+)"/.exec(text.toString('utf8'))?.[1];
          if (modelId) this.scope.modelIds.add(modelId);
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          response.end(text);
        }, () => response.destroy());
      },
    );
    upstream.on('error', (error) => refuse(response, 502, `MLflow is unreachable from the relay: ${error.message}`));
    if (raw) upstream.end(raw);
    else request.pipe(upstream);
  }
}

function readBody(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_JSON_BODY) reject(new Error(`body larger than ${MAX_JSON_BODY} bytes`));
      else chunks.push(chunk);
    });
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

function refuse(response: http.ServerResponse, status: number, message: string): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const errorCode = status === 403 ? 'PERMISSION_DENIED' : status === 400 ? 'INVALID_PARAMETER_VALUE' : 'TEMPORARILY_UNAVAILABLE';
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ error_code: errorCode, message }));
}
