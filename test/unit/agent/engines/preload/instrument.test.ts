// Which CommonJS modules the preload instruments (src/agent/engines/preload/instrument.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { compiles, instrumentGlobs, instrumentModule, makeInstrumentFilter } from '../../../../../src/agent/engines/preload/instrument.js';
import { resetAppRoot } from '../../../../../src/agent/catalog/naming.js';

afterEach(() => resetAppRoot());

const run = (patterns: string[]) => JSON.stringify({ token: 'x'.repeat(32), patterns });

describe('the selection', () => {
  it('takes LIVETRACE_INSTRUMENT globs and the run patterns module globs, never a bare **', () => {
    expect(instrumentGlobs({ LIVETRACE_INSTRUMENT: 'lib/a.js, src/**' })).toEqual(['lib/a.js', 'src/**']);
    expect(instrumentGlobs({ LIVETRACE_RUN: run(['lodash.js:**', '**:handler', 'src/users:findUser']) })).toEqual(['lodash.js', 'src/users']);
    expect(instrumentGlobs({ LIVETRACE_INSTRUMENT: 'a.js', LIVETRACE_RUN: run(['b.js:f']) })).toEqual(['a.js', 'b.js']);
    expect(instrumentGlobs({})).toEqual([]);
  });

  it('LIVETRACE_INSTRUMENT=0 turns it off, the run selection included; a bad run request selects nothing', () => {
    expect(instrumentGlobs({ LIVETRACE_INSTRUMENT: '0', LIVETRACE_RUN: run(['lodash.js:**']) })).toEqual([]);
    expect(instrumentGlobs({ LIVETRACE_RUN: '{not json' })).toEqual([]);
    expect(makeInstrumentFilter([], false)).toBeUndefined();
  });

  it('matches app modules by the glob, JavaScript files only; packages only when named or with packages on', () => {
    resetAppRoot('/app');
    const filter = makeInstrumentFilter(['src/**', 'lodash'], false)!;
    expect(filter('/app/src/users.js')).toBe(true);
    expect(filter('/app/src/users.cjs')).toBe(true);
    expect(filter('/app/src/users.ts')).toBe(false);
    expect(filter('/app/lib/other.js')).toBe(false);
    expect(filter('/app/node_modules/lodash/lodash.js')).toBe(false); // not the package's entry here
    const wide = makeInstrumentFilter(['**/*.js'], false)!;
    expect(wide('/app/lib/other.js')).toBe(true);
    expect(wide('/app/node_modules/qs/lib/parse.js')).toBe(false);
    expect(makeInstrumentFilter(['**/*.js'], true)!('/app/node_modules/qs/lib/parse.js')).toBe(true);
    expect(makeInstrumentFilter(['qs/lib/*.js'], false)!('/app/node_modules/qs/lib/parse.js')).toBe(true);
  });
});

describe('the compile check', () => {
  it('lets through what compiles as a CommonJS body (return, hashbang) and nothing that does not', () => {
    expect(compiles('return module.exports')).toBe(true);
    expect(compiles('#!/usr/bin/env node\nexports.f = function () { return __dirname; };')).toBe(true);
    expect(compiles('"use strict" let x = 1')).toBe(false);
    expect(compiles('exports.f = function () {')).toBe(false);
    // A hashbang module is still instrumented (it compiles).
    expect(instrumentModule('#!/usr/bin/env node\nexports.f = function () { return 1; };', '/app/bin.js')).toContain('exports.f');
  });
});
