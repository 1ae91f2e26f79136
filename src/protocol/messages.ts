/**
 * The messages of the control socket (docs/protocol.md), shared by the agent and the
 * client. The client sends requests; the agent answers each with exactly one reply
 * (matched by `id`) and, for traces, streams `record` frames. `parseRequest` is the
 * agent's gate: it turns an untrusted frame into a typed request or a coded error, and
 * never looks at more of the frame than the request it claims to be.
 */
import { LivetraceError, type ErrorRecord } from './errors.js';
import type { AddedRecord, SessionRecord, SessionStats, StartedRecord } from './events.js';
import type { Callee, DeeperResult, FunctionKind, FunctionListing, ModuleListing } from './listing.js';
import type { Completion, EvalResult, GetResult, ProcessInfo } from './observer.js';
import type { TraceOptions } from './options.js';
import { parseJoin, type JoinReply, type JoinRequest } from './fleet-join.js';

export type { Completion, EvalResult, GetResult, ProcessInfo, TraceOptions };
export type { Callee, DeeperResult, FunctionKind, FunctionListing, ModuleListing };
export type { JoinReply, JoinRequest };

export interface AgentInfo {
  pid: number;
  version: string;
  /** The socket clients connect to; null when the agent could not listen. */
  socketPath: string | null;
  listening: boolean;
  /** Why the agent is not listening (LT_SOCKET_DIR_UNSAFE, LT_SOCKET_LISTEN_FAILED, ...). */
  error?: ErrorRecord;
}

/** Version of this protocol; hello refuses any other. */
export const PROTOCOL_VERSION = 1 as const;

export { LIVETRACE_VERSION } from './version.js';

export type RequestId = number | string;

export const OPS = ['hello', 'list', 'trace', 'add', 'stop', 'stats', 'claim', 'deeper', 'info', 'get', 'eval', 'complete', 'join'] as const;
export type Op = (typeof OPS)[number];

/** Who is on the other end of a connection, as the client describes itself. */
export interface ClientInfo {
  name: string;
  version: string;
  pid?: number;
}

export interface HelloRequest {
  id: RequestId;
  op: 'hello';
  protocol: number;
  client?: ClientInfo;
}
export interface ListRequest {
  id: RequestId;
  op: 'list';
  pattern?: string;
}
export interface TraceRequest {
  id: RequestId;
  op: 'trace';
  patterns: string[];
  options?: TraceOptions;
}
export interface AddRequest {
  id: RequestId;
  op: 'add';
  session: string;
  patterns: string[];
}
export interface StopRequest {
  id: RequestId;
  op: 'stop';
  session: string;
}
export interface StatsRequest {
  id: RequestId;
  op: 'stats';
  session?: string;
}
/** Takes over the session `livetrace run` pre-started in this process (agent/run-session.ts). */
export interface ClaimRequest {
  id: RequestId;
  op: 'claim';
  token: string;
}
/** What a function calls, as patterns (agent/deeper.ts). */
export interface DeeperRequest {
  id: RequestId;
  op: 'deeper';
  /** A pattern naming the function: 'src/users:findUser', 'src/users:~hashPassword'. */
  fn: string;
}
/**
 * What the process is doing (`livetrace info`, agent/observer/). The first info request of
 * a connection starts its sampling (loop delay, GC), which stops when the connection closes.
 * `light` leaves out the heap spaces, resources and modules (`livetrace top`).
 */
export interface InfoRequest {
  id: RequestId;
  op: 'info';
  light?: boolean;
}
/** The live value at an export path (`livetrace get`): 'src/cache:store.entries'. */
export interface GetRequest {
  id: RequestId;
  op: 'get';
  path: string;
  /** Count the live instances of the class at the path (a full GC runs first). */
  instances?: boolean;
}
/**
 * One expression of `livetrace shell`, evaluated in the target's main thread through the
 * agent's own inspector session. `safe` refuses side effects (and top-level await);
 * `timeoutMs` (100..60000, default 5000) ends a runaway evaluation.
 */
export interface EvalRequest {
  id: RequestId;
  op: 'eval';
  expression: string;
  safe?: boolean;
  timeoutMs?: number;
}
/**
 * Tab completion for `livetrace shell`: the names that can follow `line` (the text before
 * the cursor). The object path before the last dot is evaluated with V8's side-effect check,
 * so completing never changes the target's state.
 */
export interface CompleteRequest {
  id: RequestId;
  op: 'complete';
  line: string;
}
export type Request =
  | HelloRequest
  | ListRequest
  | TraceRequest
  | AddRequest
  | StopRequest
  | StatsRequest
  | ClaimRequest
  | DeeperRequest
  | InfoRequest
  | GetRequest
  | EvalRequest
  | CompleteRequest
  | JoinRequest;

/** What an agent says about itself and its process (hello; `livetrace ps`). */
export interface AgentHello {
  version: string;
  pid: number;
  node: string;
  argv: string[];
  cwd: string;
  uptimeMs: number;
  /** Active sessions in the process, whoever started them. */
  sessions: number;
}

/** One session's figures in a stats reply. */
export interface SessionStatsEntry {
  session: string;
  patterns: string[];
  stopped: boolean;
  stats: SessionStats;
}

export interface HelloReply {
  id: RequestId;
  ok: true;
  protocol: typeof PROTOCOL_VERSION;
  agent: AgentHello;
}
/** The last part of a listing; earlier parts came as `part` frames with the same id. */
export interface ListReply {
  id: RequestId;
  ok: true;
  modules: ModuleListing[];
}
export interface TraceReply {
  id: RequestId;
  ok: true;
  session: string;
  started: StartedRecord;
}
export interface AddReply {
  id: RequestId;
  ok: true;
  added: AddedRecord;
}
/** Sent once the session's patches are removed; its 'stopped' record is streamed as usual. */
export interface StopReply {
  id: RequestId;
  ok: true;
  stats: SessionStats;
}
export interface StatsReply {
  id: RequestId;
  ok: true;
  sessions: SessionStatsEntry[];
}
/**
 * A refused request. `id` is null when the frame itself was bad (not JSON, too large,
 * no usable id): the agent closes the connection right after sending it.
 */
export interface ErrorReply {
  id: RequestId | null;
  ok: false;
  error: ErrorRecord;
}
export interface DeeperReply {
  id: RequestId;
  ok: true;
  /** One per function the pattern matched (at most 20). */
  results: DeeperResult[];
}
export interface InfoReply {
  id: RequestId;
  ok: true;
  info: ProcessInfo;
}
export interface GetReply {
  id: RequestId;
  ok: true;
  result: GetResult;
}
export interface EvalReply {
  id: RequestId;
  ok: true;
  result: EvalResult;
}
export interface CompleteReply {
  id: RequestId;
  ok: true;
  completion: Completion;
}
export type Reply =
  | HelloReply
  | ListReply
  | TraceReply
  | AddReply
  | StopReply
  | StatsReply
  | DeeperReply
  | InfoReply
  | GetReply
  | EvalReply
  | CompleteReply
  | JoinReply
  | ErrorReply;

/** The reply type for each op. */
export interface ReplyFor {
  hello: HelloReply;
  list: ListReply;
  trace: TraceReply;
  add: AddReply;
  stop: StopReply;
  stats: StatsReply;
  claim: TraceReply;
  deeper: DeeperReply;
  info: InfoReply;
  get: GetReply;
  eval: EvalReply;
  complete: CompleteReply;
  join: JoinReply;
}

/** One record of a session the connection started, in session order. */
export interface RecordFrame {
  type: 'record';
  session: string;
  record: SessionRecord;
}

/** A slice of a long listing, sent before the final reply so no frame nears the limit. */
export interface PartFrame {
  type: 'part';
  id: RequestId;
  modules: ModuleListing[];
}

/** Anything the agent sends. */
export type AgentFrame = Reply | RecordFrame | PartFrame;

const MAX_ID_CHARS = 200;
const MAX_PATTERNS = 100;
const MAX_PATTERN_CHARS = 4096;
/** An expression of `livetrace shell`: a pasted function is fine, a file is not. */
const MAX_EXPRESSION_CHARS = 64 * 1024;

function badRequest(message: string, input?: unknown): LivetraceError {
  return new LivetraceError('LT_PROTOCOL_BAD_REQUEST', message, input === undefined ? {} : { input });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The request id of a frame, if it has a usable one. */
export function requestIdOf(frame: unknown): RequestId | undefined {
  if (!isRecord(frame)) return undefined;
  const id = frame.id;
  if (typeof id === 'number' && Number.isSafeInteger(id)) return id;
  if (typeof id === 'string' && id.length > 0 && id.length <= MAX_ID_CHARS) return id;
  return undefined;
}

function patternsOf(value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_PATTERNS) {
    throw badRequest(`patterns must be a string or an array of 1 to ${MAX_PATTERNS} strings`, value);
  }
  for (const item of list) {
    if (typeof item !== 'string' || item.length > MAX_PATTERN_CHARS) {
      throw badRequest(`each pattern must be a string of at most ${MAX_PATTERN_CHARS} characters`, item);
    }
  }
  return list as string[];
}

function sessionOf(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ID_CHARS) {
    throw badRequest('session must be a session id string', value);
  }
  return value;
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > MAX_PATTERN_CHARS) throw badRequest(`${name} must be a string`, value);
  return value;
}

/**
 * Validates a decoded frame as a request. Throws LT_PROTOCOL_MALFORMED for a frame that
 * is not a request at all (not an object, no usable id), LT_PROTOCOL_UNKNOWN_OP for an
 * op this version does not know, LT_PROTOCOL_BAD_REQUEST for fields of the wrong type.
 * Trace options are checked by the engine itself (LT_OPTION_INVALID).
 */
export function parseRequest(frame: unknown): Request {
  const id = requestIdOf(frame);
  if (!isRecord(frame) || id === undefined) {
    throw new LivetraceError('LT_PROTOCOL_MALFORMED', 'a request is a JSON object with an "id" (integer or string) and an "op"');
  }
  const op = frame.op;
  switch (op) {
    case 'hello': {
      if (typeof frame.protocol !== 'number') throw badRequest('hello needs a numeric "protocol"', frame.protocol);
      const request: HelloRequest = { id, op, protocol: frame.protocol };
      const client = frame.client;
      if (isRecord(client) && typeof client.name === 'string' && typeof client.version === 'string') {
        request.client = { name: client.name.slice(0, MAX_ID_CHARS), version: client.version.slice(0, MAX_ID_CHARS) };
        if (typeof client.pid === 'number') request.client.pid = client.pid;
      }
      return request;
    }
    case 'list': {
      const pattern = optionalString(frame.pattern, 'pattern');
      return pattern === undefined ? { id, op } : { id, op, pattern };
    }
    case 'trace': {
      const options = frame.options;
      if (options !== undefined && options !== null && !isRecord(options)) {
        throw badRequest('trace options must be an object', options);
      }
      const request: TraceRequest = { id, op, patterns: patternsOf(frame.patterns) };
      if (isRecord(options)) request.options = options as TraceOptions;
      return request;
    }
    case 'add':
      return { id, op, session: sessionOf(frame.session), patterns: patternsOf(frame.patterns) };
    case 'stop':
      return { id, op, session: sessionOf(frame.session) };
    case 'stats': {
      if (frame.session === undefined || frame.session === null) return { id, op };
      return { id, op, session: sessionOf(frame.session) };
    }
    case 'claim': {
      const token = frame.token;
      if (typeof token !== 'string' || token.length === 0 || token.length > MAX_ID_CHARS) throw badRequest('claim needs a "token" string');
      return { id, op, token };
    }
    case 'deeper': {
      const fn = frame.fn;
      if (typeof fn !== 'string' || fn.length === 0 || fn.length > MAX_PATTERN_CHARS) {
        throw badRequest(`deeper needs an "fn" pattern string of at most ${MAX_PATTERN_CHARS} characters`, fn);
      }
      return { id, op, fn };
    }
    case 'info':
      return frame.light === true ? { id, op, light: true } : { id, op };
    case 'get': {
      const path = frame.path;
      if (typeof path !== 'string' || path.length === 0 || path.length > MAX_PATTERN_CHARS) {
        throw badRequest(`get needs a "path" string of at most ${MAX_PATTERN_CHARS} characters`, path);
      }
      return frame.instances === true ? { id, op, path, instances: true } : { id, op, path };
    }
    case 'eval': {
      const expression = frame.expression;
      if (typeof expression !== 'string' || expression.length === 0 || expression.length > MAX_EXPRESSION_CHARS) {
        throw badRequest(`eval needs an "expression" string of at most ${MAX_EXPRESSION_CHARS} characters`, typeof expression === 'string' ? expression.slice(0, 200) : expression);
      }
      const timeoutMs = frame.timeoutMs;
      if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 60_000)) {
        throw badRequest('eval "timeoutMs" must be a whole number of ms from 100 to 60000', timeoutMs);
      }
      const request: EvalRequest = { id, op, expression };
      if (frame.safe === true) request.safe = true;
      if (timeoutMs !== undefined) request.timeoutMs = timeoutMs;
      return request;
    }
    case 'complete': {
      const line = frame.line;
      if (typeof line !== 'string' || line.length > MAX_EXPRESSION_CHARS) {
        throw badRequest(`complete needs a "line" string of at most ${MAX_EXPRESSION_CHARS} characters`, typeof line === 'string' ? line.slice(0, 200) : line);
      }
      return { id, op, line };
    }
    case 'join':
      return parseJoin(id, frame);
    default:
      throw new LivetraceError(
        'LT_PROTOCOL_UNKNOWN_OP',
        typeof op === 'string' ? `unknown op "${op.slice(0, MAX_ID_CHARS)}"` : `op must be a string, not ${op === null ? 'null' : typeof op}`,
        typeof op === 'string' ? { input: op.slice(0, MAX_ID_CHARS) } : {},
      );
  }
}

/** Builds the error reply for a refused request. */
export function errorReply(id: RequestId | null, error: LivetraceError): ErrorReply {
  return { id, ok: false, error: error.toRecord() };
}
