/**
 * `livetrace attach <pid>`: load the agent into a Node process started without livetrace,
 * then close the inspector that attach opened. See src/attach/attach.ts and docs/security.md.
 *
 * With `--fleet <url> [--service NAME]` the agent then joins that fleet (docs/fleet.md), as
 * if the process had been started with LIVETRACE_FLEET: the CLI asks over the socket (the
 * `join` op) and the agent connects outward to Redis with the process's own policy. The
 * URL is checked before anything touches the process, and a Redis that refuses or cannot
 * be reached comes back as its LT_FLEET_* code; the agent stays attached either way.
 */
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { attach, type AttachResult } from '../attach/attach.js';
import { connect } from '../client/connect.js';
import { parseFleetUrl } from '../fleet/redis.js';
import { LivetraceError } from '../protocol/errors.js';
import type { FleetJoined } from '../protocol/fleet-join.js';
import { parsePid } from './agent-connection.js';
import { formatMs } from './format/duration.js';
import { escapeText } from './format/escape.js';

interface AttachCommandOptions {
  port?: number;
  timeout: number;
  verbose?: boolean;
  /** A URL, or true for a bare --fleet (LIVETRACE_FLEET). */
  fleet?: string | true;
  service?: string;
}

/** The fleet to join, or undefined without --fleet; LT_FLEET_URL / LT_OPTION_INVALID before attaching. */
function fleetOf(options: AttachCommandOptions): string | undefined {
  if (options.fleet === undefined) {
    if (options.service !== undefined) throw new LivetraceError('LT_OPTION_INVALID', '--service names the service of a fleet: give --fleet too', { input: options.service });
    return undefined;
  }
  const url = options.fleet === true ? process.env.LIVETRACE_FLEET : options.fleet;
  if (url === undefined || url === '') throw new LivetraceError('LT_FLEET_URL', 'a bare --fleet takes the URL from LIVETRACE_FLEET, which is not set', { input: '' });
  parseFleetUrl(url);
  return url;
}

export function register(program: Command): void {
  program
    .command('attach')
    .description('Load the livetrace agent into a running Node.js process (SIGUSR1 and the inspector), then close the inspector')
    .argument('<pid>', 'id of a Node.js process of yours', parsePid)
    .option('--port <port>', 'inspector port the process opens on SIGUSR1 (default: its --inspect-port, else 9229)', parsePort)
    .option('--timeout <ms>', 'give up after this many milliseconds', parseTimeout, 5000)
    .option('--verbose', 'print how long each phase took')
    .option('--fleet [url]', 'then join this fleet, redis://[user:password@]host[:port] (bare: LIVETRACE_FLEET), as LIVETRACE_FLEET would (docs/fleet.md)')
    .option('--service <name>', "with --fleet: the service to join as (default: the process's LIVETRACE_SERVICE, else its package name)")
    .action(async (pid: number, options: AttachCommandOptions) => {
      const fleet = fleetOf(options);
      const result = await attach(pid, { port: options.port, timeoutMs: options.timeout, agentCache: true });
      process.stdout.write(formatAttachResult(result, options.verbose === true));
      if (fleet === undefined) return;
      const client = await connect(pid, { socketDir: dirname(result.socketPath) });
      try {
        const joined = await client.joinFleet(fleet, options.service === undefined ? {} : { service: options.service });
        process.stdout.write(formatJoined(pid, joined));
      } finally {
        await client.close();
      }
    });
}

/** What `attach --fleet` prints once the agent joined; the URL as the agent shows it (no password). */
export function formatJoined(pid: number, joined: FleetJoined): string {
  const what = joined.already ? `process ${pid} is already in the fleet` : `process ${pid} joined the fleet`;
  const policy = joined.policy;
  const rules = [
    policy.modules === null ? 'any module' : `modules ${policy.modules.length === 0 ? '(none)' : policy.modules.join(', ')}`,
    policy.values ? 'values may leave the host' : 'values stay on the host',
    policy.maxSessionMs === null ? 'sessions as long as asked' : `sessions at most ${formatMs(policy.maxSessionMs)}`,
  ];
  return `${escapeText(`${what} ${joined.fleet} as service '${joined.service}' (agent ${joined.agent})`)}\npolicy (the process's own): ${escapeText(rules.join('; '))}\n`;
}

export function formatAttachResult(result: AttachResult, verbose: boolean): string {
  const lines: string[] = [];
  if (result.alreadyPresent) {
    lines.push(`agent already present in ${result.pid} (agent socket ${result.socketPath})`);
  } else {
    lines.push(`attached to ${result.pid} in ${Math.round(result.ms)} ms (agent socket ${result.socketPath})`);
    if (result.inspectorLeftOpen) {
      lines.push(`note: the inspector on port ${result.inspectorPort} was opened with --inspect at startup and stays open`);
    }
    if (result.workerInspectorsClosed !== undefined) {
      const closed = result.workerInspectorsClosed.map((w) => `process ${w.pid} on port ${w.port}`).join(', ');
      lines.push(`note: Node's cluster module passed the signal on to the workers; the inspectors they opened were closed (${closed})`);
    }
  }
  if (verbose) {
    const phases = result.phases.map((phase) => `${phase.name} ${phase.ms} ms`).join(', ');
    const window = result.inspectorOpenMs === undefined ? '' : `; inspector open at most ${Math.round(result.inspectorOpenMs)} ms`;
    lines.push(`phases: ${phases}${window}`);
    if (result.agentCache !== undefined) lines.push(`agent code cache: ${describeAgentCache(result.agentCache)}`);
  }
  return lines.join('\n') + '\n';
}

function describeAgentCache(cache: NonNullable<AttachResult['agentCache']>): string {
  const source = cache.source === 'build' ? "the build's" : cache.source === 'offered' ? 'made by livetrace for this Node executable' : 'none for this Node';
  const rejected = cache.rejected ? ' (refused by V8: compiled without it)' : '';
  const making = cache.making ? '; making one in the background for the next attach' : '';
  return `${source}${rejected}${making}`;
}

function parseInteger(value: string, what: string, min: number, max: number): number {
  const number = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(number >= min && number <= max)) {
    throw new LivetraceError('LT_OPTION_INVALID', `${what} must be an integer from ${min} to ${max}: ${value}`, { input: value });
  }
  return number;
}

function parsePort(value: string): number {
  return parseInteger(value, '--port', 0, 65535);
}

function parseTimeout(value: string): number {
  return parseInteger(value, '--timeout', 1, 3_600_000);
}
