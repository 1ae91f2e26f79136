/**
 * docs/errors.md is the user's copy of the error table: every code of
 * src/protocol/errors.ts has a row there (`| \`CODE\` | exit | meaning | what to do |`)
 * with the exit status the code really has, and the doc names no code that does not exist.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorTable, type ErrorCode } from '../../../src/protocol/errors.js';
import { repoRoot } from '../../support/paths.js';

const doc = readFileSync(join(repoRoot, 'docs/errors.md'), 'utf8');

/** The table rows of the doc, by code: the exit column and the meaning. */
const rows = new Map<string, Array<{ exit: string; meaning: string }>>();
for (const line of doc.split('\n')) {
  // A cell may hold an escaped pipe (`\|`).
  const row = /^\| `(LT_[A-Z0-9_]+)` \| ((?:[^|\\]|\\.)*) \| ((?:[^|\\]|\\.)*) \|/.exec(line);
  if (row) rows.set(row[1]!, [...(rows.get(row[1]!) ?? []), { exit: row[2]!.trim(), meaning: row[3]!.trim() }]);
}

const codes = Object.keys(errorTable) as ErrorCode[];

describe('docs/errors.md', () => {
  it.each(codes)('has a row for %s with its exit status and a meaning', (code) => {
    const found = rows.get(code);
    expect(found, `no table row for ${code} in docs/errors.md`).toBeDefined();
    for (const row of found!) {
      expect(row.exit, code).toBe(String(errorTable[code].exit));
      expect(row.meaning.length, code).toBeGreaterThan(20);
    }
  });

  it('names no code that src/protocol/errors.ts does not have', () => {
    const named = new Set(doc.match(/\bLT_[A-Z0-9_]+\*?/g));
    // `LT_SOCKET_*` names a family: some code must start with it.
    const unknown = [...named].filter((name) =>
      name.endsWith('*') ? !codes.some((code) => code.startsWith(name.slice(0, -1))) : !(name in errorTable),
    );
    expect(unknown).toEqual([]);
  });
});
