/**
 * Makes the V8 code cache of the agent bundle for one Node executable: run by the CLI
 * (attach/agent-cache.ts), in the background, with the executable of a process it
 * attached to, as `<node> agent-cache-maker.js <bundle> <sha256> <cache file>`. Never run
 * in a target.
 *
 * It compiles the bundle as a target does (agent-loader.ts, bundle-loader.ts) and runs
 * what an attach and a first `trace` run in a target: the agent starts, a client connects
 * and says hello, a session traces a function of a module, the function is called until
 * its first record arrives, the session stops, the agent stops. V8's cache of the script
 * then holds every function that ran (V8 compiles a function when it is first called, and
 * the cache keeps what was compiled), so a target compiles none of them again: not only
 * the agent's start but the session's too, which a cache made after the start alone left
 * to be compiled while the first event waited (docs/benchmarks.md, branch attach8). The
 * build makes its own cache with this file too (scripts/build.mjs, `--build`). The cache
 * goes to a temporary file beside the target name, which is then renamed: a reader sees
 * the whole file or none. The agent listens, for that moment, in a temporary socket
 * directory of its own, removed afterwards, with the traced module.
 *
 * Refused, writing nothing: a bundle whose text is not the one the sha256 names (rebuilt
 * since the CLI looked: the cache would be offered for the wrong text, and V8 checks the
 * source only by its length), and a cache directory that is not private to this user
 * (but for the build's, `--build`, which goes to dist/cjs beside the bundle).
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { loadAgentBundle, type AgentBundle } from './agent-loader.js';
import { connect } from './client/connect.js';

const MAX_MS = 60_000;

function privateDir(dir: string): boolean {
  const uid = typeof process.geteuid === 'function' ? process.geteuid() : undefined;
  const stats = lstatSync(dir);
  return uid !== undefined && stats.isDirectory() && stats.uid === uid && (stats.mode & 0o077) === 0;
}

/** An attach and a first trace, as a target runs them (see the essay above). */
async function exercise(agent: AgentBundle, work: string): Promise<void> {
  writeFileSync(join(work, 'cached.cjs'), 'exports.hot = function hot(i, tag) { return i + tag.length; };\n');
  process.chdir(work);
  const file = join(work, 'cached.cjs');
  const lib = createRequire(file)(file) as { hot(i: number, tag: string): number };
  await agent.startAgent();
  const client = await connect(process.pid, { socketDir: work });
  try {
    const session = await client.trace(['cached:hot'], { max: 1 }, { rawCalls: true });
    const calls = setInterval(() => lib.hot(1, 'x'), 1);
    try {
      for await (const record of session) if (record.type === 'stopped') break;
    } finally {
      clearInterval(calls);
    }
  } finally {
    await client.close();
    await agent.stopAgent();
  }
}

const STALE_MS = 30 * 24 * 3600 * 1000;

/**
 * Removes, beside `out` (agent-<executable>-<bundle>.v8cache), the same executable's
 * caches of other bundles and every cache untouched for STALE_MS (an executable no longer
 * in use). A target reading one of them meanwhile has it open: removing the name does not
 * take the contents from it.
 */
function removeStale(out: string): void {
  const dir = dirname(out);
  const executable = /^agent-([0-9a-f]{16})-[0-9a-f]{16}\.v8cache$/.exec(basename(out))?.[1];
  for (const name of readdirSync(dir)) {
    const file = join(dir, name);
    if (file === out || !/^agent-[0-9a-f]{16}-[0-9a-f]{16}\.v8cache$/.test(name)) continue;
    try {
      if (name.startsWith(`agent-${executable}-`) || Date.now() - statSync(file).atimeMs > STALE_MS) rmSync(file, { force: true });
    } catch {
      // gone already
    }
  }
}

async function make(bundle: string, sha256: string, out: string, build: boolean): Promise<number> {
  if (createHash('sha256').update(readFileSync(bundle)).digest('hex') !== sha256) return 2;
  if (!build && !privateDir(dirname(out))) return 3;
  const work = mkdtempSync(join(tmpdir(), 'lt-cache-'));
  process.env.LIVETRACE_SOCKET_DIR = work;
  try {
    const loaded = loadAgentBundle(bundle);
    await exercise(loaded.exports, work);
    const data = loaded.script.createCachedData();
    const temporary = join(dirname(out), `.${basename(out)}.${process.pid}`);
    // The build's cache is read by whoever runs the package; the CLI's only by its user.
    writeFileSync(temporary, data, { mode: build ? 0o644 : 0o600, flag: 'wx' });
    try {
      renameSync(temporary, out);
    } catch (error) {
      rmSync(temporary, { force: true });
      throw error;
    }
    if (!build) removeStale(out);
    return 0;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const build = process.argv.includes('--build');
const [bundle, sha256, out] = process.argv.slice(2).filter((arg) => arg !== '--build').map((arg, i) => (i === 1 ? arg : resolve(arg)));
if (bundle !== undefined && sha256 !== undefined && out !== undefined) {
  setTimeout(() => process.exit(4), MAX_MS).unref();
  // The CLI's claim on this making (attach/agent-cache.ts), released however it ends.
  process.once('exit', () => {
    if (!build) rmSync(`${out}.making`, { force: true });
  });
  make(bundle, sha256, out, build).then(
    (code) => process.exit(code),
    (error: unknown) => {
      if (process.env.LT_CACHE_MAKER_DEBUG) console.error(error);
      process.exit(1);
    },
  );
}
