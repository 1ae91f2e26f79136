/**
 * The CLI's flags, their `--help` and docs/cli.md all come from (or must agree with) the
 * one options table in src/protocol/options.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { createProgram } from '../../../src/cli/program.js';
import { helpOf } from '../../../src/cli/trace-options.js';
import { OPTIONS } from '../../../src/protocol/options.js';

const flagged = OPTIONS.filter((spec) => spec.flag !== null);
const root = join(import.meta.dirname, '../../..');

async function helpFor(name: string): Promise<string> {
  const command = (await createProgram()).commands.find((c: Command) => c.name() === name);
  expect(command, name).toBeDefined();
  // One line per option, however wide the terminal: commander wraps at the columns it is given.
  return command!.configureOutput({ getOutHelpWidth: () => 10_000 }).helpInformation();
}

describe('the options table, the CLI and docs/cli.md', () => {
  it('has a flag in --help for trace and run for every flagged option, with its default', async () => {
    expect(flagged.length).toBeGreaterThan(5);
    for (const command of ['trace', 'run']) {
      const lines = (await helpFor(command)).split('\n');
      for (const spec of flagged) {
        const line = lines.find((l) => l.trimStart().startsWith(`${spec.flag!} `) || l.trim() === spec.flag);
        expect(line, `${command} ${spec.flag}`).toBeDefined();
        expect(line).toContain(helpOf(spec));
        if (spec.kind !== 'switch' && spec.shown !== '') expect(line).toContain(`(default ${spec.shown})`);
      }
    }
  });

  it('lists every flagged option in docs/cli.md with the default of the table', () => {
    const doc = readFileSync(join(root, 'docs/cli.md'), 'utf8');
    const rows = doc.split('\n').filter((l) => l.startsWith('| `--'));
    for (const spec of flagged) {
      const flag = spec.flag!.split(' ')[0]!;
      const row = rows.find((r) => r.startsWith(`| \`${flag} `) || r.startsWith(`| \`${flag}\``));
      expect(row, flag).toBeDefined();
      const cells = row!.split('|').map((c) => c.trim());
      expect(cells[cells.length - 2], flag).toBe(spec.shown);
    }
  });

  it('lists every option in docs/api.md with its CLI flag', () => {
    const doc = readFileSync(join(root, 'docs/api.md'), 'utf8');
    for (const spec of OPTIONS) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${spec.name}\` |`));
      expect(row, spec.name).toBeDefined();
      expect(row!.trimEnd().endsWith(spec.flag === null ? '| none |' : `| \`${spec.flag.split(' ')[0]!}\` |`), spec.name).toBe(true);
    }
  });
});
