/**
 * The agent bundle an attach loads (src/attach-main.ts, built by scripts/build.mjs):
 * everything the agent loads as it starts is in the one file, nothing else is, and an
 * attached process has that file of livetrace's loaded and no other.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cacheFileFor } from '../../src/bundle-loader.js';
import { launchAttached, launchPlain, runCli } from './attach-harness.js';
import { cleanup, repoRoot, tempDir } from './fixture-app.js';

afterEach(cleanup);

const bundle = join(repoRoot, 'dist/cjs/agent.bundle.js');

/** The packages whose code esbuild put in the bundle (it heads each module with its path). */
function bundledPackages(): string[] {
  const names = new Set<string>();
  for (const match of readFileSync(bundle, 'utf8').matchAll(/^\/\/ node_modules\/((?:@[^/]+\/)?[^/]+)\//gm)) names.add(match[1]!);
  return [...names].sort();
}

describe('the agent bundle', () => {
  it('holds exactly the packages the CommonJS agent loads as it starts', () => {
    const script = `
      require(${JSON.stringify(join(repoRoot, 'dist/cjs/register.js'))});
      require(${JSON.stringify(join(repoRoot, 'dist/cjs/index.js'))}).startAgent().then(() => {
        const names = new Set();
        for (const file of Object.keys(require.cache)) {
          const at = file.lastIndexOf('/node_modules/');
          if (at === -1) continue;
          const parts = file.slice(at + 14).split('/');
          names.add(parts[0].startsWith('@') ? parts[0] + '/' + parts[1] : parts[0]);
        }
        process.stdout.write(JSON.stringify([...names].sort()));
        process.exit(0);
      });`;
    const dir = join(repoRoot, 'test/fixtures/plain');
    const loaded = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: dir, env: { ...process.env, LIVETRACE_SOCKET_DIR: '' }, timeout: 20_000 }).toString()) as string[];
    expect(loaded.length).toBeGreaterThan(0);
    expect(bundledPackages()).toEqual(loaded);
  });

  it('leaves out only runtime dependencies, which load from node_modules when a path needs them', () => {
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const required = [...readFileSync(bundle, 'utf8').matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]!).filter((id) => !id.startsWith('node:'));
    const builtins = new Set(['fs', 'path', 'util', 'os', 'url', 'module', 'events', 'net', 'inspector', 'worker_threads', 'crypto', 'assert', 'v8', 'vm']);
    for (const id of required) expect(builtins.has(id) || id in manifest.dependencies, id).toBe(true);
  });

  it('is the only file of livetrace an attached process loads', async () => {
    const app = await launchAttached([join(repoRoot, 'test/fixtures/plain/report-cache.cjs')], { env: { LT_PACKAGE_ROOT: repoRoot } });
    expect(app.attached.alreadyPresent).toBe(false);
    app.child.kill('SIGUSR2');
    const { match } = await app.waitForLine(/^CACHE (.*)$/, 10_000);
    // The bundle itself is compiled by the loader (agent-loader.ts, bundle-loader.ts), not required.
    expect(JSON.parse(match[1]!)).toEqual({ own: ['dist/cjs/agent-loader.js', 'dist/cjs/agent.js', 'dist/cjs/bundle-loader.js'], packages: [], hooks: false });
  });

  it('installs no load hooks in a process started with another preload (an attach starts no preload engine)', async () => {
    // The preload engine tells a preload by the command line, where any `-r` counts: in an
    // attach it registered ES module hooks, whose loader thread the target waited for.
    const app = await launchAttached([join(repoRoot, 'test/fixtures/plain/report-cache.cjs')], {
      env: { LT_PACKAGE_ROOT: repoRoot },
      nodeArgs: ['-r', join(repoRoot, 'test/fixtures/plain/other-preload.cjs')],
    });
    expect(app.attached.alreadyPresent).toBe(false);
    app.child.kill('SIGUSR2');
    const { match } = await app.waitForLine(/^CACHE (.*)$/, 10_000);
    expect(JSON.parse(match[1]!)).toMatchObject({ packages: [], hooks: false });
  });

  it('loads with the code cache the build made, which V8 accepts on the Node that built it', () => {
    // The build names its cache by its V8 version; a Node with another V8 (CI's second
    // stage runs Node 22 and 24 on a build made by Node 20) finds none and reads none.
    const made = readdirSync(join(repoRoot, 'dist/cjs')).filter((name) => /^agent\.bundle\.v8-.+\.cache$/.test(name));
    expect(made).toHaveLength(1);
    const cache = cacheFileFor(bundle);
    expect(cache).toMatch(/\/agent\.bundle\.v8-.+\.at-[0-9a-f]{8}\.cache$/);
    const script = `
      const loaded = require(${JSON.stringify(join(repoRoot, 'dist/cjs/agent-loader.js'))}).loadAgentBundle(${JSON.stringify(bundle)}, ${JSON.stringify(cache)});
      const again = require(${JSON.stringify(join(repoRoot, 'dist/cjs/agent-loader.js'))}).loadAgentBundle(${JSON.stringify(bundle)});
      loaded.exports.startAgent().then((agent) => {
        process.stdout.write(JSON.stringify({ rejected: loaded.cacheRejected, same: again === loaded, listening: agent.listening }));
        process.exit(0);
      });`;
    const dir = tempDir('lt-bundle-');
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { env: { ...process.env, LIVETRACE_SOCKET_DIR: dir }, timeout: 20_000 }).toString());
    // JSON drops an undefined `rejected`: no cache file for this V8, none read.
    expect(out).toEqual(existsSync(cache) ? { rejected: false, same: true, listening: true } : { same: true, listening: true });
  });

  it('reads an ES module namespace in an attached process (import() from code the bundle compiles from strings)', async () => {
    // `get` of an ES module export imports the module's namespace (observer/modules.ts);
    // inside a bundle compiled by vm.Script that import needs the loader's function.
    const app = await launchPlain('esm');
    const run = await runCli(['get', String(app.pid), 'test/fixtures/plain/users.mjs:findUser'], { env: { LIVETRACE_SOCKET_DIR: app.socketDir } });
    expect(run.stderr).toMatch(/attached to process/);
    expect(run.stdout).toContain('[Function: findUser]');
    expect(run.code).toBe(0);
  });
});
