/**
 * The commander program. Each command lives in its own module under src/cli/ and
 * exports `register(program)`; this module only assembles them and turns errors into
 * exit statuses: 0 done, 2 bad input, 1 a failure of livetrace.
 */
import { Command, CommanderError } from 'commander';
import { LivetraceError, toLivetraceError } from '../protocol/errors.js';
import { LIVETRACE_VERSION } from '../protocol/messages.js';
import { printError } from './report.js';

/** A command module: `register(program)` adds its command. */
type CommandModule = { register(program: Command): void };

/**
 * Every command, in --help order, loaded only when needed: `livetrace --version` and a
 * command loads no other command's module (nor what it imports), which was most of the
 * CLI's start-up.
 */
const COMMANDS: readonly (readonly [string, () => Promise<CommandModule>])[] = [
  ['ps', () => import('./ps.js')],
  ['ls', () => import('./ls.js')],
  ['trace', () => import('./trace.js')],
  ['deeper', () => import('./deeper.js')],
  ['info', () => import('./info.js')],
  ['get', () => import('./get.js')],
  ['top', () => import('./top.js')],
  ['shell', () => import('./shell.js')],
  ['run', () => import('./run.js')],
  ['demo', () => import('./demo.js')],
  ['attach', () => import('./attach.js')],
  ['explain', () => import('./explain.js')],
  ['fleet', () => import('./fleet.js')],
  ['dashboard', () => import('./dashboard.js')],
];

/** The program with every command, or only `only` (the command a command line names). */
export async function createProgram(only?: string): Promise<Command> {
  const program = new Command('livetrace')
    .description('Trace function calls in a live Node.js process: arguments, results, exceptions, timings.')
    // The package's own version, never npm_package_version: inside another project's `npm run` that is the other project's.
    .version(LIVETRACE_VERSION, '-V, --version')
    .showHelpAfterError()
    .exitOverride();
  const wanted = COMMANDS.filter(([name]) => only === undefined || name === only);
  const modules = await Promise.all(wanted.map(([, load]) => load()));
  for (const module of modules) module.register(program);
  return program;
}

/**
 * The command a command line runs, when it surely runs one: its first argument names a
 * command. Anything else (no argument, an option first, a typo that gets a suggestion,
 * `help`) gets every command, as commander's help and errors list them.
 */
function commandOf(argv: string[]): string | undefined {
  const first = argv[2];
  return COMMANDS.some(([name]) => name === first) ? first : undefined;
}

/** The version, without loading a command: the one answer that needs none. */
function versionOnly(argv: string[]): boolean {
  return argv.length === 3 && (argv[2] === '--version' || argv[2] === '-V');
}

/** Runs the CLI; resolves to the exit status instead of calling process.exit. */
/**
 * `livetrace --help | head -1`: a reader that closed the pipe is not an error. Without a
 * listener, the stream's EPIPE is an uncaught exception with a stack. A command that
 * handles it itself (trace stops its session first, trace-end.ts) adds its own listener;
 * every other command simply ends, as a filter would.
 */
function quietOnBrokenPipe(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' || process.stdout.listenerCount('error') > 1) return;
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  });
}

export async function main(argv: string[]): Promise<number> {
  if (versionOnly(argv)) {
    process.stdout.write(`${LIVETRACE_VERSION}\n`);
    return 0;
  }
  quietOnBrokenPipe();
  try {
    const program = await createProgram(commandOf(argv));
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are exits with status 0; usage errors were already printed.
      return error.exitCode === 0 ? 0 : 2;
    }
    const lt = error instanceof LivetraceError ? error : toLivetraceError(error);
    printError(lt);
    return lt.exitCode;
  }
}
