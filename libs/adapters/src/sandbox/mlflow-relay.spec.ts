import { mkdtemp, rm, stat } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { MlflowRelay, relayAddress } from './mlflow-relay';

describe('relayAddress', () => {
  it('keeps the port; an IP address becomes 127.0.0.1 inside, a host name stays', () => {
    expect(relayAddress('http://127.0.0.1:5010')).toEqual({
      target: { host: '127.0.0.1', port: 5010 },
      insideHost: '127.0.0.1',
      insideUri: 'http://127.0.0.1:5010',
    });
    expect(relayAddress('http://mlflow:5000/')).toMatchObject({ insideHost: 'mlflow', insideUri: 'http://mlflow:5000' });
    expect(relayAddress('http://[::1]:5010/mlflow')).toEqual({
      target: { host: '::1', port: 5010 },
      insideHost: '127.0.0.1',
      insideUri: 'http://127.0.0.1:5010/mlflow',
    });
  });

  it('refuses what the in-sandbox forwarder cannot serve', () => {
    expect(() => relayAddress('https://mlflow.example.com:5000')).toThrow(/plain HTTP only/);
    expect(() => relayAddress('http://mlflow')).toThrow(/port 80/);
  });
});

describe('MlflowRelay', () => {
  let dir: string;
  let upstream: net.Server;
  let port: number;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'relay-spec-'));
    upstream = net.createServer((socket) => socket.on('data', (data) => socket.end(`echo:${data}`)));
    port = await new Promise((resolve) => upstream.listen(0, '127.0.0.1', () => resolve((upstream.address() as net.AddressInfo).port)));
  });
  afterAll(async () => {
    await new Promise((resolve) => upstream.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('pipes each unix-socket connection to the fixed TCP target, and removes its socket on close', async () => {
    const socketPath = path.join(dir, 'mlflow.sock');
    const relay = await MlflowRelay.start(socketPath, { host: '127.0.0.1', port });
    expect((await stat(socketPath)).mode & 0o777).toBe(0o600);
    const reply = await new Promise<string>((resolve, reject) => {
      const client = net.connect(socketPath, () => client.write('ping'));
      let text = '';
      client.on('data', (data) => (text += data));
      client.on('end', () => resolve(text));
      client.on('error', reject);
    });
    expect(reply).toBe('echo:ping');
    await relay.close();
    await expect(stat(socketPath)).rejects.toThrow(/ENOENT/);
  });
});
