/**
 * Ctrl-C and SIGTERM during a trace: the first one ends the trace cleanly (the session
 * is stopped, so its patches are removed and the summary printed); a second Ctrl-C
 * means the user has stopped waiting, and the CLI exits at once (the agent still removes
 * the patches when the connection drops).
 */
export function onInterrupt(stop: () => void): () => void {
  let received = 0;
  const handler = (signal: NodeJS.Signals): void => {
    received++;
    if (received === 1) stop();
    else process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
