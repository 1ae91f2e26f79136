/**
 * `livetrace dashboard [--port N] [--host H] [--open]`: the live web view (docs/dashboard.md).
 * It prints one line with the URL (its token is the key: whoever has the URL can trace the
 * user's processes) and serves until interrupted; on exit every page's sessions stop.
 */
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { RemoteBackend } from '../dashboard/remote/backend.js';
import { serveDashboard } from '../dashboard/server/serve.js';
import { LivetraceError } from '../protocol/errors.js';

interface DashboardOptions {
  port?: string;
  host?: string;
  open?: boolean;
}

function parsePort(value: string | undefined): number {
  if (value === undefined) return 0;
  const port = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(port >= 0 && port <= 65535)) throw new LivetraceError('LT_OPTION_INVALID', `'${value}' is not a port (0 to 65535)`, { input: value });
  return port;
}

/**
 * The command that opens `url`: $BROWSER when set, else the platform's opener (`open`,
 * `start`, `xdg-open`). $BROWSER follows the convention of xdg-utils and Python's
 * webbrowser: a list of commands separated by ':', of which the first is used here; `%s`
 * in it stands for the URL, else the URL is the last argument. Words are split at spaces
 * (no quoting) and no shell runs, so nothing in the URL is ever interpreted.
 */
export function browserCommand(url: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): [string, string[]] {
  const configured = (env.BROWSER ?? '').split(':')[0]!.trim();
  if (configured !== '') {
    const words = configured.split(/\s+/);
    const hasSlot = words.some((word) => word.includes('%s'));
    const args = words.slice(1).map((word) => word.replaceAll('%s', url));
    const command = words[0]!.replaceAll('%s', url);
    return [command, hasSlot ? args : [...args, url]];
  }
  if (platform === 'darwin') return ['open', [url]];
  if (platform === 'win32') return ['cmd', ['/c', 'start', '', url]];
  return ['xdg-open', [url]];
}

function openBrowser(url: string): void {
  const [command, args] = browserCommand(url);
  const failed = (why: string): void => {
    process.stderr.write(`livetrace: could not open a browser (${command}: ${why}); open the URL above\n`);
  };
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    child.on('error', (error) => failed(error.message));
    child.unref();
  } catch (error) {
    failed((error as Error).message);
  }
}

export function register(program: Command): void {
  program
    .command('dashboard')
    .description('Serve a live web view of your Node processes: info charts, traces, per-function latency')
    .option('--port <n>', 'port to listen on (default: a free one)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1; anything else is reachable from the network)')
    .option('--open', 'open the page in a browser ($BROWSER, else xdg-open, open or start)')
    .action(async (options: DashboardOptions) => {
      const port = parsePort(options.port);
      const served = await serveDashboard({ backend: new RemoteBackend(), port, ...(options.host === undefined ? {} : { host: options.host }) });
      if (!served.loopback) {
        process.stderr.write(
          `livetrace: warning: the dashboard listens on ${served.host}, not only on this machine: whoever reaches it with the token can trace your processes\n`,
        );
      }
      process.stdout.write(`livetrace dashboard on ${served.url}\n`);
      if (options.open === true) openBrowser(served.url);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await served.close();
    });
}
