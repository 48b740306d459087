'use client';
/**
 * A virtualized chat log: only the rows near the viewport are in the page (spacers stand in for the rest), rows
 * have their real, measured heights (ResizeObserver; an estimate until then), and the reader's place is kept:
 * - at the bottom it stays at the bottom as messages arrive or images load;
 * - elsewhere it is anchored to the first visible row, so older history loading above (or a row above changing
 *   height) does not move what is being read.
 * A few dozen lines instead of a library: the anchoring rule is the whole point, and libraries tuned for
 * top-down lists need the same code around them.
 */
import { useCallback, useEffect, useImperativeHandle, useLayoutEffect, useRef, useState, type ReactNode, type Ref } from 'react';

const ESTIMATE = 56;
const OVERSCAN_PX = 800;
/** Closer than this to an end counts as being there. */
const EDGE_PX = 48;
const LOAD_MORE_PX = 400;

export interface VirtualLogHandle {
  scrollToBottom(): void;
  scrollToKey(key: string): void;
}

export interface VirtualLogProps<T extends { key: string }> {
  items: T[];
  render(item: T, index: number): ReactNode;
  label: string;
  /** Loading history: screen readers hold announcements while the log is busy. */
  busy?: boolean;
  onNearTop?(): void;
  onNearBottom?(): void;
  /** Whether the newest row is in view (for marking the channel read and the "new messages" button). */
  onAtBottomChange?(atBottom: boolean): void;
  /** Rows that keep their place as history loads (messages, not day separators); default all. */
  canAnchor?(item: T): boolean;
  /** Show this row first instead of the bottom (a link to a message). */
  initialKey?: string | null;
  header?: ReactNode;
  handle?: Ref<VirtualLogHandle>;
  testId?: string;
}

export function VirtualLog<T extends { key: string }>({ items, render, label, busy, canAnchor, onNearTop, onNearBottom, onAtBottomChange, initialKey, header, handle, testId }: VirtualLogProps<T>) {
  const scroller = useRef<HTMLDivElement>(null);
  const heights = useRef(new Map<string, number>());
  const [, setMeasured] = useState(0);
  const [viewport, setViewport] = useState({ top: 0, height: 800 });
  const stick = useRef(!initialKey);
  const anchor = useRef<{ key: string; delta: number } | null>(null);
  const pendingJump = useRef<string | null>(initialKey ?? null);
  const atBottom = useRef<boolean | null>(null);
  const headerHeight = useRef(0);

  const observer = useRef<ResizeObserver | null>(null);
  useEffect(() => {
    observer.current = new ResizeObserver((entries) => {
      let changed = false;
      for (const entry of entries) {
        const el = entry.target as HTMLElement;
        const key = el.dataset.rowKey;
        if (key === undefined) continue;
        const h = Math.round(el.getBoundingClientRect().height);
        if (heights.current.get(key) !== h) {
          heights.current.set(key, h);
          changed = true;
        }
      }
      if (changed) setMeasured((n) => n + 1);
    });
    return () => observer.current?.disconnect();
  }, []);

  const rowRef = useCallback((el: HTMLDivElement | null) => {
    if (!el) return;
    observer.current?.observe(el);
    return () => observer.current?.unobserve(el);
  }, []);

  // Offsets of every row from the list's top.
  const tops: number[] = new Array(items.length + 1);
  tops[0] = 0;
  for (let i = 0; i < items.length; i++) tops[i + 1] = tops[i]! + (heights.current.get(items[i]!.key) ?? ESTIMATE);
  const total = tops[items.length]!;
  const indexOf = (key: string) => items.findIndex((i) => i.key === key);

  // The visible window, in list coordinates (the header sits above the list).
  const from = Math.max(0, viewport.top - headerHeight.current - OVERSCAN_PX);
  const to = viewport.top - headerHeight.current + viewport.height + OVERSCAN_PX;
  let start = 0;
  while (start < items.length && tops[start + 1]! < from) start++;
  let end = start;
  while (end < items.length && tops[end]! <= to) end++;

  const recordPosition = useCallback(() => {
    const el = scroller.current;
    if (!el) return;
    const bottom = el.scrollHeight - el.scrollTop - el.clientHeight < EDGE_PX;
    stick.current = bottom;
    const listTop = el.scrollTop - headerHeight.current;
    let i = 0;
    while (i < items.length && tops[i + 1]! <= listTop) i++;
    // Separators move with the messages they head (a day's first message changes as history loads): anchor to a
    // message, even if it is a little further down.
    while (i < items.length - 1 && canAnchor && !canAnchor(items[i]!)) i++;
    anchor.current = items[i] ? { key: items[i]!.key, delta: listTop - tops[i]! } : null;
    if (atBottom.current !== bottom) {
      atBottom.current = bottom;
      onAtBottomChange?.(bottom);
    }
    // Recomputed each render; the closure sees this render's offsets.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [items, total, onAtBottomChange, canAnchor]);

  // After every render: restore the reader's place (bottom, a requested row, or the anchor).
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const head = el.querySelector<HTMLElement>('[data-log-header]');
    headerHeight.current = head ? head.offsetHeight : 0;
    if (pendingJump.current) {
      const i = indexOf(pendingJump.current);
      if (i >= 0) {
        el.scrollTop = headerHeight.current + tops[i]! - el.clientHeight / 3;
        const row = el.querySelector<HTMLElement>(`[data-row-key="${CSS.escape(pendingJump.current)}"]`);
        if (row) pendingJump.current = null;
      }
    } else if (stick.current) {
      el.scrollTop = el.scrollHeight;
    } else if (anchor.current) {
      const i = indexOf(anchor.current.key);
      if (i >= 0) {
        const want = headerHeight.current + tops[i]! + anchor.current.delta;
        if (Math.abs(el.scrollTop - want) > 1) el.scrollTop = want;
      }
    }
    recordPosition();
  });

  useImperativeHandle(handle, () => ({
    scrollToBottom() {
      stick.current = true;
      const el = scroller.current;
      if (el) el.scrollTop = el.scrollHeight;
      setMeasured((n) => n + 1);
    },
    scrollToKey(key: string) {
      pendingJump.current = key;
      stick.current = false;
      setMeasured((n) => n + 1);
    },
  }));

  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const update = () => setViewport({ top: el.scrollTop, height: el.clientHeight });
    const resize = new ResizeObserver(update);
    resize.observe(el);
    update();
    return () => resize.disconnect();
  }, []);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    recordPosition();
    setViewport({ top: el.scrollTop, height: el.clientHeight });
    if (el.scrollTop < LOAD_MORE_PX) onNearTop?.();
    if (el.scrollHeight - el.scrollTop - el.clientHeight < LOAD_MORE_PX) onNearBottom?.();
  };

  return (
    // The scrolling box is the log itself, focusable so keyboard users can scroll it with the arrow keys.
    <div
      ref={scroller}
      className="c-chat-log"
      onScroll={onScroll}
      data-testid={testId}
      role="log"
      aria-live="polite"
      aria-relevant="additions"
      aria-label={label}
      aria-busy={busy || undefined}
      tabIndex={0}
    >
      {header ? <div data-log-header="">{header}</div> : null}
      <div className="c-chat-log__rows">
        <div aria-hidden="true" style={{ height: tops[start] }} />
        {items.slice(start, end).map((item, i) => (
          <div key={item.key} ref={rowRef} data-row-key={item.key} className="c-chat-log__row">
            {render(item, start + i)}
          </div>
        ))}
        <div aria-hidden="true" style={{ height: total - tops[end]! }} />
      </div>
    </div>
  );
}
