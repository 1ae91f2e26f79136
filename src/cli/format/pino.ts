/**
 * `--format pino`: every record as a pino log line, written by pino itself, so
 * pino-pretty, pino transports and log shippers read it as they read any pino log:
 *
 *   {"level":30,"time":1764155322345,"pid":4242,"hostname":"web-1","type":"call",...,"msg":"call src/users.js:findUser"}
 *
 * `time` is when the call (or session event) happened in the target, `pid` the target's
 * pid, and every field of the record follows as it is in docs/events.md. Failed calls
 * (throw, reject) and sessions stopped by an error log at level 50 (error), drops at 40
 * (warn), everything else at 30 (info).
 */
import { createRequire } from 'node:module';
import { hostname as osHostname } from 'node:os';
import type { DestinationStream, Logger, pino as Pino } from 'pino';
import type { SessionRecord } from '../../protocol/events.js';
import { livetraceRoot } from '../../protocol/install.js';

/**
 * pino, loaded when a pino writer is made: it is some thirty modules, and every trace
 * loads this one (trace-console.ts) though only `--format pino` uses it. Loaded from
 * livetrace's own installation, synchronously, in either build.
 */
function loadPino(): typeof Pino {
  const load = createRequire(`${livetraceRoot() ?? process.cwd()}/package.json`);
  return (load('pino') as { pino: typeof Pino }).pino;
}

export interface PinoRecordWriter {
  write(record: SessionRecord): void;
}

/** A writer of records as pino lines to `stream` (the CLI passes a synchronous stdout). */
export function createPinoWriter(stream: DestinationStream, hostname: string = osHostname()): PinoRecordWriter {
  let time = 0;
  const root = loadPino()({ base: null, timestamp: () => `,"time":${time}` }, stream);
  const byPid = new Map<number, Logger>();
  return {
    write(record) {
      let logger = byPid.get(record.pid);
      if (logger === undefined) {
        logger = root.child({ pid: record.pid, hostname });
        byPid.set(record.pid, logger);
      }
      time = Number.isFinite(record.ts) ? record.ts : Date.now();
      const { pid: _pid, ...fields } = record;
      const { level, msg } = describe(record);
      logger[level](fields, msg);
    },
  };
}

function describe(record: SessionRecord): { level: 'info' | 'warn' | 'error'; msg: string } {
  switch (record.type) {
    case 'call':
      if (record.outcome === 'throw') return { level: 'error', msg: `call ${record.fn} threw` };
      if (record.outcome === 'reject') return { level: 'error', msg: `call ${record.fn} rejected` };
      return { level: 'info', msg: `call ${record.fn}` };
    case 'started':
      return { level: 'info', msg: `trace started: ${record.matched.length} functions` };
    case 'added':
      return { level: 'info', msg: `trace added: ${record.matched.length} functions` };
    case 'dropped':
      return { level: 'warn', msg: `dropped ${record.count} calls (${record.reason})` };
    case 'note':
      return { level: record.kind === 'unchecked' ? 'warn' : 'info', msg: record.message };
    case 'stats':
      return { level: 'info', msg: record.final ? 'final stats' : 'stats' };
    case 'stopped':
      return { level: record.reason === 'error' ? 'error' : 'info', msg: `trace stopped: ${record.detail}` };
    default:
      return { level: 'info', msg: String((record as { type?: unknown }).type) };
  }
}
