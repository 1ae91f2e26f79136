/**
 * `livetrace dashboard` serves the handler on its own http server: loopback unless told
 * otherwise, a fresh token per run, and the Host names that server answers to.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DashboardBackend } from './backend.js';
import { createHandler, type DashboardHandler } from './handler.js';
import { hostsFor, isLoopback, newToken } from './security.js';

export interface ServeOptions {
  backend: DashboardBackend;
  host?: string;
  port?: number;
}

export interface ServedDashboard {
  /** The URL to open, token included. */
  url: string;
  host: string;
  port: number;
  loopback: boolean;
  server: Server;
  handler: DashboardHandler;
  close(): Promise<void>;
}

export async function serveDashboard(options: ServeOptions): Promise<ServedDashboard> {
  const host = options.host ?? '127.0.0.1';
  const token = newToken();
  const allowedHosts: string[] = [];
  let handler: DashboardHandler | undefined;
  const server = createServer((req, res) => handler!(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  allowedHosts.push(...hostsFor(host, port));
  handler = createHandler({ backend: options.backend, token, allowedHosts });
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const url = `http://${shown}:${port}/?token=${token}`;
  return {
    url,
    host,
    port,
    loopback: isLoopback(host),
    server,
    handler,
    close: async () => {
      await handler!.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await options.backend.close();
    },
  };
}
