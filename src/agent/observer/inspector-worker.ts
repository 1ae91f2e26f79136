/**
 * The program of the observer's inspector worker: a thread that holds an inspector session
 * on the main thread (`Session#connectToMainThread`) for the commands that need V8's view of
 * the process rather than JavaScript's: `livetrace shell` (Runtime.evaluate), `get` on a
 * module-internal binding (a closure's [[Scopes]]) and `get --instances` (queryObjects).
 * The inspector port is never opened: the session is in-process, reachable only from this
 * thread.
 *
 * Why a worker of its own and not the probe worker (engines/probes/worker-program.ts): the
 * probe worker's requests are synchronous (the main thread blocks in Atomics.wait), which is
 * right for arming breakpoints and wrong here. An evaluation must run *on* the main thread,
 * so the main thread has to be free while it is asked for; this worker's requests are
 * asynchronous messages, and the inspector runs the evaluation when the main thread's loop
 * (or an interrupt) gets to it. The two sessions do not see each other.
 *
 * Values never travel to this thread: a result stays a RemoteObject here and is handed back
 * to the main thread's hook (`globalThis[Symbol.for(hookKey)].deliver(token, value)`) with
 * Runtime.callFunctionOn, where the capturer renders it with the trace bounds and
 * redaction. Each request's remote objects live in their own object group, released when
 * the request is done, so the inspector keeps nothing alive.
 *
 * Like the probe worker, this is a plain function whose source text becomes the worker, so
 * every build starts the same program; it uses nothing from outside its body but `require`.
 */

/** Data the worker starts with (workerData). */
export interface InspectorWorkerData {
  port: import('node:worker_threads').MessagePort;
  /** Symbol.for key of the main thread's hook (deliver, pending values). */
  hookKey: string;
  /** The name own workers carry (own-worker.ts); such workers are never sent a message. */
  ownName: string;
}

/** One request from the main thread. */
export type InspectorRequest =
  | { id: number; op: 'evaluate'; token: number; expression: string; timeoutMs: number; safe: boolean }
  | { id: number; op: 'binding'; token: number; name: string }
  | { id: number; op: 'instances'; token: number; limit: number }
  | { id: number; op: 'workers'; token: number; timeoutMs: number }
  | { id: number; op: 'complete'; token: number; path: string; onPending: boolean; timeoutMs: number };

/** One worker thread of the process, as the NodeWorker domain and the worker itself tell it. */
export interface WorkerReading {
  threadId: number;
  title: string;
  url: string;
  /** performance.eventLoopUtilization() in the worker, cumulative; null when it did not answer in time. */
  elu: { idle: number; active: number } | null;
}

/** The worker's answer; the value itself went to the hook's deliver(token, ...). */
export interface InspectorReply {
  id?: number;
  ready?: boolean;
  ok?: boolean;
  /** evaluate: 'value' delivered, 'thrown' (the exception was delivered), 'timeout', 'side-effect'. */
  outcome?: 'value' | 'thrown' | 'timeout' | 'side-effect';
  /** binding: where the binding was found ('not-found' when no closure of the module sees it). */
  found?: boolean;
  /** binding: the names the module's closures do see, for near misses; complete: the object's property names. */
  names?: string[];
  /** instances: how many live objects have the prototype. */
  count?: number;
  /** workers: the worker threads, livetrace's own left out. */
  workers?: WorkerReading[];
  error?: string;
}

export function inspectorWorkerMain(): void {
  const { workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const { port, hookKey, ownName } = workerData as InspectorWorkerData;
  let session: import('node:inspector').Session;
  try {
    const inspector = require('node:inspector') as typeof import('node:inspector');
    session = new inspector.Session();
    session.connectToMainThread();
  } catch (error) {
    port.postMessage({ ready: false, error: error instanceof Error ? error.message : String(error) });
    return;
  }

  interface RemoteObject {
    type: string;
    className?: string;
    subtype?: string;
    value?: unknown;
    unserializableValue?: string;
    objectId?: string;
    description?: string;
  }
  interface PropertyDescriptor {
    name: string;
    value?: RemoteObject;
    symbol?: RemoteObject;
  }

  const post = <T>(method: string, params?: object): Promise<T> =>
    new Promise((resolve, reject) => {
      session.post(method, params ?? {}, (error: Error | null, result: unknown) => (error ? reject(error) : resolve(result as T)));
    });

  const argumentOf = (remote: RemoteObject): object => {
    if (remote.objectId !== undefined) return { objectId: remote.objectId };
    if (remote.unserializableValue !== undefined) return { unserializableValue: remote.unserializableValue };
    if (remote.type === 'undefined') return {};
    return { value: remote.value };
  };

  /** The main thread's hook, in the request's object group. */
  const hook = async (group: string): Promise<string> => {
    const found = await post<{ result: RemoteObject }>('Runtime.evaluate', {
      expression: `globalThis[Symbol.for(${JSON.stringify(hookKey)})]`,
      objectGroup: group,
      silent: true,
    });
    if (found.result.objectId === undefined) throw new Error('the observer hook is missing');
    return found.result.objectId;
  };

  /** Hands `remote` to the main thread: hook.deliver(token, value, thrown). */
  const deliver = async (group: string, hookId: string, token: number, remote: RemoteObject, thrown: boolean): Promise<void> => {
    await post('Runtime.callFunctionOn', {
      objectId: hookId,
      functionDeclaration: 'function (token, value, thrown) { this.deliver(token, value, thrown); }',
      arguments: [{ value: token }, argumentOf(remote), { value: thrown }],
      objectGroup: group,
      silent: true,
    });
  };

  /** Own properties of an object, V8's internal ones ([[Scopes]], ...) included. */
  const properties = (objectId: string): Promise<{ result: PropertyDescriptor[]; internalProperties?: PropertyDescriptor[] }> =>
    post('Runtime.getProperties', { objectId, ownProperties: true, generatePreview: false });

  const evaluate = async (request: Extract<InspectorRequest, { op: 'evaluate' }>, group: string): Promise<InspectorReply> => {
    const hookId = await hook(group);
    // REPL mode gives top-level await, but its completion value comes back wrapped, so a
    // promise the expression returns without awaiting it is left unhandled and a rejection
    // of it would end the process (Node's default for unhandled rejections). Without REPL
    // mode, awaitPromise has V8 await (and so handle) a returned promise. So REPL mode only
    // when the expression awaits; a plain script otherwise (its lets are global lexical
    // bindings, kept between evaluations just the same). V8 counts awaiting as a side
    // effect, so --safe neither awaits nor uses REPL mode.
    const repl = !request.safe && /\bawait\b/.test(request.expression);
    let answer: { result: RemoteObject; exceptionDetails?: { exception?: RemoteObject; text?: string } };
    const started = Date.now();
    try {
      answer = await post('Runtime.evaluate', {
        expression: request.expression,
        objectGroup: group,
        replMode: repl,
        awaitPromise: !request.safe,
        throwOnSideEffect: request.safe,
        // V8 terminates the evaluation itself after this long (and only the evaluation: the
        // termination is cancelled as it unwinds, so the loop goes on serving).
        timeout: request.timeoutMs,
        silent: true,
        userGesture: false,
      });
      // A promise left as REPL mode's completion value: awaited here, which handles it.
      if (repl && answer.exceptionDetails === undefined && answer.result.subtype === 'promise' && answer.result.objectId !== undefined) {
        answer = await post('Runtime.awaitPromise', { promiseObjectId: answer.result.objectId });
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (/terminated/i.test(message) || Date.now() - started >= request.timeoutMs) return { ok: true, outcome: 'timeout' };
      throw error;
    }
    const exception = answer.exceptionDetails;
    // V8 reports a terminated evaluation differently across versions (an exception saying
    // so on Node 20; on 22 and 24 the call may fail or answer without a value): an
    // evaluation that ran for its whole time limit and gave no real value was terminated.
    const ranOut = Date.now() - started >= request.timeoutMs;
    if (ranOut && (exception !== undefined || answer.result.type === 'undefined')) return { ok: true, outcome: 'timeout' };
    if (exception !== undefined) {
      const thrown = exception.exception ?? answer.result;
      // V8's refusal under throwOnSideEffect is an EvalError with this text.
      if (request.safe && /Possible side-effect/.test(thrown.description ?? '')) return { ok: true, outcome: 'side-effect' };
      if (/Execution was terminated/.test(thrown.description ?? exception.text ?? '')) return { ok: true, outcome: 'timeout' };
      await deliver(group, hookId, request.token, thrown, true);
      return { ok: true, outcome: 'thrown' };
    }
    await deliver(group, hookId, request.token, answer.result, false);
    return { ok: true, outcome: 'value' };
  };

  /** What the main thread left in hook.pending[token] for this request. */
  const pendingOf = (hookId: string, token: unknown, group: string): Promise<{ result: RemoteObject }> =>
    post<{ result: RemoteObject }>('Runtime.callFunctionOn', {
      objectId: hookId,
      functionDeclaration: 'function (token) { return this.pending(token); }',
      arguments: [{ value: token }],
      objectGroup: group,
      silent: true,
    });

  /**
   * A module-internal binding: the closures the main thread put in hook.pending[token] are
   * the module's functions; V8 lists the contexts each one closes over in its [[Scopes]],
   * and the module's top-level scope is among them. Only variables some closure uses live
   * in that context (V8 drops the others after the module ran), hence 'names' for a miss.
   */
  const binding = async (request: Extract<InspectorRequest, { op: 'binding' }>, group: string): Promise<InspectorReply> => {
    const hookId = await hook(group);
    const pending = await pendingOf(hookId, request.token, group);
    if (pending.result.objectId === undefined) return { ok: true, found: false, names: [] };
    const names = new Set<string>();
    const list = await properties(pending.result.objectId);
    for (const entry of list.result) {
      if (!/^\d+$/.test(entry.name) || entry.value?.objectId === undefined) continue;
      const fn = await properties(entry.value.objectId);
      const scopes = (fn.internalProperties ?? []).find((p) => p.name === '[[Scopes]]');
      if (scopes?.value?.objectId === undefined) continue;
      const scopeList = await properties(scopes.value.objectId);
      for (const scope of scopeList.result) {
        if (!/^\d+$/.test(scope.name) || scope.value?.objectId === undefined) continue;
        // The global scope lists every global: not the module's.
        if (/^Global/.test(scope.value.description ?? '')) continue;
        const variables = await properties(scope.value.objectId);
        for (const variable of variables.result) {
          if (variable.name === request.name && variable.value !== undefined) {
            await deliver(group, hookId, request.token, variable.value, false);
            return { ok: true, found: true };
          }
          names.add(variable.name);
        }
      }
    }
    return { ok: true, found: false, names: [...names] };
  };

  /**
   * Tab completion: the property names of an object, its prototype chain's included. The
   * object is the value of `path` (identifiers, dots and literal indexes only, made by the
   * main thread's complete.ts), read from the global scope or, with onPending, from the
   * object the main thread left in hook.pending[token] (a module's exports for `$('m').`).
   * Every read runs under throwOnSideEffect: V8 refuses anything that could change state
   * (a getter that writes, a Proxy trap, a call), and the completion is then empty. The
   * names come from Runtime.getProperties, which reads the object's shape without calling
   * its getters or a Proxy's traps. A primitive completes as its wrapper object.
   */
  const complete = async (request: Extract<InspectorRequest, { op: 'complete' }>, group: string): Promise<InspectorReply> => {
    const checked = { objectGroup: group, silent: true, throwOnSideEffect: true, timeout: request.timeoutMs, returnByValue: false };
    // Object() of a primitive is its wrapper; null and undefined have no properties.
    const wrap = (value: string): string => `(function (v) { return v === null || v === undefined ? undefined : Object(v); })(${value})`;
    let answer: { result: RemoteObject; exceptionDetails?: unknown };
    if (request.onPending) {
      const hookId = await hook(group);
      const base = (await pendingOf(hookId, request.token, group)).result;
      if (base.objectId === undefined) return { ok: true, names: [] };
      answer = await post('Runtime.callFunctionOn', { objectId: base.objectId, functionDeclaration: `function () { return ${wrap(`this${request.path}`)}; }`, ...checked });
    } else {
      answer = await post('Runtime.evaluate', { expression: request.path === '' ? 'globalThis' : wrap(request.path), ...checked });
    }
    const names: string[] = [];
    if (request.path === '' && !request.onPending) {
      // let/const/class of earlier evaluations and scripts: global, but not properties of globalThis.
      const lexical = await post<{ names: string[] }>('Runtime.globalLexicalScopeNames', {}).catch(() => ({ names: [] as string[] }));
      names.push(...lexical.names);
    }
    if (answer.exceptionDetails !== undefined || answer.result.objectId === undefined) return { ok: true, names };
    const properties = await post<{ result: PropertyDescriptor[] }>('Runtime.getProperties', {
      objectId: answer.result.objectId,
      ownProperties: false,
      nonIndexedPropertiesOnly: true,
      generatePreview: false,
    });
    for (const property of properties.result) if (property.symbol === undefined) names.push(property.name);
    return { ok: true, names };
  };

  /** Live objects whose prototype is hook.pending[token], after a full collection. */
  const instances = async (request: Extract<InspectorRequest, { op: 'instances' }>, group: string): Promise<InspectorReply> => {
    const hookId = await hook(group);
    const prototype = await pendingOf(hookId, request.token, group);
    if (prototype.result.objectId === undefined) throw new Error('the class has no prototype object');
    await post('HeapProfiler.collectGarbage');
    const found = await post<{ objects: RemoteObject }>('Runtime.queryObjects', { prototypeObjectId: prototype.result.objectId, objectGroup: group });
    await deliver(group, hookId, request.token, found.objects, false);
    return { ok: true };
  };

  /**
   * The worker threads: the NodeWorker domain attaches a session to each (no pause:
   * waitForDebuggerOnStart false) and keeps the list current with attach and detach events;
   * each worker is asked for its own event-loop utilization. The domain is enabled on the
   * first request and stays on while this worker lives (it ends after 30 s without requests,
   * which detaches everything), so a watched process without workers pays nothing per info.
   * A worker whose loop is blocked in a way the inspector cannot interrupt (Atomics.wait)
   * does not answer; it is listed without figures after timeoutMs. This thread and the
   * other livetrace workers (the probe worker) are left out, and so are Node's internal
   * threads (the module loader's hooks thread): they are not the application's.
   */
  interface Attached {
    sessionId: string;
    workerInfo: { workerId: string; title: string; url: string };
  }
  const attachedWorkers = new Map<string, Attached>();
  const waitingWorkers = new Map<number, (message: { result?: { result?: { value?: unknown } } }) => void>();
  let workerMessages = 0;
  let workerDomain: Promise<unknown> | undefined;
  const enableWorkers = (): Promise<unknown> => {
    if (workerDomain !== undefined) return workerDomain;
    session.on('NodeWorker.attachedToWorker', ((message: { params: Attached }) => {
      attachedWorkers.set(message.params.sessionId, message.params);
    }) as never);
    session.on('NodeWorker.detachedFromWorker', ((message: { params: { sessionId: string } }) => {
      attachedWorkers.delete(message.params.sessionId);
    }) as never);
    session.on('NodeWorker.receivedMessageFromWorker', ((message: { params: { message: string } }) => {
      try {
        const parsed = JSON.parse(message.params.message) as { id?: number };
        const resolve = parsed.id === undefined ? undefined : waitingWorkers.get(parsed.id);
        if (resolve !== undefined) {
          waitingWorkers.delete(parsed.id!);
          resolve(parsed as never);
        }
      } catch {
        // Not an answer of ours.
      }
    }) as never);
    workerDomain = post('NodeWorker.enable', { waitForDebuggerOnStart: false }).catch((error: unknown) => {
      workerDomain = undefined;
      throw error;
    });
    return workerDomain;
  };
  // Node titles a worker '[worker <threadId>] <name>'; workerId is the inspector's own counter.
  const threadOf = (title: string): number => Number(/^\[worker (\d+)\]/.exec(title)?.[1] ?? NaN);
  const ownWorkers = new Set<string>();

  const workers = async (request: Extract<InspectorRequest, { op: 'workers' }>): Promise<InspectorReply> => {
    const { threadId } = require('node:worker_threads') as typeof import('node:worker_threads');
    await enableWorkers();
    const readings: WorkerReading[] = [];
    const expression =
      "JSON.stringify({ own: typeof require === 'function' && (function () { try { var d = require('node:worker_threads').workerData; return !!d && typeof d === 'object' && ('hookKey' in d || 'trampolineKey' in d); } catch (e) { return false; } })(), elu: performance.eventLoopUtilization() })";
    await Promise.all(
      [...attachedWorkers.values()]
        .filter(
          (worker) =>
            threadOf(worker.workerInfo.title) !== threadId &&
            !worker.workerInfo.title.endsWith(`] ${ownName}`) &&
            !worker.workerInfo.url.startsWith('node:internal/') &&
            !ownWorkers.has(worker.sessionId),
        )
        .map(async (worker) => {
          const id = ++workerMessages;
          const answer = await new Promise<{ result?: { result?: { value?: unknown } } } | undefined>((resolve) => {
            const timer = setTimeout(() => {
              waitingWorkers.delete(id);
              resolve(undefined);
            }, request.timeoutMs);
            waitingWorkers.set(id, (message) => {
              clearTimeout(timer);
              resolve(message);
            });
            session.post('NodeWorker.sendMessageToWorker', {
              sessionId: worker.sessionId,
              message: JSON.stringify({ id, method: 'Runtime.evaluate', params: { expression, returnByValue: true, silent: true } }),
            } as never);
          });
          const value = answer?.result?.result?.value;
          let parsed: { own?: boolean; elu?: { idle: number; active: number } } = {};
          try {
            if (typeof value === 'string') parsed = JSON.parse(value) as typeof parsed;
          } catch {
            // Listed without figures.
          }
          if (parsed.own === true) {
            ownWorkers.add(worker.sessionId);
            return;
          }
          readings.push({
            threadId: threadOf(worker.workerInfo.title),
            title: worker.workerInfo.title,
            url: worker.workerInfo.url,
            elu: parsed.elu === undefined ? null : { idle: parsed.elu.idle, active: parsed.elu.active },
          });
        }),
    );
    return { ok: true, workers: readings.sort((a, b) => a.threadId - b.threadId) };
  };

  let groups = 0;
  port.on('message', (request: InspectorRequest) => {
    const group = `livetrace-observer-${++groups}`;
    const run =
      request.op === 'evaluate'
        ? evaluate(request, group)
        : request.op === 'binding'
          ? binding(request, group)
          : request.op === 'workers'
            ? workers(request)
            : request.op === 'complete'
              ? complete(request, group)
              : instances(request, group);
    run
      .then(
        (reply) => port.postMessage({ ...reply, id: request.id }),
        (error: unknown) => port.postMessage({ id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) }),
      )
      // The worker list makes no remote object on the main thread; releasing its (empty)
      // group would still cost the main thread an inspector dispatch per info.
      .finally(() => {
        if (request.op !== 'workers') session.post('Runtime.releaseObjectGroup', { objectGroup: group }, () => {});
      });
  });
  port.postMessage({ ready: true });
}
