#!/usr/bin/env node
/**
 * Runs a real project's own test suite twice, untraced and under a broad trace in every
 * Node.js process the suite starts, and compares the two: the measure of issue 12 ("a
 * real suite that passes untraced passes traced, with events flowing").
 *
 *   node scripts/peer-suite.mjs <project dir> <pattern> [options] -- <test command...>
 *   node scripts/peer-suite.mjs --all scripts/peer-suites.json [--only a,b] [options]
 *
 * How the trace gets into every process: the traced run is `livetrace run` itself
 * (bin/livetrace.js of this checkout, so the built dist/), which puts the preload in
 * NODE_OPTIONS and the pre-started session in LIVETRACE_RUN; every Node process of the
 * command inherits both, and the CLI claims each process's session over its socket
 * (src/cli/run.ts). Nothing here reaches into livetrace's internals: the script measures
 * what a user gets from the CLI. The limits a user would normally want are lifted so that
 * the trace stays on for the whole suite: no call cap, no rate limit, no duration limit,
 * no CPU budget, --force over the function-count check. A session that stops early (its
 * queue overflowing is the one limit left) would hide differences, so the stop reasons
 * and drop counts are printed with the events.
 *
 * Every process the script starts runs in its own process group (detached), and the
 * whole group is killed when the run ends, times out, or the script is interrupted, so
 * servers or workers a suite leaves behind do not outlive it. Each traced run gets its
 * own socket directory (LIVETRACE_SOCKET_DIR), so agents of other programs on the machine
 * are never claimed, and the directory is removed afterwards.
 *
 * Output files (the runner's output of each run, the trace's JSON records) are kept in
 * --keep <dir> (default $TMPDIR/peer-suite/<project>) for diagnosing a failure.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, createWriteStream, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(repo, 'bin', 'livetrace.js');

const USAGE = `usage:
  node scripts/peer-suite.mjs <project dir> <pattern> [options] -- <test command...>
  node scripts/peer-suite.mjs --all <suites.json> [--only name,...] [options]

options:
  -t <pattern>          another pattern (repeatable; the first may also be the 2nd argument)
  --timeout <s>         per run, then the run's process group is killed (default 300)
  --max-functions <n>   passed to livetrace (default 100000; --force is always on)
  --depth <n>           capture depth passed to livetrace (default: livetrace's)
  --preload             trace with livetrace run's preload (the default)
  --attach              trace as an attach would, not with livetrace run's preload:
                        scripts/peer-attach.cjs loads the agent into each process after
                        its start and traces there (see that file); default: preload
  --attach-delay <ms>   with --attach: how long after start (default 0: first macrotask)
  --only-traced         skip the untraced run
  --only-untraced       skip the traced run
  --keep <dir>          where logs and events go (default $TMPDIR/peer-suite/<name>)
  --agent-log           set LIVETRACE_LOG=<keep>/agent.log in the traced run (loads pino
                        in every process: it changes the process too, so off by default)
  --quiet               do not echo the suite's output while it runs
  --markdown            end with a markdown table row per project
  --json <file>         also write the results as JSON
  --peer-dir <dir>      with --all: where the checkouts are (default $PEER_DIR or /tmp/peers)`;

// ---------------------------------------------------------------------------------------
// Arguments

function parseArgs(argv) {
  const dash = argv.indexOf('--');
  const own = dash === -1 ? argv : argv.slice(0, dash);
  const command = dash === -1 ? [] : argv.slice(dash + 1);
  const options = {
    patterns: [],
    positional: [],
    timeoutS: 300,
    maxFunctions: 100000,
    depth: undefined,
    traced: true,
    untraced: true,
    attach: false,
    attachDelayMs: 0,
    keep: undefined,
    agentLog: false,
    quiet: false,
    markdown: false,
    json: undefined,
    all: undefined,
    only: undefined,
    peerDir: process.env.PEER_DIR || '/tmp/peers',
  };
  for (let i = 0; i < own.length; i++) {
    const arg = own[i];
    const value = () => {
      const v = own[++i];
      if (v === undefined) fail(`${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case '-t': case '--trace': options.patterns.push(value()); break;
      case '--timeout': options.timeoutS = positive(arg, value()); break;
      case '--max-functions': options.maxFunctions = positive(arg, value()); break;
      case '--depth': options.depth = positive(arg, value()); break;
      case '--preload': options.attach = false; break;
      case '--attach': options.attach = true; break;
      case '--attach-delay': options.attachDelayMs = Number(value()); break;
      case '--only-traced': options.untraced = false; break;
      case '--only-untraced': options.traced = false; break;
      case '--keep': options.keep = resolve(value()); break;
      case '--agent-log': options.agentLog = true; break;
      case '--quiet': options.quiet = true; break;
      case '--markdown': options.markdown = true; break;
      case '--json': options.json = resolve(value()); break;
      case '--all': options.all = resolve(value()); break;
      case '--only': options.only = value().split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--peer-dir': options.peerDir = resolve(value()); break;
      case '-h': case '--help': console.log(USAGE); process.exit(0); break;
      default:
        if (arg.startsWith('-')) fail(`unknown option ${arg}`);
        options.positional.push(arg);
    }
  }
  return { options, command };
}

function positive(flag, v) {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) fail(`${flag} takes a positive whole number, not '${v}'`);
  return n;
}

function fail(message) {
  console.error(`peer-suite: ${message}\n\n${USAGE}`);
  process.exit(2);
}

// ---------------------------------------------------------------------------------------
// Running one command, bounded, in its own process group

/** Process groups alive right now, killed if the script itself is interrupted. */
const groups = new Set();

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already empty.
  }
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    for (const pid of groups) killGroup(pid, 'SIGKILL');
    process.exit(130);
  });
}

/**
 * Runs argv in cwd with env; its stdout and stderr go to logFile (and to our stderr
 * unless quiet). Resolves to {exit, signal, timedOut, ms}. Whatever is left of the
 * process group afterwards is killed.
 */
function runBounded(argv, { cwd, env, logFile, timeoutS, quiet }) {
  return new Promise((resolvePromise) => {
    const started = Date.now();
    const log = createWriteStream(logFile);
    const child = spawn(argv[0], argv.slice(1), { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let timedOut = false;
    let hardKill;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid, 'SIGTERM');
      hardKill = setTimeout(() => killGroup(child.pid, 'SIGKILL'), 5000);
    }, timeoutS * 1000);
    if (child.pid !== undefined) groups.add(child.pid);
    for (const stream of [child.stdout, child.stderr]) {
      stream.on('data', (chunk) => {
        log.write(chunk);
        if (!quiet) process.stderr.write(chunk);
      });
    }
    const done = (exit, signal) => {
      clearTimeout(timer);
      clearTimeout(hardKill);
      // Leftovers of the suite (servers, workers, watchers) go with the run.
      killGroup(child.pid, 'SIGKILL');
      groups.delete(child.pid);
      log.end(() => resolvePromise({ exit, signal, timedOut, ms: Date.now() - started }));
    };
    child.on('error', (error) => {
      log.write(`peer-suite: cannot start ${argv[0]}: ${error.message}\n`);
      done(127, null);
    });
    // 'close' waits for the pipes, which a left-behind grandchild may hold open: 'exit'
    // is the command's end, and the group kill in done() closes the rest.
    child.on('exit', (code, signal) => done(code, signal));
  });
}

// ---------------------------------------------------------------------------------------
// Reading the runner's summary

/** Strips ANSI colour codes. */
function plain(text) {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
}

/**
 * Pass/fail counts from the runner's own summary, when one is recognised. The last
 * occurrence wins (nested TAP streams repeat summaries; the outermost comes last).
 */
export function parseSummary(raw) {
  const text = plain(raw);
  const last = (re) => {
    let m;
    let found;
    const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
    while ((m = g.exec(text)) !== null) found = m;
    return found;
  };
  const num = (m, i = 1) => (m ? Number(m[i]) : undefined);
  // jest: "Tests:       1 failed, 2 skipped, 10 passed, 13 total"
  let m = last(/^Tests:\s+(.*\d+ total)\s*$/m);
  if (m) {
    const part = (name) => num(new RegExp(`(\\d+) ${name}`).exec(m[1]));
    return { runner: 'jest', pass: part('passed') ?? 0, fail: part('failed') ?? 0, skip: part('skipped') ?? 0, total: part('total') };
  }
  // vitest: "      Tests  1 failed | 10 passed (11)"
  m = last(/^\s*Tests\s+((?:\d+ \w+(?: \| )?)+)\s*\((\d+)\)/m);
  if (m) {
    const part = (name) => num(new RegExp(`(\\d+) ${name}`).exec(m[1]));
    return { runner: 'vitest', pass: part('passed') ?? 0, fail: part('failed') ?? 0, skip: part('skipped') ?? 0, total: Number(m[2]) };
  }
  // mocha spec/dot: "  123 passing (2s)", "  2 failing", "  1 pending"
  m = last(/^\s*(\d+) passing \(/m);
  if (m) {
    return {
      // tap 16's classic reporter ends with the same lines, after its "total ...." line.
      runner: /^total \.+ \d+\/\d+/m.test(text) ? 'tap' : 'mocha',
      pass: num(m),
      fail: num(last(/^\s*(\d+) failing\s*$/m)) ?? 0,
      skip: num(last(/^\s*(\d+) pending\s*$/m)) ?? 0,
    };
  }
  // ava: "  12 tests passed", "  1 test failed", "  2 unhandled rejections", "  1 uncaught exception"
  m = last(/^\s*(\d+) tests? passed/m);
  const avaFail = last(/^\s*(\d+) tests? failed/m);
  if (m || avaFail) {
    const extra = (num(last(/^\s*(\d+) unhandled rejections?/m)) ?? 0) + (num(last(/^\s*(\d+) uncaught exceptions?/m)) ?? 0);
    // With failures ava prints no "passed" line: count its ✔ lines instead.
    const ticks = (text.match(/^\s*✔ /gm) ?? []).length;
    return {
      runner: 'ava',
      pass: num(m) ?? ticks,
      fail: (num(avaFail) ?? 0) + extra,
      skip: num(last(/^\s*(\d+) tests? skipped/m)) ?? 0,
      ...(extra > 0 ? { note: `${extra} uncaught/unhandled` } : {}),
    };
  }
  // node:test spec reporter: "ℹ tests 12", "ℹ pass 11", "ℹ fail 1"
  m = last(/^ℹ pass (\d+)/m);
  if (m) {
    return {
      runner: 'node:test',
      pass: num(m),
      fail: num(last(/^ℹ fail (\d+)/m)) ?? 0,
      skip: (num(last(/^ℹ skipped (\d+)/m)) ?? 0) + (num(last(/^ℹ todo (\d+)/m)) ?? 0),
      total: num(last(/^ℹ tests (\d+)/m)),
    };
  }
  // tap 16 classic reporter: "# { total: 12, pass: 11, fail: 1 }" is not printed, but the
  // final lines are "# Subtest..."/"ok"; its summary: "  1234 passing (3s)" is mocha-like
  // (handled above) or "total ........ 1234/1235".
  m = last(/^total \.+ (\d+)\/(\d+)/m);
  if (m) {
    const pass = Number(m[1]);
    const total = Number(m[2]);
    return { runner: 'tap', pass, fail: total - pass, skip: num(last(/^\s*skip \.+ (\d+)/m)) ?? 0, total };
  }
  // TAP summary (tape, node:test's tap reporter, tap --reporter=tap): "# pass 12", "# fail 1"
  m = last(/^# pass\s+(\d+)/m);
  const tapFail = last(/^# fail\s+(\d+)/m);
  if (m || tapFail) {
    return {
      runner: 'tap-stream',
      pass: num(m) ?? 0,
      fail: num(tapFail) ?? 0,
      skip: (num(last(/^# skip(?:ped)?\s+(\d+)/m)) ?? 0) + (num(last(/^# todo\s+(\d+)/m)) ?? 0),
      total: num(last(/^# tests\s+(\d+)/m)),
    };
  }
  // QUnit through qunit-extras: "    PASS: 6831  FAIL: 0  TOTAL: 6831"
  m = last(/PASS: (\d+)\s+FAIL: (\d+)\s+TOTAL: (\d+)/);
  if (m) return { runner: 'qunit', pass: Number(m[1]), fail: Number(m[2]), skip: 0, total: Number(m[3]) };
  return undefined;
}

/** A few lines that say what failed first: runner-agnostic heuristics over the output. */
function firstFailures(raw, limit = 6) {
  const lines = plain(raw).split('\n');
  const out = [];
  const failure = /^\s*(not ok \d+|✖|✘|×|\d+\) |FAIL |Error:|\w*Error:|AssertionError|Uncaught|Unhandled|TypeError|ReferenceError|RangeError|# fail [1-9])/;
  for (let i = 0; i < lines.length && out.length < limit; i++) {
    if (failure.test(lines[i])) out.push(lines[i].trim().slice(0, 200));
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Reading the trace's records

function readEvents(file) {
  const summary = {
    sessions: 0,
    processes: 0,
    matched: 0,
    calls: 0,
    reported: 0,
    dropped: { rate: 0, queue: 0, overload: 0 },
    internalErrors: 0,
    stopReasons: {},
    topFunctions: [],
    unpatchable: 0,
  };
  if (!existsSync(file)) return summary;
  const byFn = new Map();
  const pids = new Set();
  const matchedFns = new Set();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    let record;
    try {
      record = JSON.parse(line);
    } catch {
      continue;
    }
    pids.add(record.pid);
    switch (record.type) {
      case 'started':
      case 'added':
        if (record.type === 'started') summary.sessions++;
        for (const m of record.matched ?? []) matchedFns.add(`${record.pid} ${m.fn}`);
        summary.unpatchable += (record.unpatchable ?? []).length;
        break;
      case 'call':
        summary.calls++;
        byFn.set(record.fn, (byFn.get(record.fn) ?? 0) + 1);
        break;
      case 'stopped': {
        const stats = record.stats ?? {};
        summary.reported += stats.reported ?? 0;
        for (const k of Object.keys(summary.dropped)) summary.dropped[k] += stats.dropped?.[k] ?? 0;
        summary.internalErrors += stats.internalErrors ?? 0;
        summary.stopReasons[record.reason] = (summary.stopReasons[record.reason] ?? 0) + 1;
        break;
      }
    }
  }
  summary.processes = pids.size;
  summary.matched = matchedFns.size;
  summary.distinctFunctions = byFn.size;
  summary.topFunctions = [...byFn.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([fn, n]) => `${fn} ×${n}`);
  return summary;
}

// ---------------------------------------------------------------------------------------
// One project

async function runProject(project, options) {
  const name = project.name ?? basename(project.dir);
  const keep = options.keep ?? join(tmpdir(), 'peer-suite', name);
  mkdirSync(keep, { recursive: true });
  const env = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...(project.env ?? {}) };
  delete env.LIVETRACE_RUN;
  const timeoutS = project.timeout ?? options.timeoutS;
  const result = { name, dir: project.dir, command: project.test, patterns: project.patterns, mode: options.attach ? 'attach' : 'preload' };
  if (!existsSync(project.dir)) {
    result.error = `no checkout at ${project.dir}`;
    return result;
  }
  if (options.untraced) {
    say(`\n=== ${name}: untraced: ${project.test.join(' ')}`);
    const logFile = join(keep, 'untraced.log');
    const run = await runBounded(project.test, { cwd: project.dir, env, logFile, timeoutS, quiet: options.quiet });
    const output = readFileSync(logFile, 'utf8');
    result.untraced = { ...run, summary: parseSummary(output), log: logFile };
  }
  if (options.traced) {
    const suffix = options.attach ? '-attach' : '';
    const events = join(keep, `events${suffix}.jsonl`);
    rmSync(events, { force: true });
    const socketDir = mkdtempSync(join(tmpdir(), 'lt-peer-'));
    const tracedEnv = { ...env, LIVETRACE_SOCKET_DIR: socketDir };
    if (options.agentLog) tracedEnv.LIVETRACE_LOG = join(keep, 'agent.log');
    const limits = [
      '--max', String(1_000_000_000), '--rate', 'off', '--for', '24h',
      '--cpu-budget', '1000', '--max-functions', String(options.maxFunctions), '--force',
      ...(options.depth !== undefined ? ['--depth', String(options.depth)] : []),
    ];
    let argv;
    if (options.attach) {
      // The same limits as the CLI's, in the library's terms (src/cli/trace-options.ts).
      const traceOptions = {
        max: 1_000_000_000, rate: false, for: '24h', overloadMsPerSec: 1000,
        maxFunctions: options.maxFunctions, force: true,
        ...(options.depth !== undefined ? { depth: options.depth } : {}),
      };
      const attachScript = join(repo, 'scripts', 'peer-attach.cjs');
      tracedEnv.PEER_ATTACH = JSON.stringify({
        register: join(repo, 'dist', 'cjs', 'register.js'),
        library: join(repo, 'dist', 'cjs', 'index.js'),
        patterns: project.patterns,
        options: traceOptions,
        events,
      });
      tracedEnv.PEER_ATTACH_DELAY_MS = String(options.attachDelayMs);
      tracedEnv.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --require ${JSON.stringify(attachScript)}`.trim();
      argv = project.test;
    } else {
      argv = [process.execPath, cli, 'run', ...project.patterns.flatMap((p) => ['-t', p]), '--format', 'json', '--output', events, ...limits, '--', ...project.test];
    }
    const how = options.attach ? `attach-emulated (delay ${options.attachDelayMs} ms)` : `livetrace run ${project.patterns.map((p) => `-t '${p}'`).join(' ')} ... --`;
    say(`\n=== ${name}: traced: ${how} ${project.test.join(' ')}`);
    const logFile = join(keep, `traced${suffix}.log`);
    try {
      const run = await runBounded(argv, { cwd: project.dir, env: tracedEnv, logFile, timeoutS, quiet: options.quiet });
      const output = readFileSync(logFile, 'utf8');
      result.traced = { ...run, summary: parseSummary(output), log: logFile, events: readEvents(events), eventsFile: events };
      const untracedOutput = result.untraced ? readFileSync(result.untraced.log, 'utf8') : '';
      const before = new Set(firstFailures(untracedOutput, 1000));
      result.traced.newFailures = firstFailures(output, 1000).filter((l) => !before.has(l)).slice(0, 6);
    } finally {
      rmSync(socketDir, { recursive: true, force: true });
    }
  }
  return result;
}

function say(line) {
  console.error(line);
}

// ---------------------------------------------------------------------------------------
// Reporting

function describeRun(run) {
  if (run === undefined) return 'not run';
  const status = run.timedOut ? `timed out after ${Math.round(run.ms / 1000)}s` : run.signal ? `signal ${run.signal}` : `exit ${run.exit}`;
  const s = run.summary;
  const counts = s ? `${s.runner}: ${s.pass} pass, ${s.fail} fail${s.skip ? `, ${s.skip} skip` : ''}${s.note ? ` (${s.note})` : ''}` : 'no summary recognised';
  return `${status}; ${counts}; ${(run.ms / 1000).toFixed(1)}s`;
}

function describeEvents(e) {
  const stops = Object.entries(e.stopReasons).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
  const dropped = Object.entries(e.dropped).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
  return `${e.calls} calls from ${e.distinctFunctions ?? 0} functions in ${e.processes} processes (${e.sessions} sessions, ${e.matched} functions matched${e.unpatchable ? `, ${e.unpatchable} unpatchable` : ''}; stopped: ${stops}${dropped ? `; dropped: ${dropped}` : ''}${e.internalErrors ? `; internal errors ${e.internalErrors}` : ''})`;
}

function report(result) {
  const lines = [`--- ${result.name} (${result.dir})`];
  if (result.error) return [...lines, `  ${result.error}`].join('\n');
  lines.push(`  command:  ${result.command.join(' ')}`);
  lines.push(`  pattern:  ${result.patterns.join('  ')}  (${result.mode})`);
  lines.push(`  untraced: ${describeRun(result.untraced)}`);
  lines.push(`  traced:   ${describeRun(result.traced)}`);
  if (result.traced) {
    lines.push(`  events:   ${describeEvents(result.traced.events)}`);
    if (result.traced.events.topFunctions.length > 0) lines.push(`  top:      ${result.traced.events.topFunctions.join(', ')}`);
    if (result.traced.newFailures.length > 0) {
      lines.push('  failures only in the traced run (first lines):');
      for (const l of result.traced.newFailures) lines.push(`    ${l}`);
    }
    lines.push(`  logs:     ${dirname(result.traced.log)}`);
  }
  lines.push(`  verdict:  ${verdict(result)}`);
  return lines.join('\n');
}

function sameOutcome(a, b) {
  if (a === undefined || b === undefined) return undefined;
  const failing = (r) => r.timedOut || r.exit !== 0 || (r.summary?.fail ?? 0) > 0;
  return failing(a) === failing(b) && (a.summary?.fail ?? 0) === (b.summary?.fail ?? 0);
}

function verdict(result) {
  const same = sameOutcome(result.untraced, result.traced);
  if (same === undefined) return 'one run only';
  const events = result.traced.events.calls;
  if (!same) return `DIFFERENT (${events} events)`;
  return events > 0 ? 'same outcome, events flowing' : 'same outcome, but NO events';
}

function markdownRow(r) {
  if (r.error) return `| ${r.name} | | | ${r.error} | | | |`;
  const cell = (run) => (run ? describeRun(run).replace(/\|/g, '\\|') : '');
  const events = r.traced ? `${r.traced.events.calls} calls, ${r.traced.events.distinctFunctions} fns, ${r.traced.events.processes} procs` : '';
  return `| ${r.name} | \`${r.command.join(' ')}\` | \`${r.patterns.join('` `')}\` | ${cell(r.untraced)} | ${cell(r.traced)} | ${events} | ${verdict(r)} |`;
}

// ---------------------------------------------------------------------------------------

async function main() {
  const { options, command } = parseArgs(process.argv.slice(2));
  let projects;
  if (options.all !== undefined) {
    const suites = JSON.parse(readFileSync(options.all, 'utf8'));
    projects = suites.projects
      .filter((p) => options.only === undefined || options.only.includes(p.name))
      .map((p) => ({
        name: p.name,
        dir: isAbsolute(p.dir ?? p.name) ? (p.dir ?? p.name) : join(options.peerDir, p.dir ?? p.name),
        test: p.test,
        patterns: Array.isArray(p.pattern) ? p.pattern : [p.pattern],
        timeout: p.timeout,
        env: p.env,
      }));
  } else {
    const [dir, pattern, ...rest] = options.positional;
    if (dir === undefined) fail('no project directory given');
    if (rest.length > 0) fail(`unexpected argument ${rest[0]}`);
    const patterns = [...(pattern !== undefined ? [pattern] : []), ...options.patterns];
    if (patterns.length === 0) patterns.push('**:**');
    if (command.length === 0) fail('no test command given after --');
    projects = [{ dir: resolve(dir), test: command, patterns }];
  }
  if (options.keep !== undefined && projects.length > 1) fail('--keep names one project\'s directory; use it without --all');
  const results = [];
  for (const project of projects) {
    const result = await runProject(project, options);
    results.push(result);
    say(`\n${report(result)}`);
  }
  console.log(results.map(report).join('\n\n'));
  if (options.markdown) {
    console.log('\n| project | command | pattern | untraced | traced | events | verdict |');
    console.log('|---|---|---|---|---|---|---|');
    for (const r of results) console.log(markdownRow(r));
  }
  if (options.json !== undefined) writeFileSync(options.json, JSON.stringify(results, null, 2) + '\n');
  // Exit 1 when any project behaved differently traced, or saw no events.
  process.exitCode = results.some((r) => r.traced && r.untraced && !verdict(r).startsWith('same outcome, events')) ? 1 : 0;
}

await main();
