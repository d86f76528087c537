import { chmod, chown, rm } from 'node:fs/promises';
import * as http from 'node:http';
import * as net from 'node:net';
import { checkJsonBody, RelayRoute, RelayScope, routeRequest } from './relay-policy';
import { JsonSyntaxError, parseStrictJson, stringifyJson } from '../support/strict-json';

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

export interface RelayLimits {
  /** Largest JSON API body (default 1 MiB, the most MLflow itself accepts for log-batch). */
  maxJsonBytes?: number;
  /** Artifact bytes the job may upload in all (default 1 GiB); the runner passes the job's disk cap. */
  maxArtifactBytes?: number;
  /** Concurrent connections (default 8: MLflow's client uses a few at most). */
  maxConnections?: number;
  /** Limit for one request, from its first byte to the end of MLflow's answer (default 10 min). */
  requestTimeoutMs?: number;
  /** A connection silent this long is closed (default 60 s), so a stalled one frees its slot. */
  idleTimeoutMs?: number;
}

const DEFAULTS: Required<RelayLimits> = {
  maxJsonBytes: 2 ** 20,
  maxArtifactBytes: 2 ** 30,
  maxConnections: 8,
  requestTimeoutMs: 600_000,
  idleTimeoutMs: 60_000,
};

/** Request headers MLflow gets from a job; everything else (auth, X-Forwarded-*, Expect, framing) stays here. */
const FORWARDED_HEADERS = ['accept', 'user-agent', 'x-mlflow-client-version'];
/** How much of a refused body is read and dropped before the connection is cut. */
const DRAIN_BYTES = 8 * 2 ** 20;
const ERROR_CODES: Record<number, string> = {
  400: 'INVALID_PARAMETER_VALUE',
  403: 'PERMISSION_DENIED',
  413: 'RESOURCE_LIMIT_EXCEEDED',
  415: 'INVALID_PARAMETER_VALUE',
  503: 'TEMPORARILY_UNAVAILABLE',
};
/** Hop-by-hop: ours to set on each side, never passed along. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authenticate', 'proxy-authorization']);

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The host end of a job's only way out: an HTTP proxy on a unix socket that forwards to MLflow
 * the calls the policy allows (the job's own run and logged models, see relay-policy.ts),
 * rebuilt from what was checked, and answers everything else 403. The destination is fixed here;
 * code in the sandbox cannot choose another one.
 */
export class MlflowRelay {
  private readonly sockets = new Set<net.Socket>();
  private readonly overCap = new WeakSet<net.Socket>();
  private readonly limits: Required<RelayLimits>;
  private readonly hostHeader: string;
  private artifactBytes = 0;
  /** Requests being handled now: pipelined requests share a socket, so sockets alone do not bound them. */
  private inFlight = 0;
  /** MLflow sees at most maxConnections sockets from this job, reused between calls. */
  private readonly agent: http.Agent;

  private constructor(
    private readonly server: http.Server,
    readonly socketPath: string,
    private readonly target: { host: string; port: number },
    private readonly scope: RelayScope,
    limits: RelayLimits,
  ) {
    this.limits = { ...DEFAULTS, ...limits };
    this.agent = new http.Agent({ keepAlive: true, maxSockets: this.limits.maxConnections });
    this.hostHeader = `${net.isIPv6(target.host) ? `[${target.host}]` : target.host}:${target.port}`;
  }

  static async start(
    socketPath: string,
    target: { host: string; port: number },
    scope: Omit<RelayScope, 'modelIds'>,
    owner?: { uid: number; gid: number },
    limits: RelayLimits = {},
  ): Promise<MlflowRelay> {
    await rm(socketPath, { force: true });
    const server = http.createServer({ requestTimeout: limits.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs, headersTimeout: 10_000 });
    const relay = new MlflowRelay(server, socketPath, target, { ...scope, modelIds: new Set() }, limits);
    // Past twice the cap, connections are dropped unanswered; between the two they get a 503.
    server.maxConnections = relay.limits.maxConnections * 2;
    server.keepAliveTimeout = 5_000;
    server.setTimeout(relay.limits.idleTimeoutMs, (socket) => socket.destroy());
    server.on('connection', (socket: net.Socket) => {
      if (relay.sockets.size >= relay.limits.maxConnections) relay.overCap.add(socket);
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

  /** Connections from the job open now. */
  get openConnections(): number {
    return this.sockets.size;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.agent.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.socketPath, { force: true });
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const method = request.method ?? 'GET';
    try {
      if (this.overCap.has(request.socket)) {
        throw new Refusal(503, `more than ${this.limits.maxConnections} connections at once from this job; retry when one is done`);
      }
      if (this.inFlight >= this.limits.maxConnections) {
        throw new Refusal(503, `more than ${this.limits.maxConnections} requests at once from this job (pipelined ones count too); retry when one is done`);
      }
      this.inFlight += 1;
      response.once('close', () => (this.inFlight -= 1));
      const routing = routeRequest(method, request.url ?? '', this.scope);
      if (!routing.ok) throw new Refusal(403, routing.reason);
      const { route } = routing;
      if (route.kind === 'json') await this.forwardJson(route, request, response);
      else if (route.kind === 'upload') await this.forwardUpload(route, request, response);
      else await this.forward(route, request, response);
    } catch (error) {
      if (error instanceof Refusal) this.refuse(request, response, error.status, error.message);
      else this.refuse(request, response, 502, `the relay could not reach MLflow: ${(error as Error).message}`);
    }
  }

  private async forwardJson(route: Extract<RelayRoute, { kind: 'json' }>, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const type = request.headers['content-type'] ?? '';
    if (!/^application\/json\s*(?:;\s*charset=utf-8\s*)?$/i.test(type)) {
      throw new Refusal(415, `${route.call} takes a JSON body: send Content-Type: application/json`);
    }
    const raw = await readCapped(request, this.limits.maxJsonBytes, route.call);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      throw new Refusal(400, `${route.call}: the body is not valid UTF-8`);
    }
    let body;
    try {
      body = parseStrictJson(text);
    } catch (error) {
      if (error instanceof JsonSyntaxError) throw new Refusal(400, `${route.call}: the body is not JSON the relay accepts: ${error.message}`);
      throw error;
    }
    const problem = checkJsonBody(route, body, this.scope);
    if (problem) throw new Refusal(403, problem);
    const checked = Buffer.from(stringifyJson(body), 'utf8');
    const headers = { ...this.baseHeaders(request), 'content-type': 'application/json', 'content-length': String(checked.length) };
    const answer = await this.send(request, headers, (upstream) => upstream.end(checked));
    if (route.names === 'new-model') await this.learnModel(answer, response);
    else relayAnswer(answer, response);
  }

  private async forwardUpload(route: RelayRoute, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const left = this.limits.maxArtifactBytes - this.artifactBytes;
    const declared = request.headers['content-length'];
    if (declared !== undefined && Number(declared) > left) throw new Refusal(413, artifactCapMessage(route.call, this.limits.maxArtifactBytes));
    const headers: http.OutgoingHttpHeaders = { ...this.baseHeaders(request), 'content-type': request.headers['content-type'] ?? 'application/octet-stream' };
    if (declared !== undefined) headers['content-length'] = declared;
    const answer = await this.send(request, headers, (upstream) => {
      request.on('data', (chunk: Buffer) => {
        this.artifactBytes += chunk.length;
        if (this.artifactBytes > this.limits.maxArtifactBytes) {
          upstream.destroy(new Refusal(413, artifactCapMessage(route.call, this.limits.maxArtifactBytes)));
          request.unpipe(upstream);
        }
      });
      request.pipe(upstream);
    });
    relayAnswer(answer, response);
  }

  private async forward(route: RelayRoute, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    if (hasBody(request)) throw new Refusal(403, `${route.call} takes no request body`);
    const answer = await this.send(request, this.baseHeaders(request), (upstream) => upstream.end());
    relayAnswer(answer, response);
  }

  /** The canonical target that was checked (the raw one, which parsing proved canonical). */
  private send(request: http.IncomingMessage, headers: http.OutgoingHttpHeaders, write: (upstream: http.ClientRequest) => void): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const upstream = http.request(
        { host: this.target.host, port: this.target.port, method: request.method, path: request.url, headers, timeout: this.limits.requestTimeoutMs, agent: this.agent },
        resolve,
      );
      upstream.on('timeout', () => upstream.destroy(new Refusal(504, `MLflow did not answer within ${this.limits.requestTimeoutMs / 1000} s`)));
      upstream.on('error', reject);
      // The job hung up before its answer: stop the upstream call too.
      const hangUp = () => upstream.destroy();
      request.socket.once('close', hangUp);
      upstream.once('close', () => request.socket.off('close', hangUp));
      write(upstream);
    });
  }

  private baseHeaders(request: http.IncomingMessage): http.OutgoingHttpHeaders {
    const headers: http.OutgoingHttpHeaders = { host: this.hostHeader };
    for (const name of FORWARDED_HEADERS) {
      const value = request.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    return headers;
  }

  /**
   * An MLflow-style error, then the connection closes. The rest of a refused body is read and
   * dropped (never buffered) so a client still sending sees the answer rather than a reset, up to
   * DRAIN_BYTES; a silent one is closed by the idle timeout.
   */
  private refuse(request: http.IncomingMessage, response: http.ServerResponse, status: number, message: string): void {
    if (response.headersSent) {
      response.destroy();
      return;
    }
    const text = JSON.stringify({ error_code: ERROR_CODES[status] ?? 'TEMPORARILY_UNAVAILABLE', message: `refused by the LeadersBoard sandbox relay: ${message}` });
    response.shouldKeepAlive = false;
    response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), connection: 'close', ...(status === 503 ? { 'retry-after': '1' } : {}) });
    response.end(text);
    if (request.complete) return;
    let drained = 0;
    request.on('data', (chunk: Buffer) => {
      drained += chunk.length;
      if (drained > DRAIN_BYTES) request.socket.destroy();
    });
    request.resume();
  }

  /** Creating a logged model: the answer names its id, which this job may then use. */
  private async learnModel(answer: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const text = await readCapped(answer, this.limits.maxJsonBytes, 'MLflow\'s answer');
    if (answer.statusCode === 200) {
      const info = (JSON.parse(text.toString('utf8')) as { model?: { info?: Record<string, unknown> } }).model?.info;
      const modelId = info?.model_id;
      if (typeof modelId === 'string' && info?.experiment_id === this.scope.experimentId && info?.source_run_id === this.scope.runId) {
        this.scope.modelIds.add(modelId);
      }
    }
    response.writeHead(answer.statusCode ?? 502, { ...answerHeaders(answer), 'content-length': String(text.length) });
    response.end(text);
  }
}

function relayAnswer(answer: http.IncomingMessage, response: http.ServerResponse): void {
  response.writeHead(answer.statusCode ?? 502, answerHeaders(answer));
  answer.pipe(response);
  answer.on('error', () => response.destroy());
}

function answerHeaders(answer: http.IncomingMessage): http.OutgoingHttpHeaders {
  const headers: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(answer.headers)) if (!HOP_BY_HOP.has(name)) headers[name] = value;
  return headers;
}

function hasBody(request: http.IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** The whole body, or a 413 as soon as the declared or the received size passes the cap. */
function readCapped(stream: http.IncomingMessage, cap: number, what: string): Promise<Buffer> {
  const tooLarge = () => new Refusal(413, `${what}: the body is larger than ${cap} bytes, the most the relay accepts for a JSON call`);
  const declared = stream.headers['content-length'];
  if (declared !== undefined && Number(declared) > cap) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= cap) {
        chunks.push(chunk);
        return;
      }
      stream.off('data', onData);
      chunks.length = 0;
      reject(tooLarge());
    };
    stream.on('data', onData);
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

function artifactCapMessage(call: string, cap: number): string {
  return `${call}: this job's artifact uploads would pass ${cap} bytes, its artifact cap`;
}
