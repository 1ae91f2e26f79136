import { describe, expect, it } from 'vitest';
import { OPTIONS, optionSpec, parseDuration, parseRate, resolveOptions, type TraceOptions } from '../../../src/protocol/options.js';
import { LivetraceError } from '../../../src/protocol/errors.js';

function errorOf(fn: () => unknown): LivetraceError | string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof LivetraceError ? error : 'not a LivetraceError';
  }
  return undefined;
}

function codeOf(fn: () => unknown): string | undefined {
  const error = errorOf(fn);
  return error instanceof LivetraceError ? error.code : error;
}

describe('options', () => {
  it('parses durations', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration(250)).toBe(250);
    for (const bad of ['', '0s', '-1s', '10x', 'abc', 'Infinity', '9999h']) expect(codeOf(() => parseDuration(bad))).toBe('LT_OPTION_INVALID');
  });

  it('parses rates', () => {
    expect(parseRate('100/1s')).toEqual({ count: 100, perMs: 1000 });
    expect(parseRate('10/500ms')).toEqual({ count: 10, perMs: 500 });
    expect(parseRate('5/s')).toEqual({ count: 5, perMs: 1000 });
    expect(parseRate('50')).toEqual({ count: 50, perMs: 1000 });
    expect(parseRate(50)).toEqual({ count: 50, perMs: 1000 });
    for (const bad of ['0/1s', '/1s', '1/0s', 'x/1s', '1.5/1s', '2000000/1s', 0, 1.5]) {
      expect(codeOf(() => parseRate(bad)), String(bad)).toBe('LT_OPTION_INVALID');
    }
  });

  it('fills conservative defaults, from the table', () => {
    const o = resolveOptions();
    expect(o.max).toBe(optionSpec('max').default);
    expect(o.forMs).toBe(60_000);
    expect(o.rate).toEqual({ count: 100, perMs: 1000 });
    expect(o.trip).toBe(false);
    expect(o.parents).toBe(true);
    expect(o.overloadMsPerSec).toBe(50);
    expect(o.capture).toEqual({ depth: 3, items: 100, fields: 20, stringLimit: 255, eventBytes: 8192, redact: [], keepValues: [] });
  });

  it('turns value redaction rules off by name, or all of them with redactValues false', () => {
    expect(resolveOptions({ keepValues: ['url', 'jwt'] }).capture.keepValues).toEqual(['url', 'jwt']);
    expect(resolveOptions({ redactValues: false }).capture.keepValues).toEqual(['all']);
    expect(resolveOptions({ redactValues: true, keepValues: ['pem'] }).capture.keepValues).toEqual(['pem']);
    // Keys stay redacted whatever the value rules say.
    expect(resolveOptions({ redactValues: false, redact: ['ssn'] }).capture.redact).toEqual(['ssn']);
  });

  it('has a sane range for every counted option, and help for every row', () => {
    for (const spec of OPTIONS) {
      expect(spec.help.length, spec.name).toBeGreaterThan(0);
      if (spec.kind === 'count') {
        expect(spec.max, spec.name).toBeLessThanOrEqual(2 ** 30);
        expect(spec.default as number, spec.name).toBeGreaterThanOrEqual(spec.min);
        expect(spec.default as number, spec.name).toBeLessThanOrEqual(spec.max);
        // Both ends of the range are accepted, one past either end refused.
        expect(codeOf(() => resolveOptions({ [spec.name]: spec.min }))).toBeUndefined();
        expect(codeOf(() => resolveOptions({ [spec.name]: spec.max }))).toBeUndefined();
        expect(codeOf(() => resolveOptions({ [spec.name]: spec.min - 1 }))).toBe('LT_OPTION_INVALID');
        expect(codeOf(() => resolveOptions({ [spec.name]: spec.max + 1 }))).toBe('LT_OPTION_INVALID');
      }
    }
  });

  it('allows depth 0 (the arguments own fields, nested objects by class)', () => {
    expect(resolveOptions({ depth: 0 }).capture.depth).toBe(0);
    expect(codeOf(() => resolveOptions({ depth: 500 }))).toBe('LT_OPTION_INVALID');
  });

  it('takes rate off as false or as the string off, and a number as per second', () => {
    expect(resolveOptions({ rate: false }).rate.count).toBe(Number.MAX_SAFE_INTEGER);
    expect(resolveOptions({ rate: 'off' }).rate.count).toBe(Number.MAX_SAFE_INTEGER);
    expect(resolveOptions({ rate: ' OFF ' }).rate.count).toBe(Number.MAX_SAFE_INTEGER);
    expect(resolveOptions({ rate: 7 }).rate).toEqual({ count: 7, perMs: 1000 });
    expect(codeOf(() => resolveOptions({ rate: 'off', trip: true }))).toBe('LT_OPTION_INVALID');
    expect(codeOf(() => resolveOptions({ rate: false, trip: true }))).toBe('LT_OPTION_INVALID');
  });

  it('refuses wrong types and unknown keys with the input and a hint naming the real flag', () => {
    const cases: [unknown, unknown, RegExp][] = [
      [{ trip: 'yes' }, 'yes', /--trip/],
      [{ max: '20' }, '20', /--max <n>/],
      [{ depth: 1.5 }, 1.5, /--depth <n>/],
      [{ overloadMsPerSec: 0 }, 0, /--cpu-budget <ms>/],
      [{ items: -1 }, -1, /no CLI flag/],
      [{ rate: true }, true, /--rate/],
      [{ for: [1] }, [1], /--for/],
      [{ redact: [''] }, [''], /--redact/],
      [{ redact: 'password' }, 'password', /--redact/],
      [{ keepValues: ['cookies'] }, ['cookies'], /--keep-values/],
      [{ keepValues: 'url' }, 'url', /--keep-values/],
      [{ redactValues: 'no' }, 'no', /--no-redact-values/],
      [{ depht: 2 }, 'depht', /depth/],
    ];
    for (const [options, input, hint] of cases) {
      const error = errorOf(() => resolveOptions(options as TraceOptions));
      expect(error, JSON.stringify(options)).toBeInstanceOf(LivetraceError);
      const lt = error as LivetraceError;
      expect(lt.code).toBe('LT_OPTION_INVALID');
      expect(lt.input).toEqual(input);
      expect(lt.hint).toMatch(hint);
      expect(lt.message).not.toMatch(/--overload|--items/);
    }
    expect(codeOf(() => resolveOptions(null as unknown as TraceOptions))).toBe('LT_OPTION_INVALID');
  });

  it('treats an undefined value as absent', () => {
    expect(resolveOptions({ max: undefined }).max).toBe(100);
  });
});
