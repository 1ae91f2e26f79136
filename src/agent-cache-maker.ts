/**
 * Makes the V8 code cache of the agent bundle for one Node executable: run by the CLI
 * (attach/agent-cache.ts), in the background, with the executable of a process it
 * attached to, as `<node> agent-cache-maker.js <bundle> <sha256> <cache file>`. Never run
 * in a target.
 *
 * It compiles the bundle as a target does (agent-loader.ts, bundle-loader.ts), starts an
 * agent and stops it, so that the cache holds the functions an agent runs as it starts
 * (as the build's own cache does, scripts/build.mjs), and writes V8's cache of the script
 * to a temporary file beside the target name, which it then renames: a reader sees the
 * whole file or none. The agent listens, for that moment, in a temporary socket directory
 * of its own, removed afterwards.
 *
 * Refused, writing nothing: a bundle whose text is not the one the sha256 names (rebuilt
 * since the CLI looked: the cache would be offered for the wrong text, and V8 checks the
 * source only by its length), and a cache directory that is not private to this user.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { loadAgentBundle } from './agent-loader.js';

const MAX_MS = 60_000;

function privateDir(dir: string): boolean {
  const uid = typeof process.geteuid === 'function' ? process.geteuid() : undefined;
  const stats = lstatSync(dir);
  return uid !== undefined && stats.isDirectory() && stats.uid === uid && (stats.mode & 0o077) === 0;
}

async function make(bundle: string, sha256: string, out: string): Promise<number> {
  if (createHash('sha256').update(readFileSync(bundle)).digest('hex') !== sha256) return 2;
  if (!privateDir(dirname(out))) return 3;
  const sockets = mkdtempSync(join(tmpdir(), 'lt-cache-'));
  process.env.LIVETRACE_SOCKET_DIR = sockets;
  try {
    const loaded = loadAgentBundle(bundle);
    await loaded.exports.startAgent();
    await loaded.exports.stopAgent();
    const data = loaded.script.createCachedData();
    const temporary = join(dirname(out), `.${basename(out)}.${process.pid}`);
    writeFileSync(temporary, data, { mode: 0o600, flag: 'wx' });
    try {
      renameSync(temporary, out);
    } catch (error) {
      rmSync(temporary, { force: true });
      throw error;
    }
    return 0;
  } finally {
    rmSync(sockets, { recursive: true, force: true });
  }
}

const [bundle, sha256, out] = process.argv.slice(2);
if (bundle !== undefined && sha256 !== undefined && out !== undefined) {
  setTimeout(() => process.exit(4), MAX_MS).unref();
  make(bundle, sha256, out).then(
    (code) => process.exit(code),
    () => process.exit(1),
  );
}
