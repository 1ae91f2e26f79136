/**
 * The fleet log of a member: one JSON line per remote request and per fleet event, written
 * before the request is acted on, so an operator who lets a fleet reach the process sees
 * who asked what. It goes to LIVETRACE_FLEET_LOG (a file), else to LIVETRACE_LOG when that
 * is a file, else to stderr. Writing never throws into the target.
 */
import { appendFile } from 'node:fs';

export function fleetLog(fields: Record<string, unknown>): void {
  try {
    const line = `${JSON.stringify({ time: new Date().toISOString(), pid: process.pid, livetrace: 'fleet', ...fields })}\n`;
    const file = process.env.LIVETRACE_FLEET_LOG ?? (process.env.LIVETRACE_LOG?.includes('/') === true ? process.env.LIVETRACE_LOG : undefined);
    if (file !== undefined) appendFile(file, line, () => undefined);
    else process.stderr.write(line);
  } catch {
    // logging must never throw into the target
  }
}
