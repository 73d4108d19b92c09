/**
 * Media of a turn as thumbnails: an image the host made loadable (`src`: a webview URI of a local
 * file, a `data:` image, or an allowed remote URL) as an `<img>`; anything else — a remote URL not
 * allowed, a missing file, a file outside the dataset's folders, a video or audio file — as a
 * placeholder naming the reference, so that nothing is requested. Display only: the record keeps
 * its media as written.
 */
import type { MediaView, RecordOk, Section } from '../src/protocol';
import { el } from './dom';
import { t } from './strings';

function item(m: MediaView): HTMLElement {
  if (m.state === 'shown' && m.src !== undefined && m.kind === 'image') {
    const img = el('img', 'media-thumb');
    img.src = m.src;
    img.alt = m.ref;
    img.title = m.ref;
    img.loading = 'lazy';
    img.dataset.ref = m.ref;
    return img;
  }
  const icon = m.kind === 'image' ? 'file-media' : m.kind === 'video' ? 'device-camera-video' : 'unmute';
  const box = el('span', `media-placeholder media-${m.state}`);
  box.dataset.ref = m.ref;
  box.title = m.ref;
  box.appendChild(el('span', `codicon codicon-${icon}`));
  const text =
    m.state === 'remote'
      ? t('mediaRemote', m.kind, m.ref)
      : m.state === 'missing'
        ? t('mediaMissing', m.kind, m.ref)
        : m.state === 'outside'
          ? t('mediaOutside', m.kind, m.ref)
          : m.ref;
  box.appendChild(el('span', 'media-label', text));
  return box;
}

/** The media strip of turn `turn` of `section` (-1: entries no placeholder points to), if any. */
export function mediaStrip(r: RecordOk, section: Section, turn: number): HTMLElement | undefined {
  const list = (r.media ?? []).filter((m) => m.section === section && m.turn === turn);
  if (!list.length) return undefined;
  const strip = el('div', 'media-strip');
  if (turn < 0) strip.appendChild(el('div', 'media-caption', t('mediaUnplaced')));
  for (const m of list) strip.appendChild(item(m));
  return strip;
}
