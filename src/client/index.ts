/**
 * The client library the CLI (and anyone scripting livetrace) uses to talk to agents:
 *
 *   const client = await connect(pid);             // LT_PID_NOT_FOUND, LT_NO_AGENT, ...
 *   const session = await client.trace('src/users:findUser', { max: 20 });
 *   for await (const record of session) print(record);   // 'started' ... 'stopped'
 *   await client.close();
 *
 * See docs/protocol.md for what travels on the socket.
 */
export { AgentClient } from './client.js';
export { connect, DEFAULT_TIMEOUT_MS } from './connect.js';
export type { ConnectOptions } from './connect.js';
export { assertProcess, processState } from './process.js';
export { ClientSession } from './session.js';
export type { ConnectionEnd } from './session.js';
export { discover } from './discover.js';
export type { DiscoverOptions } from './discover.js';
export type { AgentHello, ClientInfo, ModuleListing, SessionStatsEntry, TraceOptions } from '../protocol/messages.js';
export type { FleetJoined } from '../protocol/fleet-join.js';
