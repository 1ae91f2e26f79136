/**
 * The service a fleet member registers under (unless LIVETRACE_SERVICE names it): the
 * application's own name, found without asking the application anything.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The app's package name: npm's, else the nearest package.json up from the working directory, else the script's name. */
export function serviceFromPackage(): string {
  if (process.env.npm_package_name !== undefined && process.env.npm_package_name !== '') return process.env.npm_package_name;
  try {
    let dir = process.cwd();
    for (;;) {
      const file = join(dir, 'package.json');
      if (existsSync(file)) {
        const name = (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name;
        if (typeof name === 'string' && name !== '') return name;
      }
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  } catch {
    // an unreadable or broken package.json: the script's name
  }
  return process.argv[1] !== undefined ? process.argv[1].replace(/^.*[/\\]/, '').replace(/\.[cm]?[jt]s$/, '') : 'node';
}
