/**
 * The CLI's fleet commands (docs/fleet.md): `livetrace fleet ls` lists the agents a Redis
 * knows; `livetrace trace --fleet <url> --service <name> <pattern...>` starts one session on
 * every agent of a service and prints what they stream, as a multi-process trace does
 * (trace-targets.ts): call lines as they come, each agent's end on a line of its own, and
 * `count`/`hist` tables merged across agents every 500 ms.
 *
 * The CLI holds no session of its own: it renews the agents' lease. If it is killed, every
 * agent ends its session within the lease (5 s by default, --lease). Ctrl-C asks them to stop
 * and waits for their 'stopped' records at most one lease long.
 */
import type { Command } from 'commander';
import type { StoppedRecord } from '../protocol/events.js';
import { LivetraceError, errorTable, type ErrorCode } from '../protocol/errors.js';
import { parsePattern } from '../pattern/text.js';
import { FleetTrace, agentsOf, listAgents, openFleet } from '../fleet/operator.js';
import { formatMs } from './format/duration.js';
import { escapeText } from './format/escape.js';
import { describeStop } from './format/pretty.js';
import { styleFor } from './format/style.js';
import { onInterrupt } from './interrupt.js';
import { Screen, openOutput } from './screen.js';
import { TraceConsole } from './trace-console.js';
import { onBrokenPipe } from './trace-end.js';
import { formatOf, traceOptionsOf, type TraceCommandOptions } from './trace-options.js';

/** How long an agent may take to answer a trace request (started or refused), ms. */
const ANSWER_MS = 10_000;

function fleetUrlOf(given: string | undefined): string {
  const url = given ?? process.env.LIVETRACE_FLEET;
  if (url === undefined || url === '') throw new LivetraceError('LT_FLEET_URL', 'no fleet given: --fleet redis://… (or LIVETRACE_FLEET)', { input: '' });
  return url;
}

export function register(program: Command): void {
  const fleet = program.command('fleet').description('Agents that joined a fleet through Redis (docs/fleet.md)');
  fleet
    .command('ls')
    .description('List the agents of a fleet: service, host, pid, Node version, uptime')
    .option('--fleet <url>', 'the Redis of the fleet, redis://[user:password@]host[:port] (default: LIVETRACE_FLEET)')
    .option('--service <name>', 'only the agents of this service')
    .option('--json', 'print JSON')
    .action(async (options: { fleet?: string; service?: string; json?: boolean }) => {
      const connection = await openFleet(fleetUrlOf(options.fleet), 'ls');
      try {
        const agents = await listAgents(connection, options.service);
        if (options.json === true) {
          process.stdout.write(`${JSON.stringify(agents, null, 2)}\n`);
          return;
        }
        const rows = agents.map((a) => [a.service, a.host, String(a.pid), a.node, formatMs(Date.now() - a.startedAt), String(a.sessions.length)].map((c) => escapeText(c)));
        const header = ['SERVICE', 'HOST', 'PID', 'NODE', 'UPTIME', 'SESSIONS'];
        const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
        for (const row of [header, ...rows]) process.stdout.write(`${row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
        if (agents.length === 0) process.stderr.write(`no agent at ${connection.url.shown}${options.service === undefined ? '' : ` for service '${options.service}'`}\n`);
      } finally {
        connection.close();
      }
    });
}

export interface FleetTraceArgs extends TraceCommandOptions {
  fleet?: string;
  service?: string;
  lease?: string;
  perProcess?: boolean;
}

export async function traceFleet(patterns: string[], options: FleetTraceArgs): Promise<number> {
  const traceOptions = traceOptionsOf(options);
  for (const pattern of patterns) parsePattern(pattern);
  if (options.service === undefined) throw new LivetraceError('LT_FLEET_NO_AGENTS', 'trace --fleet needs --service <name> (livetrace fleet ls lists them)', { input: '' });
  const lease = options.lease === undefined ? undefined : /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(options.lease.trim());
  const leaseMs = options.lease === undefined ? undefined : lease === null || lease === undefined ? NaN : Number(lease[1]) * (lease[2] === 'ms' ? 1 : 1000);
  if (leaseMs !== undefined && !(leaseMs >= 1000 && leaseMs <= 60_000)) {
    throw new LivetraceError('LT_OPTION_INVALID', `--lease must be from 1s to 60s ('5s', '1500ms'), not '${options.lease}'`, { input: options.lease });
  }
  const connection = await openFleet(fleetUrlOf(options.fleet), 'cli');
  const output = openOutput(options.output);
  const screen = new Screen(output.stream, process.stderr);
  try {
    const agents = await agentsOf(connection, options.service);
    const trace = new FleetTrace(connection, agents, { service: options.service, patterns, options: traceOptions, ...(leaseMs === undefined ? {} : { leaseMs }) });
    await trace.start();
    screen.info(`fleet session ${trace.id}: ${agents.length} agent${agents.length === 1 ? '' : 's'} of '${escapeText(options.service)}' at ${connection.url.shown}`);
    const view = new TraceConsole({
      format: formatOf(options),
      screen,
      style: styleFor(output.stream),
      drained: () => output.drained(),
      merge: { perProcess: options.perProcess === true, everyMs: 500 },
    });
    const waiting = new Set(agents.map((a) => a.id));
    const answered = new Set<string>();
    const ends: StoppedRecord[] = [];
    let refused = 0;
    let firstRefusal: LivetraceError | undefined;
    let stopDeadline: number | undefined;
    const startedAt = Date.now();
    const stop = (): void => {
      stopDeadline ??= Date.now() + (leaseMs ?? 5000) + 1000;
      void trace.stop();
    };
    const stopOnInterrupt = onInterrupt(stop);
    const stopOnBrokenPipe = onBrokenPipe(stop);
    const done = (agent: string): void => {
      waiting.delete(agent);
      trace.finished(agent);
    };
    try {
      while (waiting.size > 0) {
        for (const event of await trace.next(250)) {
          switch (event.kind) {
            case 'record':
              answered.add(event.agent);
              if (event.record.type === 'started') view.track(event.record);
              view.record(event.record, event.agent);
              if (event.record.type === 'stopped') {
                ends.push(event.record);
                view.say(`agent ${escapeText(event.agent)} ${describeStop(event.record)}`);
                done(event.agent);
              }
              break;
            case 'refused':
              answered.add(event.agent);
              refused++;
              firstRefusal ??= new LivetraceError(event.code in errorTable ? (event.code as ErrorCode) : 'LT_INTERNAL', `agent ${event.agent}: ${event.message}`);
              view.say(`agent ${escapeText(event.agent)} refused: ${escapeText(event.message)} [${escapeText(event.code)}]`);
              done(event.agent);
              break;
            case 'lost':
              view.say(`agent ${escapeText(event.agent)}: ${event.count} record${event.count === 1 ? '' : 's'} lost on the way to Redis (Redis slow or unreachable)`);
              break;
            case 'gone':
              view.say(`agent ${escapeText(event.agent)} gone: ${event.detail}`);
              done(event.agent);
              break;
          }
        }
        if (Date.now() - startedAt > ANSWER_MS) {
          for (const agent of [...waiting]) {
            if (answered.has(agent)) continue;
            view.say(`agent ${escapeText(agent)} did not answer within ${ANSWER_MS / 1000}s`);
            done(agent);
          }
        }
        if (stopDeadline !== undefined && Date.now() > stopDeadline) {
          for (const agent of waiting) view.say(`agent ${escapeText(agent)}: no 'stopped' record within the lease; its session has ended there by now`);
          break;
        }
      }
      view.close();
      const counted = ends.reduce((sum, s) => sum + s.stats.reported, 0);
      view.say(`${agents.length} agent${agents.length === 1 ? '' : 's'}: ${ends.length} traced, ${refused} refused; ${counted} calls`);
      if (ends.length === 0 && firstRefusal !== undefined) throw firstRefusal;
      return ends.some((s) => s.reason === 'error') ? 1 : 0;
    } finally {
      view.close();
      stopOnInterrupt();
      stopOnBrokenPipe();
      trace.close();
    }
  } finally {
    connection.close();
    output.close();
  }
}
