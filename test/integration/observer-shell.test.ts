/**
 * The shell (eval op) and the reads that go through the agent's inspector worker: a
 * module-internal binding after it changed, live instances of a class. The fixture serves
 * HTTP; the runaway-loop test asks it for a page right after the interrupted evaluation,
 * which it can only answer if the loop was really ended.
 */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type AgentClient } from '../../src/client/index.js';
import { cleanup, launchApp, waitForSocket, type RunningApp } from './fixture-app.js';
import { refusal } from '../support/errors.js';

let client: AgentClient | undefined;

afterEach(async () => {
  await client?.close();
  client = undefined;
  await cleanup();
});

async function open(): Promise<{ c: AgentClient; app: RunningApp; port: number }> {
  const app = await launchApp('observer/shell.cjs', { preload: 'require' });
  const ready = await app.waitForLine(/^ready \d+ (\d+)/);
  await waitForSocket(app.socketPath);
  client = await connect(app.pid, { socketDir: app.socketDir });
  return { c: client, app, port: Number(ready.match[1]) };
}

function fetchText(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('no answer')));
    req.on('error', reject);
    req.end();
  });
}

describe('shell', () => {
  it('evaluates in the target: values, modules by name, top-level await, lets kept, thrown errors', async () => {
    const { c, app } = await open();
    expect((await c.evaluate('1 + 1')).value).toBe(2);
    expect((await c.evaluate('process.pid')).value).toBe(app.pid);
    expect((await c.evaluate("$('observer/users').findUser(2)")).value).toMatchObject({ name: 'Bob' });
    expect((await c.evaluate("await $('observer/users').findUserLater(1)")).value).toMatchObject({ name: 'Ann' });
    await c.evaluate('let kept = 41');
    expect((await c.evaluate('kept + 1')).value).toBe(42);
    const thrown = await c.evaluate("throw new Error('boom')");
    expect(thrown.thrown).toBe(true);
    expect(JSON.stringify(thrown.value)).toContain('boom');
    // The helper is gone between evaluations: the application never sees it.
    expect((await c.evaluate("typeof globalThis.$ + ' ' + Object.keys(globalThis).includes('$')")).value).toBe('function false');
    expect((await c.evaluate("$('observer/nope')")).thrown).toBe(true);
    // Every evaluation is in the target's log (stderr).
    expect(app.stderr()).toContain('[livetrace] shell evaluation');
    expect(app.stderr()).toContain('kept + 1');
  });

  it('interrupts while (true) {} with LT_EVAL_TIMEOUT, and the target still answers requests', async () => {
    const { c, port } = await open();
    const error = await refusal(c.evaluate('while (true) {}', { timeoutMs: 300 }));
    expect(error.code).toBe('LT_EVAL_TIMEOUT');
    expect(error.input).toBe('while (true) {}');
    expect(JSON.parse(await fetchText(port, '/touch'))).toMatchObject({ hits: 1 });
    expect((await c.evaluate('2 * 21')).value).toBe(42);
    const pending = await refusal(c.evaluate('await new Promise(() => {})', { timeoutMs: 200 }));
    expect(pending.code).toBe('LT_EVAL_TIMEOUT');
    expect(JSON.parse(await fetchText(port, '/touch'))).toMatchObject({ hits: 2 });
  });

  it('refuses a side effect under safe, and evaluates a pure expression', async () => {
    const { c } = await open();
    const error = await refusal(c.evaluate('globalThis.changed = 1', { safe: true }));
    expect(error.code).toBe('LT_EVAL_SIDE_EFFECT');
    expect((await c.evaluate('typeof globalThis.changed')).value).toBe('undefined');
    expect((await c.evaluate('[1, 2].map((x) => x * 2)', { safe: true })).value).toEqual([2, 4]);
  });

  it('completes globals, lets, object paths and module names without running anything with a side effect', async () => {
    const { c, app } = await open();
    await c.evaluate('let shellLet = { alpha: 1, beta: 2 }; globalThis.reads = 0; globalThis.watched = { get lazy() { reads++; return { inner: 1 }; }, plain: { deep: 1 } }');
    expect(await c.complete('process.ver')).toEqual({ prefix: 'ver', names: ['version', 'versions'] });
    expect(await c.complete('shellL')).toEqual({ prefix: 'shellL', names: ['shellLet'] });
    expect((await c.complete('x = shellLet.al')).names).toEqual(['alpha']);
    expect((await c.complete('watched.plain.d')).names).toEqual(['deep']);
    expect((await c.complete("process['versions'].nod")).names).toEqual(['node']);
    expect(await c.complete("$('observer/users').find")).toEqual({ prefix: 'find', names: ['findUser', 'findUserLater'] });
    expect((await c.complete("$('observer/us")).names).toContain('observer/users');
    // Inherited names too; numeric indexes left out.
    expect((await c.complete('[1, 2]; watched.plain.hasOwn')).names).toEqual(['hasOwnProperty']);
    // A getter that writes is refused by V8's side-effect check (no names); a call is never made.
    expect((await c.complete('watched.lazy.in')).names).toEqual([]);
    expect((await c.complete('Date.now().')).names).toEqual([]);
    expect((await c.evaluate('reads')).value).toBe(0);
    expect((await c.complete('nothingHere.x')).names).toEqual([]);
    // Completing is not an evaluation: nothing in the target's log.
    expect(app.stderr()).not.toContain('watched.plain.d');
  });
});

describe('get through the inspector', () => {
  it('reads a module-internal let and const after they changed, with near misses for a wrong name', async () => {
    const { c, port } = await open();
    expect((await c.get('observer/shell:~hits')).value).toBe(0);
    await fetchText(port, '/touch');
    await fetchText(port, '/touch');
    expect((await c.get('observer/shell:~hits')).value).toBe(2);
    const store = await c.get('observer/shell:~store');
    expect(store.path).toBe('observer/shell.cjs:~store');
    expect(store.value).toMatchObject({ $: 'map', size: 3 });
    const miss = await refusal(c.get('observer/shell:~hit'));
    expect(miss.code).toBe('LT_GET_NOT_FOUND');
    expect(miss.message).toMatch(/did you mean 'hits'/);
    // No function uses it: V8 did not keep it, and the error says why.
    expect((await refusal(c.get('observer/shell:~secretUnused'))).message).toMatch(/functions use/);
  });

  it('counts the live instances of a class after a full GC', async () => {
    const { c } = await open();
    const result = await c.get('observer/shell:Session', { instances: true });
    expect(result.instances).toEqual({ count: 3, fullGc: true });
    expect(JSON.stringify(result.value)).toContain('ann');
    expect(JSON.stringify(result.value)).not.toContain('"tok"');
  });
});

describe('ES modules', () => {
  it('get reads an ES module export (a live let after it changed) and an internal binding; the shell reaches it by name', async () => {
    const app = await launchApp('observer/esm-state.mjs', { preload: 'import' });
    await waitForSocket(app.socketPath);
    client = await connect(app.pid, { socketDir: app.socketDir });
    expect((await client.get('observer/esm-state:phase')).value).toBe('tick 1');
    expect((await client.get('observer/esm-state:registry')).value).toMatchObject({ $: 'map', size: 1 });
    expect((await client.get('observer/esm-state:~internalCount')).value).toBe(10);
    expect((await client.evaluate("$('observer/esm-state').bump()")).value).toBe(2);
    expect((await client.get('observer/esm-state:phase')).value).toBe('tick 2');
    expect((await client.get('observer/esm-state:~internalCount')).value).toBe(20);
    // import() cannot work in an inspector evaluation on Node 20; it is refused before it runs.
    expect((await refusal(client.evaluate("import('node:os')"))).code).toBe('LT_EVAL_UNSUPPORTED');
    expect((await client.evaluate('1 + 2')).value).toBe(3);
  });
});
