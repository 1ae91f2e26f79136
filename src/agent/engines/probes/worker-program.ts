/**
 * The program of the probe worker: a thread that holds an inspector session on the main
 * thread (`Session#connectToMainThread`) and does the Debugger work probes need.
 *
 * It is a plain function whose source text becomes the worker (`new Worker(text, {eval:
 * true})`), so the ESM build, the CommonJS build and the TypeScript sources all start the
 * very same program and no file has to be found on disk. It must therefore be
 * self-contained: it uses nothing from outside its own body but `require`.
 *
 * What it does:
 * - Answers requests from the main thread, posted on a MessagePort: enable and disable
 *   the Debugger domain, find a script and its source, list a function's break
 *   locations, set and remove a probe's breakpoints, take a probe's breakpoints away for
 *   a while (the hit budget) and put them back. After posting each reply it bumps a
 *   shared counter and wakes the main thread, which waits on it with Atomics.wait: the
 *   main thread's requests are synchronous, and the inspector still serves this
 *   session while the main thread waits (V8 runs the session's messages as interrupts).
 * - Sets the reach check's counting breakpoints (engines/reach/check.ts) like a probe's,
 *   by URL rather than script id (BreakpointSpec `url`).
 * - Handles pauses. A probe's return breakpoint pauses only when its condition (run on
 *   the main thread) asks for the returned value; then this thread hands the value to
 *   the main thread's trampoline (Runtime.callFunctionOn) and resumes. Any other pause
 *   (a `debugger;` statement, which would otherwise stop the process for good now that
 *   a debugger is enabled) is resumed at once and counted.
 */

/** Data the worker starts with (workerData). */
export interface WorkerData {
  port: import('node:worker_threads').MessagePort;
  /** Int32Array over a SharedArrayBuffer: [0] counts replies posted. */
  signal: Int32Array;
  /** Symbol.for key of the main thread's trampoline. */
  trampolineKey: string;
}

/** One breakpoint of a probe. */
export interface BreakpointSpec {
  location: { scriptId: string; lineNumber: number; columnNumber: number };
  condition: string;
  /** A return position: pauses here are the probe's, to read the returned value. */
  exit: boolean;
  /**
   * Set by the script's URL rather than its id (the reach check's counting breakpoint):
   * V8 takes one breakpoint of each kind at the same place, so it can sit where a probe's
   * entry breakpoint sits.
   */
  url?: string;
}

export function debuggerWorkerMain(): void {
  const { workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const { port, signal, trampolineKey } = workerData as WorkerData;
  const reply = (message: object): void => {
    port.postMessage(message);
    Atomics.add(signal, 0, 1);
    Atomics.notify(signal, 0);
  };
  let inspector: typeof import('node:inspector');
  let session: import('node:inspector').Session;
  try {
    // Missing from a Node built without the inspector: say so at once, the main thread waits.
    inspector = require('node:inspector') as typeof import('node:inspector');
    session = new inspector.Session();
    session.connectToMainThread();
  } catch (error) {
    reply({ ready: false, error: error instanceof Error ? error.message : String(error) });
    return;
  }

  interface Probe {
    id: number;
    specs: BreakpointSpec[];
    /** The breakpoint id of each spec while it is set. */
    ids: (string | undefined)[];
    cooling: ReturnType<typeof setTimeout> | undefined;
    /** Its return breakpoints are away until a call pauses at its entry to have them back. */
    parked: boolean;
    /** Changes to its breakpoints, one after the other (a park still removing must not undo an unpark). */
    queue: Promise<unknown>;
  }

  /** Runs `change` on `probe`'s breakpoints once its earlier changes are done. */
  const serial = <T>(probe: Probe, change: () => Promise<T>): Promise<T> => {
    const next = probe.queue.then(change, change);
    probe.queue = next.catch(() => {});
    return next;
  };

  const scripts = new Map<string, string>();
  const probes = new Map<number, Probe>();
  const exitBreakpoints = new Set<string>();
  /** Entry breakpoint id -> its probe's id: a pause there asks for the return breakpoints back. */
  const entryBreakpoints = new Map<string, number>();
  let enabled = false;
  let trampolineId: string | undefined;
  const counts = { returnPauses: 0, foreignPauses: 0, cooled: 0, rearmed: 0, parked: 0, unparked: 0 };

  const post = <T>(method: string, params?: object): Promise<T> =>
    new Promise((resolve, reject) => {
      session.post(method, params ?? {}, (error: Error | null, result: unknown) => (error ? reject(error) : resolve(result as T)));
    });

  const onScriptParsed = (message: { params: { url: string; scriptId: string } }): void => {
    const { url, scriptId } = message.params;
    if (url) scripts.set(url, scriptId);
  };

  const onPaused = (message: { params: { hitBreakpoints?: string[]; callFrames: { returnValue?: Record<string, unknown> }[] } }): void => {
    const { hitBreakpoints = [], callFrames } = message.params;
    const ours = hitBreakpoints.some((id) => exitBreakpoints.has(id));
    const resume = (): void => {
      session.post('Debugger.resume', {}, () => {});
    };
    const entry = hitBreakpoints.find((id) => entryBreakpoints.has(id));
    if (!ours && entry !== undefined && trampolineId !== undefined) {
      // A parked probe's call that a session took: its return breakpoints go back first.
      const id = entryBreakpoints.get(entry)!;
      const probe = probes.get(id);
      const tell = (ok: boolean): void => {
        session.post(
          'Runtime.callFunctionOn',
          { objectId: trampolineId, functionDeclaration: `function () { this.unparked(${id}, ${ok}); }`, silent: true },
          resume,
        );
      };
      if (probe === undefined) {
        tell(false);
        return;
      }
      counts.unparked++;
      serial(probe, async () => {
        probe.parked = false;
        // Set even while the probe cools: this call must meet its return.
        await setBreakpoints(probe, isExit);
      }).then(
        () => tell(true),
        () => tell(false),
      );
      return;
    }
    if (!ours || trampolineId === undefined) {
      counts.foreignPauses++;
      resume();
      return;
    }
    counts.returnPauses++;
    const value = callFrames[0]?.returnValue;
    const argument =
      value === undefined
        ? {}
        : typeof value.objectId === 'string'
          ? { objectId: value.objectId }
          : value.unserializableValue !== undefined
            ? { unserializableValue: value.unserializableValue }
            : { value: value.value };
    session.post(
      'Runtime.callFunctionOn',
      { objectId: trampolineId, functionDeclaration: 'function (value) { this.returned(value); }', arguments: [argument], silent: true },
      resume,
    );
  };

  /**
   * The session is connected only while the Debugger is wanted: while any session is
   * connected, Node hands every console call to V8's inspector console too (a stack
   * trace and a stored message each, about 6-10 us a console.log measured), so the
   * worker waiting for a next session's probes (engine.ts LINGER_MS) holds none.
   */
  let connected = true;
  const listen = (): void => {
    session.on('Debugger.scriptParsed', onScriptParsed);
    session.on('Debugger.paused', onPaused);
  };
  listen();

  /** Sets the probe's breakpoints that `which` selects and are not set yet. */
  const setBreakpoints = async (probe: Probe, which: (spec: BreakpointSpec) => boolean = () => true): Promise<number> => {
    let located = 0;
    for (let i = 0; i < probe.specs.length; i++) {
      const spec = probe.specs[i]!;
      if (probe.ids[i] !== undefined || !which(spec)) continue;
      const result: { breakpointId: string; locations?: unknown[] } =
        spec.url === undefined
          ? await post<{ breakpointId: string }>('Debugger.setBreakpoint', { location: spec.location, condition: spec.condition })
          : await post<{ breakpointId: string; locations: unknown[] }>('Debugger.setBreakpointByUrl', {
              url: spec.url,
              lineNumber: spec.location.lineNumber,
              columnNumber: spec.location.columnNumber,
              condition: spec.condition,
            });
      if (result.locations !== undefined && result.locations.length === 0) {
        await post('Debugger.removeBreakpoint', { breakpointId: result.breakpointId }).catch(() => {});
        throw new Error(`no script at ${spec.url} takes a breakpoint there`);
      }
      probe.ids[i] = result.breakpointId;
      if (spec.exit) exitBreakpoints.add(result.breakpointId);
      else if (spec.url === undefined) entryBreakpoints.set(result.breakpointId, probe.id);
      located++;
    }
    return located;
  };

  /** Removes the probe's breakpoints that `which` selects. */
  const removeBreakpoints = async (probe: Probe, which: (spec: BreakpointSpec) => boolean = () => true): Promise<void> => {
    for (let i = 0; i < probe.specs.length; i++) {
      const id = probe.ids[i];
      if (id === undefined || !which(probe.specs[i]!)) continue;
      probe.ids[i] = undefined;
      exitBreakpoints.delete(id);
      entryBreakpoints.delete(id);
      await post('Debugger.removeBreakpoint', { breakpointId: id }).catch(() => {});
    }
  };

  const isEntry = (spec: BreakpointSpec): boolean => !spec.exit;
  const isExit = (spec: BreakpointSpec): boolean => spec.exit;

  const handlers: Record<string, (request: Record<string, unknown>) => Promise<unknown>> = {
    async enable() {
      if (enabled) return { enabled: true };
      if (!connected) {
        session = new inspector.Session();
        session.connectToMainThread();
        connected = true;
        listen();
      }
      scripts.clear();
      // Scripts the debugger saw and the program no longer uses are not kept: every
      // condition evaluation compiles one.
      await post('Debugger.enable', { maxScriptsCacheSize: 0 });
      enabled = true;
      const found = await post<{ result: { objectId?: string } }>('Runtime.evaluate', {
        expression: `globalThis[Symbol.for(${JSON.stringify(trampolineKey)})]`,
        silent: true,
      });
      trampolineId = found.result.objectId;
      return { enabled: true, trampoline: trampolineId !== undefined };
    },
    async disable() {
      for (const probe of probes.values()) if (probe.cooling !== undefined) clearTimeout(probe.cooling);
      probes.clear();
      exitBreakpoints.clear();
      entryBreakpoints.clear();
      if (trampolineId !== undefined) await post('Runtime.releaseObject', { objectId: trampolineId }).catch(() => {});
      trampolineId = undefined;
      if (enabled) await post('Debugger.disable');
      enabled = false;
      scripts.clear();
      session.disconnect();
      connected = false;
      return { enabled: false };
    },
    async script(request) {
      const scriptId = scripts.get(request.url as string);
      if (scriptId === undefined) return null;
      const { scriptSource } = await post<{ scriptSource: string }>('Debugger.getScriptSource', { scriptId });
      return { scriptId, source: scriptSource };
    },
    async locations(request) {
      const { locations } = await post<{ locations: unknown[] }>('Debugger.getPossibleBreakpoints', {
        start: request.start,
        end: request.end,
        restrictToFunction: true,
      });
      return locations;
    },
    async arm(request) {
      const id = request.probe as number;
      const probe: Probe = { id, specs: request.breakpoints as BreakpointSpec[], ids: [], cooling: undefined, parked: false, queue: Promise.resolve() };
      probes.set(id, probe);
      try {
        return await setBreakpoints(probe);
      } catch (error) {
        await removeBreakpoints(probe);
        probes.delete(id);
        throw error;
      }
    },
    async disarm(request) {
      const id = request.probe as number;
      const probe = probes.get(id);
      if (probe === undefined) return false;
      probes.delete(id);
      if (probe.cooling !== undefined) clearTimeout(probe.cooling);
      await serial(probe, () => removeBreakpoints(probe));
      return true;
    },
    /**
     * Takes a probe's entry breakpoints away for `ms`, then sets them again (unless
     * disarmed meanwhile). Its return breakpoints go too when `returns` says no call of
     * it is open; else they stay until `coolReturns`: a call in flight must still meet
     * its return, or it would be taken for a throw.
     */
    async cool(request) {
      const id = request.probe as number;
      const probe = probes.get(id);
      if (probe === undefined || probe.cooling !== undefined) return false;
      counts.cooled++;
      probe.cooling = setTimeout(() => {
        probe.cooling = undefined;
        if (probes.get(id) !== probe) return;
        counts.rearmed++;
        serial(probe, () => setBreakpoints(probe, (spec) => !(spec.exit && probe.parked))).catch(() => {});
      }, request.ms as number);
      await serial(probe, () => removeBreakpoints(probe, request.returns === true ? undefined : isEntry));
      return true;
    },
    /** The calls that were open when the probe cooled are over: its return breakpoints can go too. */
    async coolReturns(request) {
      const probe = probes.get(request.probe as number);
      if (probe === undefined || probe.cooling === undefined) return false;
      await serial(probe, () => removeBreakpoints(probe, isExit));
      return true;
    },
    /** No reported call of the probe is open and its return conditions keep finding none: its return breakpoints go. */
    async park(request) {
      const probe = probes.get(request.probe as number);
      if (probe === undefined) return false;
      counts.parked++;
      await serial(probe, async () => {
        probe.parked = true;
        await removeBreakpoints(probe, isExit);
      });
      return true;
    },
    async counts() {
      return { ...counts, enabled, probes: probes.size, breakpoints: [...probes.values()].reduce((n, p) => n + p.ids.filter((id) => id !== undefined).length, 0) };
    },
  };

  port.on('message', (request: Record<string, unknown>) => {
    const handler = handlers[request.op as string];
    const id = request.id;
    const answer = handler === undefined ? Promise.reject(new Error(`unknown request ${String(request.op)}`)) : handler(request);
    answer.then(
      (result) => {
        if (id !== undefined) reply({ id, ok: true, result });
      },
      (error: unknown) => {
        if (id !== undefined) reply({ id, ok: false, error: error instanceof Error ? error.message : String(error) });
      },
    );
  });
  reply({ ready: true });
}
