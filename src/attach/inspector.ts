/**
 * A minimal client of the V8 inspector that SIGUSR1 opens in a Node process: list its
 * targets over HTTP, open one WebSocket session, evaluate expressions, and close the
 * inspector from inside.
 *
 * Everything stays on the host we were given (a loopback address): the WebSocket URL is
 * rebuilt from the target id rather than taken from the HTTP answer, so a listener that
 * is not an inspector cannot send us elsewhere. Every wait is bounded.
 */
import { request } from 'node:http';
import { connect as netConnect } from 'node:net';
import { WebSocketClient } from './websocket.js';
import { LivetraceError } from '../protocol/errors.js';

export interface InspectorEndpoint {
  host: string;
  port: number;
}

export interface InspectorTarget {
  id: string;
  title: string;
  url: string;
  webSocketUrl: string;
}

const MAX_LIST_BYTES = 64 * 1024;

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * The inspector targets served at http://host:port/json/list. Rejects when nothing
 * answers there or the answer is not an inspector's.
 */
export function listTargets(endpoint: InspectorEndpoint, timeoutMs: number): Promise<InspectorTarget[]> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: endpoint.host, port: endpoint.port, path: '/json/list', method: 'GET', timeout: timeoutMs, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_LIST_BYTES) req.destroy(new Error('answer too large for an inspector target list'));
          else chunks.push(chunk);
        });
        res.on('end', () => {
          try {
            resolve(parseTargets(Buffer.concat(chunks).toString('utf8'), endpoint));
          } catch (error) {
            reject(error);
          }
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${endpoint.host}:${endpoint.port} in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export function parseTargets(body: string, endpoint: InspectorEndpoint): InspectorTarget[] {
  const list: unknown = JSON.parse(body);
  if (!Array.isArray(list)) throw new Error('not an inspector target list');
  const targets: InspectorTarget[] = [];
  for (const item of list as unknown[]) {
    if (typeof item !== 'object' || item === null) continue;
    const { id, title, url, type } = item as Record<string, unknown>;
    if (typeof id !== 'string' || !/^[0-9a-zA-Z-]{1,64}$/.test(id) || (type !== undefined && type !== 'node')) continue;
    targets.push({
      id,
      title: typeof title === 'string' ? title : '',
      url: typeof url === 'string' ? url : '',
      webSocketUrl: `ws://${hostForUrl(endpoint.host)}:${endpoint.port}/${id}`,
    });
  }
  if (targets.length === 0) throw new Error('not an inspector target list');
  return targets;
}

/** True when a TCP connection to host:port is accepted. */
export function portAccepts(endpoint: InspectorEndpoint, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: endpoint.host, port: endpoint.port });
    const done = (accepted: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(accepted);
    };
    // A connect that hangs is not a refusal: report it as accepted, the cautious answer.
    const timer = setTimeout(() => done(true), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export interface EvaluateOptions {
  /** Wait for the promise the expression returns and answer with its value. */
  awaitPromise?: boolean;
  /** Evaluate with the console's command-line API in scope (it provides `require`). */
  commandLineApi?: boolean;
}

interface Pending {
  resolve(value: Record<string, unknown>): void;
  reject(error: Error): void;
}

/** One WebSocket session with a target's inspector. */
export class InspectorSession {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  private socket!: WebSocketClient;
  private onEnded: () => void = () => {};
  /** Resolves when the inspector ends the session (for example because it was closed). */
  readonly ended: Promise<void>;

  private constructor() {
    this.ended = new Promise((resolve) => {
      this.onEnded = resolve;
    });
  }

  static async connect(url: string, timeoutMs: number): Promise<InspectorSession> {
    const session = new InspectorSession();
    session.socket = await WebSocketClient.connect(
      url,
      { handshakeTimeout: timeoutMs, maxPayload: 16 * 1024 * 1024 },
      { message: (text) => session.onMessage(text), close: () => session.onClose() },
    );
    return session;
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /**
   * Evaluates `expression` in the target's main context and returns its value (by
   * value, so it must be JSON-like). An exception in the target rejects with its text.
   */
  async evaluate(expression: string, timeoutMs: number, options: EvaluateOptions = {}): Promise<unknown> {
    const reply = await this.call(
      'Runtime.evaluate',
      {
        expression,
        returnByValue: true,
        silent: true,
        awaitPromise: options.awaitPromise ?? false,
        includeCommandLineAPI: options.commandLineApi ?? false,
      },
      timeoutMs,
    );
    const result = reply.result as { exceptionDetails?: { exception?: { description?: string }; text?: string }; result?: { value?: unknown } } | undefined;
    if (result?.exceptionDetails) {
      const details = result.exceptionDetails;
      throw new Error(details.exception?.description ?? details.text ?? 'exception in the target');
    }
    return result?.result?.value;
  }

  private call(method: string, params: Record<string, unknown>, timeoutMs: number): Promise<Record<string, unknown>> {
    if (this.closed) return Promise.reject(new Error('the inspector session is closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new LivetraceError('LT_ATTACH_TIMEOUT', `the target did not answer ${method} in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  private onMessage(text: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    if (typeof message.id !== 'number') return; // notifications: we enable no domain, so none matter
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.pending.delete(message.id);
    if (message.error) pending.reject(new Error(`inspector error: ${JSON.stringify(message.error)}`));
    else pending.resolve(message);
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const pending of this.pending.values()) pending.reject(new Error('the inspector closed the session'));
    this.pending.clear();
    this.onEnded();
  }

  /**
   * Evaluates `expression`, which closes the inspector inside the target. The target
   * ends our session while evaluating it, so there may be no reply: either the reply or
   * the end of the session counts as done.
   */
  async evaluateClosing(expression: string, timeoutMs: number): Promise<void> {
    const evaluation = this.evaluate(expression, timeoutMs, { commandLineApi: true }).then(
      () => undefined,
      (error: unknown) => {
        if (this.closed) return undefined;
        throw error;
      },
    );
    await Promise.race([evaluation, this.ended]);
  }

  dispose(): void {
    if (this.closed) return;
    this.onClose();
    this.socket.terminate();
  }
}
