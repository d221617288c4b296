// A panel: a <section> with a heading, an error line and a body. Each refresh runs its load();
// a failure shows the error in the panel (role=alert) and leaves the other panels alone; the
// last good content stays, marked stale. Test hooks: data-testid="panel-<id>", data-state
// ("loading" | "ok" | "error"), data-version (+1 per successful render).
import { h, replace } from './dom.js';
import { fmtAgo } from './format.js';

export class Panel {
  constructor({ id, title, intro, wide = false }) {
    this.id = id;
    this.version = 0;
    this.errorBox = h('div', { class: 'panel-error', role: 'alert', testid: `panel-${id}-error`, hidden: true });
    this.body = h('div', { class: 'panel-body' });
    this.footer = h('p', { class: 'muted panel-footer', testid: `panel-${id}-asof` });
    this.tools = h('div', { class: 'panel-tools' });
    this.element = h('section', {
      id, class: `panel${wide ? ' wide' : ''}`, testid: `panel-${id}`, 'aria-labelledby': `${id}-title`,
      'data-state': 'loading', 'data-version': '0',
    },
    h('header', { class: 'panel-head' },
      h('h2', { id: `${id}-title` }, title),
      this.tools),
    intro ? h('p', { class: 'muted intro' }, intro) : null,
    this.errorBox, this.body, this.footer);
    replace(this.body, h('p', { class: 'muted' }, 'Loading…'));
    this.track();
  }

  // Runs render(); marks the panel ok or shows the error. Scroll positions of the panel's tables
  // and the focused control (by data-testid) survive the re-render, so a refresh every few
  // seconds does not move what the reader is looking at.
  async run(render) {
    this.snapshot();
    try {
      const generatedAt = await render();
      this.restore();
      this.errorBox.hidden = true;
      this.errorBox.textContent = '';
      this.element.classList.remove('stale');
      this.version += 1;
      this.element.dataset.version = String(this.version);
      this.element.dataset.state = 'ok';
      if (generatedAt) {
        this.footer.textContent = `Computed by the server at ${generatedAt.replace('T', ' ').replace(/\.\d+/, '')}`;
      }
    } catch (e) {
      if (e && e.name === 'AbortError') return;
      this.element.dataset.state = 'error';
      this.element.classList.toggle('stale', this.version > 0);
      this.errorBox.hidden = false;
      this.errorBox.textContent = `Could not load this panel: ${e && e.message ? e.message : e}` +
        (this.version > 0 ? ' (showing the last data received)' : '');
    }
  }

  // Remembers where the reader is (table scroll positions, the focused control), as it happens:
  // a refresh's fetch takes time, during which they may still move. snapshot() reads the
  // positions when a refresh starts too, so a scroll whose event is still pending is not lost.
  track() {
    this.scroll = new Map();
    this.focusId = null;
    this.element.addEventListener('scroll', (e) => {
      const box = e.target;
      if (!(box instanceof Element) || !box.classList.contains('table-scroll')) return;
      const id = box.querySelector('table[data-testid]')?.dataset.testid;
      if (id) this.scroll.set(id, [box.scrollTop, box.scrollLeft]);
    }, true);
    this.element.addEventListener('focusin', (e) => { this.focusId = e.target.getAttribute('data-testid'); });
    this.element.addEventListener('focusout', (e) => {
      if (e.relatedTarget && !this.element.contains(e.relatedTarget)) this.focusId = null;
    });
  }

  snapshot() {
    for (const box of this.element.querySelectorAll('.table-scroll')) {
      const id = box.querySelector('table[data-testid]')?.dataset.testid;
      if (id) this.scroll.set(id, [box.scrollTop, box.scrollLeft]);
    }
  }

  restore() {
    for (const [id, [top, left]] of this.scroll) {
      const box = this.element.querySelector(`table[data-testid="${CSS.escape(id)}"]`)?.closest('.table-scroll');
      if (box) {
        box.scrollTop = top;
        box.scrollLeft = left;
      }
    }
    const active = document.activeElement;
    if (this.focusId && (!active || active === document.body)) {
      const matches = this.element.querySelectorAll(`[data-testid="${CSS.escape(this.focusId)}"]`);
      if (matches.length === 1) matches[0].focus({ preventScroll: true });
    }
  }
}

// A span showing "N s ago" that keeps counting (main.js updates it every second): ref = the time at which
// the age was zero, in ms since the epoch.
export function agoSpan(secondsAgo, receivedAtMs, props = {}) {
  if (secondsAgo === null || secondsAgo === undefined) return h('span', props, 'never');
  const ref = receivedAtMs - secondsAgo * 1000;
  return h('span', { ...props, 'data-ago-ref': String(ref) }, fmtAgo(secondsAgo));
}

export function stat(label, value, testid, hint) {
  return h('div', { class: 'stat', testid },
    h('div', { class: 'stat-label' }, label),
    h('div', { class: 'stat-value', 'data-testid': testid ? `${testid}-value` : null }, value),
    hint ? h('div', { class: 'stat-hint muted' }, hint) : null);
}
