export { LivetraceError } from './protocol/errors.js';
export type { ErrorCode, ErrorRecord } from './protocol/errors.js';
export type * from './protocol/events.js';
