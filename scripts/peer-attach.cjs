/**
 * peer-suite's --attach mode, loaded with `--require` in every Node process of a suite:
 * the closest in-process stand-in for `livetrace trace <pid>` attaching to a program that
 * is already running, for processes too short-lived and too many to attach to by hand.
 *
 * It does what the attach bootstrap (src/attach/bootstrap.ts) evaluates in a target: load
 * the CommonJS register entry through createRequire, then the library, but only after the
 * program has started (PEER_ATTACH_DELAY_MS after this file runs; 0 means the first
 * macrotask after the main module's synchronous part), so the program's modules were
 * loaded without livetrace, as they are when a user attaches. The session is then started
 * with the library's trace() in the process itself instead of over the socket; its
 * records are appended to PEER_ATTACH_EVENTS as JSON lines, the same records `livetrace
 * trace --format json` prints. Nothing here keeps the process alive (the timer is
 * unref'd; a pending iterator holds no handle), so records still queued when the process
 * exits are lost: the counts are a lower bound, and a process that exits before the delay
 * is not traced at all.
 */
'use strict';
const { isMainThread } = require('node:worker_threads');
const { appendFileSync } = require('node:fs');

const spec = process.env.PEER_ATTACH;
if (isMainThread && spec) {
  const { register, library, patterns, options, events } = JSON.parse(spec);
  const delay = Number(process.env.PEER_ATTACH_DELAY_MS ?? '0');
  const timer = setTimeout(() => {
    let session;
    try {
      require(register);
      session = require(library).trace(patterns, options);
    } catch (error) {
      appendFileSync(events, JSON.stringify({ type: 'peer-error', pid: process.pid, message: String(error && error.message) }) + '\n');
      return;
    }
    void (async () => {
      try {
        for await (const record of session) appendFileSync(events, JSON.stringify(record) + '\n');
      } catch (error) {
        appendFileSync(events, JSON.stringify({ type: 'peer-error', pid: process.pid, message: String(error && error.message) }) + '\n');
      }
    })();
  }, delay);
  timer.unref();
}
