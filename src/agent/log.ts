/**
 * The agent's own diagnostics, for the people debugging livetrace (never for its users'
 * output). Off by default, and then free: pino is not even loaded, so a preloaded
 * process pays nothing at startup. LIVETRACE_LOG turns it on:
 *
 *   LIVETRACE_LOG=debug            pino lines on stderr at that level (trace ... fatal)
 *   LIVETRACE_LOG=/tmp/agent.log   pino lines appended to that file, at debug
 *
 * pino loads through a dynamic import, which works in both builds (the CommonJS build
 * turns it into a require); lines logged before it is ready wait in a small buffer.
 * Writes are synchronous so the last lines before an exit are not lost and no stream
 * keeps the process alive. Logging never throws into its caller.
 */
import type { Logger } from 'pino';
import { ArrayPrototypePush } from '../safe/intrinsics.js';

type LevelName = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

const LEVELS: readonly LevelName[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];
/** Lines kept while pino loads; later ones are dropped. */
const EARLY_LINES = 200;

type LogMethod = (objOrMsg: object | string, msg?: string) => void;

export interface Log {
  /** False when LIVETRACE_LOG is unset: skip building log arguments on hot paths. */
  readonly enabled: boolean;
  trace: LogMethod;
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
  fatal: LogMethod;
}

interface Setting {
  level: LevelName;
  /** A file path, or undefined for stderr. */
  file: string | undefined;
}

function settingOf(value: string | undefined): Setting | undefined {
  if (!value) return undefined;
  const level = LEVELS.find((name) => name === value.toLowerCase());
  return level ? { level, file: undefined } : { level: 'debug', file: value };
}

function createLog(setting: Setting | undefined): Log {
  const noop: LogMethod = () => {};
  if (!setting) return { enabled: false, trace: noop, debug: noop, info: noop, warn: noop, error: noop, fatal: noop };

  let logger: Logger | undefined;
  let early: Array<[LevelName, object | string, string | undefined]> | undefined = [];
  const emit = (level: LevelName, objOrMsg: object | string, msg?: string): void => {
    try {
      if (logger) {
        if (typeof objOrMsg === 'string') logger[level](objOrMsg);
        else logger[level](objOrMsg, msg);
      } else if (early && early.length < EARLY_LINES) {
        ArrayPrototypePush(early, [level, objOrMsg, msg]);
      }
    } catch {
      // A broken log destination must not break the traced process.
    }
  };
  import('pino')
    .then(({ pino }) => {
      const destination = pino.destination({ dest: setting.file ?? 2, sync: true, mkdir: setting.file !== undefined });
      logger = pino({ name: 'livetrace', level: setting.level, base: { pid: process.pid } }, destination);
      const pending = early ?? [];
      early = undefined;
      for (const [level, objOrMsg, msg] of pending) emit(level, objOrMsg, msg);
    })
    .catch(() => {
      early = undefined;
    });
  const method =
    (level: LevelName): LogMethod =>
    (objOrMsg, msg) =>
      emit(level, objOrMsg, msg);
  return {
    enabled: true,
    trace: method('trace'),
    debug: method('debug'),
    info: method('info'),
    warn: method('warn'),
    error: method('error'),
    fatal: method('fatal'),
  };
}

/** The process-wide agent log; see the module comment. */
export const log: Log = createLog(settingOf(process.env.LIVETRACE_LOG));
