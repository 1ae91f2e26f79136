/**
 * Attach: bring the agent into a Node process that was started without livetrace.
 *
 *   1. Check the pid: it exists, we may signal it, it is Node, and it catches SIGUSR1
 *      (otherwise the signal would kill it: refused, never sent).
 *   2. If an agent already answers on its socket, stop there.
 *   3. Make sure the inspector port is free or already the target's own inspector: a
 *      port held by another process is refused before any signal, and we never talk to
 *      a listener that is not the target's.
 *   4. SIGUSR1 opens the inspector on loopback; find it via /json/list (and, on Linux,
 *      via the listener the target gained), open one WebSocket session, and check that
 *      `process.pid` is the target's before evaluating anything else.
 *   5. Evaluate the one fixed bootstrap expression (bootstrap.ts), which loads the agent
 *      and reports where it listens.
 *   6. Close the inspector from inside the target and check the port refuses
 *      connections; then confirm the agent answers hello on its socket.
 *      Closing runs on every path, success or failure, whenever we opened the
 *      inspector. One we found open is closed too unless the process was started with
 *      --inspect/--inspect-brk/--inspect-wait (then someone wants it open): an inspector
 *      opened by an earlier SIGUSR1 is a debugger port nobody is minding, and security
 *      wins over a DevTools session that may be using it.
 *
 * Every wait is bounded by one deadline (timeoutMs), and closing gets its own budget
 * beyond it, so a failure late in the attach still closes the port.
 */
import { join } from 'node:path';
import { LivetraceError, isLivetraceError } from '../protocol/errors.js';
import { socketPath as defaultSocketPath } from '../protocol/socket-path.js';
import { agentAnswers } from './agent-presence.js';
import {
  agentEntry,
  bootstrapExpression,
  closeInspectorExpression,
  minimumNode,
  parseBootstrapReply,
  pidExpression,
} from './bootstrap.js';
import { InspectorSession, listTargets, portAccepts, type InspectorEndpoint, type InspectorTarget } from './inspector.js';
import { portHolder, portsOf } from './listeners.js';
import { isLoopbackHost } from './node-options.js';
import { inspectTarget, type TargetProcess } from './target.js';

export interface AttachOptions {
  /**
   * The inspector port SIGUSR1 opens in the target. Default: the one its command line or
   * NODE_OPTIONS gives (--inspect-port, --inspect, --debug-port), else 9229.
   */
  port?: number;
  /** Bound on the whole attach in ms (default 5000); closing the inspector gets extra time. */
  timeoutMs?: number;
  /**
   * Where to look for an agent already running in the target. Default: LIVETRACE_SOCKET_DIR
   * or the per-user runtime dir, as seen by this process and, when readable, by the target.
   */
  socketDir?: string;
}

export interface EnsureAgentOptions extends AttachOptions {
  /** false: never attach; an absent agent is LT_NO_AGENT (`--no-attach`). Default true. */
  attach?: boolean;
}

export type AttachPhaseName = 'check' | 'signal' | 'inspector' | 'connect' | 'verify' | 'bootstrap' | 'close' | 'agent';

export interface AttachResult {
  pid: number;
  /** An agent was already answering; nothing was signalled or evaluated. */
  alreadyPresent: boolean;
  /** The agent's control socket. */
  socketPath: string;
  /** From the call to the agent answering hello (the inspector is closed by then), in ms. */
  ms: number;
  /** The inspector port used; undefined when the agent was already present. */
  inspectorPort?: number;
  /**
   * From sending SIGUSR1 to the inspector port refusing connections, in ms: an upper
   * bound on how long attach kept a debugger port open. Undefined when nothing was signalled.
   */
  inspectorOpenMs?: number;
  /** The target's inspector was open before attach and was left open. */
  inspectorLeftOpen: boolean;
  /** Duration of each phase, in order, in ms. */
  phases: Array<{ name: AttachPhaseName; ms: number }>;
}

const DEFAULT_TIMEOUT_MS = 5000;
/** Closing the inspector may run past the deadline by this much: it must happen. */
const CLOSE_BUDGET_MS = 2000;
const POLL_MS = 5;
/** An agent that is there answers hello on a local socket at once. */
const PRESENCE_TIMEOUT_MS = 1000;

class PhaseClock {
  readonly start = performance.now();
  private last = this.start;
  readonly phases: AttachResult['phases'] = [];

  mark(name: AttachPhaseName): void {
    const now = performance.now();
    this.phases.push({ name, ms: round(now - this.last) });
    this.last = now;
  }

  elapsed(): number {
    return round(performance.now() - this.start);
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Loads the livetrace agent into the Node process `pid` through its inspector, or
 * finds it already there. Throws a LivetraceError: LT_PID_NOT_FOUND, LT_PID_OTHER_USER,
 * LT_PID_NOT_NODE, LT_ATTACH_SIGUSR1_DISABLED, LT_ATTACH_INSPECTOR_EXPOSED,
 * LT_ATTACH_PORT_TAKEN, LT_ATTACH_NO_INSPECTOR, LT_ATTACH_NODE_TOO_OLD,
 * LT_ATTACH_TIMEOUT, LT_ATTACH_FAILED, or the agent's own code when it cannot listen.
 */
export async function attach(pid: number, options: AttachOptions = {}): Promise<AttachResult> {
  const clock = new PhaseClock();
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new LivetraceError('LT_OPTION_INVALID', `timeout must be a positive number of ms: ${timeoutMs}`, { input: timeoutMs });
  }
  if (options.port !== undefined && !(Number.isInteger(options.port) && options.port >= 0 && options.port <= 65535)) {
    throw new LivetraceError('LT_OPTION_INVALID', `not a TCP port: ${options.port}`, { input: options.port });
  }
  const deadline = clock.start + timeoutMs;
  const target = await inspectTarget(pid);
  const present = await presentAgent(target, options);
  clock.mark('check');
  if (present !== undefined) {
    const ms = clock.elapsed();
    return { pid, alreadyPresent: true, socketPath: present, ms, inspectorLeftOpen: false, phases: clock.phases };
  }
  refuseUnsafeSignal(target);
  const address = { host: target.launch.inspector.host, port: options.port ?? target.launch.inspector.port };
  if (!isLoopbackHost(address.host)) {
    throw new LivetraceError(
      'LT_ATTACH_INSPECTOR_EXPOSED',
      `process ${pid} would open its inspector on ${address.host}:${address.port}, which is not a loopback address`,
      { input: `${address.host}:${address.port}` },
    );
  }
  return new Attachment(target, address, clock, deadline).run();
}

/**
 * Makes sure an agent answers in `pid` and says where: attaches when none does, unless
 * `attach: false`, which turns an absent agent into LT_NO_AGENT. This is what commands
 * that talk to an agent (trace, ls) call first.
 */
export async function ensureAgent(pid: number, options: EnsureAgentOptions = {}): Promise<AttachResult> {
  if (options.attach !== false) return attach(pid, options);
  const clock = new PhaseClock();
  const target = await inspectTarget(pid);
  const present = await presentAgent(target, options);
  clock.mark('check');
  if (present === undefined) {
    throw new LivetraceError('LT_NO_AGENT', `no livetrace agent answers in process ${pid}`, {
      input: pid,
      hint: `Attach with 'livetrace attach ${pid}' (or leave out --no-attach), or start the process with --import livetrace/register.`,
    });
  }
  const ms = clock.elapsed();
  return { pid, alreadyPresent: true, socketPath: present, ms, inspectorLeftOpen: false, phases: clock.phases };
}

/** The socket of an agent already answering in the target, if any. */
async function presentAgent(target: TargetProcess, options: AttachOptions): Promise<string | undefined> {
  const candidates = new Set<string>();
  if (options.socketDir !== undefined) {
    candidates.add(join(options.socketDir, `${target.pid}.sock`));
  } else {
    candidates.add(defaultSocketPath(target.pid));
    // The agent resolves its directory in its own environment, which may differ from ours.
    if (target.env) candidates.add(defaultSocketPath(target.pid, { ...target.env }));
  }
  for (const path of candidates) {
    if (await agentAnswers(target.pid, path, PRESENCE_TIMEOUT_MS)) return path;
  }
  return undefined;
}

function refuseUnsafeSignal(target: TargetProcess): void {
  const { pid } = target;
  if (target.launch.disableSigusr1 !== undefined) {
    const where = target.launch.disableSigusr1 === 'argv' ? 'its command line' : 'NODE_OPTIONS';
    throw new LivetraceError('LT_ATTACH_SIGUSR1_DISABLED', `process ${pid} was started with --disable-sigusr1 (in ${where})`, {
      input: pid,
    });
  }
  if (target.sigusr1 === 'default' || target.sigusr1 === 'ignored') {
    const effect = target.sigusr1 === 'default' ? 'the signal would terminate it' : 'it ignores the signal';
    throw new LivetraceError('LT_ATTACH_SIGUSR1_DISABLED', `process ${pid} does not handle SIGUSR1: ${effect}, so attach did not send it`, {
      input: pid,
      hint:
        'The process runs with --disable-sigusr1, removed its SIGUSR1 handler (process.on/off), or is still ' +
        'starting up (retry in a moment). Otherwise restart it with --import livetrace/register.',
    });
  }
}

/** One attach in progress: owns the inspector session and whether we must close it. */
class Attachment {
  private session: InspectorSession | undefined;
  private endpoint: InspectorEndpoint | undefined;
  private inspector: InspectorTarget | undefined;
  /** We opened the inspector, or found one nobody asked for: we close it. */
  private mustClose = false;
  private leftOpen = false;
  private signalledAt: number | undefined;

  constructor(
    private readonly target: TargetProcess,
    private readonly address: InspectorEndpoint,
    private readonly clock: PhaseClock,
    private readonly deadline: number,
  ) {}

  private remaining(): number {
    const left = this.deadline - performance.now();
    if (left <= 0) {
      throw new LivetraceError('LT_ATTACH_TIMEOUT', `attach to process ${this.target.pid} timed out`, { input: this.target.pid });
    }
    return Math.ceil(left);
  }

  async run(): Promise<AttachResult> {
    let socketPath: string;
    try {
      await this.openInspector();
      socketPath = await this.bootstrap();
    } catch (error) {
      await this.closeAfterFailure(error);
      throw error;
    }
    // Close first, confirm the agent second: the agent already reported that it listens,
    // and the inspector should stay open no longer than the agent took to load.
    try {
      if (this.mustClose) await this.closeInspector();
    } finally {
      this.session?.dispose();
    }
    const closedAt = performance.now();
    this.clock.mark('close');
    await this.waitForAgent(socketPath);
    this.clock.mark('agent');
    return {
      pid: this.target.pid,
      alreadyPresent: false,
      socketPath,
      ms: this.clock.elapsed(),
      inspectorPort: this.endpoint?.port,
      inspectorOpenMs: this.signalledAt === undefined ? undefined : round(closedAt - this.signalledAt),
      inspectorLeftOpen: this.leftOpen,
      phases: this.clock.phases,
    };
  }

  /** Finds the target's inspector already open, or opens it with SIGUSR1; connects and checks the pid. */
  private async openInspector(): Promise<void> {
    const { pid } = this.target;
    if (this.address.port !== 0 && (await this.useOpenInspector())) {
      this.mustClose = !this.target.launch.inspectAtStart;
      this.leftOpen = !this.mustClose;
      return;
    }
    // The inspector may open elsewhere than expected: on a port chosen when it opens (0),
    // or on one we could not read (process.title hid the options; a wrong --port). On
    // Linux we also watch for the listener the target gains after the signal, so that an
    // inspector we opened is always found, and so closed.
    const portsBefore = await portsOf(pid);
    try {
      process.kill(pid, 'SIGUSR1');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ESRCH') throw new LivetraceError('LT_PID_NOT_FOUND', `process ${pid} has exited`, { input: pid });
      if (code === 'EPERM') throw new LivetraceError('LT_PID_OTHER_USER', `process ${pid} belongs to another user`, { input: pid });
      throw error;
    }
    this.mustClose = true;
    this.signalledAt = performance.now();
    this.clock.mark('signal');
    const found = await this.waitForInspector(portsBefore);
    this.endpoint = found.endpoint;
    this.inspector = found.target;
    this.clock.mark('inspector');
    this.session = await InspectorSession.connect(found.target.webSocketUrl, this.remaining());
    this.clock.mark('connect');
    const seen = await this.session.evaluate(pidExpression, this.remaining());
    if (seen !== pid) {
      // Not the target's inspector (the port changed hands after our check): not ours to close.
      this.mustClose = false;
      throw this.portTaken(`the inspector on ${this.endpointText()} belongs to process ${String(seen)}`);
    }
    this.clock.mark('verify');
  }

  /**
   * Before signalling: true when the port already serves the target's own inspector
   * (then we use it instead of signalling); throws LT_ATTACH_PORT_TAKEN when another process
   * holds it; false when it is free.
   */
  private async useOpenInspector(): Promise<boolean> {
    const { pid } = this.target;
    const holder = await portHolder(pid, this.address.port);
    if (holder === 'other') throw this.portTaken(`another process listens on ${this.addressText()}`);
    if (holder === 'none') return false;
    if (holder === 'unknown' && !(await portAccepts(this.address, Math.min(500, this.remaining())))) return false;
    let targets: InspectorTarget[];
    try {
      targets = await listTargets(this.address, Math.min(1000, this.remaining()));
    } catch {
      const who = holder === 'target' ? `process ${pid} itself listens on ${this.addressText()}` : `${this.addressText()} is in use`;
      throw this.portTaken(`${who}, and not with its inspector`);
    }
    const first = targets[0] as InspectorTarget;
    const session = await InspectorSession.connect(first.webSocketUrl, this.remaining());
    let seen: unknown;
    try {
      seen = await session.evaluate(pidExpression, this.remaining());
    } catch (error) {
      session.dispose();
      throw error;
    }
    if (seen !== pid) {
      session.dispose();
      throw this.portTaken(`the inspector on ${this.addressText()} belongs to process ${String(seen)}`);
    }
    this.session = session;
    this.endpoint = this.address;
    this.inspector = first;
    this.clock.mark('connect');
    return true;
  }

  /** Polls for the inspector SIGUSR1 opened: on the expected port, or as a new listener of the target. */
  private async waitForInspector(portsBefore: Set<number> | undefined): Promise<{ endpoint: InspectorEndpoint; target: InspectorTarget }> {
    const { pid } = this.target;
    for (;;) {
      const left = this.deadline - performance.now();
      if (left <= 0) break;
      const endpoints: InspectorEndpoint[] = [];
      if (this.address.port !== 0) endpoints.push(this.address);
      if (portsBefore !== undefined) {
        const now = await portsOf(pid);
        for (const port of now ?? []) {
          if (!portsBefore.has(port) && port !== this.address.port) endpoints.push({ host: this.address.host, port });
        }
      }
      for (const endpoint of endpoints) {
        try {
          const targets = await listTargets(endpoint, Math.max(1, Math.min(250, Math.ceil(left))));
          return { endpoint, target: targets[0] as InspectorTarget };
        } catch {
          // not (yet) an inspector
        }
      }
      await sleep(POLL_MS);
    }
    // The signal may still open the inspector later (a main thread blocked in a system
    // call handles it only when it returns); say so, since we cannot close it then.
    throw new LivetraceError(
      'LT_ATTACH_NO_INSPECTOR',
      `process ${pid} got SIGUSR1 but no inspector opened on ${this.addressText()} within the timeout`,
      {
        input: pid,
        hint:
          "The process may handle SIGUSR1 itself (process.on('SIGUSR1')), or its main thread may be blocked. If the " +
          `inspector opens later, run 'livetrace attach ${pid}' again: it uses that inspector and closes it.`,
      },
    );
  }

  /** Evaluates the bootstrap; resolves to the socket the agent reports it listens on. */
  private async bootstrap(): Promise<string> {
    const session = this.session as InspectorSession;
    const { pid } = this.target;
    let value: unknown;
    try {
      value = await session.evaluate(bootstrapExpression(agentEntry()), this.remaining(), { awaitPromise: true });
    } catch (error) {
      if (isLivetraceError(error)) throw error;
      throw new LivetraceError('LT_ATTACH_FAILED', `loading the agent into process ${pid} failed: ${(error as Error).message}`, {
        input: pid,
        cause: error,
      });
    }
    const reply = parseBootstrapReply(value);
    this.clock.mark('bootstrap');
    if (!reply.ok) {
      throw new LivetraceError(
        'LT_ATTACH_NODE_TOO_OLD',
        `process ${pid} runs Node.js ${reply.node}; livetrace needs ${minimumNode.major}.${minimumNode.minor} or newer`,
        { input: reply.node },
      );
    }
    const { agent } = reply;
    if (!agent.listening || agent.socketPath === null) {
      if (agent.error) throw LivetraceError.fromRecord(agent.error);
      throw new LivetraceError('LT_ATTACH_FAILED', `the agent in process ${pid} is not listening`, { input: pid });
    }
    return agent.socketPath;
  }

  private async waitForAgent(socketPath: string): Promise<void> {
    while (!(await agentAnswers(this.target.pid, socketPath, Math.min(PRESENCE_TIMEOUT_MS, this.remaining())))) {
      await sleep(POLL_MS);
    }
  }

  /** Closes the inspector we opened and checks that its port refuses connections. */
  private async closeInspector(): Promise<void> {
    const endpoint = this.endpoint;
    const inspector = this.inspector;
    if (!endpoint || !inspector) return;
    const closeBy = performance.now() + CLOSE_BUDGET_MS;
    const left = (): number => Math.max(1, Math.ceil(closeBy - performance.now()));
    let session = this.session;
    if (!session?.isOpen) session = await InspectorSession.connect(inspector.webSocketUrl, left());
    this.session = session;
    await session.evaluateClosing(closeInspectorExpression, left());
    session.dispose();
    this.mustClose = false;
    while (await portAccepts(endpoint, Math.min(250, left()))) {
      if (performance.now() >= closeBy) {
        throw new LivetraceError('LT_ATTACH_FAILED', `the inspector of process ${this.target.pid} on ${this.endpointText()} is still open`, {
          input: this.target.pid,
          hint: `Close it with: livetrace attach ${this.target.pid} (it reuses the open inspector), or restart the process.`,
        });
      }
      await sleep(POLL_MS);
    }
  }

  private async closeAfterFailure(error: unknown): Promise<void> {
    try {
      if (this.mustClose) await this.closeInspector();
    } catch (closeError) {
      if (error instanceof Error) {
        error.message += `; closing the inspector on ${this.endpointText()} also failed: ${(closeError as Error).message}`;
      }
    } finally {
      this.session?.dispose();
    }
  }

  private portTaken(message: string): LivetraceError {
    return new LivetraceError('LT_ATTACH_PORT_TAKEN', message, { input: this.address.port });
  }

  private addressText(): string {
    return `${this.address.host}:${this.address.port}`;
  }

  private endpointText(): string {
    const endpoint = this.endpoint ?? this.address;
    return `${endpoint.host}:${endpoint.port}`;
  }
}
