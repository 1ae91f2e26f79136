/**
 * `livetrace attach <pid>`: load the agent into a Node process started without livetrace,
 * then close the inspector that attach opened. See src/attach/attach.ts and docs/security.md.
 */
import type { Command } from 'commander';
import { attach, type AttachResult } from '../attach/attach.js';
import { LivetraceError } from '../protocol/errors.js';
import { parsePid } from './agent-connection.js';

interface AttachCommandOptions {
  port?: number;
  timeout: number;
  verbose?: boolean;
}

export function register(program: Command): void {
  program
    .command('attach')
    .description('Load the livetrace agent into a running Node.js process (SIGUSR1 and the inspector), then close the inspector')
    .argument('<pid>', 'id of a Node.js process of yours', parsePid)
    .option('--port <port>', 'inspector port the process opens on SIGUSR1 (default: its --inspect-port, else 9229)', parsePort)
    .option('--timeout <ms>', 'give up after this many milliseconds', parseTimeout, 5000)
    .option('--verbose', 'print how long each phase took')
    .action(async (pid: number, options: AttachCommandOptions) => {
      const result = await attach(pid, { port: options.port, timeoutMs: options.timeout });
      process.stdout.write(formatAttachResult(result, options.verbose === true));
    });
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
  }
  return lines.join('\n') + '\n';
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
