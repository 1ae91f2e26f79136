/**
 * Waiting on what a child process prints: the one helper behind every process test's
 * readiness wait (fixture apps, the CLI, the recipes' shells, the watcher of the
 * disconnect tests). Tests never sleep for a process to be ready; they wait for the line
 * that says it is, and a wait ends one of three ways: the pattern shows up (in output
 * already seen or still to come), the output ends without it, or the timeout passes. The
 * two failures say which, with the tail of what was printed, so a red test explains itself.
 *
 * An Output may be fed by several streams (a shell's stdout and stderr as one terminal
 * would show them); it ends when all of them have ended, since only then can no more text
 * come.
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';

export interface LineMatch {
  match: RegExpMatchArray;
  /** Index of the line in `lines`. */
  index: number;
  /** performance.now() when the line arrived in this process. */
  at: number;
}

export interface WaitOptions {
  /** Default 10 s. */
  timeoutMs?: number;
  /** waitForLine: the first line index to look at (lines before it were seen already). */
  from?: number;
}

export class Output {
  /** Everything printed so far. */
  text = '';
  /** The complete lines so far (and, once the output ended, an unterminated last one). */
  readonly lines: string[] = [];
  private readonly arrivals: number[] = [];
  private partial = '';
  private open = 0;
  private ended = false;
  private readonly listeners = new Set<() => void>();

  /** `name` says whose output this is in failure messages; `context` adds to them (e.g. the other stream). */
  constructor(
    private readonly name: string,
    private readonly context: () => string = () => '',
  ) {}

  /** Feeds `stream` into this output. */
  read(stream: Readable): this {
    this.open++;
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => this.push(chunk));
    stream.once('close', () => {
      if (--this.open === 0) this.end();
    });
    return this;
  }

  push(chunk: string): void {
    this.text += chunk;
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    const now = performance.now();
    for (const line of parts) {
      this.lines.push(line);
      this.arrivals.push(now);
    }
    this.notify();
  }

  /** No more output will come: pending waits fail now instead of at their timeout. */
  end(): void {
    if (this.ended) return;
    if (this.partial !== '') {
      this.lines.push(this.partial);
      this.arrivals.push(performance.now());
      this.partial = '';
    }
    this.ended = true;
    this.notify();
  }

  /** The first match of `pattern` in the whole text, printed so far or later (multi-line patterns work). */
  waitFor(pattern: RegExp, options: WaitOptions = {}): Promise<RegExpMatchArray> {
    return this.wait(pattern, options, () => pattern.exec(this.text) ?? undefined);
  }

  /** The first line at index `from` (default 0) or later that `pattern` matches, printed so far or later. */
  waitForLine(pattern: RegExp, options: WaitOptions = {}): Promise<LineMatch> {
    let seen = options.from ?? 0;
    return this.wait(pattern, options, () => {
      for (; seen < this.lines.length; seen++) {
        const match = pattern.exec(this.lines[seen]!);
        if (match) return { match, index: seen, at: this.arrivals[seen]! };
      }
      return undefined;
    });
  }

  /** The last `chars` characters printed, for failure messages. */
  tail(chars = 2000): string {
    return this.text.slice(-chars);
  }

  private wait<T>(pattern: RegExp, options: WaitOptions, find: () => T | undefined): Promise<T> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    return new Promise<T>((resolve, reject) => {
      const fail = (why: string): void => {
        finish();
        const context = this.context();
        reject(new Error(`${this.name} ${why} ${pattern}\n${this.name}: ${this.tail()}${context ? `\n${context}` : ''}`));
      };
      const check = (): void => {
        const found = find();
        if (found !== undefined) {
          finish();
          resolve(found);
        } else if (this.ended) {
          fail('ended without printing');
        }
      };
      const timer = setTimeout(() => fail(`printed within ${timeoutMs} ms no`), timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

/**
 * Runs `node <args>` to its end and resolves to what it printed on stdout (a JSON report,
 * for the measuring tests); rejects with its stderr when it exits otherwise than 0, and
 * kills it (SIGKILL) once `timeoutMs` passed, so no child outlives the test.
 */
export function runNode(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`node ${args.join(' ')} exited ${code ?? signal}: ${stderr}`));
      else resolve(stdout);
    });
  });
}
