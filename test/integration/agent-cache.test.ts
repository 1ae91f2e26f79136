/**
 * The agent bundle's code cache for a Node the build's cache does not fit
 * (src/attach/agent-cache.ts, src/agent-cache-maker.ts, src/agent-loader.ts): the CLI makes
 * it in the background after an attach that found none, the next attach's target reads it,
 * and the target reads only a file that nobody but its own user could have written; a
 * cache V8 refuses is only compiled around.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readPrivateFile } from '../../src/agent-loader.js';
import { agentCacheOffer, makeAgentCache } from '../../src/attach/agent-cache.js';
import { launchPlain, publicPackageCopy, runCli } from './attach-harness.js';
import { cleanup, repoRoot, tempDir } from './fixture-app.js';

afterEach(cleanup);

const linux = process.platform === 'linux';
const bundle = join(repoRoot, 'dist/cjs/agent.bundle.js');
const maker = join(repoRoot, 'dist/cjs/agent-cache-maker.js');
const sha256 = (): string => readFileSync(join(repoRoot, 'dist/cjs/agent.bundle.sha256'), 'utf8').trim();

/** Runs the maker as the CLI does; its exit status. */
function make(out: string, digest = sha256()): number | null {
  return spawnSync(process.execPath, [maker, bundle, digest, out], { timeout: 60_000, env: { ...process.env, LIVETRACE_SOCKET_DIR: '' } }).status;
}

/** In a fresh process: offer `file`, load the bundle without the build's cache, start the agent. */
function loadOffered(file: string): { source: string; rejected: boolean; listening: boolean } {
  const script = `
    const loader = require(${JSON.stringify(join(repoRoot, 'dist/cjs/agent-loader.js'))});
    loader.offerAgentCache(${JSON.stringify(file)});
    const loaded = loader.loadAgentBundle(${JSON.stringify(bundle)});
    loaded.exports.startAgent().then((agent) => {
      process.stdout.write(JSON.stringify({ ...loader.agentCacheState(), listening: agent.listening }));
      process.exit(0);
    });`;
  const out = execFileSync(process.execPath, ['-e', script], { env: { ...process.env, LIVETRACE_SOCKET_DIR: tempDir('lt-cache-agent-') }, timeout: 20_000 });
  return JSON.parse(out.toString()) as { source: string; rejected: boolean; listening: boolean };
}

/** Waits (bounded) for the background maker's file. */
async function madeFile(dir: string, timeoutMs = 30_000): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const found = existsSync(dir) ? readdirSync(dir).find((name) => /^agent-[0-9a-f]{16}-[0-9a-f]{16}\.v8cache$/.test(name)) : undefined;
    if (found !== undefined) return join(dir, found);
    if (performance.now() > deadline) throw new Error(`no cache made in ${dir} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function waitGone(file: string, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (existsSync(file)) {
    if (performance.now() > deadline) throw new Error(`${file} still there after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.runIf(linux)("the agent bundle's code cache made by the CLI", () => {
  it('is made by the maker into a private directory (mode 0600), and a target given it compiles with it', () => {
    const dir = tempDir('lt-cache-');
    const file = join(dir, 'agent.v8cache');
    expect(make(file)).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadOffered(file)).toEqual({ source: 'offered', rejected: false, listening: true });
  });

  it("replaces the same executable's cache of another bundle, and leaves other executables' caches", () => {
    const dir = tempDir('lt-cache-');
    const ours = join(dir, `agent-${'a'.repeat(16)}-${sha256().slice(0, 16)}.v8cache`);
    const older = join(dir, `agent-${'a'.repeat(16)}-${'0'.repeat(16)}.v8cache`);
    const otherNode = join(dir, `agent-${'b'.repeat(16)}-${'0'.repeat(16)}.v8cache`);
    for (const file of [older, otherNode]) writeFileSync(file, 'old', { mode: 0o600 });
    expect(make(ours)).toBe(0);
    expect(readdirSync(dir).sort()).toEqual([ours, otherNode].map((file) => file.slice(dir.length + 1)).sort());
  });

  it('is not made for a bundle other than the one the digest names, nor into a directory others may enter', () => {
    const dir = tempDir('lt-cache-');
    expect(make(join(dir, 'a.v8cache'), '0'.repeat(64))).toBe(2);
    chmodSync(dir, 0o755);
    expect(make(join(dir, 'b.v8cache'))).toBe(3);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a cache V8 refuses is compiled around: the agent still starts', () => {
    const dir = tempDir('lt-cache-');
    const file = join(dir, 'agent.v8cache');
    writeFileSync(file, Buffer.alloc(4096, 7), { mode: 0o600 });
    expect(loadOffered(file)).toEqual({ source: 'offered', rejected: true, listening: true });
  });

  it('is read by the target only from a file and a directory private to its user', () => {
    const dir = tempDir('lt-cache-');
    const file = join(dir, 'agent.v8cache');
    writeFileSync(file, 'cache', { mode: 0o600 });
    expect(readPrivateFile(file)?.toString()).toBe('cache');
    expect(readPrivateFile(join(dir, 'missing'))).toBeUndefined();
    // Writable by the group or by others.
    chmodSync(file, 0o620);
    expect(readPrivateFile(file)).toBeUndefined();
    chmodSync(file, 0o602);
    expect(readPrivateFile(file)).toBeUndefined();
    chmodSync(file, 0o600);
    // A symbolic link, even to a good file.
    symlinkSync(file, join(dir, 'link.v8cache'));
    expect(readPrivateFile(join(dir, 'link.v8cache'))).toBeUndefined();
    // A directory others may enter.
    chmodSync(dir, 0o711);
    expect(readPrivateFile(file)).toBeUndefined();
    chmodSync(dir, 0o700);
    expect(readPrivateFile(file)?.toString()).toBe('cache');
    // Owned by another user (only root can give a file away).
    if (process.getuid?.() === 0) {
      chownSync(file, 65534, 65534);
      expect(readPrivateFile(file)).toBeUndefined();
      chownSync(file, 0, 0);
      const other = join(dir, 'theirs');
      mkdirSync(other, { mode: 0o700 });
      writeFileSync(join(other, 'agent.v8cache'), 'cache', { mode: 0o600 });
      chownSync(other, 65534, 65534);
      expect(readPrivateFile(join(other, 'agent.v8cache'))).toBeUndefined();
    }
  });

  it('is made once while a making is under way: a second attach meanwhile starts no second maker; a stale claim is taken over', async () => {
    const app = await launchPlain('cjs', { nodeArgs: ['--inspect-port=0'] });
    const dir = join(tempDir('lt-cache-sockets-'), 'cache');
    const entry = { root: repoRoot, register: '', library: '', bundle: join(repoRoot, 'dist/cjs/agent.js') };
    const offer = agentCacheOffer(app.pid, entry, dir)!;
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(`${offer.file}.making`, '', { mode: 0o600 });
    // Claimed by someone else (a fresh claim): nothing is started.
    expect(makeAgentCache(offer)).toBe(false);
    expect(readdirSync(dir)).toEqual([`${offer.file.slice(dir.length + 1)}.making`]);
    // A claim left by a maker that died long ago is taken over.
    utimesSync(`${offer.file}.making`, new Date(Date.now() - 600_000), new Date(Date.now() - 600_000));
    expect(makeAgentCache(offer)).toBe(true);
    expect(await madeFile(dir)).toBe(offer.file);
    await waitGone(`${offer.file}.making`);
  });

  it('is offered per bundle and executable: a file name the CLI computes, present or not', async () => {
    const app = await launchPlain('cjs', { nodeArgs: ['--inspect-port=0'] });
    const dir = tempDir('lt-cache-');
    const entry = { root: repoRoot, register: '', library: '', bundle: join(repoRoot, 'dist/cjs/agent.js') };
    const offer = agentCacheOffer(app.pid, entry, dir);
    expect(offer).toMatchObject({ present: false, exe: `/proc/${app.pid}/exe`, bundle, bundleSha256: sha256() });
    expect(offer!.file).toMatch(new RegExp(`^${dir}/agent-[0-9a-f]{16}-${sha256().slice(0, 16)}\\.v8cache$`));
    // The same executable, the same bundle: the same name (another process of this Node).
    expect(agentCacheOffer(process.pid, entry, dir)?.file).toBe(offer!.file);
    // No bundle: nothing to offer.
    expect(agentCacheOffer(app.pid, { ...entry, bundle: undefined }, dir)).toBeUndefined();
  });

  it('an attach that finds no cache for the target makes one; the next attach uses it; a refused or unsafe one only costs its compile', async () => {
    // A copy of the package: the build's caches are copied too, but a cache is found only
    // where it was made (bundle-loader.ts cacheFileFor: on Node 20 a script compiled from a
    // cache keeps the file name it was made with, and the copy's CLI would attach with the
    // checkout's agent). So every Node is "another Node" there.
    const root = publicPackageCopy();
    expect(readdirSync(join(root, 'dist/cjs')).filter((name) => /^(agent|cli)\.bundle\.v8-.*\.cache$/.test(name))).toHaveLength(2);
    const socketDir = tempDir('lt-cache-sockets-');
    const attachOnce = async (): Promise<string> => {
      const app = await launchPlain('cjs', { nodeArgs: ['--inspect-port=0'], socketDir });
      const run = await runCli(['attach', String(app.pid), '--verbose'], { env: { LIVETRACE_SOCKET_DIR: socketDir }, packageRoot: root });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      await app.kill();
      return /^agent code cache: (.*)$/m.exec(run.stdout)?.[1] ?? run.stdout;
    };
    expect(await attachOnce()).toBe('none for this Node; making one in the background for the next attach');
    const file = await madeFile(join(socketDir, 'cache'));
    // The maker released its claim (`.making`), which kept a second attach meanwhile from starting another.
    await waitGone(`${file}.making`);
    expect(statSync(join(socketDir, 'cache')).mode & 0o777).toBe(0o700);
    expect(await attachOnce()).toBe('made by livetrace for this Node executable');
    writeFileSync(file, Buffer.alloc(4096, 7));
    expect(await attachOnce()).toBe('made by livetrace for this Node executable (refused by V8: compiled without it)');
    // A file others may write is never read, and not made again while it is there.
    chmodSync(file, 0o666);
    expect(await attachOnce()).toBe('none for this Node');
  }, 120_000);
});
