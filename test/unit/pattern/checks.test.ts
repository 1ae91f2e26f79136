import { describe, expect, it } from 'vitest';
import type { LivetraceError } from '../../../src/protocol/errors.js';
import { MAX_DEPTH, type Expr, type PatternAst } from '../../../src/pattern/ast.js';
import { checkPattern, compilePattern, parsePattern, patternToJson } from '../../../src/pattern/index.js';
import { thrown } from './thrown.js';

const base: PatternAst = { kind: 'pattern', module: 'm', function: 'f', params: null, guard: null, actions: [] };

function rejection(value: unknown): LivetraceError {
  return thrown(() => checkPattern(value));
}

describe('checking trees given as data', () => {
  it('returns a fresh copy that later changes to the input cannot reach', () => {
    const input = structuredClone(parsePattern('m:f({id: X}) when X > 1 -> stack'));
    const checked = checkPattern(input);
    expect(checked).toEqual(input);
    expect(checked).not.toBe(input);
    (input.actions as string[]).push('count');
    expect(checked.actions).toEqual(['stack']);
  });

  it('fills in a missing guard and actions', () => {
    expect(checkPattern({ kind: 'pattern', module: 'm', function: 'f', params: null })).toEqual(base);
  });

  it('refuses malformed shapes with LT_PATTERN_SYNTAX and a path', () => {
    const cases: Array<[unknown, string]> = [
      [null, 'pattern'],
      [[], 'pattern'],
      [{ ...base, kind: 'other' }, 'pattern.kind'],
      [{ ...base, module: 3 }, 'module'],
      [{ ...base, params: { kind: 'arity', arity: -1 } }, 'params.arity'],
      [{ ...base, params: { kind: 'arity', arity: 1.5 } }, 'params.arity'],
      [{ ...base, params: { kind: 'args', patterns: {}, rest: false } }, 'params.patterns'],
      [{ ...base, params: { kind: 'args', patterns: [], rest: 'no' } }, 'params.rest'],
      [{ ...base, params: { kind: 'args', patterns: [{ kind: 'bigint', value: '007' }], rest: false } }, 'params.patterns[0].value'],
      [{ ...base, params: { kind: 'args', patterns: [{ kind: 'bigint', value: '-0' }], rest: false } }, 'params.patterns[0].value'],
      [{ ...base, params: { kind: 'args', patterns: [{ kind: 'bind', name: 'ret' }], rest: false } }, 'params.patterns[0].name'],
      [{ ...base, params: { kind: 'args', patterns: [{ kind: 'bind', name: 'a b' }], rest: false } }, 'params.patterns[0].name'],
      [{ ...base, params: { kind: 'args', patterns: [{ kind: 'alt', alternatives: [{ kind: 'any' }] }], rest: false } }, 'params.patterns[0].alternatives'],
      [
        { ...base, params: { kind: 'args', patterns: [{ kind: 'alt', alternatives: [{ kind: 'any' }, { kind: 'alt', alternatives: [{ kind: 'any' }, { kind: 'nil' }] }] }], rest: false } },
        'params.patterns[0].alternatives',
      ],
      [{ ...base, params: { kind: 'args', patterns: [{ kind: 'mystery' }], rest: false } }, 'params.patterns[0].kind'],
      [{ ...base, guard: { kind: 'binary', operator: '**', left: { kind: 'null' }, right: { kind: 'null' } } }, 'guard.operator'],
      [{ ...base, guard: { kind: 'unary', operator: '~', operand: { kind: 'null' } } }, 'guard.operator'],
      [{ ...base, guard: { kind: 'context', name: 'self' } }, 'guard.name'],
      [{ ...base, actions: ['stack', 'stack'] }, 'actions[1]'],
    ];
    for (const [value, path] of cases) {
      const error = rejection(value);
      expect(error.code, path).toBe('LT_PATTERN_SYNTAX');
      expect(error.message, path).toContain(`at ${path}:`);
    }
  });

  it('uses the pattern codes for semantic problems', () => {
    expect(rejection({ ...base, params: { kind: 'args', patterns: [{ kind: 'type', name: 'date' }], rest: false } }).code).toBe('LT_PATTERN_UNKNOWN_TYPE');
    expect(rejection({ ...base, actions: ['trace'] }).code).toBe('LT_PATTERN_UNKNOWN_ACTION');
    expect(rejection({ ...base, guard: { kind: 'name', name: 'X' } }).code).toBe('LT_PATTERN_UNBOUND_NAME');
    expect(rejection({ ...base, module: '' }).code).toBe('LT_PATTERN_SYNTAX');
    const regex = (source: string, flags = ''): unknown => ({ ...base, params: { kind: 'args', patterns: [{ kind: 'regex', source, flags }], rest: false } });
    for (const bad of [regex('a/b'), regex('a\nb'), regex(''), regex('('), regex('a', 'g'), regex('a', 'uv')]) {
      expect(rejection(bad).code).toBe('LT_PATTERN_BAD_REGEX');
    }
  });

  it('refuses cycles and excessive depth instead of recursing forever', () => {
    const cyclic: { kind: string; operand?: unknown; operator: string } = { kind: 'unary', operator: '!' };
    cyclic.operand = cyclic;
    const error = rejection({ ...base, guard: cyclic });
    expect(error.code).toBe('LT_PATTERN_SYNTAX');
    expect(error.message).toContain(`deeper than ${MAX_DEPTH}`);
  });

  it('turns anything thrown while reading the data into a coded error', () => {
    const hostile = {
      ...base,
      get params(): never {
        throw new TypeError('boom');
      },
    };
    const error = rejection(hostile);
    expect(error.code).toBe('LT_PATTERN_SYNTAX');
    expect(error.message).toBe('malformed pattern tree');
  });
});

describe('the JSON form', () => {
  it('writes NaN, Infinity and -0 as strings and reads them back', () => {
    const ast = parsePattern('m:f(NaN, -0, Infinity, -Infinity, 1.5, "NaN") when -(0) == -0');
    const json = patternToJson(ast);
    expect(json).toContain('"value":"NaN"');
    expect(json).toContain('"value":"-0"');
    expect(json).toContain('"value":"-Infinity"');
    expect(checkPattern(JSON.parse(json))).toEqual(ast);
    const guard = checkPattern(JSON.parse(json)).guard as Expr;
    expect(guard).toMatchObject({ right: { kind: 'number', value: -0 } });
    expect(compilePattern(JSON.parse(json) as PatternAst).normalized).toBe(compilePattern(ast).normalized);
  });
});
