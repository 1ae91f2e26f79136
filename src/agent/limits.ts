/**
 * The agent's own resources, capped process-wide. The agent lives in someone else's
 * process, so no client, however many or however slow, may take more than these from it:
 * descriptors (connections), time (a peer that never says hello), sessions and memory
 * (queued records). Each cap is documented in docs/security.md with its coded error.
 */

/** Open client connections; one more is answered LT_AGENT_BUSY and closed at once. */
export const MAX_CONNECTIONS = 32;

/** A connection that has not completed hello by then is closed (LT_PROTOCOL_HANDSHAKE). */
export const HELLO_DEADLINE_MS = 2000;

/** Sessions one connection may run at once; one more is refused with LT_AGENT_BUSY. */
export const MAX_SESSIONS_PER_CONNECTION = 16;

/**
 * Heap bytes of call records queued for readers across all sessions of the process
 * (records counted at HEAP_BYTES_PER_ESTIMATED_BYTE times their encoded size, session/queue.ts).
 * Past it a new call record is dropped and counted by its session, as for its own queue bound.
 */
export const MAX_QUEUED_BYTES_TOTAL = 64 * 1024 * 1024;
