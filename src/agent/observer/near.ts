/** Near misses for a name someone typed: the observer's 'did you mean'. */
import { ArrayPrototypePush } from '../../safe/intrinsics.js';

/** Up to five names close to `want`: containing it, contained in it, or within two edits. */
export function near(want: string, names: Iterable<string>): string[] {
  const lower = want.toLowerCase();
  const scored: { name: string; distance: number }[] = [];
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) continue;
    seen.add(name);
    const have = name.toLowerCase();
    const distance = have.includes(lower) || lower.includes(have) ? 0 : editDistance(lower.slice(0, 60), have.slice(0, 60));
    if (distance <= 2) ArrayPrototypePush(scored, { name, distance });
  }
  return scored.sort((a, b) => a.distance - b.distance || a.name.localeCompare(b.name)).slice(0, 5).map((s) => s.name);
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
