/**
 * `--format json`: every record exactly as the agent produced it (docs/events.md), one
 * JSON object per line. Nothing is added, renamed or reordered, so `jq` scripts written
 * against the schema work on the CLI's output as they do on the library's records.
 */
import type { SessionRecord } from '../../protocol/events.js';

export function formatJsonRecord(record: SessionRecord): string {
  return `${JSON.stringify(record)}\n`;
}
