/** How a trace learns that its target went away, or that its reader did. */
import { waitForProcessEnd } from '../client/process.js';
import type { StoppedRecord } from '../protocol/events.js';

/**
 * The session ended because its process is going away (the agent's 'exit', or the
 * client's when the connection closed without a 'stopped' record): say whether the target died, and how,
 * rather than only that the connection closed (a crash must not pass for a quiet end).
 * A dying process closes its sockets a moment before it is gone, hence the short wait.
 */
export async function targetEnd(pid: number, stopped: StoppedRecord): Promise<StoppedRecord> {
  if (stopped.reason !== 'exit') return stopped;
  const end = await waitForProcessEnd(pid, 2000);
  if (end === undefined) return stopped;
  const how = end.signal !== undefined ? ` (killed by ${end.signal})` : end.code !== undefined ? ` (exit code ${end.code})` : '';
  return { ...stopped, detail: `target process ${pid} exited${how}` };
}

/** `livetrace trace ... | head -5`: once the reader is gone, stop the session quietly. */
export function onBrokenPipe(stop: () => void): () => void {
  const handler = (error: NodeJS.ErrnoException): void => {
    if (error.code === 'EPIPE') stop();
  };
  process.stdout.on('error', handler);
  return () => process.stdout.off('error', handler);
}
