import { join, relative, sep } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { moduleRefForFile, resetAppRoot } from '../../../../src/agent/catalog/naming.js';

describe('naming modules as patterns name them', () => {
  afterEach(() => resetAppRoot());

  it('an app file is its path from the app root, with forward slashes', () => {
    const root = join(sep, 'srv', 'app');
    resetAppRoot(root);
    expect(moduleRefForFile(join(root, 'src', 'users.js'))).toEqual({ id: 'src/users.js', kind: 'app' });
  });

  it('a file under node_modules is <package>/<path>, scoped packages included, and knows its package', () => {
    const root = join(sep, 'srv', 'app');
    resetAppRoot(root);
    const plain = moduleRefForFile(join(root, 'node_modules', 'pkg', 'lib', 'a.js'));
    expect(plain).toMatchObject({ id: 'pkg/lib/a.js', kind: 'package', packageName: 'pkg', packageEntry: false });
    const scoped = moduleRefForFile(join(root, 'node_modules', 'outer', 'node_modules', '@scope', 'pkg', 'index.js'));
    expect(scoped).toMatchObject({ id: '@scope/pkg/index.js', kind: 'package', packageName: '@scope/pkg' });
  });
  it('names an app file exactly as path.relative does, on the quick path and off it', () => {
    for (const root of ['/srv/app', '/srv/app/', '/']) {
      resetAppRoot(root);
      const files = ['/srv/app/src/users.js', '/srv/app/a.mjs', '/srv/app/./src/x.js', '/srv/app/src/../y.js', '/srv/app//z.js', '/srv/app/.hidden/a.js', '/srv/app/src/..x/a.js', '/srv/apple/a.js', '/srv/other/b.js', '/srv/app', '/srv/app/', '/srv/app/src/'];
      for (const file of files) expect(moduleRefForFile(file), `${root} ${file}`).toEqual({ id: relative(root, file).split(sep).join('/'), kind: 'app' });
    }
  });
});
