/** Rows drawn beyond the visible ones on each side, so a fast scroll does not show blank space. */
const OVERSCAN = 8;

/** Which rows of `count` are visible in a viewport scrolled to `scrollTop` (pure, for the unit test). */
export function visibleRange(
  count: number,
  scrollTop: number,
  viewport: number,
  rowHeight: number,
  overscan = OVERSCAN,
): { first: number; last: number } {
  if (count === 0 || rowHeight <= 0) return { first: 0, last: 0 };
  const first = Math.max(0, Math.min(count - 1, Math.floor(scrollTop / rowHeight) - overscan));
  const last = Math.min(count, Math.ceil((scrollTop + viewport) / rowHeight) + overscan);
  return { first, last: Math.max(first + 1, last) };
}
