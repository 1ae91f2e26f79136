/** How the CLI shows a coded error on stderr. */
import type { LivetraceError } from '../protocol/errors.js';

export function formatError(error: LivetraceError): string {
  const lines = [`livetrace: ${error.message} [${error.code}]`];
  if (typeof error.input === 'string' && error.column !== undefined) {
    lines.push(`  ${error.input}`, `  ${' '.repeat(Math.max(0, error.column - 1))}^`);
  } else if (error.input !== undefined) {
    lines.push(`  input: ${typeof error.input === 'string' ? error.input : JSON.stringify(error.input)}`);
  }
  lines.push(`  hint: ${error.hint}`);
  return lines.join('\n');
}

export function printError(error: LivetraceError): void {
  process.stderr.write(formatError(error) + '\n');
}
