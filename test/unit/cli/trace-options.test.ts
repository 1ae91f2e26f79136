import { describe, expect, it } from 'vitest';
import { formatOf, traceOptionsOf } from '../../../src/cli/trace-options.js';
import { LivetraceError } from '../../../src/protocol/errors.js';
import { resolveOptions, type TraceOptions } from '../../../src/protocol/options.js';

describe('traceOptionsOf', () => {
  it('passes on what was given and nothing else', () => {
    expect(traceOptionsOf({ format: 'pretty' })).toEqual({});
    expect(
      traceOptionsOf({
        format: 'json',
        max: 20,
        for: '30s',
        rate: '10/1s',
        trip: true,
        stack: true,
        depth: 2,
        stringLimit: 80,
        redact: ['name'],
        maxFunctions: 10,
        force: true,
        cpuBudget: 200,
      }),
    ).toEqual({ max: 20, for: '30s', rate: '10/1s', trip: true, stack: true, depth: 2, stringLimit: 80, redact: ['name'], maxFunctions: 10, force: true, overloadMsPerSec: 200 });
    expect(traceOptionsOf({ format: 'pretty', rate: 'OFF' })).toEqual({ rate: false });
  });

  it('passes --no-redact-values only when given (commander sets such a switch true when absent)', () => {
    expect(traceOptionsOf({ format: 'pretty', redactValues: true })).toEqual({});
    expect(traceOptionsOf({ format: 'pretty', redactValues: false })).toEqual({ redactValues: false });
    expect(traceOptionsOf({ format: 'pretty', keepValues: ['url', 'pem'] })).toEqual({ keepValues: ['url', 'pem'] });
  });

  it('refuses what the engine would refuse, with LT_OPTION_INVALID', () => {
    for (const bad of [{ for: 'soon' }, { rate: '0/1s' }, { rate: 'off', trip: true }]) {
      let error: unknown;
      try {
        traceOptionsOf({ format: 'pretty', ...bad });
      } catch (caught) {
        error = caught;
      }
      expect(error, JSON.stringify(bad)).toBeInstanceOf(LivetraceError);
      expect((error as LivetraceError).code).toBe('LT_OPTION_INVALID');
    }
  });

  it('takes --json as --format json', () => {
    expect(formatOf({ format: 'pino', json: true })).toBe('json');
    expect(formatOf({ format: 'pino' })).toBe('pino');
  });
});

describe('flag strings', () => {
  it('are converted to the table types, and refused by the same check as the library', () => {
    expect(traceOptionsOf({ format: 'pretty', depth: '0', max: '20', rate: 'off' })).toEqual({ depth: 0, max: 20, rate: false });
    for (const [flags, library] of [
      [{ depth: '500' }, { depth: 500 }],
      [{ max: 'abc' }, { max: 'abc' }],
      [{ cpuBudget: '0' }, { overloadMsPerSec: 0 }],
      [{ keepValues: ['cookies'] }, { keepValues: ['cookies'] }],
    ] as const) {
      let cli: unknown;
      let lib: unknown;
      try {
        traceOptionsOf({ format: 'pretty', ...flags });
      } catch (caught) {
        cli = caught;
      }
      try {
        resolveOptions(library as TraceOptions);
      } catch (caught) {
        lib = caught;
      }
      expect(cli).toBeInstanceOf(LivetraceError);
      expect((cli as LivetraceError).message).toBe((lib as LivetraceError).message);
      expect((cli as LivetraceError).hint).toBe((lib as LivetraceError).hint);
    }
  });
});
