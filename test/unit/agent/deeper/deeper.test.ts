import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deeper, type Callee } from '../../../../src/agent/deeper/deeper.js';
import { resetAppRoot } from '../../../../src/agent/catalog/naming.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/probes/deeper');
const require = createRequire(import.meta.url);
beforeAll(() => {
  resetAppRoot(dir);
  // Loaded by Node itself (require of an ES module puts it in the require cache, where the
  // registry finds it), not through vitest's transform: deeper reads their source text.
  for (const name of ['users.cjs', 'orders.mjs', 'format.mjs', 'app.controller.js']) require(join(dir, name));
});

afterAll(() => {
  resetAppRoot();
});

function row(c: Callee): unknown[] {
  return c.note === undefined ? [c.call, c.pattern, c.engine, c.count] : [c.call, c.pattern, c.engine, c.count, c.note];
}

describe('deeper', () => {
  it('lists what an exported CommonJS function calls, resolved to patterns', () => {
    const [result, ...more] = deeper('users.cjs:findUser');
    expect(more).toEqual([]);
    expect(result).toMatchObject({ fn: 'users.cjs:findUser', module: 'users.cjs', line: 31 });
    expect(result!.callees.map(row)).toEqual([
      ['db.query', 'db.cjs:query', 'exports', 1],
      // `const { query } = require('./db')`: a copy the exports wrapper never replaces.
      ['query', 'db.cjs:~query', 'probe', 1, 'called through a copy taken from require(): the exports wrapper would not see it'],
      ['db.users.find', 'db.cjs:users.find', 'exports', 1],
      ['hashPassword', 'users.cjs:~hashPassword', 'probe', 1],
      ['fs.existsSync', 'node:fs:existsSync', 'exports', 1],
      ['opts.callback', null, null, 1, 'a method of a parameter'],
      ['UserRepo.create', 'users.cjs:UserRepo.create', 'exports', 1],
      ['new UserRepo', 'users.cjs:UserRepo', 'exports', 1],
      ['rows.map', null, null, 1, 'a method of a variable'],
      ['normalize', 'users.cjs:normalize', 'exports', 1, 'passed as a callback'],
      ['setTimeout', null, null, 1, 'a global'],
      ['helper', 'users.cjs:~helper', 'probe', 1],
      // A builtin has no source to probe: nothing reaches a copy of its export.
      ['format', 'node:util:format', null, 1, 'called through a copy taken from require(): the exports wrapper would not see it'],
    ]);
  });

  it('follows `this` to the methods of the class, and reads internal functions by ~path', () => {
    const [save] = deeper('users.cjs:UserRepo#save');
    expect(save!.callees.map(row)).toEqual([
      ['this.validate', 'users.cjs:UserRepo#validate', 'exports', 1],
      ['query', 'db.cjs:~query', 'probe', 1, 'called through a copy taken from require(): the exports wrapper would not see it'],
    ]);
    const [internal] = deeper('users.cjs:~helper');
    expect(internal).toMatchObject({ fn: 'users.cjs:~helper', callees: [] });
  });

  it("follows this.service.method() through TypeScript's design:paramtypes to the injected class", () => {
    // constructor(private readonly appService: AppService), compiled by tsc.
    const [hello] = deeper('app.controller.js:AppController#getHello');
    expect(hello!.callees.map(row)).toEqual([['this.appService.getHello', 'app.service.js:AppService#getHello', 'exports', 1]]);
  });

  it('resolves ES module imports: named with a rename, namespace, default', () => {
    const [order] = deeper('orders.mjs:placeOrder');
    expect(order!.callees.map(row)).toEqual([
      ['total', 'orders.mjs:~total', 'probe', 1],
      ['run', 'db.cjs:query', 'exports', 1],
      ['fmt', 'format.mjs:default', 'exports', 1],
      ['util.format', 'node:util:format', 'exports', 1],
    ]);
    const [total] = deeper('orders.mjs:~total');
    expect(total!.callees.map(row)).toEqual([['items.reduce', null, null, 1, 'a method of a parameter']]);
  });

  it('refuses a pattern that matches nothing, with near misses', () => {
    expect(() => deeper('users.cjs:findUsr')).toThrow(expect.objectContaining({ code: 'LT_PATTERN_NO_MATCH', hint: expect.stringContaining('users.cjs:findUser') }));
  });
});
