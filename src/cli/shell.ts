/**
 * `livetrace shell <pid>`: a REPL whose expressions run in the target (the agent evaluates
 * them through its own in-process inspector session, src/agent/observer/shell.ts). Each
 * whole expression is one evaluation; one that is not whole yet (`function f() {`) goes on
 * over the next lines behind a continuation prompt (shell-input.ts decides, here, before
 * anything is sent). Its value (or what it threw) comes back captured with the trace
 * bounds and is rendered as a trace renders a value. A coded refusal (a timeout, a side
 * effect under --safe) is printed and the REPL goes on. Tab asks the target what can
 * follow the line (agent/observer/complete.ts: nothing runs there with a side effect).
 * `-e` evaluates one expression and exits; with stdin not a terminal, stdin's expressions
 * are evaluated in turn, by the same rule.
 */
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import type { AgentClient } from '../client/client.js';
import { LivetraceError, isLivetraceError } from '../protocol/errors.js';
import type { EvalResult } from '../protocol/observer.js';
import { renderValue } from './format/value.js';
import { openAgent, parsePid } from './agent-connection.js';
import { parseInterval } from './info.js';
import { formatError } from './report.js';
import { continuesOnNextLine } from './shell-input.js';

interface ShellOptions {
  safe?: boolean;
  timeout: string;
  eval?: string;
  json?: boolean;
  attach: boolean;
}

export function register(program: Command): void {
  program
    .command('shell')
    .description('Evaluate JavaScript in a live process (a remote REPL; see docs/security.md)')
    .argument('<pid>', 'process id', parsePid)
    .option('--safe', 'refuse any expression that may have side effects (no top-level await then)')
    .option('--timeout <duration>', 'interrupt an evaluation that runs longer than this (100ms to 60s)', '5s')
    .option('-e, --eval <expression>', 'evaluate one expression, print its value and exit')
    .option('--json', 'print each result as JSON (the value in the capture format of docs/events.md)')
    .option('--no-attach', 'do not attach when the process has no agent (fail instead)')
    .action(async (pid: number, options: ShellOptions) => {
      const timeoutMs = parseInterval(options.timeout, '--timeout');
      if (timeoutMs > 60_000) {
        throw new LivetraceError('LT_OPTION_INVALID', `--timeout must be at most 60s, not '${options.timeout}'`, { input: options.timeout });
      }
      const client = await openAgent(pid, { attach: options.attach, say: (text) => process.stderr.write(`${text}\n`) });
      const evalOptions = { timeoutMs: Math.round(timeoutMs), ...(options.safe === true ? { safe: true } : {}) };
      try {
        if (options.eval !== undefined) {
          const result = await client.evaluate(options.eval, evalOptions);
          show(result, options.json === true);
          if (result.thrown) process.exitCode = 1;
          return;
        }
        await repl(client, pid, evalOptions, options.json === true);
      } finally {
        await client.close();
      }
    });
}

function show(result: EvalResult, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const cut = result.truncated ? '  (cut at the capture limits)' : '';
  process.stdout.write(`${result.thrown ? 'Uncaught ' : ''}${renderValue(result.value)}${cut}\n`);
}

async function repl(client: AgentClient, pid: number, options: { timeoutMs: number; safe?: boolean }, json: boolean): Promise<void> {
  const interactive = process.stdin.isTTY === true;
  const prompt = `${pid}${options.safe === true ? ' safe' : ''}> `;
  const continuation = `${' '.repeat(prompt.length - 4)}... `;
  const lines = createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal: interactive,
    prompt,
    // Tab: the target says what can follow the line (evaluated without side effects there).
    ...(interactive ? { completer: (line: string, callback: (error: null, result: [string[], string]) => void) => completeIn(client, line, callback) } : {}),
  });
  if (interactive) {
    process.stdout.write(`livetrace shell: expressions run in process ${pid}; $('module') gives a module; Tab completes; Ctrl-D leaves.\n`);
    lines.prompt();
  }
  let closed = false;
  /** The lines of an expression not yet whole (`function f() {` and what follows). */
  let pending: string[] = [];
  // Ctrl-C drops the line being typed and any unfinished expression, as in Node's REPL; an
  // evaluation in flight is ended by its timeout.
  lines.on('SIGINT', () => {
    pending = [];
    // readline keeps the typed text when SIGINT has a listener: dropped here.
    const state = lines as unknown as { line: string; cursor: number };
    state.line = '';
    state.cursor = 0;
    lines.setPrompt(prompt);
    process.stdout.write('\n');
    lines.prompt();
  });
  lines.on('close', () => {
    closed = true;
  });
  const run = async (expression: string): Promise<void> => {
    try {
      show(await client.evaluate(expression, options), json);
    } catch (error) {
      // The connection is gone: nothing more can be evaluated.
      if (!isLivetraceError(error) || error.code === 'LT_AGENT_GONE' || error.code === 'LT_AGENT_TIMEOUT') throw error;
      process.stderr.write(`${formatError(error)}\n`);
    }
  };
  for await (const line of lines) {
    pending.push(line);
    const source = pending.join('\n');
    if (source.trim() === '') {
      pending = [];
    } else if (continuesOnNextLine(source)) {
      lines.setPrompt(continuation);
    } else {
      pending = [];
      lines.setPrompt(prompt);
      await run(source.trim());
    }
    if (interactive && !closed) lines.prompt();
  }
  // Input ended inside an expression: evaluated as it is, so its syntax error is shown.
  if (pending.join('\n').trim() !== '') await run(pending.join('\n').trim());
}

function completeIn(client: AgentClient, line: string, callback: (error: null, result: [string[], string]) => void): void {
  client.complete(line).then(
    (completion) => callback(null, [completion.names, completion.prefix]),
    // No completion; the shell goes on.
    () => callback(null, [[], line]),
  );
}
