import { describe, expect, it } from 'vitest';
import { defaults, parseDuration, parseRate, resolveOptions } from '../../../src/protocol/options.js';
import { LivetraceError } from '../../../src/protocol/errors.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof LivetraceError ? error.code : 'not a LivetraceError';
  }
  return undefined;
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
    for (const bad of ['0/1s', '/1s', '1/0s', 'x/1s', '1.5/1s']) expect(codeOf(() => parseRate(bad))).toBe('LT_OPTION_INVALID');
  });

  it('fills conservative defaults', () => {
    const o = resolveOptions();
    expect(o.max).toBe(defaults.max);
    expect(o.forMs).toBe(60_000);
    expect(o.rate).toEqual({ count: 100, perMs: 1000 });
    expect(o.trip).toBe(false);
    expect(o.capture).toMatchObject({ depth: 3, items: 100, fields: 20, stringLimit: 255, eventBytes: 8192 });
  });

  it('rejects bad numbers and redaction keys with a code', () => {
    expect(codeOf(() => resolveOptions({ max: 0 }))).toBe('LT_OPTION_INVALID');
    expect(codeOf(() => resolveOptions({ depth: 1.5 }))).toBe('LT_OPTION_INVALID');
    expect(codeOf(() => resolveOptions({ redact: [''] }))).toBe('LT_OPTION_INVALID');
  });
});
