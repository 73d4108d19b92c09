/**
 * A virtual list with its own scroll model: only the visible rows exist in the DOM, and positions
 * are kept in "virtual pixels", so a million rows scroll smoothly even though browsers cap the
 * height of an element (the native scrollbar is scaled when the list is taller than that).
 */

/** Browsers cap element heights around 16–33 million pixels; stay well below. */
const MAX_SCROLL_HEIGHT = 4_000_000;

export interface VirtualListOptions {
  rowHeight: number;
  label: string;
  /** Fills a row element for list position `pos`. */
  renderRow(row: HTMLElement, pos: number): void;
  /** The list shows positions `first .. last` (inclusive); load what is missing. */
  onRange(first: number, last: number): void;
  onSelect(pos: number): void;
  /** Enter on a row. */
  onActivate(pos: number): void;
  onScroll(): void;
}

export class VirtualList {
  readonly element: HTMLElement;
  private readonly scroller: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly layer: HTMLElement;
  private rows: HTMLElement[] = [];
  private length = 0;
  private top = 0;
  private selected = -1;
  private ignoreScroll = false;
  private frame = 0;

  constructor(private readonly opts: VirtualListOptions) {
    this.element = document.createElement('div');
    this.element.className = 'vlist';
    this.element.tabIndex = 0;
    this.element.setAttribute('role', 'listbox');
    this.element.setAttribute('aria-label', opts.label);
    this.scroller = document.createElement('div');
    this.scroller.className = 'vlist-scroll';
    this.scroller.setAttribute('aria-hidden', 'true');
    this.spacer = document.createElement('div');
    this.spacer.className = 'vlist-spacer';
    this.scroller.appendChild(this.spacer);
    this.layer = document.createElement('div');
    this.layer.className = 'vlist-rows';
    this.element.append(this.scroller, this.layer);

    this.scroller.addEventListener('scroll', () => {
      if (this.ignoreScroll) {
        this.ignoreScroll = false;
        return;
      }
      this.top = this.fromScrollTop(this.scroller.scrollTop);
      this.schedule();
    });
    this.element.addEventListener(
      'wheel',
      (e) => {
        e.preventDefault();
        const dy =
          e.deltaMode === 1
            ? e.deltaY * opts.rowHeight
            : e.deltaMode === 2
              ? e.deltaY * this.viewport()
              : e.deltaY;
        this.scrollTo(this.top + dy);
      },
      { passive: false },
    );
    this.layer.addEventListener('click', (e) => {
      const row = (e.target as HTMLElement).closest<HTMLElement>('.vrow');
      if (!row || row.dataset.pos === undefined) return;
      this.element.focus({ preventScroll: true });
      this.select(Number(row.dataset.pos));
    });
    this.layer.addEventListener('dblclick', (e) => {
      const row = (e.target as HTMLElement).closest<HTMLElement>('.vrow');
      if (row?.dataset.pos !== undefined) opts.onActivate(Number(row.dataset.pos));
    });
    this.element.addEventListener('keydown', (e) => this.onKey(e));
    new ResizeObserver(() => this.layout()).observe(this.element);
  }

  private viewport(): number {
    return this.element.clientHeight || 1;
  }
  private totalHeight(): number {
    return this.length * this.opts.rowHeight;
  }
  private maxTop(): number {
    return Math.max(0, this.totalHeight() - this.viewport());
  }
  private scale(): number {
    const spacer = Math.min(this.totalHeight(), MAX_SCROLL_HEIGHT);
    const nativeMax = Math.max(0, spacer - this.viewport());
    return this.maxTop() === 0 ? 1 : nativeMax / this.maxTop();
  }
  private fromScrollTop(st: number): number {
    return Math.min(this.maxTop(), st / this.scale());
  }

  get scrollTop(): number {
    return this.top;
  }
  get selectedPos(): number {
    return this.selected;
  }
  get size(): number {
    return this.length;
  }

  scrollTo(top: number): void {
    this.top = Math.max(0, Math.min(this.maxTop(), top));
    const st = Math.round(this.top * this.scale());
    if (Math.abs(this.scroller.scrollTop - st) >= 1) {
      this.ignoreScroll = true;
      this.scroller.scrollTop = st;
    }
    this.schedule();
  }

  setLength(n: number): void {
    if (n === this.length) return;
    this.length = n;
    this.spacer.style.height = `${Math.min(this.totalHeight(), MAX_SCROLL_HEIGHT)}px`;
    if (this.selected >= n) this.selected = n - 1;
    this.scrollTo(this.top);
    this.element.setAttribute('aria-setsize', String(n));
  }

  /** Re-renders the visible rows (data arrived or changed). */
  refresh(): void {
    this.schedule();
  }

  select(pos: number, reveal = true): void {
    if (this.length === 0) return;
    const p = Math.max(0, Math.min(this.length - 1, pos));
    const changed = p !== this.selected;
    this.selected = p;
    if (reveal) this.reveal(p);
    this.schedule();
    if (changed) this.opts.onSelect(p);
  }

  /** Scrolls so that `pos` is visible. */
  reveal(pos: number): void {
    const h = this.opts.rowHeight;
    const y = pos * h;
    if (y < this.top) this.scrollTo(y);
    else if (y + h > this.top + this.viewport()) this.scrollTo(y + h - this.viewport());
  }

  private onKey(e: KeyboardEvent): void {
    const page = Math.max(1, Math.floor(this.viewport() / this.opts.rowHeight) - 1);
    let to: number | undefined;
    switch (e.key) {
      case 'ArrowDown':
      case 'j':
        to = this.selected + 1;
        break;
      case 'ArrowUp':
      case 'k':
        to = Math.max(0, this.selected - 1);
        break;
      case 'PageDown':
        to = this.selected + page;
        break;
      case 'PageUp':
        to = Math.max(0, this.selected - page);
        break;
      case 'Home':
        to = 0;
        break;
      case 'End':
        to = this.length - 1;
        break;
      case 'Enter':
        if (this.selected >= 0) this.opts.onActivate(this.selected);
        e.preventDefault();
        return;
      default:
        return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    e.preventDefault();
    e.stopPropagation();
    this.select(to);
  }

  private layout(): void {
    const count = Math.ceil(this.viewport() / this.opts.rowHeight) + 1;
    while (this.rows.length < count) {
      const row = document.createElement('div');
      row.className = 'vrow';
      row.setAttribute('role', 'option');
      row.id = `vrow-${this.rows.length}`;
      this.layer.appendChild(row);
      this.rows.push(row);
    }
    while (this.rows.length > count) this.rows.pop()?.remove();
    this.layer.style.right = `${this.scroller.offsetWidth - this.scroller.clientWidth}px`;
    this.scrollTo(this.top);
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private render(): void {
    const h = this.opts.rowHeight;
    const first = Math.floor(this.top / h);
    const offset = this.top - first * h;
    let active: string | undefined;
    this.rows.forEach((row, k) => {
      const pos = first + k;
      if (pos >= this.length) {
        row.hidden = true;
        delete row.dataset.pos;
        return;
      }
      row.hidden = false;
      row.dataset.pos = String(pos);
      row.style.transform = `translateY(${k * h - offset}px)`;
      row.setAttribute('aria-posinset', String(pos + 1));
      row.setAttribute('aria-setsize', String(this.length));
      const sel = pos === this.selected;
      row.setAttribute('aria-selected', String(sel));
      row.classList.toggle('selected', sel);
      if (sel) active = row.id;
      this.opts.renderRow(row, pos);
    });
    if (active) this.element.setAttribute('aria-activedescendant', active);
    else this.element.removeAttribute('aria-activedescendant');
    if (this.length > 0) this.opts.onRange(first, Math.min(this.length - 1, first + this.rows.length - 1));
    this.opts.onScroll();
  }
}
