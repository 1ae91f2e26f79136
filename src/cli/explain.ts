/**
 * `livetrace explain <pattern...> [--json]`: what patterns mean, in words, without
 * touching any process. Every pattern is checked before anything is printed, so the
 * output is all or nothing; the first invalid pattern is thrown as its coded error
 * (main() prints it with a caret under the column and exits 2).
 */
import type { Command } from 'commander';
import { explainPattern, parsePattern, patternToJson } from '../pattern/index.js';

const PROGRAM_EXAMPLES = `
Patterns (see docs/patterns.md):
  livetrace explain 'src/users:findUser(nil, ...) -> stack'
  livetrace explain 'db:query(sql) when ms > 100' 'pg:*Query/2'
`;

const EXPLAIN_EXAMPLES = `
Examples:
  $ livetrace explain 'src/users:findUser(nil, ...) -> stack'
  $ livetrace explain 'src/**/repo*:UserRepo#save({id: X}, ...) when X > 3 && threw'
  $ livetrace explain 'db:query(sql, ...) when sql ~ /^select/i && ms > 100' 'node:fs:readFile/2'
  $ livetrace explain --json 'pg:*Query/2'

A pattern is  module:function[(args) | /arity] [when guard] [-> actions]
`;

export function register(program: Command): void {
  program.addHelpText('after', PROGRAM_EXAMPLES);
  program
    .command('explain')
    .description('Show what patterns mean, in words (or as syntax trees with --json), without touching any process')
    .argument('<pattern...>', 'one or more patterns, each quoted for the shell')
    .option('--json', 'print the syntax trees as a JSON array')
    .addHelpText('after', EXPLAIN_EXAMPLES)
    .action((patterns: string[], options: { json?: boolean }) => {
      const trees = patterns.map((pattern) => parsePattern(pattern));
      if (options.json === true) {
        process.stdout.write(`${patternToJson(trees, 2)}\n`);
        return;
      }
      process.stdout.write(`${trees.map((tree) => explainPattern(tree).join('\n')).join('\n\n')}\n`);
    });
}
