/**
 * Typed messages between the extension host and the Dataset Overview webview, checked at runtime
 * on the host side (the webview is untrusted input).
 */
import type { OverviewStrings } from './core/overview/charts';
import type { OverviewFigures, Selection } from './core/overview/figures';
import type { FormatId } from './core/model';
import { FORMAT_IDS } from './protocol';

export type OverviewHostMessage =
  | { type: 'progress'; fileName: string; done: number; total: number }
  | {
      type: 'figures';
      fileName: string;
      figures: OverviewFigures;
      strings: OverviewStrings;
      /** The document has unsaved changes, which the overview (of the file on disk) does not show. */
      dirty: boolean;
    }
  | { type: 'error'; message: string };

export type OverviewWebviewMessage =
  | { type: 'ready' }
  | { type: 'select'; sel: Selection }
  | { type: 'refresh' }
  /** The figures were drawn: how many bars (clickable elements) the page has. */
  | { type: 'rendered'; bars: number };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isShort = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 200;

function parseSelection(v: unknown): Selection | undefined {
  if (!isObj(v)) return undefined;
  switch (v.chart) {
    case 'format':
      return typeof v.format === 'string' && (FORMAT_IDS as readonly string[]).includes(v.format)
        ? { chart: 'format', format: v.format as FormatId }
        : undefined;
    case 'turns':
    case 'tokens':
      return isIndex(v.bin) ? { chart: v.chart, bin: v.bin } : undefined;
    case 'role':
      return isShort(v.role) && isIndex(v.bin) ? { chart: 'role', role: v.role, bin: v.bin } : undefined;
    case 'problem':
      return isShort(v.code) ? { chart: 'problem', code: v.code } : undefined;
    case 'exact':
    case 'userQuestions':
    case 'dialogues':
      return isIndex(v.cluster) ? { chart: v.chart, cluster: v.cluster } : undefined;
    default:
      return undefined;
  }
}

/** A fresh, well-typed copy of a message from the overview webview, or undefined. */
export function parseOverviewMessage(v: unknown): OverviewWebviewMessage | undefined {
  if (!isObj(v)) return undefined;
  switch (v.type) {
    case 'ready':
      return { type: 'ready' };
    case 'refresh':
      return { type: 'refresh' };
    case 'rendered':
      return isIndex(v.bars) ? { type: 'rendered', bars: v.bars } : undefined;
    case 'select': {
      const sel = parseSelection(v.sel);
      return sel ? { type: 'select', sel } : undefined;
    }
    default:
      return undefined;
  }
}
