/** Who an operator's CLI is, sent with every request so that each agent logs who asked. */
import { hostname, userInfo } from 'node:os';
import type { Requester } from './messages.js';

export function requester(redisUser: string): Requester {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers)
  }
  return { user, host: hostname(), pid: process.pid, redisUser };
}
