/**
 * The commander program. Each command lives in its own module under src/cli/ and
 * exports `register(program)`; this module only assembles them and turns errors into
 * exit statuses: 0 done, 2 bad input, 1 a failure of livetrace.
 */
import { Command, CommanderError } from 'commander';
import { LivetraceError, toLivetraceError } from '../protocol/errors.js';
import { LIVETRACE_VERSION } from '../protocol/messages.js';
import { register as registerAttach } from './attach.js';
import { register as registerDashboard } from './dashboard.js';
import { register as registerDeeper } from './deeper.js';
import { register as registerDemo } from './demo.js';
import { register as registerGet } from './get.js';
import { register as registerInfo } from './info.js';
import { register as registerLs } from './ls.js';
import { register as registerPs } from './ps.js';
import { register as registerRun } from './run.js';
import { register as registerShell } from './shell.js';
import { register as registerTop } from './top.js';
import { register as registerTrace } from './trace.js';
import { register as registerExplain } from './explain.js';
import { register as registerFleet } from './fleet.js';
import { printError } from './report.js';

export function createProgram(): Command {
  const program = new Command('livetrace')
    .description('Trace function calls in a live Node.js process: arguments, results, exceptions, timings.')
    // The package's own version, never npm_package_version: inside another project's `npm run` that is the other project's.
    .version(LIVETRACE_VERSION, '-V, --version')
    .showHelpAfterError()
    .exitOverride();
  registerPs(program);
  registerLs(program);
  registerTrace(program);
  registerDeeper(program);
  registerInfo(program);
  registerGet(program);
  registerTop(program);
  registerShell(program);
  registerRun(program);
  registerDemo(program);
  registerAttach(program);
  registerExplain(program);
  registerFleet(program);
  registerDashboard(program);
  return program;
}

/** Runs the CLI; resolves to the exit status instead of calling process.exit. */
export async function main(argv: string[]): Promise<number> {
  const program = createProgram();
  try {
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
