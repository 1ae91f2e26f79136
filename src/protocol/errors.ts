/**
 * Every error livetrace reports comes from this table: a stable code, a message, and a
 * hint saying what to do. Codes are part of the public interface (docs/errors.md lists
 * them); messages may improve, codes never change meaning.
 */

export const errorTable = {
  // Pattern language
  LT_PATTERN_SYNTAX: { exit: 2, hint: 'Check the pattern at the column shown; see docs/patterns.md for the grammar.' },
  LT_PATTERN_EMPTY: { exit: 2, hint: "Give a pattern such as 'src/users:findUser'." },
  LT_PATTERN_UNKNOWN_ACTION: { exit: 2, hint: 'Actions are: stack, this, count, hist.' },
  LT_PATTERN_UNKNOWN_TYPE: {
    exit: 2,
    hint: 'Types are :string :number :bigint :boolean :symbol :function :object :array :promise :error.',
  },
  LT_PATTERN_UNBOUND_NAME: {
    exit: 2,
    hint: 'A guard may use names bound in the argument list, args, this, ret, err, threw and ms.',
  },
  LT_PATTERN_BAD_REGEX: { exit: 2, hint: 'The regular expression does not compile; check its syntax and flags.' },
  LT_PATTERN_TOO_BROAD: {
    exit: 2,
    hint: 'Narrow the module or function glob, or pass --force (and --max-functions) if you really mean it.',
  },
  LT_PATTERN_NO_MATCH: { exit: 2, hint: "Run 'livetrace ls <pid>' to see the traceable functions." },
  // Options
  LT_OPTION_INVALID: { exit: 2, hint: 'See --help for the accepted forms.' },
  // Sessions
  LT_SESSION_UNKNOWN: { exit: 2, hint: 'The session has ended or never existed.' },
  LT_SESSION_STOPPED: { exit: 2, hint: 'Start a new session.' },
  LT_LOADER_THREAD: {
    exit: 2,
    hint: "Node runs --require preloads in its module loader thread too, where no program code runs: call trace() and startAgent() only when require('node:worker_threads').isMainThread.",
  },
  // livetrace run
  LT_RUN_NOT_STARTED: {
    exit: 2,
    hint: 'Check the command after --: it runs without a shell, so give the program and its arguments (node app.js).',
  },
  // Processes and agents
  LT_PID_NOT_FOUND: { exit: 2, hint: "Check the pid with 'livetrace ps' or 'ps'." },
  LT_PID_NOT_NODE: { exit: 2, hint: 'livetrace traces Node.js processes only.' },
  LT_PID_OTHER_USER: { exit: 2, hint: 'Run livetrace as the user that owns the process.' },
  LT_NO_AGENT: {
    exit: 2,
    hint: "Start the process with 'node --import livetrace/register', or attach with 'livetrace attach <pid>'.",
  },
  LT_SOCKET_DIR_UNSAFE: {
    exit: 2,
    hint: 'The socket directory must be owned by you with mode 0700; remove it or set LIVETRACE_SOCKET_DIR.',
  },
  LT_ATTACH_SIGUSR1_DISABLED: {
    exit: 2,
    hint: 'The process was started with --disable-sigusr1; restart it with --import livetrace/register.',
  },
  LT_ATTACH_PORT_TAKEN: {
    exit: 2,
    hint: 'Another program holds the inspector port; start the target with --inspect-port=<free port> or free 9229.',
  },
  LT_ATTACH_NODE_TOO_OLD: { exit: 2, hint: 'livetrace needs Node.js 20.19 or newer in the target.' },
  LT_ATTACH_FAILED: { exit: 1, hint: 'Run with LIVETRACE_LOG=debug for details.' },
  LT_ATTACH_TIMEOUT: { exit: 1, hint: 'The target did not answer in time; it may be busy or blocked.' },
  LT_ATTACH_NO_INSPECTOR: {
    exit: 1,
    hint: "The process may handle SIGUSR1 itself (process.on('SIGUSR1')) or be blocked; restart it with --import livetrace/register.",
  },
  LT_ATTACH_INSPECTOR_EXPOSED: {
    exit: 2,
    hint: 'Attach only opens an inspector on loopback; give the process a loopback --inspect-port or start it with --import livetrace/register.',
  },
  // Protocol
  LT_PROTOCOL_MALFORMED: { exit: 1, hint: 'Each frame is one JSON object on one line.' },
  LT_PROTOCOL_FRAME_TOO_LARGE: { exit: 1, hint: 'Frames are limited to 1 MiB.' },
  LT_PROTOCOL_VERSION: { exit: 1, hint: 'Use a livetrace CLI of the same major version as the agent.' },
  LT_PROTOCOL_UNKNOWN_OP: { exit: 1, hint: 'Known ops: hello, list, trace, add, stop, stats, claim, deeper, info, get.' },
  LT_PROTOCOL_BAD_REQUEST: { exit: 1, hint: 'A field of the request has the wrong type; see docs/protocol.md.' },
  LT_PROTOCOL_HANDSHAKE: { exit: 1, hint: 'The first request on a connection must be hello {protocol: 1}.' },
  // Control socket
  LT_SOCKET_LISTEN_FAILED: {
    exit: 1,
    hint: 'Check LIVETRACE_SOCKET_DIR: the directory must be writable and the socket path under 100 bytes.',
  },
  LT_AGENT_GONE: { exit: 2, hint: 'The target process exited or its agent stopped; check it with livetrace ps.' },
  LT_AGENT_TIMEOUT: { exit: 1, hint: 'The agent did not answer in time; the process may be busy or blocked.' },
  LT_AGENT_BUSY: {
    exit: 1,
    hint: 'The agent caps its connections (32) and the sessions of one connection (16); close other livetrace clients of this process and retry.',
  },
  // Probes
  LT_PROBE_DEBUGGER_BUSY: {
    exit: 2,
    hint: 'Another debugger is attached to the process; close it before using probes (exported functions can still be traced).',
  },
  LT_PROBE_UNAVAILABLE: {
    exit: 2,
    hint: "The function could not be probed or read; 'livetrace deeper <pid> <module>:~*' lists the internal functions, LIVETRACE_LOG=debug says more.",
  },
  // Observer (livetrace get)
  LT_GET_NOT_FOUND: {
    exit: 2,
    hint: "Give a loaded module and an exported name, then property names: 'src/cache:store.entries'; 'livetrace ls <pid>' lists the modules.",
  },
  LT_GET_UNSAFE: {
    exit: 2,
    hint: 'livetrace never calls a getter or opens a Proxy to read a value; get the object that holds it instead.',
  },
  // Observer (livetrace shell, and get on internal bindings and instances)
  LT_EVAL_TIMEOUT: {
    exit: 2,
    hint: 'The evaluation ran past its time limit and was interrupted (a pending await is abandoned); the process goes on. Raise it with --timeout, or evaluate less at once.',
  },
  LT_EVAL_SIDE_EFFECT: {
    exit: 2,
    hint: 'Under --safe V8 refuses any expression that may change state (including calls it cannot prove pure, and await); leave --safe off to run it.',
  },
  LT_EVAL_UNSUPPORTED: {
    exit: 2,
    hint: "The expression uses something a shell evaluation cannot run (dynamic import()); reach a loaded module with $('src/module') instead.",
  },
  LT_INSPECTOR_UNAVAILABLE: {
    exit: 1,
    hint: "The agent's in-process inspector session could not serve the request (a Node built without the inspector, or a worker that failed); LIVETRACE_LOG=debug says more.",
  },
  // Anything else is a bug in livetrace.
  // Fleet (Redis)
  LT_FLEET_URL: { exit: 2, hint: 'Give the fleet as redis://[user:password@]host[:port][/db] or rediss://... (TLS).' },
  LT_FLEET_UNREACHABLE: { exit: 1, hint: 'Check that Redis runs at that address and that this host can reach it.' },
  LT_FLEET_AUTH: { exit: 2, hint: 'Check the user and password in the fleet URL (redis://user:password@host).' },
  LT_FLEET_DENIED: { exit: 2, hint: "The Redis user's ACL does not allow this; docs/fleet.md gives the rule a livetrace user needs." },
  LT_FLEET_NO_AGENTS: { exit: 2, hint: "Run 'livetrace fleet ls --fleet <url>' to see the services and their agents." },
  LT_FLEET_POLICY: { exit: 2, hint: "The agent's LIVETRACE_FLEET_POLICY does not allow this; it has the last word." },
  LT_FLEET_MEMBER: { exit: 2, hint: "A process is a member of one fleet, under one service; 'livetrace fleet ls' shows where it is." },
  LT_INTERNAL: { exit: 1, hint: 'This is a bug in livetrace; please report it with LIVETRACE_LOG=debug output.' },
} as const satisfies Record<string, { exit: 1 | 2; hint: string }>;

export type ErrorCode = keyof typeof errorTable;

export interface ErrorDetails {
  /** The offending input: a pattern, a pid, an option value, a frame. */
  input?: unknown;
  /** 1-based column in `input` (pattern errors). */
  column?: number;
  /** What was expected and what was found (pattern errors). */
  expected?: string;
  found?: string;
  /** Replaces the table's hint when a more specific one is known. */
  hint?: string;
  cause?: unknown;
}

/** The plain-data form of an error as it crosses the control socket. */
export interface ErrorRecord {
  code: ErrorCode;
  message: string;
  hint: string;
  input?: unknown;
  column?: number;
  expected?: string;
  found?: string;
}

export class LivetraceError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;
  readonly input: unknown;
  readonly column: number | undefined;
  readonly expected: string | undefined;
  readonly found: string | undefined;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'LivetraceError';
    this.code = code;
    this.hint = details.hint ?? errorTable[code].hint;
    this.input = details.input;
    this.column = details.column;
    this.expected = details.expected;
    this.found = details.found;
  }

  /** Exit status the CLI uses: 2 for bad input, 1 for a failure of livetrace. */
  get exitCode(): 1 | 2 {
    return errorTable[this.code].exit;
  }

  toRecord(): ErrorRecord {
    const record: ErrorRecord = { code: this.code, message: this.message, hint: this.hint };
    if (this.input !== undefined) record.input = this.input;
    if (this.column !== undefined) record.column = this.column;
    if (this.expected !== undefined) record.expected = this.expected;
    if (this.found !== undefined) record.found = this.found;
    return record;
  }

  static fromRecord(record: ErrorRecord): LivetraceError {
    const code: ErrorCode = record.code in errorTable ? record.code : 'LT_INTERNAL';
    return new LivetraceError(code, record.message, record);
  }
}

export function isLivetraceError(value: unknown): value is LivetraceError {
  return value instanceof LivetraceError;
}

/** Wraps anything thrown into a LivetraceError, keeping the original as `cause`. */
export function toLivetraceError(value: unknown): LivetraceError {
  if (value instanceof LivetraceError) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new LivetraceError('LT_INTERNAL', message, { cause: value });
}
