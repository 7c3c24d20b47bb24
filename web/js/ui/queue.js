// The queue panel: jump to a song, drag (or Alt+↑/↓) to reorder, remove, clear.

import { duration, fill, h, icon, iconButton } from '../dom.js';

let panel = null;
let opener = null;

export function toggleQueue() {
  if (!panel) return;
  panel.hidden = !panel.hidden;
  document.getElementById('queue-button')?.setAttribute('aria-expanded', String(!panel.hidden));
  if (!panel.hidden) {
    opener = document.activeElement;
    panel.dispatchEvent(new Event('open'));
    (panel.querySelector('li.current button.q-title') || panel.querySelector('button'))?.focus();
  } else opener?.focus?.();
}

const ROW = 52; // px per row: only the rows in view are in the page, so long queues stay fast

export function renderQueue(el, player) {
  panel = el;
  const list = h('ol.queue-list', { 'aria-label': 'Songs in the queue' });
  const scroller = h('div.queue-scroll', {}, list);
  const count = h('span.muted');
  fill(el,
    h('div.queue-head', {}, h('h2', {}, 'Queue ', count),
      h('div', {}, h('button.button', { type: 'button', onclick: () => player.clear() }, 'Clear'),
        iconButton('close', 'Close the queue', () => toggleQueue()))),
    scroller);
  let dragFrom = -1;
  const row = (song, i) => {
    const li = h(`li${i === player.index ? '.current' : ''}`, { draggable: 'true', dataset: { index: i }, 'aria-current': i === player.index ? 'true' : null, 'aria-posinset': i + 1, 'aria-setsize': player.queue.length },
      h('span.handle', { 'aria-hidden': 'true' }, icon('drag')),
      h('button.q-title', { type: 'button', onclick: () => player.jump(i), title: 'Play (Alt+↑/↓ moves it)', onkeydown: (e) => {
        if (!e.altKey || (e.key !== 'ArrowUp' && e.key !== 'ArrowDown')) return;
        e.preventDefault();
        const to = i + (e.key === 'ArrowUp' ? -1 : 1);
        player.move(i, to);
        list.querySelector(`li[data-index="${to}"] .q-title`)?.focus();
      } }, h('span', {}, song.title), h('span.sub', {}, `${song.artist || ''} · ${duration(song.duration)}`)),
      h('span.q-tools', {},
        iconButton('up', `Move ${song.title} up`, () => player.move(i, i - 1), { disabled: i === 0 }),
        iconButton('down', `Move ${song.title} down`, () => player.move(i, i + 1), { disabled: i === player.queue.length - 1 }),
        iconButton('close', `Remove ${song.title} from the queue`, () => player.removeAt(i))));
    li.style.top = `${i * ROW}px`;
    li.addEventListener('dragstart', (e) => { dragFrom = i; e.dataTransfer.effectAllowed = 'move'; e.dataTransfer.setData('text/plain', String(i)); });
    li.addEventListener('dragover', (e) => { e.preventDefault(); li.classList.add('drop-target'); });
    li.addEventListener('dragleave', () => li.classList.remove('drop-target'));
    li.addEventListener('drop', (e) => { e.preventDefault(); li.classList.remove('drop-target'); if (dragFrom >= 0) player.move(dragFrom, i); dragFrom = -1; });
    return li;
  };
  const paint = () => {
    if (el.hidden) return;
    count.textContent = `${player.queue.length} songs`;
    list.style.height = `${player.queue.length * ROW}px`;
    const first = Math.max(0, Math.floor(scroller.scrollTop / ROW) - 8);
    const last = Math.min(player.queue.length, first + Math.ceil((scroller.clientHeight || 800) / ROW) + 16);
    const focused = document.activeElement?.closest?.('.queue-list li')?.dataset.index;
    const rows = [];
    for (let i = first; i < last; i++) rows.push(row(player.queue[i], i));
    fill(list, rows);
    if (focused !== undefined) list.querySelector(`li[data-index="${focused}"] .q-title`)?.focus();
  };
  let frame = 0;
  scroller.addEventListener('scroll', () => { cancelAnimationFrame(frame); frame = requestAnimationFrame(paint); }, { passive: true });
  player.addEventListener('change', paint);
  el.addEventListener('open', () => {
    paint();
    scroller.scrollTop = Math.max(0, player.index * ROW - scroller.clientHeight / 2);
    paint();
  });
}
