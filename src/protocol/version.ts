/**
 * The version livetrace reports: `livetrace --version` and both ends of the handshake.
 * A module of its own, importing nothing, so that `--version` loads this one file (the
 * launcher, bin/livetrace.js) instead of the CLI.
 */

/** Version of livetrace that agent and client report in the handshake (kept equal to package.json by a test). */
export const LIVETRACE_VERSION = '0.1.0';
