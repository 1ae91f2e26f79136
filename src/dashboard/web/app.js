// The dashboard's front-end: hash routes, one live channel (Server-Sent Events), uPlot
// charts. No framework: each page is a function that builds its DOM and returns a
// handler for the channel's events. Every URL is relative, so the page works under any
// mount path. Nothing here is inline in the HTML: the CSP allows only these files.
import uPlot from './uPlot.esm.js';

const main = document.getElementById('main');
const statusEl = document.getElementById('status');
const state = { channel: null, kind: 'remote', selfPid: null, page: null };

// ---------- helpers ----------
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'class') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  return node;
}
const bytes = (n) => (n == null ? '–' : n >= 1 << 30 ? `${(n / (1 << 30)).toFixed(2)} GiB` : n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${(n / 1024).toFixed(0)} KiB`);
const ms = (ns) => (ns >= 1e9 ? `${(ns / 1e9).toFixed(2)} s` : ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : `${(ns / 1e3).toFixed(1)} µs`);
const ago = (t) => { const s = Math.round(t / 1000); return s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`; };

const newRunId = () => Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('');

async function post(path, body) {
  const res = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ channel: state.channel, ...body }), credentials: 'same-origin' });
  if (!res.ok) return { ok: false, error: { code: `HTTP ${res.status}`, message: await res.text() } };
  return res.json();
}

function errorText(error) {
  if (!error) return '';
  const where = error.column ? ` (column ${error.column})` : '';
  return `${error.code}: ${error.message}${where}${error.hint ? `\n${error.hint}` : ''}`;
}

/** A captured value (docs/events.md) as short text. */
function show(value, depth = 0) {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return depth > 2 ? '[…]' : `[${value.slice(0, 8).map((v) => show(v, depth + 1)).join(', ')}${value.length > 8 ? ', …' : ''}]`;
  switch (value.$) {
    case 'undefined': return 'undefined';
    case 'number': case 'bigint': return `${value.value}${value.$ === 'bigint' ? 'n' : ''}`;
    case 'string': return `${JSON.stringify(value.value)}…(${value.length})`;
    case 'function': return `[Function ${value.name || '(anonymous)'}]`;
    case 'object': return `${value.class ?? '[null]'} ${show(value.props, depth)}`;
    case 'map': return `Map(${value.size})`;
    case 'set': return `Set(${value.size})`;
    case undefined: break;
    default: return `<${value.$}${value.class ? ` ${value.class}` : ''}${value.message ? `: ${value.message}` : ''}>`;
  }
  if (depth > 2) return '{…}';
  const keys = Object.keys(value);
  return `{${keys.slice(0, 8).map((k) => `${k}: ${show(value[k], depth + 1)}`).join(', ')}${keys.length > 8 ? ', …' : ''}}`;
}

/** A uPlot chart that keeps the last `span` seconds of a few series. */
function timeChart(title, labels, { span = 60, height = 180, scales = {}, series = {} } = {}) {
  const box = el('div', { class: 'chart' }, el('h3', {}, title));
  const data = [[], ...labels.map(() => [])];
  const colors = ['#2a6fdb', '#e67e22', '#c0392b', '#16a085', '#8e44ad', '#7f8c8d', '#d35400', '#27ae60'];
  const plot = new uPlot({
    width: 420, height,
    // The x axis always spans the last `span` seconds, so one point does not stretch it over years.
    scales: { x: { time: true, range: (u, min, max) => { const end = max ?? Date.now() / 1000; return [end - span, end]; } }, ...scales },
    axes: [{}, { size: 60 }, ...(scales.rate ? [{ scale: 'rate', side: 1, grid: { show: false }, size: 50 }] : [])],
    series: [{}, ...labels.map((label, i) => ({ label, stroke: colors[i % colors.length], width: 1.5, ...(series[label] ?? {}) }))],
  }, data, box);
  new ResizeObserver(() => { if (box.clientWidth > 0) plot.setSize({ width: box.clientWidth - 18, height }); }).observe(box);
  return {
    box,
    plot,
    data,
    push(t, values) {
      data[0].push(t / 1000);
      values.forEach((v, i) => data[i + 1].push(v));
      while (data[0].length > 0 && data[0][0] < t / 1000 - span) for (const column of data) column.shift();
      plot.setData(data);
      box.dataset.points = data[0].length;
    },
  };
}

// ---------- pages ----------
const pages = {
  processes() {
    let rows = [];
    let sort = { key: 'cpuPercent', dir: 'desc' };
    const selected = new Set();
    const columns = [
      ['', null], ['pid', 'pid', 'num'], ['name', 'name'], ['CPU %', 'cpuPercent', 'num'], ['RSS', 'rssBytes', 'num'],
      ['agent', 'reach'], ['sessions', 'sessions', 'num'], ['up', 'uptimeMs', 'num'], ['command', null],
    ];
    const head = el('tr', {}, columns.map(([label, key, cls]) => el('th', { class: cls, dataset: key ? { key } : {}, onclick: () => key && setSort(key) }, label)));
    const body = el('tbody');
    const latencyButton = el('button', { class: 'secondary', disabled: true, onclick: () => { location.hash = `#/latency?pids=${[...selected].join(',')}`; } }, 'Latency of selected');
    main.replaceChildren(
      el('h1', {}, state.kind === 'local' ? 'This process' : 'Node processes'),
      el('p', { class: 'muted' }, state.kind === 'local' ? 'The dashboard is mounted in this process.' : 'Read from /proc every 2 s. Nothing is attached until you open a process and ask.'),
      el('div', { class: 'row-flex' }, latencyButton),
      el('table', { id: 'processes' }, el('thead', {}, head), body),
    );
    const setSort = (key) => { sort = { key, dir: sort.key === key && sort.dir === 'desc' ? 'asc' : 'desc' }; render(); };
    const render = () => {
      for (const th of head.children) th.dataset.sorted = th.dataset.key === sort.key ? sort.dir : '';
      const sign = sort.dir === 'asc' ? 1 : -1;
      const sorted = [...rows].sort((a, b) => {
        const x = a[sort.key] ?? -Infinity; const y = b[sort.key] ?? -Infinity;
        return (x < y ? -1 : x > y ? 1 : a.pid - b.pid) * sign;
      });
      body.replaceChildren(...sorted.map((row) => el('tr', { class: 'row', dataset: { pid: row.pid } },
        el('td', {}, el('input', { type: 'checkbox', checked: selected.has(row.pid), disabled: row.reach === 'no', onchange: (e) => { e.target.checked ? selected.add(row.pid) : selected.delete(row.pid); latencyButton.disabled = selected.size === 0; } })),
        el('td', { class: 'num' }, el('a', { href: `#/process/${row.pid}` }, row.pid)),
        el('td', {}, el('a', { href: `#/process/${row.pid}` }, row.name)),
        el('td', { class: 'num' }, row.cpuPercent ?? '–'),
        el('td', { class: 'num' }, bytes(row.rssBytes)),
        el('td', { title: row.reason ?? '' }, row.reach === 'agent' ? 'yes' : row.reach === 'attachable' ? 'attachable' : 'no'),
        el('td', { class: 'num' }, row.sessions ?? '–'),
        el('td', { class: 'num' }, ago(row.uptimeMs)),
        el('td', { class: 'argv', title: row.argv.join(' ') }, row.argv.join(' ')),
      )));
    };
    return {
      view: { view: 'processes' },
      processes(data) { rows = data.rows; render(); },
    };
  },

  process(pid) {
    const figures = el('div', { class: 'figures' });
    const problem = el('div', { class: 'error' });
    const attachButton = el('button', { hidden: true, onclick: () => { attachButton.disabled = true; void post('api/view', { view: 'process', pid, attach: true }).then(viewed); } }, 'Attach livetrace agent');
    const charts = {
      delay: timeChart('Event loop delay (ms)', ['p50', 'p99', 'max']),
      elu: timeChart('Event loop utilization (%)', ['utilization']),
      cpu: timeChart('CPU (% of a core)', ['cpu']),
      memory: timeChart('Memory (MiB)', ['rss', 'heap used', 'heap total', 'external']),
      spaces: null,
      gc: timeChart('GC pause (ms per second)', ['minor', 'major', 'incremental', 'other']),
    };
    const chartBox = el('div', { class: 'charts' }, charts.delay.box, charts.elu.box, charts.cpu.box, charts.memory.box, charts.gc.box);
    const resources = el('table', { class: 'pairs' });
    const modules = el('div');
    main.replaceChildren(
      el('h1', {}, `Process ${pid}`),
      el('p', {}, el('a', { href: `#/trace/${pid}` }, 'Trace'), ' · ', el('a', { href: `#/latency?pids=${pid}` }, 'Latency'), ' · ', el('a', { href: '#/' }, 'All processes')),
      figures, problem, attachButton, chartBox,
      el('div', { class: 'cols' }, el('div', {}, el('h2', {}, 'Active resources'), resources), el('div', {}, el('h2', {}, 'Modules'), modules)),
    );
    const viewed = (reply) => {
      if (reply.ok) { problem.textContent = ''; attachButton.hidden = true; return; }
      problem.textContent = errorText(reply.error);
      attachButton.hidden = reply.error.code !== 'LT_NO_AGENT';
      attachButton.disabled = false;
    };
    return {
      view: { view: 'process', pid, attach: false },
      viewed,
      info({ info }) {
        problem.textContent = '';
        const t = Date.now();
        const m = info.memory;
        figures.textContent = `node ${info.node} · up ${ago(info.uptimeMs)} · ${info.sessions} livetrace session(s) · heap limit ${bytes(m.heapLimit)} · ${info.argv.join(' ')}`;
        figures.dataset.sessions = info.sessions;
        if (info.intervalMs === null) return;
        const d = info.loop.delay;
        charts.delay.push(t, [d?.p50 ?? null, d?.p99 ?? null, d?.max ?? null]);
        charts.elu.push(t, [info.loop.utilization === null ? null : info.loop.utilization * 100]);
        charts.cpu.push(t, [info.cpu.percent]);
        const mib = (n) => n / (1 << 20);
        charts.memory.push(t, [mib(m.rss), mib(m.heapUsed), mib(m.heapTotal), mib(m.external)]);
        if (charts.spaces === null && m.spaces.length > 0) {
          charts.spaces = timeChart('Heap by space, used (MiB)', m.spaces.map((s) => s.name.replace(/_space$/, '')));
          chartBox.append(charts.spaces.box);
        }
        charts.spaces?.push(t, m.spaces.map((s) => mib(s.used)));
        const perSecond = 1000 / info.intervalMs;
        const k = info.gc?.byKind ?? {};
        charts.gc.push(t, ['minor', 'major', 'incremental', 'other'].map((kind) => (k[kind]?.pauseMs ?? 0) * perSecond));
        resources.replaceChildren(...Object.entries(info.resources).sort((a, b) => b[1] - a[1]).map(([type, n]) => el('tr', {}, el('td', {}, type), el('td', { class: 'num' }, n))));
        modules.replaceChildren(el('p', {}, `${info.modules.cjs} CommonJS files, ${info.modules.esm} ES modules`), el('p', { class: 'muted' }, info.modules.packages.join(', ') || 'no packages'));
      },
      'info-error'({ error }) { viewed({ ok: false, error }); },
    };
  },

  trace(pid) {
    const pattern = el('input', { type: 'text', id: 'pattern', placeholder: 'src/users:findUser(id, ...) when ms > 10', autocomplete: 'off', spellcheck: 'false' });
    const explanation = el('div', { class: 'explain', id: 'explanation' }, 'Type a pattern: module:function[(args) | /arity] [when guard] [-> actions]');
    const max = el('input', { type: 'text', id: 'max', value: '100', size: 6 });
    const duration = el('input', { type: 'text', id: 'for', value: '60s', size: 6 });
    const rate = el('input', { type: 'text', id: 'rate', value: '100/1s', size: 8 });
    const start = el('button', { id: 'start' }, 'Start');
    const stop = el('button', { id: 'stop', class: 'secondary', disabled: true }, 'Stop');
    const problem = el('div', { class: 'error', id: 'trace-error' });
    const tree = el('div', { class: 'tree', id: 'calls' });
    const summary = el('div', { class: 'stopped', id: 'stopped' });
    main.replaceChildren(
      el('h1', {}, `Trace process ${pid}`),
      el('p', {}, el('a', { href: `#/process/${pid}` }, `Process ${pid}`)),
      el('div', { class: 'row-flex' }, el('label', {}, 'pattern', pattern), el('label', {}, 'max calls', max), el('label', {}, 'for', duration), el('label', {}, 'rate', rate), start, stop),
      explanation, problem, tree, summary,
    );
    let timer; let current = null; const nodes = new Map(); let count = 0;
    pattern.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const text = pattern.value.trim();
        if (text === '') { explanation.textContent = ''; return; }
        const reply = await (await fetch(`api/explain?pattern=${encodeURIComponent(text)}`, { credentials: 'same-origin' })).json();
        explanation.classList.toggle('error', !reply.ok);
        explanation.textContent = reply.ok ? reply.lines.join('\n') : `${text}\n${' '.repeat(Math.max(0, (reply.error.column ?? 1) - 1))}^\n${errorText(reply.error)}`;
      }, 150);
    });
    start.addEventListener('click', async () => {
      problem.textContent = ''; summary.textContent = ''; tree.replaceChildren(); nodes.clear(); count = 0;
      start.disabled = true;
      // The id is ours, so records that arrive before the reply are already ours too.
      const asked = newRunId();
      current = `t-${asked}`;
      const reply = await post('api/trace', { id: asked, pid, patterns: [pattern.value], options: { max: max.value, for: duration.value, rate: rate.value } });
      if (!reply.ok) { current = null; problem.textContent = errorText(reply.error); start.disabled = false; return; }
      stop.disabled = false;
    });
    stop.addEventListener('click', () => { if (current) void post('api/stop', { id: current }); });
    const addCall = (call) => {
      count++;
      const res = call.outcome === 'throw' || call.outcome === 'reject' ? `${call.outcome === 'throw' ? 'threw' : 'rejected'} ${show(call.error)}` : `→ ${show(call.value)}`;
      const line = el('div', { class: `call ${call.outcome}`, dataset: { id: call.id } },
        el('span', {}, `${'  '.repeat(call.depth)}${call.fn}(${call.args.map((a) => show(a)).join(', ')}) `), el('span', { class: 'res' }, res), el('span', { class: 'dur' }, `  ${ms(call.settleNs ?? call.durationNs)}`));
      // Records arrive at return, children before their parent: a child is placed under its parent when the parent comes.
      const node = el('div', {}, line, el('div', { class: 'children' }));
      nodes.set(call.id, node);
      for (const orphan of nodes.values()) if (orphan.dataset.parent === String(call.id)) { node.lastChild.append(orphan); delete orphan.dataset.parent; }
      if (call.parent !== null && nodes.has(call.parent)) nodes.get(call.parent).lastChild.append(node);
      else { if (call.parent !== null) node.dataset.parent = call.parent; tree.append(node); }
    };
    return {
      records({ id, records }) {
        if (id !== current) return;
        for (const r of records) {
          if (r.type === 'call') addCall(r);
          else if (r.type === 'started') tree.append(el('div', { class: 'muted' }, `matched ${r.matched.length} function(s): ${r.matched.map((m) => m.fn).join(', ')}${r.unpatchable.length ? ` · unpatchable: ${r.unpatchable.map((u) => `${u.fn} (${u.reason})`).join(', ')}` : ''}`));
          else if (r.type === 'dropped') tree.append(el('div', { class: 'muted' }, `${r.count} call(s) dropped (${r.reason})`));
          else if (r.type === 'note') tree.append(el('div', { class: 'muted' }, r.message));
          else if (r.type === 'stopped') { summary.textContent = `stopped: ${r.reason} (${r.detail}) · ${r.stats.reported} reported of ${r.stats.calls} calls`; summary.dataset.reason = r.reason; }
        }
        tree.dataset.calls = count;
      },
      ended({ id }) { if (id === current) { current = null; start.disabled = false; stop.disabled = true; } },
    };
  },

  latency(query) {
    const pids = (query.get('pids') ?? '').split(',').map(Number).filter((n) => n > 0);
    const patterns = el('textarea', { id: 'patterns', placeholder: 'one pattern per line, e.g. src/users:findUser', spellcheck: 'false' });
    const duration = el('input', { type: 'text', id: 'for', value: '60s', size: 6 });
    const run = el('button', { id: 'run' }, 'Run');
    const stop = el('button', { id: 'stop', class: 'secondary', disabled: true }, 'Stop');
    const problem = el('div', { class: 'error', id: 'latency-error' });
    const out = el('div', { id: 'latency' });
    const note = el('div', { class: 'muted', id: 'latency-status' });
    main.replaceChildren(
      el('h1', {}, `Latency · ${pids.length === 1 ? `process ${pids[0]}` : `${pids.length} processes merged`}`),
      el('p', { class: 'muted' }, 'p50 / p90 / p99 per second over the last 60 s (left axis, ms) and calls per second (right axis), merged across the processes with a mergeable sketch (1% relative error). Sessions stop when this page closes or at the time limit.'),
      el('div', { class: 'row-flex' }, el('label', {}, 'patterns', patterns), el('label', {}, 'for', duration), run, stop),
      problem, note, out,
    );
    let current = null; const fns = new Map();
    run.addEventListener('click', async () => {
      problem.textContent = ''; out.replaceChildren(); fns.clear(); note.textContent = '';
      run.disabled = true;
      const asked = newRunId();
      current = `l-${asked}`;
      note.textContent = 'starting…';
      const reply = await post('api/latency', { id: asked, pids, patterns: patterns.value.split('\n').map((p) => p.trim()).filter(Boolean), for: duration.value });
      if (!reply.ok) { current = null; note.textContent = ''; problem.textContent = errorText(reply.error); run.disabled = false; return; }
      stop.disabled = false;
    });
    stop.addEventListener('click', () => { if (current) void post('api/stop', { id: current }); });
    const section = (fn) => {
      if (fns.has(fn)) return fns.get(fn);
      const chart = timeChart(fn, ['p50', 'p90', 'p99', 'calls/s'], { height: 200, scales: { rate: {} }, series: { 'calls/s': { scale: 'rate', dash: [4, 4] } } });
      const total = el('div', { class: 'figures total' });
      const slow = el('div', { class: 'slow' }, 'slowest calls appear here');
      const box = el('div', { class: 'latency', dataset: { fn } }, el('div', {}, total, chart.box), el('div', {}, el('h3', {}, 'Slowest calls (sampled)'), slow));
      out.append(box);
      const entry = { chart, total, slow, box };
      fns.set(fn, entry);
      return entry;
    };
    return {
      latency({ id, points, total, slowest }) {
        if (id !== current) return;
        for (const point of points) {
          for (const [fn, q] of Object.entries(point.functions)) {
            const s = section(fn);
            const nil = q.count === 0;
            s.chart.push(point.t, [nil ? null : q.p50 / 1e6, nil ? null : q.p90 / 1e6, nil ? null : q.p99 / 1e6, q.count]);
            s.box.dataset.points = s.chart.data[0].length;
          }
        }
        for (const [fn, q] of Object.entries(total)) {
          const s = section(fn);
          s.total.textContent = `whole run: ${q.count} calls · p50 ${ms(q.p50)} · p90 ${ms(q.p90)} · p99 ${ms(q.p99)} · max ${ms(q.max)}`;
          Object.assign(s.total.dataset, { count: q.count, p50: q.p50, p90: q.p90, p99: q.p99 });
        }
        for (const [fn, calls] of Object.entries(slowest)) {
          section(fn).slow.replaceChildren(...calls.map((c) => el('div', { class: 'call' }, `${ms(c.durationNs)}  pid ${c.pid}  (${c.args.map((a) => show(a)).join(', ')})  ${c.outcome}`)));
        }
      },
      'latency-session'({ id, record }) {
        if (id !== current) return;
        if (record.type === 'started') note.textContent = `running in ${pids.length} process(es): ${record.matched.map((m) => m.fn).join(', ')}`;
        if (record.type === 'stopped') { note.textContent = `stopped: ${record.reason} (${record.detail})`; note.dataset.reason = record.reason; }
      },
      ended({ id }) { if (id === current) { current = null; run.disabled = false; stop.disabled = true; } },
    };
  },
};

// ---------- routing and the live channel ----------
function route() {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, search] = hash.split('?');
  const query = new URLSearchParams(search ?? '');
  const parts = path.split('/').filter(Boolean);
  const pid = Number(parts[1]);
  if (parts[0] === 'process' && pid > 0) state.page = pages.process(pid);
  else if (parts[0] === 'trace' && pid > 0) state.page = pages.trace(pid);
  else if (parts[0] === 'latency') state.page = pages.latency(query);
  else state.page = pages.processes();
  document.body.dataset.page = parts[0] ?? 'processes';
  sendView();
}

function sendView() {
  if (state.channel === null || state.page === null) return;
  const view = state.page.view ?? { view: 'none' };
  void post('api/view', view).then((reply) => state.page.viewed?.(reply));
}

function connectChannel() {
  const source = new EventSource('events', { withCredentials: true });
  source.addEventListener('hello', (event) => {
    const hello = JSON.parse(event.data);
    state.channel = hello.channel; state.kind = hello.kind; state.selfPid = hello.pid;
    statusEl.dataset.state = 'open'; statusEl.textContent = hello.kind === 'local' ? `mounted in process ${hello.pid}` : 'live';
    route();
  });
  for (const name of ['processes', 'info', 'info-error', 'records', 'ended', 'latency', 'latency-session', 'problem']) {
    source.addEventListener(name, (event) => {
      const data = JSON.parse(event.data);
      const handler = state.page?.[name];
      if (handler) handler.call(state.page, data);
      else if (name === 'problem') console.warn('livetrace:', data);
    });
  }
  source.onerror = () => { statusEl.dataset.state = 'closed'; statusEl.textContent = 'disconnected, retrying…'; state.channel = null; };
}

window.addEventListener('hashchange', route);
connectChannel();
