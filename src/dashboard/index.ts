/**
 * `livetrace/dashboard`: the dashboard as a handler an app mounts behind its own auth,
 * showing the process it runs in (docs/dashboard.md).
 *
 *   import { dashboard } from 'livetrace/dashboard';
 *   app.use('/livetrace', requireAdmin, dashboard());            // Express
 *   http.createServer((req, res) => req.url.startsWith('/livetrace')
 *     ? lt(req, res) : app(req, res));  // node:http, with lt = dashboard({ base: '/livetrace' })
 *
 * Mounted, the app's auth replaces the command's token; Origin is still checked on every
 * state-changing request and on the live channel, and `allowedHosts` adds the Host check.
 */
import { LocalBackend } from './local/backend.js';
import { createHandler, type DashboardHandler } from './server/handler.js';

export type { DashboardHandler } from './server/handler.js';

export interface DashboardOptions {
  /** The path the handler is mounted under, stripped from req.url (not needed with Express, which strips it). */
  base?: string;
  /** Host header values accepted, with port ('admin.example.com', 'localhost:3000'); default: any (the app decides). */
  allowedHosts?: string[];
}

/** A `(req, res)` handler serving the dashboard of this process; `handler.close()` stops what its pages started. */
export function dashboard(options: DashboardOptions = {}): DashboardHandler {
  return createHandler({
    backend: new LocalBackend(),
    ...(options.base === undefined ? {} : { base: options.base }),
    ...(options.allowedHosts === undefined ? {} : { allowedHosts: options.allowedHosts }),
  });
}
