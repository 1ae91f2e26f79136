/**
 * A session started in Node's module loader thread (thread.ts) is inert: the patterns
 * were checked, nothing is patched, and the session is over before it began, saying why
 * in its 'stopped' record; the loader goes on untouched.
 */
import type { SessionRecord, SessionStats } from '../../protocol/events.js';
import { LivetraceError } from '../../protocol/errors.js';
import type { ResolvedOptions } from '../../protocol/options.js';
import { log } from '../log.js';
import type { SessionHooks } from './hooks.js';
import { startedRecord, stoppedRecord } from './records.js';

/** The whole life of a session started in the loader thread: 'started' with nothing matched, then 'stopped' with reason 'error'. */
export function loaderThreadRecords(id: string, ts: number, hooks: SessionHooks, options: ResolvedOptions, patterns: string[], stats: () => SessionStats): SessionRecord[] {
  const why = new LivetraceError('LT_LOADER_THREAD', "trace() in Node's module loader thread: nothing is traced there", { input: patterns.join(' ') });
  log.debug({ code: why.code }, why.message);
  return [startedRecord(id, ts, hooks, { matched: [], unpatchable: [] }, options), stoppedRecord(id, 'error', options, stats(), `${why.code}: ${why.message}`)];
}
