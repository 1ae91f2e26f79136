/**
 * The trust check on the socket directory, shared by the agent (before it listens) and
 * the client (before it connects). Whoever can enter the directory can drive the
 * agents in it (start traces, read captured arguments) or plant a fake agent that
 * collects the patterns a user sends, so the directory must be a real directory (not a
 * symlink), owned by the current user, with no group or world permissions at all.
 * Nothing is repaired: an unsafe directory is refused, and the user decides.
 * On platforms without uids (Windows) the ownership check is skipped.
 */
import { lstatSync, mkdirSync, type Stats } from 'node:fs';
import { LivetraceError } from './errors.js';

function unsafe(dir: string, why: string): LivetraceError {
  return new LivetraceError('LT_SOCKET_DIR_UNSAFE', `socket directory ${dir} ${why}`, { input: dir });
}

function lstatOrUndefined(dir: string): Stats | undefined {
  try {
    return lstatSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw unsafe(dir, `cannot be inspected: ${(error as Error).message}`);
  }
}

/** Throws LT_SOCKET_DIR_UNSAFE unless `stats` describe a private directory of ours. */
function assertPrivate(dir: string, stats: Stats): void {
  if (stats.isSymbolicLink()) throw unsafe(dir, 'is a symbolic link');
  if (!stats.isDirectory()) throw unsafe(dir, 'is not a directory');
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  if (uid !== undefined && stats.uid !== uid) throw unsafe(dir, `is owned by uid ${stats.uid}, not by you (uid ${uid})`);
  if ((stats.mode & 0o077) !== 0) {
    throw unsafe(dir, `has mode ${(stats.mode & 0o777).toString(8).padStart(4, '0')}; it must be 0700`);
  }
}

/**
 * Agent side: creates the directory (mode 0700, parents as needed) when it is missing,
 * then checks it. Throws LT_SOCKET_DIR_UNSAFE.
 */
export function prepareSocketDir(dir: string): void {
  if (lstatOrUndefined(dir) === undefined) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw unsafe(dir, `cannot be created: ${(error as Error).message}`);
    }
  }
  const stats = lstatOrUndefined(dir);
  if (stats === undefined) throw unsafe(dir, 'vanished while being created');
  assertPrivate(dir, stats);
}

/**
 * Client side: true when the directory exists and is safe, false when it does not
 * exist (no agent of ours has ever listened there). Throws LT_SOCKET_DIR_UNSAFE.
 */
export function checkSocketDir(dir: string): boolean {
  const stats = lstatOrUndefined(dir);
  if (stats === undefined) return false;
  assertPrivate(dir, stats);
  return true;
}
