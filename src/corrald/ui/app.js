// SPDX-License-Identifier: MIT
// The corral dashboard (docs/operations.md "Dashboard"): plain DOM, no framework, no build step.
//
// It talks only to the replica that served it, with relative URLs, so it keeps working while
// the leader changes (followers serve every read and write). It follows the replica's feed of
// changes (GET /v1/events, docs/api.md): one long poll at a time; a task event refreshes the
// task table (and the open task at once when it is that task), a worker event or a task event
// with a worker refreshes the workers, each panel at most once per DEBOUNCE_MS. What the feed
// does not carry (the leader, the stats, the schedules) and anything it might have missed is
// read again every FALLBACK_MS, or every POLL_MS while the feed does not work (the header then
// says "polling"); the leader alone every LEADER_MS. Every text that comes from the server is
// put in with textContent (or as a Text node), never parsed as HTML. With a token file, a 401
// opens a small form; the token is kept in this tab's sessionStorage only and sent as
// `Authorization: Bearer` (never in a URL). The open task's output is followed live while the
// task runs, as `corral logs -f` does (GET /v1/tasks/{id}/output long polls, one at a time).
'use strict';

(() => {
  const FALLBACK_MS = 12000; // everything again, while the feed is live
  const POLL_MS = 3000; // everything again, while the feed does not work
  const LEADER_MS = 5000; // the leader (not in the feed)
  const LEADER_FAST_MS = 1500; // ... while there is none
  const FEED_WAIT_S = 25; // the long poll's ?wait=
  const FEED_LIMIT = 1000;
  const FEED_TIMEOUT_MS = (FEED_WAIT_S + 15) * 1000;
  const BACKOFF_MIN_MS = 1000; // the feed after an error: 1 s, 2 s, 4 s, ... up to
  const BACKOFF_MAX_MS = 10000;
  const OUTPUT_WAIT_S = 25; // the output long poll's ?wait= (asking keeps the worker publishing)
  const OUTPUT_TIMEOUT_MS = (OUTPUT_WAIT_S + 15) * 1000;
  const OUTPUT_KEEP_BYTES = 256 * 1024; // output shown at most (the oldest bytes go first)
  const OUTPUT_MERGE_BYTES = 16 * 1024; // new text joins the last Text node while it is smaller
  const DEBOUNCE_MS = 300; // at most one refresh of a panel per this, from the feed
  const TIMELINE_TASKS_MAX = 2000; // tasks whose feed events are kept for the detail
  const TIMELINE_STEPS_MAX = 40; // events kept per task
  const PAGE_SIZE = 25;
  const QUEUE_COUNT_MAX = 1000; // queued tasks counted at most (one page)
  const DONE_PAGE = 500;
  const DONE_PAGES_MAX = 4; // per finished state and stats poll
  const WINDOW_MS = 5 * 60 * 1000; // throughput window
  const BUCKET_MS = 15 * 1000; // throughput sparkline bucket
  const SERIES_MAX = 80; // samples kept for a sparkline
  const REQUEST_TIMEOUT_MS = 10000;
  const TOKEN_KEY = 'corral.token';
  const FINAL = new Set(['succeeded', 'failed', 'cancelled']);
  const KNOWN_STATES = new Set(['scheduled', 'waiting', 'queued', 'assigned', 'running',
    'cancelling', 'succeeded', 'failed', 'cancelled', 'active', 'cordoned', 'draining',
    'paused']);
  const SVGNS = 'http://www.w3.org/2000/svg';

  const $ = (id) => document.getElementById(id);

  // ------------------------------------------------------------------ DOM helpers

  // el('td', {cls, text, title, data, on}, ...children): children are nodes or strings (which
  // become Text nodes: never markup).
  function el(tag, opts, ...kids) {
    const e = document.createElement(tag);
    if (opts) {
      if (opts.cls) e.className = opts.cls;
      if (opts.text !== undefined && opts.text !== null) e.textContent = String(opts.text);
      if (opts.title) e.title = String(opts.title);
      if (opts.type) e.type = opts.type;
      if (opts.data) for (const [k, v] of Object.entries(opts.data)) e.dataset[k] = String(v);
      if (opts.on) for (const [k, f] of Object.entries(opts.on)) e.addEventListener(k, f);
    }
    for (const k of kids) if (k !== null && k !== undefined) e.append(k);
    return e;
  }

  function setText(id, text) {
    const e = $(id);
    const s = text === null || text === undefined ? '' : String(text);
    if (e.textContent !== s) e.textContent = s;
  }

  function cssState(s) {
    return KNOWN_STATES.has(s) ? s : 'other';
  }

  function stateBadge(s, title) {
    return el('span', { cls: 'state ' + cssState(s), text: s, title });
  }

  // Render only when the data changed, so that rows under the pointer stay put.
  const rendered = new Map();
  function render(key, data, fn) {
    const s = JSON.stringify(data);
    if (rendered.get(key) === s) return;
    rendered.set(key, s);
    fn(data);
  }

  // ------------------------------------------------------------------ formatting

  function pad(n, w = 2) {
    return String(n).padStart(w, '0');
  }

  function fmtTime(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    const now = new Date();
    const hms = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    if (d.toDateString() === now.toDateString()) return hms;
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hms}`;
  }

  function fmtDur(ms) {
    if (!(ms >= 0)) return '';
    if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 1 : 0) + ' s';
    const s = Math.round(ms / 1000);
    if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
    return `${Math.floor(s / 3600)}h ${pad(Math.floor((s % 3600) / 60))}m`;
  }

  function took(t) {
    const start = Date.parse(t.started_at);
    if (Number.isNaN(start)) return '';
    const end = t.finished_at ? Date.parse(t.finished_at) : serverNow();
    return fmtDur(end - start);
  }

  function fmtNum(x) {
    const n = Number(x) || 0;
    return Number.isInteger(n) ? String(n) : n.toFixed(2).replace(/0+$/, '').replace(/\.$/, '');
  }

  function fmtMiB(x) {
    const n = Number(x) || 0;
    return n >= 10240 ? (n / 1024).toFixed(0) + ' GiB' : n + ' MiB';
  }

  function quoteArg(a) {
    return /^[A-Za-z0-9_./:=@%+,-]+$/.test(a) ? a : JSON.stringify(a);
  }

  function commandText(spec) {
    if (!spec) return '';
    if (spec.http) return `${spec.http.method || 'GET'} ${spec.http.url || ''}`;
    if (typeof spec.command === 'string') return spec.command;
    if (Array.isArray(spec.command)) return spec.command.map((a) => quoteArg(String(a))).join(' ');
    return '';
  }

  // A made-up task id at a time: ids start with their submission time (12 hex digits of ms),
  // and the API takes any well-formed id as a listing cursor (docs/api.md "GET /v1/tasks").
  function idAt(ms) {
    return Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0') + '-00000000';
  }

  // ------------------------------------------------------------------ talking to the replica

  class ApiError extends Error {
    constructor(status, code, message, field) {
      super(message);
      this.status = status;
      this.code = code;
      this.field = field || '';
    }
  }

  let serverOffsetMs = 0; // the replica's clock minus ours, from its Date headers
  const serverNow = () => Date.now() + serverOffsetMs;

  function tokenGet() {
    try {
      return sessionStorage.getItem(TOKEN_KEY) || '';
    } catch (_) {
      return '';
    }
  }

  // fetch, relative to the page (the replica that served it), with the token (if any) in the
  // Authorization header only. Returns the parsed JSON body;
  // throws ApiError (status 0 when the replica cannot be reached).
  // opts.timeoutMs: give up after this long (default REQUEST_TIMEOUT_MS); opts.signal: an
  // AbortSignal that cancels the request (it then throws ApiError code 'aborted').
  async function api(method, path, body, opts) {
    const timeoutMs = (opts && opts.timeoutMs) || REQUEST_TIMEOUT_MS;
    const outer = (opts && opts.signal) || null;
    const token = tokenGet();
    const headers = { Accept: 'application/json' };
    if (token) headers.Authorization = 'Bearer ' + token;
    const init = { method, headers, cache: 'no-store', redirect: 'error' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), timeoutMs);
    const cancel = () => ctl.abort();
    if (outer) {
      if (outer.aborted) ctl.abort();
      else outer.addEventListener('abort', cancel);
    }
    init.signal = ctl.signal;
    let resp;
    let text;
    try {
      resp = await fetch(path, init);
      text = await resp.text();
    } catch (e) {
      if (outer && outer.aborted) throw new ApiError(0, 'aborted', 'the request was cancelled');
      throw new ApiError(0, 'unreachable', e && e.name === 'AbortError'
        ? 'the replica did not answer in time' : 'the replica cannot be reached');
    } finally {
      clearTimeout(timer);
      if (outer) outer.removeEventListener('abort', cancel);
    }
    const date = Date.parse(resp.headers.get('Date') || '');
    if (!Number.isNaN(date) && Math.abs(date - Date.now() - serverOffsetMs) > 2000) {
      serverOffsetMs = date - Date.now();
    }
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (_) {
        data = null;
      }
    }
    const msg = data && typeof data.message === 'string' ? data.message : `HTTP ${resp.status}`;
    if (resp.status === 401) {
      // A request sent with a token that was replaced meanwhile says nothing of the new one.
      if (token === tokenGet()) askToken(token ? 'The replica refused this token.' : '');
      throw new ApiError(401, 'unauthorized', msg);
    }
    if (!resp.ok) {
      throw new ApiError(resp.status, (data && data.error) || `http_${resp.status}`, msg,
        data && data.field);
    }
    return data;
  }

  // ------------------------------------------------------------------ token

  let waitingForToken = false;

  function askToken(message) {
    setText('token-error', message);
    $('token-forget').hidden = !tokenGet();
    const dlg = $('token-dialog');
    if (!waitingForToken) {
      waitingForToken = true;
      $('token-input').value = '';
    }
    if (!dlg.open) dlg.showModal();
    $('token-input').focus();
    setConn('down', 'token needed');
    setFeed('off', 'waiting for a token');
  }

  function tokenSubmitted(e) {
    e.preventDefault();
    const v = $('token-input').value.trim();
    if (v.length < 8 || v.length > 256 || /\s/.test(v)) {
      setText('token-error', 'A token has 8 to 256 characters and no spaces.');
      return;
    }
    try {
      sessionStorage.setItem(TOKEN_KEY, v);
    } catch (_) {
      setText('token-error', 'This browser keeps no session storage: the token cannot be kept.');
      return;
    }
    waitingForToken = false;
    setText('token-error', '');
    $('token-dialog').close();
    $('token-forget').hidden = false;
    rendered.clear();
    pollNow();
    feedKick();
    outputKick();
  }

  function tokenForget() {
    try {
      sessionStorage.removeItem(TOKEN_KEY);
    } catch (_) {
      // nothing kept
    }
    $('token-forget').hidden = true;
    pollNow();
    feedKick();
  }

  // ------------------------------------------------------------------ notices and status

  let noticeTimer = null;

  function notice(message, kind) {
    setText('notice-text', message);
    $('notice').className = 'notice' + (kind === 'info' ? ' info' : '');
    $('notice').hidden = false;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => { $('notice').hidden = true; }, kind === 'info' ? 5000 : 15000);
  }

  function setConn(cls, text) {
    const c = $('conn');
    c.className = 'status ' + cls;
    if (c.textContent !== text) c.textContent = text;
  }

  // ------------------------------------------------------------------ leader, replica

  let leader = null; // {id, url, epoch} or null while there is none
  let servedBy = '';

  function showRole() {
    const b = $('served-role');
    if (!servedBy || !leader) {
      setText('served-role', '');
      b.hidden = true;
      return;
    }
    b.hidden = false;
    setText('served-role', leader.id === servedBy ? 'leader' : 'follower');
  }

  async function refreshLeader() {
    try {
      const l = await api('GET', 'v1/leader');
      if (leader && leader.id !== l.id) notice(`New leader: ${l.id} (epoch ${l.epoch})`, 'info');
      leader = { id: String(l.id), url: String(l.url), epoch: l.epoch };
      setText('leader-id', leader.id);
      setText('leader-epoch', leader.epoch);
      setText('leader-url', leader.url);
    } catch (e) {
      if (e.status !== 503 || e.code !== 'no_leader') throw e;
      leader = null;
      setText('leader-id', 'none');
      setText('leader-epoch', '—');
      setText('leader-url', 'electing a leader…');
    }
    showRole();
  }

  // The replica that served the page names itself in the X-Corral-Replica header of GET /.
  async function refreshServedBy() {
    const resp = await fetch('.', { method: 'HEAD', cache: 'no-store' });
    const id = resp.headers.get('X-Corral-Replica');
    if (id) {
      servedBy = id;
      setText('served-by', id);
      showRole();
    }
  }

  // ------------------------------------------------------------------ workers

  let workers = [];

  function bar(used, cap, fmt) {
    const u = Number(used) || 0;
    const c = Number(cap) || 0;
    const pct = c > 0 ? Math.min(100, (u / c) * 100) : 0;
    const fill = el('div', { cls: 'fill' + (pct >= 100 ? ' full' : pct >= 80 ? ' high' : '') });
    fill.style.width = pct.toFixed(1) + '%'; // the CSSOM: allowed by the page's CSP
    return el('div', { cls: 'bar', title: `${fmt(u)} of ${fmt(c)} in use` }, fill,
      el('div', { cls: 'txt', text: `${fmt(u)} / ${fmt(c)}` }));
  }

  function fleetTitle(w) {
    const f = w.fleet;
    if (!f) return '';
    let s = `${f.requested} by ${f.by}`;
    if (f.reason) s += `: ${f.reason}`;
    if (f.at) s += ` (${fmtTime(f.at)})`;
    return s;
  }

  async function fleet(id, action, button) {
    button.disabled = true;
    try {
      const body = action === 'uncordon' ? undefined : { reason: 'from the dashboard' };
      const w = await api('POST', `v1/workers/${encodeURIComponent(id)}/${action}`, body);
      notice(`Worker ${id} is ${w.state} now.`, 'info');
    } catch (e) {
      notice(`${action} ${id}: ${e.message}`);
    } finally {
      rendered.delete('workers');
      refreshWorkers().catch(() => {});
    }
  }

  function fleetButton(w, action, disabled) {
    const b = el('button', { cls: 'small', type: 'button', text: action, data: { action } });
    b.disabled = disabled;
    b.addEventListener('click', () => fleet(w.id, action, b));
    return b;
  }

  function renderWorkers(list) {
    const rows = list.map((w) => {
      const state = w.state || 'active';
      const labels = Object.entries(w.labels || {}).sort()
        .map(([k, v]) => el('span', { cls: 'chip', text: `${k}=${v}` }));
      let title = fleetTitle(w);
      if (w.fail_streak) title += `${title ? '; ' : ''}${w.fail_streak} failed attempts in a row`;
      return el('tr', { data: { worker: w.id } },
        el('td', { cls: 'mono', text: w.id, title: `weight ${w.weight ?? 1}` }),
        el('td', null, stateBadge(state, title)),
        el('td', null, bar(w.running, w.slots, fmtNum)),
        el('td', null, bar(w.used && w.used.cpu, w.capacity && w.capacity.cpu, fmtNum)),
        el('td', null, bar(w.used && w.used.mem_mb, w.capacity && w.capacity.mem_mb, fmtMiB)),
        el('td', null, ...labels),
        el('td', { cls: 'actions' },
          fleetButton(w, 'cordon', state !== 'active'),
          fleetButton(w, 'drain', state === 'draining'),
          fleetButton(w, 'uncordon', state === 'active')));
    });
    $('workers').tBodies[0].replaceChildren(...rows);
    $('workers-empty').hidden = rows.length > 0;
  }

  async function refreshWorkers() {
    const r = await api('GET', 'v1/workers');
    workers = (r.workers || []).slice().sort((a, b) => String(a.id).localeCompare(String(b.id)));
    render('workers', workers, renderWorkers);
    let running = 0;
    let slots = 0;
    for (const w of workers) {
      running += Number(w.running) || 0;
      slots += Number(w.slots) || 0;
    }
    setText('stat-running', `${running} / ${slots}`);
    const active = workers.filter((w) => (w.state || 'active') === 'active').length;
    setText('stat-workers', `${workers.length} workers, ${active} active`);
  }

  // ------------------------------------------------------------------ tasks

  const view = {
    state: '',
    since: 3600, // s; 0 = any time
    after: null, // the cursor of this page; null: the first page
    stack: [], // the cursors of the pages before
    next: null,
    gen: 0, // bumped whenever the page changes: older answers are dropped
  };
  let tasks = [];
  let selected = null; // the id of the task shown in the detail panel

  function renderTasks(d) {
    const rows = d.tasks.map((t) => {
      const cmd = commandText(t.spec);
      const tr = el('tr', {
        cls: t.id === d.selected ? 'selected' : '',
        data: { task: t.id },
        on: {
          click: () => openTask(t.id),
          keydown: (e) => { if (e.key === 'Enter') openTask(t.id); },
        },
      },
      el('td', { cls: 'mono', text: t.id }),
      el('td', { text: t.name ?? '' }),
      el('td', null, stateBadge(t.state, t.error || '')),
      el('td', { cls: 'cmd', text: cmd, title: cmd }),
      el('td', { cls: 'num', text: t.spec ? t.spec.priority : '' }),
      el('td', { cls: 'mono', text: t.worker ?? '' }),
      el('td', { cls: 'num', text: t.attempt ?? '' }),
      el('td', { text: fmtTime(t.submitted_at), title: t.submitted_at || '' }),
      el('td', { cls: 'num', text: took(t) }));
      tr.tabIndex = 0; // reachable with the keyboard; Enter opens it
      return tr;
    });
    $('tasks').tBodies[0].replaceChildren(...rows);
    $('tasks-empty').hidden = rows.length > 0;
  }

  // The table again when its tasks or the selection changed, and every second while a task
  // runs (its "took" grows).
  function showTasks() {
    const runs = tasks.some((t) => t.started_at && !t.finished_at);
    const clock = runs ? Math.floor(serverNow() / 1000) : 0;
    render('tasks', { tasks, selected, clock }, renderTasks);
  }

  function showPaging() {
    $('page-first').disabled = view.stack.length === 0;
    $('page-prev').disabled = view.stack.length === 0;
    $('page-next').disabled = !view.next;
    setText('page-no', `page ${view.stack.length + 1}`);
  }

  async function refreshTasks() {
    const gen = view.gen;
    const q = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (view.state) q.set('state', view.state);
    const after = view.after || (view.since ? idAt(serverNow() - view.since * 1000) : null);
    if (after) q.set('after', after);
    const r = await api('GET', 'v1/tasks?' + q.toString());
    if (gen !== view.gen) return;
    tasks = r.tasks || [];
    view.next = r.next || null;
    showTasks();
    showPaging();
  }

  function goPage(after, stack) {
    view.after = after;
    view.stack = stack;
    view.next = null;
    view.gen++;
    showPaging();
    refreshTasks().catch((e) => notice(`tasks: ${e.message}`));
  }

  // ------------------------------------------------------------------ task detail

  function fact(dl, name, value) {
    if (value === null || value === undefined || value === '') return;
    dl.append(el('dt', { text: name }), el('dd', { text: value }));
  }

  function taskLinks(label, ids) {
    if (!Array.isArray(ids) || ids.length === 0) return null;
    const links = ids.map((id) => el('button', {
      cls: 'linklike', type: 'button', text: id, on: { click: () => openTask(String(id)) },
    }));
    return el('div', { cls: 'deps' }, el('span', { cls: 'muted', text: label + ': ' }), ...links);
  }

  function renderDetail(t) {
    setText('detail-id', t.id);
    $('detail-state').replaceChildren(stateBadge(t.state));
    const s = t.spec || {};
    const dl = $('detail-facts');
    dl.replaceChildren();
    fact(dl, 'name', t.name);
    fact(dl, 'command', commandText(s));
    fact(dl, 'worker', t.worker);
    fact(dl, 'attempt', `${t.attempt} of ${s.max_attempts ?? '?'}`);
    fact(dl, 'epoch', t.epoch);
    fact(dl, 'priority', s.priority);
    fact(dl, 'submitted', t.submitted_at);
    fact(dl, 'not before', t.not_before);
    fact(dl, 'started', t.started_at);
    fact(dl, 'finished', t.finished_at);
    if (t.finished_at) fact(dl, 'took', took(t));
    fact(dl, 'exit code', t.exit_code);
    fact(dl, 'error', t.error);
    $('detail-deps').replaceChildren(...[taskLinks('depends on', s.depends_on),
      taskLinks('dependents', t.dependents)].filter(Boolean));
    const hist = Array.isArray(t.history) ? t.history : [];
    $('detail-history').tBodies[0].replaceChildren(...hist.map((h) => el('tr', null,
      el('td', { cls: 'num', text: h.attempt }),
      el('td', { cls: 'mono', text: h.worker ?? '' }),
      el('td', { cls: 'num', text: h.epoch ?? '' }),
      el('td', null, el('span', { cls: 'state', text: h.outcome ?? '' })),
      el('td', { cls: 'num', text: h.exit_code ?? '' }),
      el('td', { text: fmtTime(h.started_at), title: h.started_at || '' }),
      el('td', { text: fmtTime(h.finished_at), title: h.finished_at || '' }))));
    $('detail-history').hidden = hist.length === 0;
    let empty = hist.length === 0 ? 'No earlier attempt.' : '';
    if (t.history_omitted) empty = `${t.history_omitted} older returned attempts not kept.`;
    setText('detail-history-empty', empty);
    $('detail-history-empty').hidden = !empty;
    setText('detail-spec', JSON.stringify(s, null, 2));
    $('detail-cancel').disabled = FINAL.has(t.state) || t.state === 'cancelling';
  }

  async function refreshDetail() {
    const id = selected;
    if (!id) return;
    let t;
    try {
      t = await api('GET', 'v1/tasks/' + encodeURIComponent(id));
    } catch (e) {
      if (e.status !== 404 || id !== selected) throw e;
      render('detail', { gone: id }, () => {
        $('detail-state').replaceChildren(el('span', { cls: 'state', text: 'not found' }));
        $('detail-cancel').disabled = true;
      });
      return;
    }
    if (id === selected) render('detail', t, renderDetail);
  }

  // The feed's events of each task seen while the page is open, for the detail's timeline.
  const timelines = new Map(); // task id -> [{at, state, attempt, worker}], oldest first

  function remember(ev) {
    const id = String(ev.id);
    const list = timelines.get(id) || [];
    timelines.delete(id); // the Map's order: least recently changed first
    if (timelines.size >= TIMELINE_TASKS_MAX) timelines.delete(timelines.keys().next().value);
    timelines.set(id, list);
    list.push({
      at: ev.at ?? '',
      state: String(ev.state ?? ''),
      attempt: Number.isInteger(ev.attempt) ? ev.attempt : null,
      worker: ev.worker === null || ev.worker === undefined ? null : String(ev.worker),
    });
    if (list.length > TIMELINE_STEPS_MAX) list.splice(0, list.length - TIMELINE_STEPS_MAX);
  }

  // "queued → assigned (w1, attempt 1) → running → succeeded": the worker and the attempt
  // where they change (from none and attempt 1).
  function renderTimeline(list) {
    let worker = null;
    let attempt = 1;
    const items = list.map((ev) => {
      const bits = [];
      if (ev.worker !== worker || (ev.attempt !== null && ev.attempt !== attempt)) {
        if (ev.worker) bits.push(ev.worker);
        if (ev.attempt) bits.push(`attempt ${ev.attempt}`);
      }
      worker = ev.worker;
      if (ev.attempt !== null) attempt = ev.attempt;
      return el('li', { data: { state: ev.state } },
        stateBadge(ev.state),
        bits.length ? el('span', { cls: 'muted', text: ` (${bits.join(', ')})` }) : null,
        el('span', { cls: 'at', text: fmtTime(ev.at), title: String(ev.at) }));
    });
    $('detail-timeline').replaceChildren(...items);
    $('detail-timeline-empty').hidden = items.length > 0;
  }

  function showTimeline() {
    if (!selected) return;
    render('timeline', { id: selected, list: timelines.get(selected) || [] },
      (d) => renderTimeline(d.list));
  }

  // ------------------------------------------------------------------ task output

  // The open task's output (GET /v1/tasks/{id}/output, docs/api.md "Live output"), read as
  // `corral logs -f` reads it: one request at a time per open detail, a long poll of
  // OUTPUT_WAIT_S while the task runs (asking is what keeps its worker publishing the output),
  // each from where the last answer ended (an attempt and a byte offset, good on every replica
  // and across leader changes). A new attempt's bytes come after a separator line, bytes the
  // replica no longer kept after a note; at most OUTPUT_KEEP_BYTES are shown (the oldest go
  // first, and a note at the top says how much went). It ends when the output is done (the
  // task is final and its last byte was read), when the task is unknown (404), or when the
  // detail closes or shows another task (its request is aborted). On an error it asks again
  // from the same place after 1 s, 2 s, 4 s, ... 10 s. Text goes in as Text nodes only.
  let output = null; // the follower of the open task's output: see outputOpen; null: none

  const utf8 = new TextEncoder();

  function fmtBytes(n) {
    if (n < 1024) return `${n} bytes`;
    if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
    return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  }

  // The block's label: "following", "done", "stored tail", "retrying", "not found", ...
  function outputState(out, text, cls, title) {
    if (out !== output) return;
    out.cls = cls;
    const e = $('detail-output-state');
    const c = 'badge out-state ' + cls;
    if (e.className !== c) e.className = c;
    if (e.textContent !== text) e.textContent = text;
    if (e.title !== (title || '')) e.title = title || '';
    const ended = cls === 'done' || cls === 'tail' || cls === 'gone';
    $('detail-output').classList.toggle('ended', ended);
  }

  // Drop the oldest parts while more than OUTPUT_KEEP_BYTES are shown, then the rest of the
  // first line they cut, and say so in the note at the top.
  function outputTrim(out, pre) {
    let dropped = 0;
    while (out.bytes > OUTPUT_KEEP_BYTES && out.parts.length > 1) {
      const p = out.parts.shift();
      p.node.remove();
      out.bytes -= p.bytes;
      dropped += p.bytes;
    }
    if (!dropped) return;
    const first = out.parts[0];
    if (first && !first.cls) {
      const nl = first.node.data.indexOf('\n');
      if (nl >= 0 && nl < first.node.data.length - 1) {
        const b = utf8.encode(first.node.data.slice(0, nl + 1)).length;
        first.node.deleteData(0, nl + 1);
        first.bytes -= b;
        out.bytes -= b;
        dropped += b;
      }
    }
    out.dropped += dropped;
    if (!out.dropNote) {
      out.dropNote = el('span', { cls: 'note' });
      pre.prepend(out.dropNote);
    }
    out.dropNote.textContent = `[${fmtBytes(out.dropped)} of older output not shown: ` +
      `the last ${OUTPUT_KEEP_BYTES / 1024} KiB at most are kept here]\n`;
  }

  // Append text to the block: as text, or with cls as a note of that class (a span).
  function outputAppend(out, text, cls) {
    if (out !== output || !text) return;
    const pre = $('detail-output');
    const atEnd = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 24;
    const bytes = utf8.encode(text).length;
    const last = out.parts[out.parts.length - 1];
    if (!cls && last && !last.cls && last.bytes < OUTPUT_MERGE_BYTES) {
      last.node.appendData(text);
      last.bytes += bytes;
    } else {
      const node = cls ? el('span', { cls, text }) : document.createTextNode(text);
      pre.append(node);
      out.parts.push({ node, bytes, cls: cls || '' });
    }
    out.bytes += bytes;
    out.endsLine = text.endsWith('\n');
    outputTrim(out, pre);
    if (atEnd) pre.scrollTop = pre.scrollHeight; // kept at the end while it was there
  }

  // A line of its own, after the text so far.
  function outputNote(out, text, cls) {
    outputAppend(out, (out.endsLine ? '' : '\n') + text + '\n', cls);
  }

  // Wait ms, or less when outputKick or outputStop wakes it.
  function outputPause(out, ms) {
    return new Promise((resolve) => {
      let t = null;
      const wake = () => {
        clearTimeout(t);
        if (out.wake === wake) out.wake = null;
        resolve();
      };
      t = setTimeout(wake, ms);
      out.wake = wake;
    });
  }

  async function followOutput(out) {
    let backoffMs = 0;
    while (out === output) {
      if (waitingForToken) {
        outputState(out, 'waiting', 'waiting', 'waiting for a token');
        await outputPause(out, BACKOFF_MAX_MS); // tokenSubmitted wakes it
        continue;
      }
      const q = new URLSearchParams({
        attempt: String(out.attempt),
        offset: String(out.offset),
        wait: String(OUTPUT_WAIT_S),
      });
      const asked = Date.now();
      let r;
      try {
        r = await api('GET', `v1/tasks/${encodeURIComponent(out.id)}/output?${q.toString()}`,
          undefined, { timeoutMs: OUTPUT_TIMEOUT_MS, signal: out.ctl.signal });
        if (!r || typeof r.data !== 'string' || !Number.isSafeInteger(r.attempt) ||
            r.attempt < 0 || !Number.isSafeInteger(r.next) || r.next < 0) {
          throw new Error('the replica sent no output position');
        }
      } catch (e) {
        if (out !== output) return;
        if (e instanceof ApiError && e.status === 404) {
          outputState(out, 'not found', 'gone', describe(e));
          return;
        }
        // Unreachable, no ZooKeeper, a 401 (the token form is open), ...: the position stays
        // good; ask again a little later.
        backoffMs = Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_MIN_MS, backoffMs * 2));
        outputState(out, 'retrying', 'retrying',
          `${describe(e)}: asking again in ${backoffMs / 1000} s`);
        await outputPause(out, backoffMs);
        continue;
      }
      if (out !== output) return;
      backoffMs = 0;
      // Another attempt than the one asked for: a retry began, and this is its output from its
      // start. (A first answer of attempt 1 needs no line; of a later one it says which.)
      if (r.attempt !== out.attempt && (out.attempt !== 0 || r.attempt > 1)) {
        outputNote(out, `— attempt ${r.attempt} —`, 'sep');
      }
      const skipped = Number(r.skipped) || 0;
      if (skipped > 0) outputNote(out, `[${skipped} bytes skipped]`, 'note');
      outputAppend(out, r.data);
      out.attempt = r.attempt;
      out.offset = r.next;
      const st = typeof r.state === 'string' ? r.state : '?';
      if (r.done === true) {
        if (r.tail === true) {
          outputState(out, 'stored tail', 'tail',
            `the task is ${st}; nobody followed it while it ran: the last 4 KiB it stored`);
        } else {
          outputState(out, 'done', 'done', `the task is ${st}: this is the end of its output`);
        }
        return;
      }
      outputState(out, 'following', 'following',
        `the task is ${st}: attempt ${r.attempt}, ${out.offset} bytes read`);
      // An empty answer comes after the wait (or from a replica that does not hold it).
      if (!r.data && Date.now() - asked < BACKOFF_MIN_MS) await outputPause(out, BACKOFF_MIN_MS);
    }
  }

  // Follow task id's output in the block: from its start, unless it is already followed (or
  // was read to its end) there.
  function outputOpen(id) {
    if (output && output.id === id && output.cls !== 'gone') return;
    outputStop();
    const pre = $('detail-output');
    pre.replaceChildren();
    pre.scrollTop = 0;
    const out = {
      id,
      ctl: new AbortController(), // aborts the request that is out when the follower stops
      attempt: 0, // where to read on: attempt 0 is "the current one, from its start"
      offset: 0,
      parts: [], // what is shown, oldest first: {node, bytes, cls}
      bytes: 0,
      dropped: 0,
      dropNote: null,
      endsLine: true,
      wake: null, // ends the pause in progress
      cls: '',
    };
    output = out;
    outputState(out, 'following', 'following', 'asking the replica for the output');
    followOutput(out).catch((e) => {
      if (out === output) outputState(out, 'stopped', 'gone', describe(e));
    });
  }

  function outputStop() {
    const out = output;
    if (!out) return;
    output = null;
    out.ctl.abort();
    if (out.wake) out.wake();
  }

  // Ask again now (a token was given, the task changed), not after the rest of a back-off.
  function outputKick() {
    if (output && output.wake) output.wake();
  }

  function openTask(id) {
    selected = id;
    rendered.delete('detail');
    $('detail').hidden = false;
    setText('detail-id', id);
    showTasks();
    showTimeline();
    outputOpen(id);
    refreshDetail().catch((e) => notice(`task ${id}: ${e.message}`));
  }

  function closeTask() {
    selected = null;
    outputStop();
    $('detail').hidden = true;
    showTasks();
  }

  async function cancelSelected() {
    const id = selected;
    if (!id) return;
    const b = $('detail-cancel');
    b.disabled = true;
    try {
      const t = await api('POST', `v1/tasks/${encodeURIComponent(id)}/cancel`);
      notice(`Task ${id} is ${t.state}.`, 'info');
    } catch (e) {
      notice(`cancel ${id}: ${e.message}`);
    } finally {
      rendered.delete('detail');
      refreshAfterWrite(true);
    }
  }

  // ------------------------------------------------------------------ submitting

  function pairs(text, what) {
    const out = {};
    for (const part of text.split(',')) {
      const p = part.trim();
      if (!p) continue;
      const eq = p.indexOf('=');
      if (eq <= 0) throw new Error(`${what}: "${p}" is not KEY=VALUE`);
      out[p.slice(0, eq).trim()] = p.slice(eq + 1).trim();
    }
    return out;
  }

  function numberField(id, name, integer) {
    const v = $(id).value.trim();
    if (v === '') return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) {
      throw new Error(`${name}: must be ${integer ? 'an integer' : 'a number'}`);
    }
    return n;
  }

  // The spec the form describes (CONTRACT "Task spec"); the replica checks the rest.
  function formSpec() {
    const form = $('submit-form');
    const cmd = $('f-command').value;
    const spec = {};
    if (form.elements.mode.value === 'shell') {
      if (!cmd.trim()) throw new Error('command: is empty');
      spec.command = cmd;
      spec.shell = true;
    } else {
      const t = cmd.trim();
      let argv;
      if (t.startsWith('[')) {
        try {
          argv = JSON.parse(t);
        } catch (_) {
          throw new Error('command: not a JSON array of strings');
        }
        if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) {
          throw new Error('command: not a JSON array of strings');
        }
      } else {
        argv = t.split(/\s+/).filter(Boolean);
      }
      if (argv.length === 0) throw new Error('command: is empty');
      spec.command = argv;
    }
    const name = $('f-name').value.trim();
    if (name) spec.name = name;
    const ints = [['f-priority', 'priority'], ['f-attempts', 'max_attempts'],
      ['f-timeout', 'timeout_s']];
    for (const [id, key] of ints) {
      const n = numberField(id, key, true);
      if (n !== undefined) spec[key] = n;
    }
    const cpu = numberField('f-cpu', 'resources.cpu', false);
    const mem = numberField('f-mem', 'resources.mem_mb', true);
    if (cpu !== undefined || mem !== undefined) {
      spec.resources = {};
      if (cpu !== undefined) spec.resources.cpu = cpu;
      if (mem !== undefined) spec.resources.mem_mb = mem;
    }
    const delay = numberField('f-delay', 'delay_s', false);
    if (delay !== undefined) spec.delay_s = delay;
    const cons = pairs($('f-constraints').value, 'worker labels');
    if (Object.keys(cons).length) spec.constraints = cons;
    const env = pairs($('f-env').value, 'environment');
    if (Object.keys(env).length) spec.env = env;
    const deps = $('f-deps').value.split(/[\s,]+/).filter(Boolean);
    if (deps.length) spec.depends_on = deps;
    return spec;
  }

  function submitResult(text, bad, id) {
    const r = $('submit-result');
    r.className = 'result' + (bad ? ' bad' : '');
    r.replaceChildren();
    if (id) {
      r.dataset.taskId = id;
      r.append('Submitted ', el('button', {
        cls: 'linklike', type: 'button', text: id, on: { click: () => openTask(id) },
      }), text);
    } else {
      delete r.dataset.taskId;
      r.textContent = text;
    }
  }

  async function submitted(e) {
    e.preventDefault();
    let spec;
    try {
      spec = formSpec();
    } catch (err) {
      submitResult(err.message, true);
      return;
    }
    const b = $('f-submit');
    b.disabled = true;
    submitResult('submitting…', false);
    try {
      const t = await api('POST', 'v1/tasks', spec);
      submitResult(` (${t.state})`, false, t.id);
      openTask(t.id); // reads it
      refreshAfterWrite(false);
    } catch (err) {
      submitResult(err.status === 401 ? 'A token is needed.' : err.message, true);
    } finally {
      b.disabled = false;
    }
  }

  // ------------------------------------------------------------------ schedules

  async function scheduleAction(name, action, button) {
    button.disabled = true;
    try {
      const r = await api('POST', `v1/schedules/${encodeURIComponent(name)}/${action}`);
      if (action === 'trigger' && r && r.id) {
        notice(`Schedule ${name} fired task ${r.id}.`, 'info');
        openTask(String(r.id));
      } else {
        notice(`Schedule ${name} is ${r && r.paused ? 'paused' : 'running'}.`, 'info');
      }
    } catch (e) {
      notice(`${action} ${name}: ${e.message}`);
    } finally {
      rendered.delete('schedules');
      refreshSchedules().catch(() => {});
    }
  }

  function renderSchedules(list) {
    const rows = list.map((s) => {
      const b = (action) => {
        const x = el('button', { cls: 'small', type: 'button', text: action, data: { action } });
        x.addEventListener('click', () => scheduleAction(s.name, action, x));
        return x;
      };
      const cmd = commandText(s.task);
      return el('tr', { data: { schedule: s.name } },
        el('td', { cls: 'mono', text: s.name }),
        el('td', { cls: 'mono', text: s.cron }),
        el('td', { text: s.timezone }),
        el('td', null, s.paused ? stateBadge('paused') : fmtTime(s.next_fire)),
        el('td', { text: fmtTime(s.last_fire), title: s.last_fire || '' }),
        el('td', { cls: 'cmd', text: cmd, title: cmd }),
        el('td', { cls: 'actions' }, b(s.paused ? 'resume' : 'pause'), b('trigger')));
    });
    $('schedules').tBodies[0].replaceChildren(...rows);
    $('schedules-empty').hidden = rows.length > 0;
  }

  async function refreshSchedules() {
    const r = await api('GET', 'v1/schedules');
    render('schedules', r.schedules || [], renderSchedules);
  }

  // ------------------------------------------------------------------ queue and throughput

  const series = { queued: [], running: [] };
  const finished = new Map(); // task id -> {ms, state}: finished within the window
  const doneCursor = {}; // finished state -> listing cursor

  function pushSample(list, v) {
    list.push(v);
    if (list.length > SERIES_MAX) list.shift();
  }

  function sparkline(id, values) {
    const svg = $(id);
    const W = 120;
    const H = 28;
    if (values.length < 2) {
      svg.replaceChildren();
      return;
    }
    const max = Math.max(1, ...values);
    const pts = values.map((v, i) => [(i / (values.length - 1)) * W, H - 2 - (v / max) * (H - 4)]);
    const str = (p) => `${p[0].toFixed(1)},${p[1].toFixed(1)}`;
    const area = document.createElementNS(SVGNS, 'polygon');
    area.setAttribute('points', [...pts, [W, H], [0, H]].map(str).join(' '));
    const line = document.createElementNS(SVGNS, 'polyline');
    line.setAttribute('points', pts.map(str).join(' '));
    const title = document.createElementNS(SVGNS, 'title');
    title.textContent = `now ${values[values.length - 1]}, max ${max}`;
    svg.replaceChildren(area, line, title);
  }

  // The tasks of a finished state that finished since the cursor (at first: the window's
  // start), in finish order; the cursor moves on to the last one seen.
  async function walkFinished(state, now) {
    let after = doneCursor[state] || idAt(now - WINDOW_MS);
    for (let i = 0; i < DONE_PAGES_MAX; i++) {
      const q = new URLSearchParams({ state, limit: String(DONE_PAGE), after });
      const r = await api('GET', 'v1/tasks?' + q.toString());
      const list = r.tasks || [];
      for (const t of list) {
        const ms = Date.parse(t.finished_at);
        if (!Number.isNaN(ms)) finished.set(t.id, { ms, state });
      }
      if (list.length) after = list[list.length - 1].id;
      if (!r.next) break;
      after = r.next;
    }
    doneCursor[state] = after;
  }

  async function refreshStats() {
    const now = serverNow();
    const depth = api('GET', `v1/tasks?state=queued&limit=${QUEUE_COUNT_MAX}`).then((r) => {
      const n = (r.tasks || []).length;
      setText('stat-queued', r.next ? `${n}+` : String(n));
      pushSample(series.queued, n);
      sparkline('spark-queued', series.queued);
    });
    const walks = Promise.all(['succeeded', 'failed', 'cancelled'].map((s) => walkFinished(s, now)));
    const results = await Promise.allSettled([depth, walks]);
    let running = 0;
    for (const w of workers) running += Number(w.running) || 0;
    pushSample(series.running, running);
    sparkline('spark-running', series.running);
    if (results[1].status === 'fulfilled') {
      const from = serverNow() - WINDOW_MS;
      const buckets = new Array(WINDOW_MS / BUCKET_MS).fill(0);
      let ok = 0;
      let failed = 0;
      let cancelled = 0;
      for (const [id, f] of finished) {
        if (f.ms < from) {
          finished.delete(id);
          continue;
        }
        if (f.state === 'cancelled') {
          cancelled++;
          continue;
        }
        if (f.state === 'failed') failed++;
        else ok++;
        const b = Math.min(buckets.length - 1, Math.floor((f.ms - from) / BUCKET_MS));
        buckets[b]++;
      }
      const perMin = (ok + failed) / (WINDOW_MS / 60000);
      setText('stat-throughput', perMin >= 10 ? perMin.toFixed(0) : perMin.toFixed(1));
      setText('stat-failed', `${failed} / ${cancelled}`);
      sparkline('spark-done', buckets);
    }
    for (const r of results) if (r.status === 'rejected') throw r.reason;
  }

  // ------------------------------------------------------------------ status

  function describe(e) {
    if (!(e instanceof ApiError)) return String(e && e.message ? e.message : e);
    if (e.status === 0) return e.message;
    if (e.code === 'zookeeper_unavailable') return 'the replica is not connected to ZooKeeper';
    return `${e.code}: ${e.message}`;
  }

  // The header's connection status after some requests: `errors` are the ones that failed.
  function report(errors) {
    if (waitingForToken) {
      setConn('down', 'token needed');
    } else if (errors.length === 0) {
      const d = new Date();
      setConn('live', `live · ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`);
    } else if (errors.every((e) => e instanceof ApiError && e.status === 0)) {
      setConn('down', describe(errors[0]));
    } else {
      const e = errors.find((x) => !(x instanceof ApiError) || x.status !== 403) || errors[0];
      setConn('stale', describe(e));
    }
  }

  // ------------------------------------------------------------------ the full refresh

  let polling = false;
  let again = false;
  let timer = null;
  let timerDue = 0;

  function pollDelay() {
    return feed.state === 'live' ? FALLBACK_MS : POLL_MS;
  }

  function pollAfter(ms) {
    clearTimeout(timer);
    timerDue = Date.now() + ms;
    timer = setTimeout(poll, ms);
  }

  // Everything: the leader, the workers, the task page, the open task, the stats and the
  // schedules. Every FALLBACK_MS while the feed is live, every POLL_MS while it is not.
  async function poll() {
    if (polling) {
      again = true;
      return;
    }
    polling = true;
    clearTimeout(timer);
    try {
      if (!waitingForToken) {
        const jobs = [refreshLeader(), refreshWorkers(), refreshTasks(), refreshDetail(),
          refreshStats(), refreshSchedules()];
        if (!servedBy) jobs.push(refreshServedBy());
        const results = await Promise.allSettled(jobs);
        report(results.filter((r) => r.status === 'rejected').map((r) => r.reason));
      }
    } finally {
      polling = false;
      pollAfter(again ? 0 : pollDelay());
      again = false;
    }
  }

  function pollNow() {
    poll();
  }

  // The feed stopped working: poll at POLL_MS from now on, not at the end of a FALLBACK_MS.
  function pollFaster() {
    if (!polling && timerDue - Date.now() > POLL_MS) pollAfter(POLL_MS);
  }

  // The leader is not in the feed: ask for it on its own, more often while there is none.
  let leaderTimer = null;

  async function leaderTick() {
    clearTimeout(leaderTimer);
    if (!waitingForToken) {
      try {
        await refreshLeader();
      } catch (e) {
        // the full refresh reports it
      }
    }
    leaderTimer = setTimeout(leaderTick, leader ? LEADER_MS : LEADER_FAST_MS);
  }

  // ------------------------------------------------------------------ panels, from the feed

  // A panel's refresh, run at most once per DEBOUNCE_MS however many events ask for it (the
  // ones that come meanwhile are served by one more refresh at the end of the interval). A
  // refresh asked for while one runs runs again after it: the running one may have read the
  // state from before the change.
  function refresher(fn) {
    let last = -Infinity;
    let timer = null;
    let running = false;
    let pending = false;
    async function run() {
      timer = null;
      if (waitingForToken) return;
      running = true;
      last = Date.now();
      try {
        await fn();
        report([]);
      } catch (e) {
        report([e]);
      } finally {
        running = false;
        if (pending) {
          pending = false;
          kick();
        }
      }
    }
    // now: without waiting for the rest of the interval.
    function kick(now) {
      if (running) {
        pending = true;
        return;
      }
      if (timer !== null) {
        if (!now) return;
        clearTimeout(timer);
      }
      timer = setTimeout(run, now ? 0 : Math.max(0, last + DEBOUNCE_MS - Date.now()));
    }
    return { kick };
  }

  const panels = {
    tasks: refresher(refreshTasks),
    workers: refresher(refreshWorkers),
    detail: refresher(refreshDetail),
  };

  function handleEvents(events) {
    let tasksChanged = false;
    let workersChanged = false;
    let detailChanged = false;
    for (const ev of events) {
      if (!ev || typeof ev !== 'object' || ev.id === undefined || ev.id === null) continue;
      if (ev.kind === 'task') {
        remember(ev);
        tasksChanged = true;
        if (ev.worker) workersChanged = true;
        if (String(ev.id) === selected) detailChanged = true;
      } else if (ev.kind === 'worker') {
        workersChanged = true;
      }
    }
    if (detailChanged) {
      showTimeline();
      panels.detail.kick(true);
      outputKick();
    }
    if (tasksChanged) panels.tasks.kick();
    if (workersChanged) panels.workers.kick();
  }

  // After a write to a task through the page: what it changed, now (its events follow; while
  // the feed does not work, everything). detail: the open task too.
  function refreshAfterWrite(detail) {
    if (feed.state !== 'live') {
      pollNow();
      return;
    }
    if (detail) panels.detail.kick(true);
    panels.tasks.kick();
    panels.workers.kick();
  }

  // ------------------------------------------------------------------ the feed

  const FEED_TITLES = {
    connecting: 'connecting to the feed of changes',
    live: `following the feed of changes (GET /v1/events); everything again every ${FALLBACK_MS / 1000} s`,
    polling: `the feed does not answer: everything again every ${POLL_MS / 1000} s`,
    off: 'waiting for a token',
  };

  const feed = {
    state: 'connecting', // 'connecting', 'live', 'polling' or 'off'
    cursor: null, // where to read on from; null: from a new head
    resync: true, // read everything once a new head is known (at first, after a 410)
    busy: false,
    timer: null,
    backoffMs: 0,
    expired: 0, // 410s in a row
    kicked: false, // feedKick while a request was out: the next one at once
  };

  function setFeed(state, why) {
    const e = $('feed');
    const was = feed.state;
    feed.state = state;
    const cls = 'badge feed ' + state;
    if (e.className !== cls) e.className = cls;
    if (e.textContent !== state) e.textContent = state;
    const title = why ? `${FEED_TITLES[state]}: ${why}` : FEED_TITLES[state];
    if (e.title !== title) e.title = title;
    if (was === 'live' && state !== 'live') pollFaster();
  }

  function backoff() {
    feed.backoffMs = Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_MIN_MS, feed.backoffMs * 2));
    return feed.backoffMs;
  }

  // Now (a token was given or dropped), not after a back-off.
  function feedKick() {
    clearTimeout(feed.timer);
    feed.timer = null;
    feed.backoffMs = 0;
    if (feed.busy) feed.kicked = true;
    else feed.timer = setTimeout(feedStep, 0);
  }

  // One request of the feed, then the next one: the head when there is no cursor; a long poll
  // while live; an answer at once (wait=0) while not, to know at once whether it works again.
  async function feedStep() {
    feed.timer = null;
    if (feed.busy) return;
    if (waitingForToken) {
      setFeed('off'); // tokenSubmitted starts it again
      return;
    }
    feed.busy = true;
    let delay = 0;
    try {
      if (feed.cursor === null) {
        const h = await api('GET', 'v1/events');
        if (!h || typeof h.next !== 'string' || !h.next) throw new Error('the feed sent no cursor');
        feed.cursor = h.next;
        if (feed.resync) {
          // Read after the head: a change made before it is in what this reads.
          feed.resync = false;
          pollNow();
        }
        setFeed('live');
      }
      const q = new URLSearchParams({
        after: feed.cursor,
        wait: String(feed.state === 'live' ? FEED_WAIT_S : 0),
        limit: String(FEED_LIMIT),
      });
      const r = await api('GET', 'v1/events?' + q.toString(), undefined,
        { timeoutMs: FEED_TIMEOUT_MS });
      if (!r || typeof r.next !== 'string' || !r.next) throw new Error('the feed sent no cursor');
      feed.cursor = r.next;
      feed.backoffMs = 0;
      feed.expired = 0;
      setFeed('live');
      handleEvents(Array.isArray(r.events) ? r.events : []);
    } catch (e) {
      if (e instanceof ApiError && (e.status === 410 ||
          (e.status === 400 && e.field === 'after'))) {
        // The feed no longer holds our place: everything afresh, from a new head.
        feed.cursor = null;
        feed.resync = true;
        delay = feed.expired++ > 0 ? backoff() : 0;
        setFeed('polling', 'resynchronising');
      } else if (e instanceof ApiError && e.status === 401) {
        delay = waitingForToken ? null : BACKOFF_MIN_MS; // tokenSubmitted starts it again
        setFeed(waitingForToken ? 'off' : 'polling', describe(e));
      } else {
        // Unreachable, no ZooKeeper, too many long polls, ...: the cursor stays good (on every
        // replica, across leader changes); try again a little later.
        delay = backoff();
        setFeed('polling', describe(e));
      }
    } finally {
      feed.busy = false;
      if (feed.kicked) {
        feed.kicked = false;
        delay = 0;
      }
      if (delay !== null && feed.timer === null) feed.timer = setTimeout(feedStep, delay);
    }
  }

  // ------------------------------------------------------------------ start

  function start() {
    $('task-state').addEventListener('change', (e) => {
      view.state = e.target.value;
      goPage(null, []);
    });
    $('task-since').addEventListener('change', (e) => {
      view.since = Number(e.target.value) || 0;
      goPage(null, []);
    });
    $('page-first').addEventListener('click', () => goPage(null, []));
    $('page-prev').addEventListener('click', () => {
      const stack = view.stack.slice();
      const after = stack.pop();
      goPage(after ?? null, stack);
    });
    $('page-next').addEventListener('click', () => {
      if (view.next) goPage(view.next, [...view.stack, view.after]);
    });
    $('detail-close').addEventListener('click', closeTask);
    $('detail-cancel').addEventListener('click', cancelSelected);
    $('submit-form').addEventListener('submit', submitted);
    $('token-form').addEventListener('submit', tokenSubmitted);
    $('token-dialog').addEventListener('cancel', (e) => {
      if (waitingForToken) e.preventDefault(); // Escape does not skip the token
    });
    $('token-forget').addEventListener('click', tokenForget);
    $('token-forget').hidden = !tokenGet();
    $('notice-close').addEventListener('click', () => { $('notice').hidden = true; });
    showPaging();
    setFeed('connecting');
    poll();
    feedStep();
    setTimeout(leaderTick, LEADER_MS);
    setInterval(showTasks, 1000); // "took" of the running tasks grows
  }

  start();
})();
