/**
 * The captured, JSON-safe form of a value (see docs/events.md, "Values").
 * Placeholder type until capture lands; capture owns this module.
 */
export type Value = null | boolean | number | string | Value[] | { [key: string]: Value };
