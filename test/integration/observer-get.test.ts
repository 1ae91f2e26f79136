/**
 * The get op on live values: collections, class instances, redaction, and the two refusals
 * (a path that names nothing, a getter or Proxy in the way). The fixture's getters and
 * Proxy traps count their calls into `reads`, which the test reads back through get: it
 * must stay 0.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type AgentClient } from '../../src/client/index.js';
import { cleanup, launchApp, waitForSocket } from './fixture-app.js';
import { refusal } from '../support/errors.js';

let client: AgentClient | undefined;

afterEach(async () => {
  await client?.close();
  client = undefined;
  await cleanup();
});

async function open(): Promise<AgentClient> {
  const app = await launchApp('observer/state.cjs', { preload: 'require' });
  await waitForSocket(app.socketPath);
  client = await connect(app.pid, { socketDir: app.socketDir });
  return client;
}

describe('get', () => {
  it('shows a Map with its size and first entries, a Set, a class instance with redaction, a nested value', async () => {
    const c = await open();
    const store = await c.get('observer/state:store');
    expect(store).toMatchObject({ path: 'observer/state.cjs:store', module: 'observer/state.cjs', truncated: true });
    expect(store.value).toMatchObject({ $: 'map', size: 301 });
    const entries = (store.value as { entries: unknown[] }).entries;
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.length).toBeLessThan(301);
    expect(entries[0]).toEqual(['key0', { hits: 0 }]);
    const tags = await c.get('observer/state.cjs:tags');
    expect(tags.value).toMatchObject({ $: 'set', size: 3 });
    expect(JSON.stringify(tags.value)).toContain('"a"');
    const repo = await c.get('observer/state:repo');
    const repoText = JSON.stringify(repo.value);
    expect(repoText).toContain('Repo');
    expect(repoText).toContain('users');
    expect(repoText).not.toContain('hunter2');
    expect((await c.get('observer/state:config.db.port')).value).toBe(5432);
  });

  it('never calls a getter or a Proxy trap: an accessor or Proxy on the path is LT_GET_UNSAFE, one inside the value a marker', async () => {
    const c = await open();
    const whole = await c.get('observer/state:counted');
    expect(JSON.stringify(whole.value)).toContain('getter');
    const getter = await refusal(c.get('observer/state:counted.value'));
    expect(getter.code).toBe('LT_GET_UNSAFE');
    expect(getter.message).toMatch(/accessor/);
    const lazy = await refusal(c.get('observer/state:lazy.late'));
    expect(lazy.code).toBe('LT_GET_UNSAFE');
    const proxy = await refusal(c.get('observer/state:prox.inner'));
    expect(proxy.code).toBe('LT_GET_UNSAFE');
    expect(proxy.message).toMatch(/Proxy/);
    expect(JSON.stringify((await c.get('observer/state:prox')).value)).toContain('proxy');
    expect((await c.get('observer/state:reads.count')).value).toBe(0);
  });

  it('refuses a path that names nothing, with near misses', async () => {
    const c = await open();
    const key = await refusal(c.get('observer/state:stor'));
    expect(key).toMatchObject({ code: 'LT_GET_NOT_FOUND', input: 'observer/state:stor' });
    expect(key.message).toMatch(/did you mean 'store'/);
    const module = await refusal(c.get('observer/stat:store'));
    expect(module.code).toBe('LT_GET_NOT_FOUND');
    expect(module.message).toMatch(/observer\/state\.cjs/);
    expect((await refusal(c.get('observer/state:config.db.port.x'))).message).toMatch(/is number, it has no property 'x'/);
    expect((await refusal(c.get('observer/state'))).code).toBe('LT_GET_NOT_FOUND');
    // No function of state.cjs is exported, so no closure shows its top-level scope.
    expect((await refusal(c.get('observer/state:~store'))).message).toMatch(/exports no function/);
  });
});
