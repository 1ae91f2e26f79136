/**
 * `--format json`: every record exactly as the agent produced it (docs/events.md), one
 * JSON object per line. Nothing is added, renamed or reordered, so `jq` scripts written
 * against the schema work on the CLI's output as they do on the library's records.
 */
import type { SessionRecord } from '../../protocol/events.js';
import { rawRecordText } from '../../client/raw-records.js';

/** A call record the client kept as the agent's text (its rawCalls mode) is that text, which is what JSON.stringify would give. */
export function formatJsonRecord(record: SessionRecord): string {
  return `${rawRecordText(record) ?? JSON.stringify(record)}\n`;
}
