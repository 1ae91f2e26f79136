/**
 * The re-entrancy guard: non-zero while livetrace's own code runs on this thread (capture,
 * queueing, socket work, the call-tree context, promise watching). A call that reaches a
 * wrapper while it is raised is a plain pass-through (dispatch.ts), so livetrace never
 * traces, and never recurses into, itself. A const object, so the check is one load.
 */
export const engine = { busy: 0 };

/**
 * Errors of livetrace's own that a shield (server/engine-work.ts) kept from reaching the
 * application, process-wide. Sessions count theirs in their own stats.
 */
export const shieldedErrors = { count: 0 };
