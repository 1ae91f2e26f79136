/**
 * One attach past its checks (phases 4 to 6 of attach.ts): open or reuse the target's
 * inspector, evaluate the bootstrap, close the inspector, confirm the agent. It owns the
 * inspector session and whether we must close it; closing runs on every path.
 */
import { LivetraceError, isLivetraceError } from '../protocol/errors.js';
import { PRESENCE_TIMEOUT_MS, agentAnswers } from './agent-presence.js';
import { agentCacheOffer, makeAgentCache } from './agent-cache.js';
import { agentEntry, bootstrapExpression, closeInspectorExpression, minimumNode, parseBootstrapReply, pidExpression } from './bootstrap.js';
import { endpointText, findOpenInspector, portTaken, waitForInspector } from './find-inspector.js';
import { InspectorSession, portAccepts, type InspectorEndpoint, type InspectorTarget } from './inspector.js';
import { clusterWorkersOf, closeWorkerInspectors, type ClusterWorkers, type WorkerInspector } from './cluster-workers.js';
import { describeLate, watchLateInspector } from './late-inspector.js';
import { socketInodes } from './listeners.js';
import type { TargetProcess } from './target.js';
import { POLL_MS, round, sleep, type PhaseClock } from './timing.js';
import type { AttachOptions, AttachResult } from './types.js';

/** Closing the inspector may run past the deadline by this much: it must happen. */
const CLOSE_BUDGET_MS = 2000;
/** How long after closing the target's inspector its cluster workers are watched for theirs. */
const WORKER_SETTLE_MS = 300;

/**
 * What the attach reads of the target before the signal (the sockets it holds, its
 * cluster workers), started by attach.ts as soon as it has the pid, so that these /proc
 * reads run beside its other checks instead of after them.
 */
export interface EarlyReads {
  sockets: Promise<Set<string> | undefined>;
  workers: Promise<ClusterWorkers | undefined>;
}

/** Starts the reads of EarlyReads; they never reject. */
export function readEarly(pid: number): EarlyReads {
  return { sockets: socketInodes(pid).catch(() => undefined), workers: clusterWorkersOf(pid).catch(() => undefined) };
}

export class Attachment {
  private session: InspectorSession | undefined;
  private endpoint: InspectorEndpoint | undefined;
  private inspector: InspectorTarget | undefined;
  /** We opened the inspector, or found one nobody asked for: we close it. */
  private mustClose = false;
  private leftOpen = false;
  private signalledAt: number | undefined;
  private socketsBefore: Set<string> | undefined;
  /** The target's cluster workers before the signal, when it is a cluster primary. */
  private workers: ClusterWorkers | undefined;
  /** The bootstrap was sent and has not answered: the agent may load when the target yields. */
  private bootstrapPending = false;
  private agentCache: AttachResult['agentCache'];

  constructor(
    private readonly target: TargetProcess,
    private readonly address: InspectorEndpoint,
    private readonly clock: PhaseClock,
    private readonly deadline: number,
    private readonly options: AttachOptions = {},
    /** Reads started before the checks; made here when not given (or stale). */
    private readonly early: EarlyReads = readEarly(target.pid),
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
    // and the inspector should stay open no longer than the agent took to load. The
    // confirmation starts once the target has evaluated the close, and runs while we wait
    // for the port to refuse and for the workers' inspectors (5-15 ms each that were
    // spent one after the other; branch attach8).
    let agentReady: Promise<void> | undefined;
    const confirm = (): void => {
      agentReady ??= this.waitForAgent(socketPath);
      agentReady.catch(() => {}); // awaited below; closing may throw first
    };
    try {
      if (this.mustClose) await this.closeInspector(confirm);
    } finally {
      this.session?.dispose();
    }
    confirm();
    const closedAt = performance.now();
    const workersClosed = await this.closeWorkers();
    this.clock.mark('close');
    await agentReady;
    this.clock.mark('agent');
    return {
      pid: this.target.pid,
      alreadyPresent: false,
      socketPath,
      ms: this.clock.elapsed(),
      inspectorPort: this.endpoint?.port,
      inspectorOpenMs: this.signalledAt === undefined ? undefined : round(closedAt - this.signalledAt),
      inspectorLeftOpen: this.leftOpen,
      ...(workersClosed.length === 0 ? {} : { workerInspectorsClosed: workersClosed.map((w) => ({ pid: w.pid, port: w.endpoint.port })) }),
      ...(this.agentCache === undefined ? {} : { agentCache: this.agentCache }),
      phases: this.clock.phases,
    };
  }

  /** Closes what the target's cluster workers opened when our signal reached them through it. */
  private async closeWorkers(): Promise<WorkerInspector[]> {
    if (this.workers === undefined || this.signalledAt === undefined) return [];
    const host = (this.endpoint ?? this.address).host;
    return closeWorkerInspectors(this.workers, host, WORKER_SETTLE_MS, CLOSE_BUDGET_MS).catch(() => []);
  }

  /** Finds the target's inspector already open, or opens it with SIGUSR1; connects and checks the pid. */
  private async openInspector(): Promise<void> {
    const { pid } = this.target;
    // The look for an open inspector binds the expected port for a moment (a port nobody
    // holds needs no read of the kernel's tcp tables); the target's sockets and workers
    // were read beside the checks before it (EarlyReads).
    const { sockets, workers: workersRead } = this.early;
    const open = this.address.port === 0 ? undefined : await findOpenInspector(pid, this.address, () => this.remaining());
    if (open !== undefined) {
      this.session = open.session;
      this.endpoint = open.endpoint;
      this.inspector = open.target;
      this.clock.mark('connect');
      this.mustClose = !this.target.launch.inspectAtStart;
      this.leftOpen = !this.mustClose;
      return;
    }
    // The inspector may open elsewhere than expected: on a port chosen when it opens (0),
    // or on one we could not read (process.title hid the options; a wrong --port). On
    // Linux we also watch for the listener the target gains after the signal, so that an
    // inspector we opened is always found, and so closed.
    const socketsBefore = await sockets;
    this.socketsBefore = socketsBefore;
    this.workers = await workersRead;
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
    const found = await waitForInspector(pid, this.address, this.deadline, socketsBefore);
    this.endpoint = found.endpoint;
    this.inspector = found.target;
    this.clock.mark('inspector');
    this.session = await InspectorSession.connect(found.target.webSocketUrl, this.remaining());
    this.clock.mark('connect');
    const seen = await this.session.evaluate(pidExpression, this.remaining());
    if (seen !== pid) {
      // Not the target's inspector (the port changed hands after our check): not ours to close.
      this.mustClose = false;
      throw portTaken(this.address, `the inspector on ${this.endpointText()} belongs to process ${String(seen)}`);
    }
    this.clock.mark('verify');
  }

  /** Evaluates the bootstrap; resolves to the socket the agent reports it listens on. */
  private async bootstrap(): Promise<string> {
    const session = this.session as InspectorSession;
    const { pid } = this.target;
    const entry = agentEntry();
    const offer = this.options.agentCache === true ? agentCacheOffer(pid, entry) : undefined;
    let value: unknown;
    try {
      this.bootstrapPending = true;
      value = await session.evaluate(bootstrapExpression(entry, offer?.present === true ? offer.file : undefined), this.remaining(), { awaitPromise: true });
      this.bootstrapPending = false;
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
    const { agent, cache } = reply;
    if (cache !== undefined) {
      // No cache fitted the target's V8 and none was made for its executable yet: make one
      // now, in the background, for the next attach (agent-cache.ts).
      // Only a plain Node runs the maker script it is given: a single executable
      // application's binary would start its own program again.
      const making = offer !== undefined && !offer.present && cache.source === 'none' && cache.plain && makeAgentCache(offer);
      this.agentCache = { source: cache.source, rejected: cache.rejected, making };
    }
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
  /** Closes the inspector and waits for its port to refuse; `closed` runs once the target evaluated the close. */
  private async closeInspector(closed?: () => void): Promise<void> {
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
    closed?.();
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

  /**
   * Closes what we opened, then, when the target may still act on our signal or our
   * bootstrap (it never showed an inspector, or never answered), watches it until that
   * settles (late-inspector.ts). The error says what was found and done.
   */
  private async closeAfterFailure(error: unknown): Promise<void> {
    let closedNow: InspectorEndpoint | undefined;
    let closeFailed = false;
    try {
      if (this.mustClose) {
        await this.closeInspector();
        closedNow = this.endpoint;
      }
    } catch (closeError) {
      closeFailed = true;
      if (error instanceof Error) {
        error.message += `; closing the inspector on ${this.endpointText()} also failed: ${(closeError as Error).message}`;
      }
    } finally {
      this.session?.dispose();
    }
    const workersClosed = await this.closeWorkers();
    if (workersClosed.length > 0 && error instanceof Error) {
      error.message += `; the inspectors its cluster workers opened were closed (${workersClosed.map((w) => `process ${w.pid} on ${endpointText(w.endpoint)}`).join(', ')})`;
    }
    const pending = this.endpoint === undefined || this.bootstrapPending || closeFailed;
    if (this.signalledAt === undefined || !pending) {
      if (closedNow && error instanceof Error) error.message += `; the inspector on ${this.endpointText()} was closed`;
      return;
    }
    const watch = {
      target: this.target,
      address: this.endpoint ?? this.address,
      socketsBefore: this.socketsBefore,
      bootstrapPending: this.bootstrapPending,
      options: this.options,
    };
    const outcome = await watchLateInspector(watch);
    if (error instanceof Error) error.message += `; ${describeLate(outcome, watch, closedNow)}`;
  }

  private endpointText(): string {
    return endpointText(this.endpoint ?? this.address);
  }
}
