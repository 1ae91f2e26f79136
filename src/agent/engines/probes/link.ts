/**
 * The main thread's end of the probe worker (worker-program.ts): starts it, asks it
 * things synchronously, and ends it.
 *
 * Requests are synchronous because the engine's API is: a session's constructor arms its
 * probes before `trace()` returns, and `stop()` has disarmed them before it resolves. The
 * main thread posts the request on a MessagePort and blocks in Atomics.wait on a shared
 * counter the worker bumps after each reply, then takes the reply with
 * receiveMessageOnPort. While it waits, V8 keeps serving the worker's inspector session
 * (its messages run as interrupts), so the Debugger commands the worker sends complete.
 * Every wait has a deadline: a worker that does not answer is ended and the request
 * fails with LT_PROBE_UNAVAILABLE, so a probe can delay the program by at most that
 * long, never hang it.
 *
 * The worker and the port are unref'd: the link never keeps the process alive. The
 * worker runs with no execArgv (no preload of its own, no inspector flags) and a small
 * heap.
 */
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { LivetraceError } from '../../../protocol/errors.js';
import { log } from '../../log.js';
import { debuggerWorkerMain, type WorkerData } from './worker-program.js';
import { startOwnWorker } from '../../own-worker.js';

/** How long the worker may take to start, and to answer a request, ms. */
const START_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 5_000;

interface Reply {
  id?: number;
  ready?: boolean;
  ok?: boolean;
  result?: unknown;
  error?: string;
}

export class DebuggerLink {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly signal: Int32Array;
  private nextId = 1;
  private closed = false;

  private constructor(worker: Worker, port: MessagePort, signal: Int32Array) {
    this.worker = worker;
    this.port = port;
    this.signal = signal;
  }

  /** Starts the worker and waits until its session is connected. Throws LT_PROBE_UNAVAILABLE. */
  static open(trampolineKey: string): DebuggerLink {
    const link = DebuggerLink.spawn(trampolineKey);
    try {
      const started = link.await((reply) => reply.ready !== undefined, START_TIMEOUT_MS, 'start');
      if (started.ready !== true) throw unavailable(`the probe worker has no inspector session: ${started.error ?? 'unknown error'}`);
    } catch (error) {
      link.close();
      throw error;
    }
    return link;
  }

  /**
   * As open(), without blocking this thread while the worker starts (some 35-50 ms of a
   * thread and an isolate to boot, more on a loaded machine): the wait is Atomics.waitAsync
   * on the same counter, so the program runs on meanwhile. Rejects with LT_PROBE_UNAVAILABLE.
   */
  static async openAsync(trampolineKey: string): Promise<DebuggerLink> {
    const link = DebuggerLink.spawn(trampolineKey);
    try {
      const started = await link.awaitAsync((reply) => reply.ready !== undefined, START_TIMEOUT_MS, 'start');
      if (started.ready !== true) throw unavailable(`the probe worker has no inspector session: ${started.error ?? 'unknown error'}`);
    } catch (error) {
      link.close();
      throw error;
    }
    return link;
  }

  private static spawn(trampolineKey: string): DebuggerLink {
    const signal = new Int32Array(new SharedArrayBuffer(4));
    const { port1, port2 } = new MessageChannel();
    let worker: Worker;
    try {
      const data: WorkerData = { port: port2, signal, trampolineKey };
      worker = startOwnWorker(debuggerWorkerMain, data, port2);
    } catch (error) {
      port1.close();
      throw unavailable(`the probe worker could not start: ${(error as Error).message}`, error);
    }
    port1.unref();
    // A worker error (a crash, or its heap limit) ends the link; requests then time out fast.
    worker.on('error', (error) => log.debug({ err: error }, 'probe worker failed'));
    return new DebuggerLink(worker, port1, signal);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends a request and waits for its answer. Throws LT_PROBE_UNAVAILABLE with the worker's error. */
  request<T>(op: string, params: object = {}, timeoutMs = REQUEST_TIMEOUT_MS): T {
    if (this.closed) throw unavailable('the probe worker has stopped');
    const id = this.nextId++;
    this.port.postMessage({ ...params, id, op });
    const reply = this.await((r) => r.id === id, timeoutMs, op);
    if (reply.ok !== true) throw unavailable(`the debugger refused ${op}: ${reply.error ?? 'unknown error'}`);
    return reply.result as T;
  }

  /** Sends a request without waiting for it (the worker acts on it by itself). */
  notify(op: string, params: object = {}): void {
    if (!this.closed) this.port.postMessage({ ...params, op });
  }

  /** Ends the worker; its session closes, which also disables the Debugger for it. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.port.close();
    void this.worker.terminate().catch(() => {});
  }

  private await(wanted: (reply: Reply) => boolean, timeoutMs: number, what: string): Reply {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = this.poll(wanted, deadline, timeoutMs, what);
      if (typeof found !== 'number') return found;
      Atomics.wait(this.signal, 0, found, deadline - performance.now());
    }
  }

  /** await() without blocking: the same loop, waiting with Atomics.waitAsync. */
  private async awaitAsync(wanted: (reply: Reply) => boolean, timeoutMs: number, what: string): Promise<Reply> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (this.closed) throw unavailable('the probe worker has stopped');
      const found = this.poll(wanted, deadline, timeoutMs, what);
      if (typeof found !== 'number') return found;
      const waiting = (Atomics as unknown as AtomicsWithWaitAsync).waitAsync(this.signal, 0, found, deadline - performance.now());
      if (waiting.async) await waiting.value;
    }
  }

  /**
   * One look at the port: the reply wanted, or else the signal's value read before the
   * look, to wait on (a reply posted after the look changes it). Past the deadline the
   * link closes and this throws.
   */
  private poll(wanted: (reply: Reply) => boolean, deadline: number, timeoutMs: number, what: string): Reply | number {
    const seen = Atomics.load(this.signal, 0);
    for (let message = receiveMessageOnPort(this.port); message !== undefined; message = receiveMessageOnPort(this.port)) {
      const reply = message.message as Reply;
      // Anything else is the late answer of a request that timed out.
      if (wanted(reply)) return reply;
    }
    if (deadline - performance.now() <= 0) {
      this.close();
      throw unavailable(`the probe worker did not answer ${what} within ${timeoutMs} ms`);
    }
    return seen;
  }
}

/** Atomics.waitAsync (Node 16 and later), which the compiler's lib does not describe yet. */
interface AtomicsWithWaitAsync {
  waitAsync(array: Int32Array, index: number, value: number, timeoutMs: number): { async: false; value: string } | { async: true; value: Promise<string> };
}

function unavailable(message: string, cause?: unknown): LivetraceError {
  return new LivetraceError('LT_PROBE_UNAVAILABLE', message, cause === undefined ? {} : { cause });
}
