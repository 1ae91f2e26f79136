/**
 * What attach refuses before it sends any signal: options it cannot honour, a process
 * that SIGUSR1 would kill (or that ignores it), and an inspector that would listen
 * beyond loopback.
 */
import { LivetraceError } from '../protocol/errors.js';
import type { InspectorEndpoint } from './inspector.js';
import { isLoopbackHost } from './node-options.js';
import type { TargetProcess } from './target.js';
import type { AttachOptions } from './types.js';

const DEFAULT_TIMEOUT_MS = 5000;

/** The bound on the whole attach, in ms; LT_OPTION_INVALID for a bad timeout or port. */
export function checkAttachOptions(options: AttachOptions): number {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new LivetraceError('LT_OPTION_INVALID', `timeout must be a positive number of ms: ${timeoutMs}`, { input: timeoutMs });
  }
  if (options.port !== undefined && !(Number.isInteger(options.port) && options.port >= 0 && options.port <= 65535)) {
    throw new LivetraceError('LT_OPTION_INVALID', `not a TCP port: ${options.port}`, { input: options.port });
  }
  return timeoutMs;
}

export function refuseUnsafeSignal(target: TargetProcess): void {
  const { pid } = target;
  if (target.launch.disableSigusr1 !== undefined) {
    const where = target.launch.disableSigusr1 === 'argv' ? 'its command line' : 'NODE_OPTIONS';
    throw new LivetraceError('LT_ATTACH_SIGUSR1_DISABLED', `process ${pid} was started with --disable-sigusr1 (in ${where})`, {
      input: pid,
    });
  }
  if (target.sigusr1 === 'default' || target.sigusr1 === 'ignored') {
    const effect = target.sigusr1 === 'default' ? 'the signal would terminate it' : 'it ignores the signal';
    throw new LivetraceError('LT_ATTACH_SIGUSR1_DISABLED', `process ${pid} does not handle SIGUSR1: ${effect}, so attach did not send it`, {
      input: pid,
      hint:
        'The process runs with --disable-sigusr1, removed its SIGUSR1 handler (process.on/off), or is still ' +
        'starting up (retry in a moment). Otherwise restart it with --import livetrace/register.',
    });
  }
}

/** Where SIGUSR1 will open the target's inspector; LT_ATTACH_INSPECTOR_EXPOSED when not on loopback. */
export function inspectorAddress(target: TargetProcess, options: AttachOptions): InspectorEndpoint {
  const address = { host: target.launch.inspector.host, port: options.port ?? target.launch.inspector.port };
  if (!isLoopbackHost(address.host)) {
    throw new LivetraceError(
      'LT_ATTACH_INSPECTOR_EXPOSED',
      `process ${target.pid} would open its inspector on ${address.host}:${address.port}, which is not a loopback address`,
      { input: `${address.host}:${address.port}` },
    );
  }
  return address;
}
