/**
 * The main thread's end of the observer's inspector worker (inspector-worker.ts).
 *
 * Requests are asynchronous: the main thread posts one and goes back to its loop, which is
 * where the inspector runs what the worker asks of it (an evaluation, a closure's scopes).
 * Blocking here, as the probe link does, would deadlock an evaluation.
 *
 * Values come back through the hook, an object at `globalThis[Symbol.for(HOOK_KEY)]`
 * (non-enumerable, so `Object.keys(globalThis)` does not show it): the worker calls
 * `deliver(token, value, thrown)` on it, and the value is captured at once, with the trace
 * bounds and redaction, so nothing the target owns is held after the request.
 * `pending(token)` gives the worker the objects a request is about (a module's functions, a
 * class's prototype); they are dropped when the request ends.
 *
 * The worker starts on the first request and ends after IDLE_MS without one; it and its
 * port are unref'd, so they never keep the process alive.
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { LivetraceError } from '../../protocol/errors.js';
import { capture } from '../capture/capturer.js';
import type { Captured } from '../capture/capturer.js';
import { log } from '../log.js';
import { inspectorWorkerMain, type InspectorReply, type InspectorRequest, type InspectorWorkerData } from './inspector-worker.js';
import { OWN_WORKER_NAME, startOwnWorker } from '../own-worker.js';

const HOOK_KEY = 'livetrace.observer.hook';
const START_TIMEOUT_MS = 10_000;
/** The worker ends after this long without a request. */
const IDLE_MS = 30_000;

type RequestBody = InspectorRequest extends infer R ? (R extends InspectorRequest ? Omit<R, 'id' | 'token'> : never) : never;

export interface Delivered {
  captured: Captured;
  thrown: boolean;
  /** The raw value, kept only when the request asked for it (instances counts an array). */
  raw?: unknown;
}

interface Hook {
  deliver(token: number, value: unknown, thrown: boolean): void;
  pending(token: number): unknown;
}

interface Waiting {
  resolve: (reply: InspectorReply) => void;
  reject: (error: Error) => void;
}

let shared: Promise<InspectorLink> | undefined;
/** The open link, for the hook's synchronous calls. */
let current: InspectorLink | undefined;

export class InspectorLink {
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();
  private readonly delivered = new Map<number, Delivered>();
  private readonly pendingValues = new Map<number, unknown>();
  private readonly keepRaw = new Set<number>();
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  private constructor(
    private readonly worker: Worker,
    private readonly port: MessagePort,
  ) {}

  /** The link, started on first use. Throws LT_INSPECTOR_UNAVAILABLE. */
  static get(): Promise<InspectorLink> {
    shared ??= InspectorLink.open().catch((error: unknown) => {
      shared = undefined;
      throw error;
    });
    return shared;
  }

  private static async open(): Promise<InspectorLink> {
    installHook();
    const { port1, port2 } = new MessageChannel();
    let worker: Worker;
    try {
      const data: InspectorWorkerData = { port: port2, hookKey: HOOK_KEY, ownName: OWN_WORKER_NAME };
      worker = startOwnWorker(inspectorWorkerMain, data, port2);
    } catch (error) {
      port1.close();
      throw unavailable(`the inspector worker could not start: ${(error as Error).message}`);
    }
    port1.unref();
    const link = new InspectorLink(worker, port1);
    current = link;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(unavailable(`the inspector worker did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      timer.unref();
      port1.once('message', (message: InspectorReply) => {
        clearTimeout(timer);
        if (message.ready === true) resolve();
        else reject(unavailable(`the inspector worker has no session: ${message.error ?? 'unknown error'}`));
      });
    }).catch((error: unknown) => {
      link.close();
      throw error;
    });
    port1.on('message', (message: InspectorReply) => link.answer(message));
    port1.unref();
    worker.on('error', (error) => {
      log.debug({ err: error }, 'inspector worker failed');
      link.close();
    });
    worker.on('exit', () => link.close());
    return link;
  }

  /**
   * Sends a request; `values` are the objects it is about (hook.pending). Resolves with the
   * worker's reply and what was delivered, if anything. `deadlineMs` bounds the whole
   * request: past it the promise rejects with `onDeadline()` and a late reply is dropped.
   */
  request(
    body: RequestBody,
    options: { values?: unknown; keepRaw?: boolean; deadlineMs: number; onDeadline: () => LivetraceError },
  ): Promise<{ reply: InspectorReply; delivered: Delivered | undefined }> {
    if (this.closed) return Promise.reject(unavailable('the inspector worker has stopped'));
    const id = this.nextId++;
    const token = id;
    if (options.values !== undefined) this.pendingValues.set(token, options.values);
    if (options.keepRaw === true) this.keepRaw.add(token);
    this.touch();
    const finish = (): void => {
      this.waiting.delete(id);
      this.pendingValues.delete(token);
      this.keepRaw.delete(token);
      this.touch();
    };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        finish();
        this.delivered.delete(token);
        reject(options.onDeadline());
      }, options.deadlineMs);
      timer.unref();
      this.waiting.set(id, {
        resolve: (reply) => {
          clearTimeout(timer);
          finish();
          const delivered = this.delivered.get(token);
          this.delivered.delete(token);
          resolve({ reply, delivered });
        },
        reject: (error) => {
          clearTimeout(timer);
          finish();
          this.delivered.delete(token);
          reject(error);
        },
      });
      this.port.postMessage({ ...body, id, token } as InspectorRequest);
    });
  }

  deliver(token: number, value: unknown, thrown: boolean): void {
    // A request that gave up already: nothing to keep.
    if (!this.waitingToken(token)) return;
    const delivered: Delivered = { captured: capture(value), thrown };
    if (this.keepRaw.has(token)) delivered.raw = value;
    this.delivered.set(token, delivered);
  }

  pending(token: number): unknown {
    return this.pendingValues.get(token);
  }

  private waitingToken(token: number): boolean {
    return this.waiting.has(token);
  }

  private answer(message: InspectorReply): void {
    if (message.id === undefined) return;
    const waiting = this.waiting.get(message.id);
    if (waiting === undefined) return;
    if (message.ok === true) waiting.resolve(message);
    else waiting.reject(unavailable(`the inspector refused the request: ${message.error ?? 'unknown error'}`));
  }

  private touch(): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.waiting.size > 0 || this.closed) return;
    this.idleTimer = setTimeout(() => this.close(), IDLE_MS);
    this.idleTimer.unref();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    shared = undefined;
    if (current === this) current = undefined;
    for (const waiting of [...this.waiting.values()]) waiting.reject(unavailable('the inspector worker stopped'));
    this.port.close();
    void this.worker.terminate().catch(() => {});
  }
}

/** The object the worker calls into; it reaches the open link through `current`. */
function installHook(): void {
  const key = Symbol.for(HOOK_KEY);
  if (Object.prototype.hasOwnProperty.call(globalThis, key)) return;
  const hook: Hook = {
    deliver(token, value, thrown) {
      try {
        current?.deliver(token, value, thrown);
      } catch {
        // Never throw into the inspector's call.
      }
    },
    pending(token) {
      return current?.pending(token);
    },
  };
  Object.defineProperty(globalThis, key, { value: hook, enumerable: false, configurable: true, writable: false });
}

export function inspectorLink(): Promise<InspectorLink> {
  return InspectorLink.get();
}

function unavailable(message: string): LivetraceError {
  return new LivetraceError('LT_INSPECTOR_UNAVAILABLE', message);
}
