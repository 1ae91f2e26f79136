/**
 * The layers of livetrace and which way imports go (docs/architecture.md draws them):
 *
 *   protocol  <-  safe  <-  pattern  <-  agent             (runs inside the target)
 *   protocol  <-  client  <-  attach  <-  cli              (runs in the operator's shell)
 *   protocol  <-  client  <-  fleet   <-  cli              (Redis: the member in the target, the operator's side)
 *
 *   dashboard/server  (http, security, live channel; protocol and pattern only)
 *       <-  dashboard/remote  (+ client, attach)   <-  cli   (`livetrace dashboard`)
 *       <-  dashboard/local   (+ the library, agent/observer)  <-  dashboard/index.ts
 *           (`livetrace/dashboard`, mounted in an app: the process it runs in)
 *
 * protocol is the wire and the shared vocabulary; it imports nothing else of livetrace, so
 * both sides can speak it without loading the other. The operator's side never loads the
 * agent: `livetrace --help` must not drag in the session, the patcher and the probe worker.
 * The entry points, src/index.ts (the library), src/register.ts (the preload) and
 * src/dashboard/index.ts (the mounted dashboard), are the only places that may gather everything. `npm test` runs this check (npm run lint:layers).
 */
const layer = (name, allowed, comment) => ({
  name: `${name}-imports-only-${allowed.join('-') || 'itself'}`,
  comment,
  severity: 'error',
  from: { path: `^src/${name}/` },
  to: { path: '^src/', pathNot: [`^src/${name}/`, ...allowed.map((a) => `^src/${a}/`)] },
});

module.exports = {
  forbidden: [
    layer('protocol', [], 'protocol is shared by the agent and its clients: it imports no other layer.'),
    layer('safe', ['protocol'], 'safe (pristine intrinsics, reads that run no user code) is below everything that runs in the target.'),
    layer('pattern', ['protocol', 'safe'], 'the pattern language knows nothing of sessions, clients or the CLI.'),
    layer('agent', ['protocol', 'safe', 'pattern'], 'the agent runs in the target; it never loads the client, attach or the CLI.'),
    layer('client', ['protocol', 'pattern'], 'the client talks to agents over the socket; it never loads the agent itself.'),
    layer('attach', ['protocol', 'client'], 'attach gets an agent into a process through the inspector; it never loads the agent in this process.'),
    layer('fleet', ['protocol', 'client'], 'a fleet member reaches its agent through the socket, as any client: it never loads the agent itself.'),
    layer('cli', ['protocol', 'pattern', 'client', 'attach', 'fleet', 'dashboard/server', 'dashboard/remote'], 'the CLI never loads the agent: --help, ps and trace stay light.'),
    layer('dashboard/server', ['protocol', 'pattern'], 'the dashboard server works through a backend interface: it loads neither the client nor the agent.'),
    layer('dashboard/remote', ['protocol', 'pattern', 'client', 'attach', 'dashboard/server'], 'the command\'s backend reaches other processes over the socket; it never loads the agent.'),
    {
      name: 'dashboard-local-imports-library-and-server',
      comment: 'the mounted backend runs in the traced process: the library, the observer and the server, never the client, attach or the CLI',
      severity: 'error',
      from: { path: '^src/dashboard/local/' },
      to: { path: '^src/', pathNot: ['^src/dashboard/local/', '^src/dashboard/server/', '^src/index\\.ts$', '^src/agent/', '^src/protocol/', '^src/safe/', '^src/pattern/'] },
    },
    {
      name: 'nothing-imports-cli',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'cli-never-reaches-agent',
      comment: 'not even through another module: the CLI process stays free of agent code',
      severity: 'error',
      from: { path: '^src/(cli|client|attach|fleet)/' },
      from: { path: '^src/(cli|client|attach|dashboard/server|dashboard/remote)/' },
      to: { path: '^src/agent/', reachable: true },
    },
    {
      name: 'no-cycles',
      comment: 'a cycle makes load order matter; the folders are layers, and so are the modules in them',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-unlisted-dependencies',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev', 'unknown', 'undetermined', 'npm-no-pkg', 'npm-unknown'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // The dashboard's browser files import uPlot as the build places it beside them in dist/web.
    exclude: { path: '^src/dashboard/web/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
