import { useEffect, useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import { visibleRange } from './virtual-range';

/**
 * A table whose body holds only the rows in view (and a few around them): two spacer rows stand
 * for the others, so the scroll bar and scroll position are those of the whole list. Rows keep
 * one height (measured from the first row drawn); the table scrolls inside its box with the
 * header kept on top. `selected` is scrolled into view when it changes (keyboard navigation).
 */
export function VirtualTable<T>({
  label,
  items,
  head,
  row,
  selected = -1,
  maxHeight = 560,
}: {
  label: string;
  items: readonly T[];
  head: ReactNode;
  row: (item: T, index: number) => ReactNode;
  selected?: number;
  maxHeight?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(maxHeight);
  const [rowHeight, setRowHeight] = useState(29);
  const { first, last } = visibleRange(items.length, scrollTop, viewport, rowHeight);

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    setViewport(el.clientHeight || maxHeight);
    const drawn = el.querySelector<HTMLTableRowElement>('tbody tr:not(.spacer)');
    const h = drawn?.getBoundingClientRect().height ?? 0;
    if (h > 0 && Math.abs(h - rowHeight) > 0.5) setRowHeight(h);
  }, [items.length, maxHeight, rowHeight]);

  useEffect(() => {
    const el = box.current;
    if (!el || selected < 0) return;
    const head = el.querySelector('thead')?.getBoundingClientRect().height ?? 0;
    const top = selected * rowHeight;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + rowHeight > el.scrollTop + el.clientHeight - head)
      el.scrollTop = top + rowHeight - el.clientHeight + head;
  }, [selected, rowHeight]);

  return (
    <div
      className="virtual"
      ref={box}
      style={{ maxHeight }}
      data-rows={items.length}
      onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
    >
      <table className="list" aria-label={label} aria-rowcount={items.length + 1}>
        <thead>{head}</thead>
        <tbody>
          {first > 0 ? <tr className="spacer" aria-hidden="true" style={{ height: first * rowHeight }} /> : null}
          {items.slice(first, last).map((item, k) => row(item, first + k))}
          {last < items.length ? (
            <tr className="spacer" aria-hidden="true" style={{ height: (items.length - last) * rowHeight }} />
          ) : null}
        </tbody>
      </table>
    </div>
  );
}
