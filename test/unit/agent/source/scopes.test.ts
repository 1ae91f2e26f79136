import { describe, expect, it } from 'vitest';
import { parseSource } from '../../../../src/agent/source/parse.js';
import { scopesOf, type Binding } from '../../../../src/agent/source/scopes.js';

const source = `const db = require('./db');
const { query, users: { find } } = require('./db').api;
import * as ns from './ns.js';
import { a as b } from './a.js';
function outer(param, { key }) {
  var hoisted = {};
  if (param) { let inner = () => 1; MARK_BLOCK; }
  const fnExpr = function self() { MARK_SELF; };
  for (const item of param) { MARK_LOOP; }
  try {} catch (err) { MARK_CATCH; }
  class Local {}
  MARK_OUTER;
}
MARK_TOP;
`;

const scopes = scopesOf(parseSource(source, 'fixture.mjs'));
const at = (mark: string): number => source.indexOf(mark);
const kind = (name: string, mark: string): Binding['kind'] | undefined => scopes.lookup(name, at(mark))?.kind;

describe('scopesOf', () => {
  it('binds require() and import to the module and export they name', () => {
    expect(scopes.lookup('db', at('MARK_TOP'))).toEqual({ kind: 'module', specifier: './db', path: '' });
    expect(scopes.lookup('query', at('MARK_TOP'))).toEqual({ kind: 'module', specifier: './db', path: 'api.query' });
    expect(scopes.lookup('find', at('MARK_TOP'))).toEqual({ kind: 'module', specifier: './db', path: 'api.users.find' });
    expect(scopes.lookup('ns', at('MARK_TOP'))).toEqual({ kind: 'module', specifier: './ns.js', path: '', imported: true });
    expect(scopes.lookup('b', at('MARK_TOP'))).toEqual({ kind: 'module', specifier: './a.js', path: 'a', imported: true });
  });

  it('sees parameters, locals and enclosing scopes from inside a function', () => {
    expect(kind('param', 'MARK_OUTER')).toBe('param');
    expect(kind('key', 'MARK_OUTER')).toBe('param');
    expect(kind('hoisted', 'MARK_BLOCK')).toBe('object');
    expect(kind('fnExpr', 'MARK_OUTER')).toBe('function');
    expect(kind('Local', 'MARK_OUTER')).toBe('function');
    expect(kind('outer', 'MARK_SELF')).toBe('function');
    expect(kind('db', 'MARK_SELF')).toBe('module');
  });

  it('keeps block-scoped names in their block and hoists var to the function', () => {
    expect(kind('inner', 'MARK_BLOCK')).toBe('function');
    expect(kind('inner', 'MARK_OUTER')).toBeUndefined();
    expect(kind('item', 'MARK_LOOP')).toBe('other');
    expect(kind('item', 'MARK_OUTER')).toBeUndefined();
    expect(kind('err', 'MARK_CATCH')).toBe('param');
    expect(kind('err', 'MARK_OUTER')).toBeUndefined();
    expect(kind('hoisted', 'MARK_TOP')).toBeUndefined();
  });

  it('lets a named function expression see its own name, and nothing else see it', () => {
    expect(kind('self', 'MARK_SELF')).toBe('function');
    expect(kind('self', 'MARK_OUTER')).toBeUndefined();
  });

  it('leaves globals unbound', () => {
    expect(scopes.lookup('setTimeout', at('MARK_SELF'))).toBeUndefined();
  });
});
