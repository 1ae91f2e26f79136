/**
 * Connections to Redis, for both ends of a fleet. ioredis is loaded here, on first use
 * only: a process without LIVETRACE_FLEET never loads it, and neither does a CLI command
 * that does not use --fleet.
 *
 * ioredis's own reconnection is turned off (retryStrategy null): an agent reconnects
 * itself on an unref'd timer (member.ts), because ioredis's retry timers would keep the
 * target alive while Redis is away. Errors become coded LivetraceErrors: a wrong
 * password is LT_FLEET_AUTH, an ACL refusal LT_FLEET_DENIED, no Redis LT_FLEET_UNREACHABLE.
 */
import type { Redis, RedisOptions } from 'ioredis';
import { LivetraceError, isLivetraceError } from '../protocol/errors.js';

export type { Redis };

export interface FleetUrl {
  /** The URL without its password, for messages and logs. */
  shown: string;
  options: RedisOptions;
  user: string;
}

/** Parses redis://[user:password@]host[:port][/db] or rediss://…; LT_FLEET_URL when it is not one. */
export function parseFleetUrl(text: string): FleetUrl {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new LivetraceError('LT_FLEET_URL', `'${text.replace(/:[^:@/]*@/, ':***@')}' is not a Redis URL`, { input: text.replace(/:[^:@/]*@/, ':***@') });
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new LivetraceError('LT_FLEET_URL', `'${url.protocol}' is not redis: or rediss:`, { input: url.protocol });
  }
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
  const options: RedisOptions = {
    host: url.hostname === '' ? '127.0.0.1' : url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? 6379 : Number(url.port),
    db: Number.isInteger(db) ? db : 0,
  };
  if (url.username !== '') options.username = decodeURIComponent(url.username);
  if (url.password !== '') options.password = decodeURIComponent(url.password);
  if (url.protocol === 'rediss:') options.tls = { servername: options.host };
  const shown = `${url.protocol}//${url.username === '' ? '' : `${url.username}${url.password === '' ? '' : ':***'}@`}${url.host}${url.pathname === '/' ? '' : url.pathname}`;
  return { shown, options, user: options.username ?? 'default' };
}

/** Turns a Redis or socket error into a coded one. */
export function fleetError(error: unknown, url: FleetUrl, doing: string): LivetraceError {
  if (isLivetraceError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/^(WRONGPASS|NOAUTH)|invalid password|invalid username-password/i.test(message)) {
    return new LivetraceError('LT_FLEET_AUTH', `Redis at ${url.shown} refused the credentials (${message.split('\n')[0]})`, { input: url.shown, cause: error });
  }
  if (/^NOPERM/.test(message)) {
    return new LivetraceError('LT_FLEET_DENIED', `Redis at ${url.shown} refused ${doing}: ${message.split('\n')[0]}`, { input: url.shown, cause: error });
  }
  return new LivetraceError('LT_FLEET_UNREACHABLE', `cannot reach Redis at ${url.shown} (${doing}): ${message.split('\n')[0]}`, { input: url.shown, cause: error });
}

let loaded: Promise<typeof import('ioredis')> | undefined;

/**
 * Opens a connection and waits until it is ready (authenticated). `name` goes to CLIENT
 * SETNAME (shown by CLIENT LIST). No automatic reconnection; commands fail at once while
 * disconnected instead of queueing (enableOfflineQueue false), so nothing piles up.
 */
export async function openRedis(url: FleetUrl, name: string, extra: RedisOptions = {}): Promise<Redis> {
  loaded ??= import('ioredis');
  const mod = await loaded;
  const RedisClass = (mod.Redis ?? (mod as unknown as { default: typeof mod.Redis }).default) as typeof mod.Redis;
  const client = new RedisClass({
    ...url.options,
    connectionName: name,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: 5000,
    // No INFO ready check and no CLIENT SETINFO: fewer commands for the ACL to allow
    // (docs/fleet.md), and no package.json read from disk inside the target.
    enableReadyCheck: false,
    disableClientInfo: true,
    ...extra,
  });
  // Without a listener, an 'error' event would be thrown. A refused AUTH arrives only as an
  // event (the command after it then fails as 'not writeable'), so the last one is kept.
  let lastError: unknown;
  client.on('error', (error: unknown) => (lastError = error));
  try {
    await client.connect();
    // A NOAUTH shows up only on the first command when no password was given.
    await client.ping();
  } catch (error) {
    client.disconnect();
    const refused = lastError instanceof Error && /^(WRONGPASS|NOAUTH|NOPERM)/.test(lastError.message);
    throw fleetError(refused ? lastError : error, url, 'the connection');
  }
  return client;
}
