/**
 * "Did you mean …?": the nearest valid name to a misspelt one.
 *
 * Optimal string alignment distance (Damerau-Levenshtein restricted to adjacent swaps)
 * counts the typos people make — a wrong, missing, extra or swapped letter — as one each.
 */

/** Edit distance between two strings, counting adjacent transpositions as one edit. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  // Three rolling rows keep memory linear in the shorter string.
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      cur.push(d);
    }
    prev2 = prev;
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * How many edits still look like a typo rather than a different word: about one in three
 * letters, so "maxDeph" finds "maxDepth" but "seed" does not find "step".
 */
function cutoff(word: string): number {
  return Math.max(1, Math.min(4, Math.floor(word.length / 3)));
}

/**
 * The candidate nearest to `word`, or undefined when none is close enough. Case is ignored
 * when measuring (so "MaxDepth" finds "maxDepth"); ties go to the earlier candidate. Failing
 * an edit-distance match, a candidate that contains the word (or is contained in it) counts,
 * so "forest" finds "random-forest".
 */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  const w = word.toLowerCase();
  if (w.length === 0 || w.length > 200) return undefined;
  let best: string | undefined;
  let bestDistance = Infinity;
  let contained: string | undefined;
  for (const c of candidates) {
    if (c === word) continue;
    const lc = c.toLowerCase();
    const d = editDistance(w, lc);
    if (d <= cutoff(lc) && d < bestDistance) {
      best = c;
      bestDistance = d;
    }
    if (contained === undefined && w.length >= 4 && (lc.includes(w) || w.includes(lc))) contained = c;
  }
  return best ?? contained;
}
