/**
 * Node's own options, read back from outside the process: where SIGUSR1 will open the
 * inspector and whether the process refuses SIGUSR1 altogether.
 *
 * Node reads NODE_OPTIONS first and its command line second, and every
 * `--inspect*` / `--debug-port` occurrence updates one shared [host:]port, so the last
 * occurrence wins. We replay that order. The command line stops at the first
 * positional argument (the script) or `--`; what follows belongs to the app, so an app
 * argument spelled `--inspect-port=1` is not mistaken for Node's.
 *
 * This is a best-effort reading: `process.title` rewrites /proc/<pid>/cmdline, and an
 * option we do not know may swallow or not swallow its value. The attach code therefore
 * treats it as a hint and relies on the kernel (signal disposition, socket ownership)
 * for the decisions that matter for safety.
 */

export interface InspectorAddress {
  host: string;
  /** 0 means the inspector picks a free port when it opens. */
  port: number;
}

export type OptionSource = 'default' | 'NODE_OPTIONS' | 'argv';

export interface NodeLaunchOptions {
  /** Where `--disable-sigusr1` was given, if it was. */
  disableSigusr1: OptionSource | undefined;
  /** Where SIGUSR1 opens the inspector. */
  inspector: InspectorAddress;
  inspectorSource: OptionSource;
  /** Started with --inspect, --inspect-brk or --inspect-wait: someone wanted the inspector open. */
  inspectAtStart: boolean;
}

export const defaultInspector: Readonly<InspectorAddress> = { host: '127.0.0.1', port: 9229 };

// Options of Node 20-24 that take their value as the next argument when written without
// `=`. Anything else without `=` is a flag, and the first non-option is the script.
const takesValue = new Set([
  '-r', '--require', '--import', '--loader', '--experimental-loader', '-e', '--eval', '-p', '--print',
  '-C', '--conditions', '--inspect-port', '--debug-port', '--title', '--input-type', '--env-file',
  '--env-file-if-exists', '--redirect-warnings', '--diagnostic-dir', '--report-directory', '--report-dir',
  '--report-filename', '--report-signal', '--secure-heap', '--secure-heap-min', '--icu-data-dir',
  '--openssl-config', '--tls-cipher-list', '--tls-keylog', '--unhandled-rejections', '--heapsnapshot-signal',
  '--heapsnapshot-near-heap-limit', '--cpu-prof-dir', '--cpu-prof-name', '--cpu-prof-interval',
  '--heap-prof-dir', '--heap-prof-name', '--heap-prof-interval', '--trace-event-categories',
  '--trace-event-file-pattern', '--watch-path', '--max-http-header-size', '--dns-result-order',
  '--experimental-policy', '--policy-integrity', '--experimental-default-type', '--test-reporter',
  '--test-reporter-destination', '--test-name-pattern', '--test-skip-pattern', '--test-shard',
  '--test-concurrency', '--test-timeout', '--disable-warning', '--localstorage-file', '--run',
  '--snapshot-blob', '--build-snapshot-config', '--experimental-sea-config', '--inspect-publish-uid',
  '--disable-proto', '--allow-fs-read', '--allow-fs-write', '--use-largepages', '--v8-pool-size',
  '--trace-require-module', '--experimental-config-file', '--network-family-autoselection-attempt-timeout',
]);

/** Node's NODE_OPTIONS splitting: whitespace separates, double quotes group, `\` escapes inside quotes. */
export function splitNodeOptions(value: string): string[] {
  const out: string[] = [];
  let current = '';
  let inToken = false;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] as string;
    if (quoted) {
      if (ch === '\\' && i + 1 < value.length) current += value[++i];
      else if (ch === '"') quoted = false;
      else current += ch;
    } else if (ch === '"') {
      quoted = true;
      inToken = true;
    } else if (ch === ' ' || ch === '\t' || ch === '\n') {
      if (inToken) out.push(current);
      current = '';
      inToken = false;
    } else {
      current += ch;
      inToken = true;
    }
  }
  if (inToken) out.push(current);
  return out;
}

/**
 * The Node options in a command line (argv[0], the executable, excluded), each as
 * [name, value]; value is undefined for a flag without `=`.
 */
export function nodeOptionsOf(args: readonly string[], positionalEnds: boolean): Array<[string, string | undefined]> {
  const out: Array<[string, string | undefined]> = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') break;
    if (!arg.startsWith('-') || arg === '-') {
      if (positionalEnds) break;
      continue;
    }
    const eq = arg.indexOf('=');
    if (eq > 0) {
      out.push([normalizeName(arg.slice(0, eq)), arg.slice(eq + 1)]);
    } else if (takesValue.has(normalizeName(arg)) && i + 1 < args.length) {
      out.push([normalizeName(arg), args[++i]]);
    } else {
      out.push([normalizeName(arg), undefined]);
    }
  }
  return out;
}

// Node accepts `_` for `-` in option names (`--inspect_port`).
function normalizeName(name: string): string {
  return name.startsWith('--') ? '--' + name.slice(2).replaceAll('_', '-') : name;
}

/** Applies `[host:]port` the way Node does: digits set the port, a bare name the host. */
export function applyHostPort(current: InspectorAddress, value: string): InspectorAddress {
  let host: string | undefined;
  let port: string | undefined;
  const bracketed = /^\[([^\]]*)\](?::(\d+))?$/.exec(value);
  if (bracketed) {
    host = bracketed[1];
    port = bracketed[2];
  } else if (/^\d+$/.test(value)) {
    port = value;
  } else {
    const colon = value.lastIndexOf(':');
    if (colon >= 0) {
      host = value.slice(0, colon);
      port = value.slice(colon + 1);
    } else {
      host = value;
    }
  }
  const next = { ...current };
  if (host !== undefined && host !== '') next.host = host;
  if (port !== undefined && /^\d+$/.test(port) && Number(port) <= 65535) next.port = Number(port);
  return next;
}

/** Replays NODE_OPTIONS, then the command line, onto Node's defaults. */
export function readLaunchOptions(argv: readonly string[], nodeOptions: string | undefined): NodeLaunchOptions {
  const result: NodeLaunchOptions = {
    disableSigusr1: undefined,
    inspector: { ...defaultInspector },
    inspectorSource: 'default',
    inspectAtStart: false,
  };
  const sources: Array<[OptionSource, Array<[string, string | undefined]>]> = [
    // NODE_OPTIONS holds only options, so a stray positional there is skipped, not an end.
    ['NODE_OPTIONS', nodeOptionsOf(splitNodeOptions(nodeOptions ?? ''), false)],
    ['argv', nodeOptionsOf(argv.slice(1), true)],
  ];
  for (const [source, options] of sources) {
    for (const [name, value] of options) {
      if (name === '--disable-sigusr1') {
        result.disableSigusr1 = source;
      } else if (name === '--inspect' || name === '--inspect-brk' || name === '--inspect-wait') {
        result.inspectAtStart = true;
        if (value !== undefined) setInspector(result, value, source);
      } else if ((name === '--inspect-port' || name === '--debug-port') && value !== undefined) {
        setInspector(result, value, source);
      }
    }
  }
  return result;
}

function setInspector(result: NodeLaunchOptions, value: string, source: OptionSource): void {
  result.inspector = applyHostPort(result.inspector, value);
  result.inspectorSource = source;
}

/** True for a host the inspector may listen on without being reachable from the network. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}
