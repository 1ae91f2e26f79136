/**
 * `livetrace demo`: job 1 of livetrace in thirty seconds, with nothing to set up. It
 * starts the bundled demo service (recipes/demo) the way `livetrace run` does, tracing
 *
 *   src/users:findUser(nil, ...) -> stack
 *
 * sends it a fixed, small set of HTTP requests on 127.0.0.1, prints the calls that
 * passed null with the caller's stack, names the function that did it, then stops the
 * service and exits 0.
 */
import { request } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { agentEntry } from '../attach/bootstrap.js';
import { LivetraceError } from '../protocol/errors.js';
import type { CallEvent, SessionRecord } from '../protocol/events.js';
import { escapeText } from './format/escape.js';
import { styleFor } from './format/style.js';
import { launch } from './run.js';
import { Screen } from './screen.js';
import { TraceConsole } from './trace-console.js';

export const DEMO_PATTERN = 'src/users:findUser(nil, ...) -> stack';

/** What the demo asks the service: owners of orders 1-4 (4 is a guest order), twice, and a user. */
const REQUESTS = ['/users/1', '/orders/1/owner', '/orders/2/owner', '/orders/4/owner', '/orders/3/owner', '/orders/4/owner', '/users/2'];
/** Bound on each wait: the service starting, each request. */
const WAIT_MS = 10_000;

export function register(program: Command): void {
  program
    .command('demo')
    .description('Run the bundled demo service, trace findUser(null) and show which caller passed the null')
    .action(async () => {
      process.exitCode = await runDemo();
    });
}

async function runDemo(): Promise<number> {
  const app = join(agentEntry().root, 'recipes', 'demo');
  const screen = new Screen(process.stdout, process.stderr);
  const nilCalls: CallEvent[] = [];
  const view = new TraceConsole({
    format: 'pretty',
    screen,
    style: styleFor(process.stdout),
    onRecord: (record: SessionRecord) => {
      if (record.type === 'call') nilCalls.push(record);
    },
  });
  screen.info(`livetrace demo: starting recipes/demo under livetrace run -t '${DEMO_PATTERN}'`);
  const run = launch([process.execPath, join('src', 'server.js')], [DEMO_PATTERN], { max: 20, for: '60s' }, view, {
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd: app,
    env: { DEMO_PORT: '0' },
  });
  try {
    const port = await within(readiness(run.child.stdout), 'the demo service to start');
    await within(run.claimed, 'the trace session in the demo service');
    screen.info(`livetrace demo: sending ${REQUESTS.length} requests to http://127.0.0.1:${port}`);
    for (const path of REQUESTS) await within(get(port, path), `GET ${path}`);
    await run.stop();
  } finally {
    run.child.kill('SIGTERM');
    await run.exited.catch(() => undefined);
    await run.traced;
    view.close();
  }
  screen.print(explain(nilCalls));
  return 0;
}

/** Names who passed the null: the first frame of each stack outside the traced module. */
export function explain(calls: CallEvent[]): string {
  if (calls.length === 0) return 'No call passed null this time.';
  const callers = new Map<string, number>();
  for (const call of calls) {
    const frame = call.stack?.find((f) => !f.file.endsWith(call.module));
    const where = frame === undefined ? 'an unknown caller (no stack)' : `${frame.fn === '' ? '<anonymous>' : frame.fn} at ${frame.file}:${frame.line}:${frame.column}`;
    callers.set(where, (callers.get(where) ?? 0) + 1);
  }
  const lines = [...callers].map(([where, n]) => `  ${escapeText(where)} (${n} call${n === 1 ? '' : 's'})`);
  return [`findUser was called with null by:`, ...lines].join('\n');
}

/** The port of the service's readiness line, `demo listening on http://127.0.0.1:<port> (pid <pid>)`. */
function readiness(stdout: Readable | null): Promise<number> {
  return new Promise((resolve, reject) => {
    if (stdout === null) {
      reject(new LivetraceError('LT_INTERNAL', 'the demo service has no stdout'));
      return;
    }
    const lines = createInterface({ input: stdout });
    lines.on('line', (line) => {
      const match = /^demo listening on http:\/\/127\.0\.0\.1:(\d+) /.exec(line);
      if (match) resolve(Number(match[1]));
    });
    lines.on('close', () => reject(new LivetraceError('LT_INTERNAL', 'the demo service exited before it was ready')));
  });
}

function get(port: number, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    req.end();
  });
}

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LivetraceError('LT_INTERNAL', `gave up waiting for ${what} after ${WAIT_MS / 1000}s`)), WAIT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
