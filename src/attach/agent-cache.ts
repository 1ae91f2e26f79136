/**
 * A V8 code cache of the agent bundle for a target whose V8 the build's cache does not
 * fit, made by the CLI, never by the target.
 *
 * The build makes one cache of dist/cjs/agent.bundle.js, with its own Node; V8 accepts a
 * cache only from its own version (and flags), so a target on another Node compiled the
 * 1.2 MB bundle without one: 148-191 ms of an attach to Node 22 or 24 against 108-151 on
 * the build's Node 20 (docs/benchmarks.md, "The whole tree after the fifth 7 December
 * merges"). A target writes nothing, so the cache is made here: when the bootstrap reports
 * that the target compiled without any cache, the CLI runs the target's own executable
 * (/proc/<pid>/exe, so exactly its V8, even when the file on disk was replaced since) once
 * more, detached and in the background, with dist/cjs/agent-cache-maker.js, which loads
 * the bundle, starts and stops an agent (so that the cache holds the functions an agent
 * runs as it starts, as the build's does), and writes V8's cache of it. The next attach to
 * a process of that executable offers the file's path to the bootstrap, and the target
 * reads it (agent-loader.ts) instead of compiling from scratch.
 *
 * Where: `<socket directory>/cache/`, the directory of the user's agent sockets, which
 * must already be a private directory of that user (mode 0700, owned by them, no
 * symlink: protocol/socket-dir.ts); the cache directory gets the same rule. A cache is
 * code (V8 runs what it holds as if compiled from the source), so only a file that the
 * target's own user alone could have written is ever read; the target checks that again
 * itself before reading (agent-loader.ts readPrivateFile). The CLI attaches only to
 * processes of its own effective uid (target.ts), so the maker runs the target's binary as
 * the user who already runs it; it is not run when that binary may be written by anyone
 * but root or that user.
 *
 * The file's name ties it to one executable and one bundle,
 * `agent-<executable>-<bundle>.v8cache`: a hash of the executable's device, inode, size
 * and modification time, and the bundle's sha256 (written by the build,
 * dist/cjs/agent.bundle.sha256; the maker checks the text it compiles against it). The
 * maker removes the executable's caches of other bundles (a rebuilt or updated
 * livetrace), and any cache untouched for 30 days, so the directory holds about one file
 * per Node executable in use. V8 checks the source only by its length, so a cache of another bundle of the same
 * length must never be offered: a rebuilt bundle gets another name. Nothing else is
 * trusted: a cache V8 refuses (a target started with flags that change V8's flag hash) is
 * read for nothing and the bundle compiles as without one; the CLI makes a cache only
 * when no file of that name exists.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AgentEntry } from '../protocol/install.js';
import { prepareSocketDir } from '../protocol/socket-dir.js';
import { socketDir } from '../protocol/socket-path.js';

/** A cache the CLI offers to a target's bootstrap, and what it needs to make it. */
export interface AgentCacheOffer {
  /** The cache file for the target's executable and this bundle. */
  file: string;
  /** It existed when offered (otherwise the target finds none, and the CLI may make it). */
  present: boolean;
  /** The target's executable, as the CLI runs it to make the cache (/proc/<pid>/exe). */
  exe: string;
  /** dist/cjs/agent.bundle.js, and the sha256 the build wrote for it. */
  bundle: string;
  bundleSha256: string;
  /** dist/cjs/agent-cache-maker.js. */
  maker: string;
}

/** The cache directory: `cache` in the user's socket directory (LIVETRACE_SOCKET_DIR or the default). */
export function agentCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(socketDir(env), 'cache');
}

/**
 * The cache to offer a target's bootstrap, or undefined when none can be (no bundle, no
 * /proc, an executable that others may write, a build without the bundle's sha256).
 */
export function agentCacheOffer(pid: number, entry: AgentEntry, dir = agentCacheDir()): AgentCacheOffer | undefined {
  if (process.platform !== 'linux' || entry.bundle === undefined) return undefined;
  const uid = typeof process.geteuid === 'function' ? process.geteuid() : undefined;
  if (uid === undefined) return undefined;
  const built = dirname(entry.bundle);
  const bundle = join(built, 'agent.bundle.js');
  const maker = join(built, 'agent-cache-maker.js');
  try {
    const bundleSha256 = readFileSync(join(built, 'agent.bundle.sha256'), 'utf8').trim();
    if (!/^[0-9a-f]{64}$/.test(bundleSha256)) return undefined;
    const exe = `/proc/${pid}/exe`;
    // stat follows the link to the very file the process runs, replaced or not.
    const stats = statSync(exe);
    if (!stats.isFile() || (stats.uid !== 0 && stats.uid !== uid) || (stats.mode & 0o022) !== 0) return undefined;
    const executable = createHash('sha256').update(`${stats.dev}\0${stats.ino}\0${stats.size}\0${stats.mtimeMs}`).digest('hex').slice(0, 16);
    const file = join(dir, `agent-${executable}-${bundleSha256.slice(0, 16)}.v8cache`);
    return { file, present: existsSync(file), exe, bundle, bundleSha256, maker };
  } catch {
    return undefined;
  }
}

/** A maker that has not ended by then (it gives up at 60 s) left its claim behind. */
const MAKING_STALE_MS = 90_000;

/**
 * Claims the making of `file` (`<file>.making`, created exclusively, removed by the maker
 * when it ends): attaches to several processes of one Node at once (`trace --match`, a
 * cluster's workers, attaches in a row while the first cache is being made) start one
 * maker, not one each.
 */
function claimMaking(file: string): boolean {
  const claim = `${file}.making`;
  for (let tries = 0; tries < 2; tries++) {
    try {
      closeSync(openSync(claim, 'wx', 0o600));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return false;
      try {
        if (Date.now() - statSync(claim).mtimeMs < MAKING_STALE_MS) return false;
        unlinkSync(claim);
      } catch {
        // removed meanwhile: try again
      }
    }
  }
  return false;
}

/**
 * Starts the maker for `offer` in the background: detached, its output nowhere, not
 * waited for (it ends on its own, in 60 s at most). True when one was started (false:
 * another is making it, or the directory is not safe). Never throws; a cache that could not
 * be made is only an attach that compiles without one next time too.
 */
export function makeAgentCache(offer: AgentCacheOffer): boolean {
  try {
    prepareSocketDir(dirname(dirname(offer.file)));
    prepareSocketDir(dirname(offer.file));
    if (!existsSync(offer.maker) || !claimMaking(offer.file)) return false;
    const env: NodeJS.ProcessEnv = {};
    // None of the user's preloads or livetrace settings: the maker is a bare Node running one file.
    for (const [name, value] of Object.entries(process.env)) {
      if (!name.startsWith('LIVETRACE_') && name !== 'NODE_OPTIONS') env[name] = value;
    }
    const child = spawn(offer.exe, [offer.maker, offer.bundle, offer.bundleSha256, offer.file], {
      detached: true,
      stdio: 'ignore',
      env,
    });
    child.on('error', () => {});
    child.unref();
    return true;
  } catch {
    // An unsafe or uncreatable directory: no cache.
    return false;
  }
}
