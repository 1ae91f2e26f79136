import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout the tests run in (wherever it was cloned). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
