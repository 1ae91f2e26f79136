import { existsSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { agentEntry, bootstrapExpression, parseBootstrapReply } from '../../../src/attach/bootstrap.js';

const entry = { root: '/pkg', register: '/pkg/dist/cjs/register.js', library: '/pkg/dist/cjs/index.js' };

describe('bootstrapExpression', () => {
  it('refuses a Node older than 20.19 before touching process.getBuiltinModule', async () => {
    for (const node of ['18.20.4', '20.18.3', '20.9.0']) {
      const process = { versions: { node }, pid: 42 };
      const reply: unknown = await runInNewContext(bootstrapExpression(entry), { process, setImmediate });
      expect(parseBootstrapReply(reply)).toEqual({ ok: false, pid: 42, node });
    }
  });

  it('loads the register entry with createRequire, then reports the agent startAgent() describes', async () => {
    const loaded: string[] = [];
    const agent = { pid: 42, version: '0.1.0', socketPath: '/s/42.sock', listening: true };
    const process = {
      versions: { node: '20.19.0' },
      pid: 42,
      getBuiltinModule: (name: string) => {
        expect(name).toBe('module');
        return {
          createRequire: (from: string) => {
            expect(from).toBe(entry.register);
            return (id: string) => {
              loaded.push(id);
              return id === entry.library ? { startAgent: async () => agent } : {};
            };
          },
        };
      },
    };
    const reply = parseBootstrapReply(await runInNewContext(bootstrapExpression(entry), { process, setImmediate }));
    expect(loaded).toEqual([entry.register, entry.library]);
    expect(reply).toEqual({ ok: true, pid: 42, node: '20.19.0', agent });
  });

  /** The bootstrap's `process` with a createRequire whose cache holds `cached`; `loaded` records what it loads. */
  const withRequire = (cached: string[], loaded: string[], agent: object, runtime: { sea?: boolean; electron?: string } = {}) => ({
    versions: { node: '20.19.0', ...(runtime.electron === undefined ? {} : { electron: runtime.electron }) },
    release: { name: 'node' },
    pid: 42,
    getBuiltinModule: (id: string) => ({
      isSea: id === 'node:sea' ? () => runtime.sea === true : undefined,
      createRequire: () =>
        Object.assign(
          (id: string) => {
            loaded.push(id);
            if (id === loader) return { offerAgentCache: (file: string) => loaded.push(`offered ${file}`), agentCacheState: () => ({ source: 'none', rejected: false }) };
            return id === entry.library || id === bundled.bundle ? { startAgent: async () => agent } : {};
          },
          { cache: Object.fromEntries(cached.map((file) => [file, {}])) },
        ),
    }),
  });
  const bundled = { ...entry, bundle: '/pkg/dist/cjs/agent.js' };
  const loader = '/pkg/dist/cjs/agent-loader.js';

  it('loads the one-file bundle (through dist/cjs/agent.js) instead of the two entries when the build made it', async () => {
    const loaded: string[] = [];
    const agent = { pid: 42, version: '0.1.0', socketPath: '/s/42.sock', listening: true };
    const reply = parseBootstrapReply(await runInNewContext(bootstrapExpression(bundled), { process: withRequire([], loaded, agent), setImmediate }));
    expect(loaded).toEqual([loader, bundled.bundle]);
    expect(reply).toEqual({ ok: true, pid: 42, node: '20.19.0', agent, cache: { source: 'none', rejected: false, plain: true } });
  });

  it('tells the CLI when the target is not a plain Node, whose executable must never be run to make a cache', async () => {
    const agent = { pid: 42, version: '0.1.0', socketPath: '/s/42.sock', listening: true };
    for (const runtime of [{ sea: true }, { electron: '33.0.0' }]) {
      const reply = parseBootstrapReply(await runInNewContext(bootstrapExpression(bundled), { process: withRequire([], [], agent, runtime), setImmediate }));
      expect(reply, JSON.stringify(runtime)).toMatchObject({ ok: true, cache: { source: 'none', plain: false } });
    }
    // A reply without the field (an agent-loader of an older build) is no plain Node either.
    expect(parseBootstrapReply({ ok: true, pid: 1, node: '22.0.0', agent, cache: { source: 'none', rejected: false } })).toMatchObject({ cache: { plain: false } });
  });

  it('offers the code cache the CLI made to the bundle loader before the bundle loads, and reports which cache was used', async () => {
    const loaded: string[] = [];
    const agent = { pid: 42, version: '0.1.0', socketPath: '/s/42.sock', listening: true };
    const file = '/run/livetrace-1/cache/agent-")+x+(".v8cache';
    const reply = parseBootstrapReply(await runInNewContext(bootstrapExpression(bundled, file), { process: withRequire([], loaded, agent), setImmediate }));
    expect(loaded).toEqual([loader, `offered ${file}`, bundled.bundle]);
    expect(reply).toMatchObject({ ok: true, cache: { source: 'none', rejected: false } });
    // A reply without a cache state (an older agent-loader) or with a malformed one parses without it.
    expect(parseBootstrapReply({ ok: true, pid: 1, node: '22.0.0', agent, cache: { source: 'disk' } })).not.toHaveProperty('cache');
  });

  it('keeps using the CommonJS entries a process already loaded (a preload, a require of the library), bundle or not', async () => {
    for (const cached of [[entry.register], [entry.library]]) {
      const loaded: string[] = [];
      const agent = { pid: 42, version: '0.1.0', socketPath: '/s/42.sock', listening: true };
      await runInNewContext(bootstrapExpression(bundled), { process: withRequire(cached, loaded, agent), setImmediate });
      expect(loaded).toEqual([entry.register, entry.library]);
    }
  });

  it('embeds paths as JSON string literals, whatever characters they hold', () => {
    const odd = { root: '/p', register: '/p/")+alert(1)+("/r.js', library: '/p/\\n\u2028/i.js', bundle: '/p/`${x}`/b.js' };
    const expression = bootstrapExpression(odd);
    expect(expression).toContain(JSON.stringify(odd.register));
    expect(expression).toContain(JSON.stringify(odd.library));
    expect(expression).toContain(JSON.stringify(odd.bundle));
    expect(() => new Function(`return ${expression}`)).not.toThrow();
  });

  it('rejects an answer that is not a bootstrap reply', () => {
    expect(() => parseBootstrapReply(undefined)).toThrow(expect.objectContaining({ code: 'LT_ATTACH_FAILED' }));
    expect(() => parseBootstrapReply({ ok: true, pid: 1, node: '20.19.0' })).toThrow(expect.objectContaining({ code: 'LT_ATTACH_FAILED' }));
  });
});

describe('agentEntry', () => {
  it('finds the package root from its own module and points at the CommonJS build', () => {
    const found = agentEntry();
    expect(existsSync(`${found.root}/package.json`)).toBe(true);
    expect(found.register).toBe(`${found.root}/dist/cjs/register.js`);
    expect(found.library).toBe(`${found.root}/dist/cjs/index.js`);
    // The build (scripts/build.mjs, esbuild a devDependency) makes the bundle.
    expect(found.bundle).toBe(`${found.root}/dist/cjs/agent.js`);
  });
});
