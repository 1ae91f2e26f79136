import { describe, expect, it } from 'vitest';
import { formatOf, traceOptionsOf } from '../../../src/cli/trace-options.js';
import { LivetraceError } from '../../../src/protocol/errors.js';

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
