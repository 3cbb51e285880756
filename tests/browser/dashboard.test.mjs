// SPDX-License-Identifier: MIT
// The dashboard end to end in headless Chromium (Debian's chromium, driven by playwright-core).
// Run by tests/integration/t_dashboard.sh, which starts the cluster and tells this script where
// it is through the environment:
//   DASH_URL        the dashboard of a FOLLOWER replica (the page stays on it throughout)
//   DASH_FOLLOWER   that replica's id;  DASH_LEADER  the leader's id now
//   DASH_WORKER     the worker to cordon and uncordon through the page
//   DASH_DIR        where the screenshots and the handshake files go
//   DASH_TOKEN_URL, DASH_TOKEN   optional: a replica with a token file, and a token of it
//   CORRAL_CHROMIUM             the browser (default /usr/bin/chromium)
// Handshake for the leader kill: this script writes DASH_DIR/failover-ready (the leader id the
// page shows) and waits for DASH_DIR/leader-killed, which the shell writes after kill -9; then
// it waits for the page to name another leader and writes it to DASH_DIR/new-leader.
// The page follows the replica's feed of changes (GET /v1/events long polls): the requests it
// makes are recorded (page.on('request')) to check that it long-polls the feed with the token
// in a header only, that it does not list the tasks on a short interval while nothing happens,
// and (with page.route answering a 503, then a 410 cursor_expired) that it backs off, re-reads
// everything and follows the feed again from a new head.
// The task detail follows the task's output (GET /v1/tasks/{id}/output long polls): a task that
// prints tick-1..tick-5 a second apart shows tick-2 while the page still says running, ends
// with each tick once and in order under a "done" label, one request at a time (resource
// timings); opening another task aborts the follower's request; a task followed across the
// leader kill shows all of its output; the token goes in the Authorization header only.
// Each step prints "ok - ..." or "not ok - ..."; every wait is bounded (only the idle window is
// a fixed sleep); the exit status is 0 only when every step passed. The browser is closed in
// every case.
import { chromium } from 'playwright-core';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const env = (name, def) => {
  const v = process.env[name];
  if (v === undefined || v === '') {
    if (def !== undefined) return def;
    throw new Error(`${name} is not set`);
  }
  return v;
};

const URL_ = env('DASH_URL').replace(/\/$/, '') + '/';
const FOLLOWER = env('DASH_FOLLOWER');
const LEADER = env('DASH_LEADER');
const WORKER = env('DASH_WORKER');
const DIR = env('DASH_DIR');
const TOKEN_URL = env('DASH_TOKEN_URL', '');
const TOKEN = env('DASH_TOKEN', '');
const CHROMIUM = env('CORRAL_CHROMIUM', '/usr/bin/chromium');
const STEP_MS = 20000; // the longest any one wait may take
const t0 = Date.now();

let failures = 0;
const problems = []; // console errors, CSP violations, page errors

function log(msg) {
  process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`);
}

async function step(name, fn) {
  const start = Date.now();
  try {
    await fn();
    log(`ok - ${name} (${Date.now() - start} ms)`);
  } catch (e) {
    failures++;
    log(`not ok - ${name}: ${e && e.message ? e.message.split('\n').slice(0, 6).join(' | ') : e}`);
    throw e;
  }
}

function check(cond, what) {
  if (!cond) throw new Error(what);
}

// Wait until the text of the element sel (trimmed) is `want` (mode 'eq'), contains it
// ('has'), is one of the strings of the array want ('in'), or is none of them ('not').
async function waitText(page, sel, mode, want, timeout = STEP_MS) {
  try {
    await page.waitForFunction(([s, m, w]) => {
      const e = document.querySelector(s);
      if (!e) return false;
      const t = e.textContent.trim();
      if (m === 'eq') return t === w;
      if (m === 'has') return t.includes(w);
      if (m === 'in') return w.includes(t);
      return t !== '' && !w.includes(t);
    }, [sel, mode, want], { timeout, polling: 100 });
  } catch (e) {
    const now = await page.locator(sel).first().textContent({ timeout: 1000 }).catch(() => null);
    throw new Error(`${sel}: wanted ${mode} ${JSON.stringify(want)}, has ${JSON.stringify(now)} ` +
      `after ${timeout} ms`);
  }
  return (await page.locator(sel).first().textContent()).trim();
}

function watch(page, label) {
  page.on('console', (m) => {
    // A 401 or a 503 (no leader for a moment) is an answer the page handles; Chromium still
    // logs each as "Failed to load resource". Anything else (a CSP violation, an exception)
    // counts.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
      problems.push(`${label} console: ${m.text()}`);
    }
  });
  page.on('pageerror', (e) => problems.push(`${label} page error: ${e.message}`));
}

// Node's own view through the API, to compare with the page.
async function apiGet(path) {
  const r = await fetch(URL_ + path.replace(/^\//, ''), { signal: AbortSignal.timeout(10000) });
  check(r.ok, `GET ${path}: HTTP ${r.status}`);
  return r.json();
}

async function apiPost(path, body) {
  const r = await fetch(URL_ + path.replace(/^\//, ''), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10000),
  });
  if (!r.ok) throw new Error(`POST ${path}: HTTP ${r.status} ${await r.text()}`);
  return r.json();
}

async function sleep(ms) {
  await new Promise((r) => setTimeout(r, ms));
}

// Every request of the page, in order: {method, path (from the API root), params, url, at,
// done, headers}. The API root is the page's URL.
function recordRequests(page, pageUrl) {
  const reqs = [];
  const byReq = new Map();
  const root = new URL(pageUrl);
  page.on('request', (r) => {
    const u = new URL(r.url());
    const rec = {
      method: r.method(),
      path: u.pathname.startsWith(root.pathname)
        ? '/' + u.pathname.slice(root.pathname.length) : u.pathname,
      params: u.searchParams,
      url: r.url(),
      at: Date.now(),
      done: false,
      headers: r.headers(), // as the page sent them (allHeaders() waits for the answer)
    };
    reqs.push(rec);
    byReq.set(r, rec);
  });
  const end = (r) => {
    const rec = byReq.get(r);
    if (rec) rec.done = true;
    byReq.delete(r);
  };
  page.on('requestfinished', end);
  page.on('requestfailed', end);
  return reqs;
}

const isLongPoll = (r) => r.method === 'GET' && r.path === '/v1/events' && r.params.has('after') &&
  r.params.get('wait') === '25';

// Wait until some request of reqs from index `from` on satisfies pred; returns it.
async function waitRequest(reqs, from, pred, what, timeout = STEP_MS) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const hit = reqs.slice(from).find(pred);
    if (hit) return hit;
    check(Date.now() < deadline, `no ${what} within ${timeout} ms`);
    await sleep(100);
  }
}

// A request of the page for task id's output.
const isOutput = (id) => (r) => r.method === 'GET' && r.path === `/v1/tasks/${id}/output`;

// The lines of the output block that start with prefix, in order.
async function outputLines(page, prefix) {
  const text = await page.textContent('#detail-output');
  return text.split('\n').filter((l) => l.startsWith(prefix));
}

function seq(prefix, n) {
  return Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);
}

async function submitForm(page, command, name) {
  await page.fill('#f-command', command);
  await page.check('input[name=mode][value=shell]');
  await page.fill('#f-name', name);
  const before = await page.getAttribute('#submit-result', 'data-task-id');
  await page.click('#f-submit');
  await page.waitForFunction((b) => {
    const r = document.querySelector('#submit-result');
    return r && r.dataset.taskId && r.dataset.taskId !== b;
  }, before, { timeout: STEP_MS });
  return page.getAttribute('#submit-result', 'data-task-id');
}

async function tokenCase(browser) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  watch(page, 'token page');
  const reqs = recordRequests(page, TOKEN_URL);
  try {
    await step('token: the page loads without a token and asks for one on the 401', async () => {
      const resp = await page.goto(TOKEN_URL, { timeout: STEP_MS });
      check(resp.status() === 200, `GET / answered ${resp.status()}`);
      await page.locator('#token-dialog').waitFor({ state: 'visible', timeout: STEP_MS });
    });
    await step('token: a wrong token is refused with an error in the form', async () => {
      await page.fill('#token-input', 'not-the-right-token');
      await page.click('#token-submit');
      await waitText(page, '#token-error', 'has', 'refused');
      await page.locator('#token-dialog').waitFor({ state: 'visible', timeout: STEP_MS });
    });
    await step('token: the right token opens the dashboard; kept in sessionStorage only', async () => {
      await page.fill('#token-input', TOKEN);
      await page.click('#token-submit');
      await page.locator('#token-dialog').waitFor({ state: 'hidden', timeout: STEP_MS });
      await waitText(page, '#leader-id', 'eq', LEADER);
      await page.locator(`#workers tr[data-worker="${WORKER}"]`).waitFor({ timeout: STEP_MS });
      const st = await page.evaluate(() => ({
        session: sessionStorage.getItem('corral.token'),
        local: localStorage.length,
        href: location.href,
        cookies: document.cookie,
      }));
      check(st.session === TOKEN, 'the token is not in sessionStorage');
      check(st.local === 0, 'localStorage is not empty');
      check(!st.href.includes(TOKEN) && st.cookies === '', 'the token is in the URL or a cookie');
    });
    await step('token: the feed is long-polled with the token in the Authorization header only', async () => {
      await waitText(page, '#feed', 'eq', 'live');
      const lp = await waitRequest(reqs, 0, isLongPoll, 'long poll of GET /v1/events');
      const auth = lp.headers.authorization;
      check(auth === `Bearer ${TOKEN}`, `the long poll has Authorization ${auth}`);
      const leak = reqs.find((r) => r.url.includes(TOKEN));
      check(!leak, `the token is in the URL ${leak && leak.url}`);
    });
    await step('token: a task\'s output is read with the token in the Authorization header only', async () => {
      const id = await submitForm(page, 'echo token-output-ok', 'dash-token-output');
      await waitText(page, '#detail-id', 'eq', id);
      await waitText(page, '#detail-output', 'has', 'token-output-ok');
      await waitText(page, '#detail-output-state', 'in', ['done', 'stored tail']);
      const outs = reqs.filter(isOutput(id));
      check(outs.length > 0, 'no request of the output');
      for (const r of outs) {
        check(r.headers.authorization === `Bearer ${TOKEN}`,
          `a request of the output has Authorization ${r.headers.authorization}`);
        check(!r.url.includes(TOKEN), `the token is in the URL ${r.url}`);
      }
    });
  } finally {
    await ctx.close();
  }
}

async function mainCase(browser) {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  const page = await ctx.newPage();
  watch(page, 'page');
  // A write through the page must go to the replica that served it (relative URLs only).
  const origins = new Set();
  page.on('request', (r) => origins.add(new URL(r.url()).origin));
  const reqs = recordRequests(page, URL_);
  let okId;
  let longId;
  const SCHEDULE = 'nightly-report';

  await step('the page loads from a follower with its security headers', async () => {
    await apiPost('/v1/schedules', {
      name: SCHEDULE, cron: '0 3 * * *', timezone: 'UTC',
      task: { command: ['sh', '-c', 'echo report'], name: 'report' },
    });
    const resp = await page.goto(URL_, { timeout: STEP_MS });
    check(resp.status() === 200, `GET / answered ${resp.status()}`);
    const h = resp.headers();
    check((h['content-type'] || '').startsWith('text/html'), `content-type ${h['content-type']}`);
    check((h['content-security-policy'] || '').includes("default-src 'self'"), 'no CSP');
    check(h['x-content-type-options'] === 'nosniff', 'no nosniff');
    check(h['referrer-policy'] === 'no-referrer', 'no Referrer-Policy');
    check(h['cache-control'] === 'no-cache', 'no Cache-Control: no-cache');
    await waitText(page, '#served-by', 'eq', FOLLOWER);
    await waitText(page, '#leader-id', 'eq', LEADER);
    await waitText(page, '#served-role', 'eq', 'follower');
    check(/^\d+$/.test(await page.textContent('#leader-epoch')), 'no epoch');
    await page.locator(`#workers tr[data-worker="${WORKER}"] .state`).waitFor({ timeout: STEP_MS });
    await waitText(page, `#workers tr[data-worker="${WORKER}"] .state`, 'eq', 'active');
    await waitText(page, '#conn', 'has', 'live');
    await waitText(page, '#feed', 'eq', 'live');
  });

  await step('the page follows the feed: a head, then long polls with wait=25 from its cursor', async () => {
    const head = await waitRequest(reqs, 0,
      (r) => r.method === 'GET' && r.path === '/v1/events' && !r.params.has('after'), 'head request');
    const lp = await waitRequest(reqs, 0, isLongPoll, 'long poll of GET /v1/events');
    check(lp.at >= head.at, 'a long poll before the head');
    check(lp.params.get('limit') === '1000', `limit=${lp.params.get('limit')}`);
  });

  await step('a task submitted through the form reaches succeeded in the table', async () => {
    const name = 'dash-ok <b id="xss">not bold</b>';
    okId = await submitForm(page, 'echo dashboard-says-hi', name);
    check(/^[0-9a-f]{12}-[0-9a-f]{8}$/.test(okId), `bad id ${okId}`);
    await waitText(page, `#tasks tr[data-task="${okId}"] .state`, 'eq', 'succeeded');
    // Server text is text: the name shows as typed, and no element was made of it.
    const cell = await page.textContent(`#tasks tr[data-task="${okId}"] td:nth-child(2)`);
    check(cell === name, `the name cell is ${JSON.stringify(cell)}`);
    check(await page.locator('#xss').count() === 0, 'the name became markup');
    await waitText(page, '#detail-id', 'eq', okId);
    await waitText(page, '#detail-output', 'has', 'dashboard-says-hi');
    await waitText(page, '#detail-spec', 'has', '"shell": true');
    // The detail's timeline, from the feed's events of the task.
    await page.locator('#detail-timeline li[data-state="succeeded"]').waitFor({ timeout: STEP_MS });
    const steps = await page.$$eval('#detail-timeline li', (l) => l.map((e) => e.dataset.state));
    check(steps.includes('running') && steps[steps.length - 1] === 'succeeded',
      `the timeline is ${steps.join(' → ')}`);
  });

  await step('dependencies: a task submitted with depends_on, linked both ways', async () => {
    await page.fill('#f-deps', okId);
    const child = await submitForm(page, 'echo child-of-ok', 'dash-child');
    await page.fill('#f-deps', '');
    await waitText(page, `#tasks tr[data-task="${child}"] .state`, 'eq', 'succeeded');
    await waitText(page, '#detail-id', 'eq', child);
    await waitText(page, '#detail-deps', 'has', `depends on: ${okId}`);
    await page.locator('#detail-deps button', { hasText: okId }).click();
    await waitText(page, '#detail-id', 'eq', okId);
    await waitText(page, '#detail-deps', 'has', `dependents: ${child}`);
  });

  await step('the output of a running task is followed live in its detail', async () => {
    // What the page showed when tick-2 first came (the detail's state and the block's label),
    // and the timings of its output requests (one at a time: each starts after the last ended).
    await page.evaluate(() => {
      window.tick2 = null;
      window.outputTimes = [];
      const pre = document.querySelector('#detail-output');
      new MutationObserver(() => {
        if (window.tick2 === null && pre.textContent.includes('tick-2')) {
          window.tick2 = {
            id: document.querySelector('#detail-id').textContent.trim(),
            state: document.querySelector('#detail-state').textContent.trim(),
            label: document.querySelector('#detail-output-state').textContent.trim(),
            text: pre.textContent,
          };
        }
      }).observe(pre, { childList: true, characterData: true, subtree: true });
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) {
          if (e.name.includes('/output?')) {
            window.outputTimes.push({ name: e.name, start: e.startTime, end: e.responseEnd });
          }
        }
      }).observe({ type: 'resource' });
    });
    const id = await submitForm(page,
      "sh -c 'for i in 1 2 3 4 5; do echo tick-$i; sleep 1; done'", 'dash-ticks');
    await waitText(page, '#detail-id', 'eq', id);
    await page.waitForFunction(() => window.tick2 !== null, null, { timeout: STEP_MS, polling: 50 });
    const seen = await page.evaluate(() => window.tick2);
    check(seen.id === id, `tick-2 showed in the detail of ${seen.id}`);
    check(seen.state === 'running', `tick-2 showed while the page said ${seen.state}`);
    check(seen.label === 'following', `tick-2 showed under the label ${seen.label}`);
    check(!seen.text.includes('tick-5'), `tick-2 came with tick-5: ${JSON.stringify(seen.text)}`);
    await waitText(page, '#detail-output-state', 'eq', 'done');
    const text = await page.textContent('#detail-output');
    const ticks = await outputLines(page, 'tick-');
    check(JSON.stringify(ticks) === JSON.stringify(seq('tick-', 5)),
      `the output block holds ${JSON.stringify(text)}`);
    check(!text.includes('attempt') && !text.includes('skipped'), `a note in ${JSON.stringify(text)}`);
    await waitText(page, '#detail-state', 'eq', 'succeeded');
    const outs = reqs.filter(isOutput(id));
    check(outs.some((r) => r.params.get('wait') === '25'), 'no output request with wait=25');
    const times = (await page.evaluate(() => window.outputTimes))
      .filter((t) => t.name.includes(`/v1/tasks/${id}/output?`))
      .sort((a, b) => a.start - b.start);
    log(`# ${outs.length} output requests: ` + outs.map((r) => r.params.toString()).join(', '));
    check(times.length >= 2, `${times.length} output answers timed`);
    for (let i = 1; i < times.length; i++) {
      check(times[i].start >= times[i - 1].end - 1,
        `output request ${i + 1} began ${(times[i - 1].end - times[i].start).toFixed(1)} ms ` +
        'before the one before it was answered');
    }
  });

  await step('schedules are listed; pause and resume through the page', async () => {
    const row = `#schedules tr[data-schedule="${SCHEDULE}"]`;
    await waitText(page, `${row} td:nth-child(2)`, 'eq', '0 3 * * *');
    await page.click(`${row} button[data-action="pause"]`);
    await waitText(page, `${row} td:nth-child(4)`, 'eq', 'paused');
    const sc = await apiGet(`/v1/schedules/${SCHEDULE}`);
    check(sc.paused === true, 'the API does not say paused');
    await page.click(`${row} button[data-action="resume"]`);
    await waitText(page, `${row} td:nth-child(4)`, 'not', ['paused', '']);
  });

  await step('a long task is cancelled through the page', async () => {
    const from = reqs.length;
    longId = await submitForm(page, 'sleep 60', 'dash-long');
    await waitText(page, `#tasks tr[data-task="${longId}"] .state`, 'eq', 'running');
    await waitText(page, '#detail-id', 'eq', longId);
    // Its output is followed (a long poll is out); another task's detail aborts it.
    await waitRequest(reqs, from, isOutput(longId), 'request of the long task\'s output');
    await waitText(page, '#detail-output-state', 'eq', 'following');
    await page.click(`#tasks tr[data-task="${okId}"]`);
    await waitText(page, '#detail-id', 'eq', okId);
    const switched = reqs.length;
    await waitText(page, '#detail-output', 'has', 'dashboard-says-hi');
    await waitText(page, '#detail-output-state', 'in', ['done', 'stored tail']);
    const deadline = Date.now() + STEP_MS;
    while (reqs.some((r) => isOutput(longId)(r) && !r.done)) {
      check(Date.now() < deadline, 'the long task\'s output request was not aborted');
      await sleep(100);
    }
    const after = reqs.slice(switched).filter(isOutput(longId));
    check(after.length === 0, `${after.length} requests of the long task's output after it closed`);
    // Back to it: followed again, from its start.
    await page.click(`#tasks tr[data-task="${longId}"]`);
    await waitText(page, '#detail-id', 'eq', longId);
    await waitRequest(reqs, switched, isOutput(longId), 'request of the long task\'s output again');
    await waitText(page, '#detail-output-state', 'eq', 'following');
    await page.locator('#detail-cancel:not([disabled])').waitFor({ timeout: STEP_MS });
    await page.click('#detail-cancel');
    await waitText(page, `#tasks tr[data-task="${longId}"] .state`, 'eq', 'cancelled');
    await waitText(page, '#detail-state', 'eq', 'cancelled');
    await waitText(page, '#detail-output-state', 'eq', 'done'); // the follower ends with it
    const t = await apiGet(`/v1/tasks/${longId}`);
    check(t.state === 'cancelled', `the API says ${t.state}`);
  });

  await step(`worker ${WORKER} is cordoned through the page, and the API agrees`, async () => {
    const row = `#workers tr[data-worker="${WORKER}"]`;
    await page.click(`${row} button[data-action="cordon"]`);
    await waitText(page, `${row} .state`, 'eq', 'cordoned');
    const w = await apiGet('/v1/workers');
    const me = (w.workers || []).find((x) => x.id === WORKER);
    check(me && me.state === 'cordoned', `the API says ${me && me.state}`);
    check(me.fleet && me.fleet.by === 'operator', 'no operator fleet record');
  });

  await step('the task filter and the detail of a task', async () => {
    await page.selectOption('#task-state', 'cancelled');
    await page.locator(`#tasks tr[data-task="${longId}"]`).waitFor({ timeout: STEP_MS });
    await page.locator(`#tasks tr[data-task="${okId}"]`).waitFor({ state: 'detached', timeout: STEP_MS });
    await page.selectOption('#task-state', '');
    await page.click(`#tasks tr[data-task="${okId}"]`);
    await waitText(page, '#detail-id', 'eq', okId);
    await waitText(page, '#detail-state', 'eq', 'succeeded');
    check(await page.isDisabled('#detail-cancel'), 'cancel is enabled on a finished task');
    await waitText(page, '#stat-throughput', 'not', ['…']);
    await page.screenshot({ path: join(DIR, 'dashboard.png'), fullPage: true });
  });

  await step('with nothing happening for 6 s, the page lists the tasks at most once', async () => {
    await waitText(page, '#feed', 'eq', 'live');
    const from = reqs.length;
    const idleMs = 6000;
    await sleep(idleMs); // the idle window being measured
    const win = reqs.slice(from);
    const lists = win.filter((r) => r.method === 'GET' && r.path === '/v1/tasks' &&
      !r.params.has('state'));
    const full = win.filter((r) => r.method === 'GET' && r.path === '/v1/schedules');
    log(`# idle ${idleMs} ms: ${win.length} requests: ` +
      win.map((r) => r.path + (r.params.toString() ? '?' + r.params.toString() : '')).join(', '));
    check(lists.length <= 1, `${lists.length} task listings in ${idleMs} ms`);
    check(full.length <= 1, `${full.length} full refreshes (GET /v1/schedules) in ${idleMs} ms`);
    // The feed was followed all along: one long poll is out (another one may be on its way
    // if the last one just ended at its wait=25).
    const deadline = Date.now() + 3000;
    let out;
    for (;;) {
      out = reqs.filter((r) => isLongPoll(r) && !r.done).length;
      if (out === 1 || Date.now() > deadline) break;
      await sleep(100);
    }
    check(out === 1, `${out} long polls of the feed out, not 1`);
    check(await page.textContent('#feed') === 'live', 'the feed is not live');
  });

  await step('the feed fails (503, then 410 cursor_expired): back off, re-read, a new head', async () => {
    // The indicator's states, as the page sets them (a state may last less than a poll).
    await page.evaluate(() => {
      const e = document.querySelector('#feed');
      window.feedStates = [e.textContent];
      new MutationObserver(() => window.feedStates.push(e.textContent))
        .observe(e, { childList: true, characterData: true, subtree: true });
    });
    const hits = []; // the feed's requests the route answered: {at, wait}
    const handler = (route) => {
      hits.push({ at: Date.now(), wait: new URL(route.request().url()).searchParams.get('wait') });
      if (hits.length === 1) {
        return route.fulfill({ status: 503, contentType: 'application/json',
          body: '{"error":"zookeeper_unavailable","message":"test: not connected"}' });
      }
      if (hits.length === 2) {
        return route.fulfill({ status: 410, contentType: 'application/json',
          body: '{"error":"cursor_expired","message":"test: the cursor is gone"}' });
      }
      return route.continue();
    };
    const pattern = (u) => u.pathname.endsWith('/v1/events') && u.searchParams.has('after');
    await page.route(pattern, handler);
    try {
      const from = reqs.length;
      // An event ends the long poll that is out; the next requests meet the route.
      await apiPost('/v1/tasks', { command: ['true'], name: 'dash-feed-kick' });
      const deadline = Date.now() + STEP_MS;
      while (hits.length < 2) {
        check(Date.now() < deadline, `the route answered ${hits.length} requests of the feed`);
        await sleep(100);
      }
      const gap = hits[1].at - hits[0].at;
      check(gap >= 800, `retried ${gap} ms after the 503, without backing off`);
      check(hits[1].wait === '0', `the retry after the 503 has wait=${hits[1].wait}, not 0`);
      const head = await waitRequest(reqs, from, (r) => r.method === 'GET' &&
        r.path === '/v1/events' && !r.params.has('after') && r.at >= hits[1].at,
      'new head after the 410');
      await waitRequest(reqs, from, (r) => r.method === 'GET' && r.path === '/v1/schedules' &&
        r.at >= head.at, 'full refresh after the new head');
      await waitRequest(reqs, from, (r) => isLongPoll(r) && r.at >= head.at,
        'long poll from the new head');
      await waitText(page, '#feed', 'eq', 'live');
      const states = await page.evaluate(() => window.feedStates);
      check(states.includes('polling'), `the indicator went ${states.join(' → ')}`);
    } finally {
      await page.unroute(pattern, handler);
    }
  });

  let shown;
  let killId;
  await step('kill -9 of the leader: the open page names the new leader without a reload', async () => {
    // A task whose output the page follows across the kill (on w2: w1 is cordoned).
    killId = await submitForm(page,
      "sh -c 'for i in 1 2 3 4 5 6 7 8; do echo kill-$i; sleep 1; done'", 'dash-kill');
    await waitText(page, '#detail-id', 'eq', killId);
    await waitText(page, '#detail-output', 'has', 'kill-1');
    await waitText(page, '#detail-output-state', 'eq', 'following');
    shown = await waitText(page, '#leader-id', 'eq', LEADER);
    const epoch = Number(await page.textContent('#leader-epoch'));
    const nav = await page.evaluate(() => performance.getEntriesByType('navigation').length);
    writeFileSync(join(DIR, 'failover-ready'), shown + '\n');
    const deadline = Date.now() + 30000;
    while (!existsSync(join(DIR, 'leader-killed'))) {
      check(Date.now() < deadline, 'the shell did not kill the leader within 30 s');
      await sleep(100);
    }
    log(`the shell killed ${readFileSync(join(DIR, 'leader-killed'), 'utf8').trim()}`);
    const now = await waitText(page, '#leader-id', 'not', [LEADER, 'none', '…'], 30000);
    writeFileSync(join(DIR, 'new-leader'), now + '\n');
    const epoch2 = Number(await page.textContent('#leader-epoch'));
    check(epoch2 > epoch, `the epoch did not rise: ${epoch} -> ${epoch2}`);
    check(await page.evaluate(() => performance.getEntriesByType('navigation').length) === nav,
      'the page was reloaded');
    log(`the page shows leader ${now}, epoch ${epoch2}`);
  });

  await step('the output followed across the leader kill is all there, once', async () => {
    await waitText(page, '#detail-id', 'eq', killId);
    await waitText(page, '#detail-output-state', 'eq', 'done', 30000);
    const lines = await outputLines(page, 'kill-');
    check(JSON.stringify(lines) === JSON.stringify(seq('kill-', 8)),
      `the output block holds ${JSON.stringify(await page.textContent('#detail-output'))}`);
  });

  await step('after the failover the page still writes: uncordon and a new task', async () => {
    const row = `#workers tr[data-worker="${WORKER}"]`;
    await page.click(`${row} button[data-action="uncordon"]`);
    await waitText(page, `${row} .state`, 'eq', 'active');
    const id = await submitForm(page, 'echo after-failover', 'dash-after');
    await waitText(page, `#tasks tr[data-task="${id}"] .state`, 'eq', 'succeeded');
    await waitText(page, '#detail-output', 'has', 'after-failover');
    await waitText(page, '#detail-output-state', 'in', ['done', 'stored tail']);
    await waitText(page, '#conn', 'has', 'live');
    await waitText(page, '#feed', 'eq', 'live');
    await page.screenshot({ path: join(DIR, 'dashboard-after-failover.png'), fullPage: true });
  });

  await step('the page asked only its own replica', async () => {
    const own = new URL(URL_).origin;
    check([...origins].every((o) => o === own), `requests went to ${[...origins].join(', ')}`);
  });
  await ctx.close();
}

let browser;
let status = 1;
try {
  const args = [];
  if (process.getuid && process.getuid() === 0) args.push('--no-sandbox'); // root: no sandbox
  browser = await chromium.launch({ executablePath: CHROMIUM, args, timeout: 30000 });
  log(`chromium ${browser.version()}`);
  if (TOKEN_URL) await tokenCase(browser);
  await mainCase(browser);
  await step('no console error, CSP violation or script error on the pages', async () => {
    check(problems.length === 0, problems.join(' || '));
  });
  status = failures === 0 ? 0 : 1;
} catch (e) {
  if (failures === 0) log(`not ok - ${e && e.stack ? e.stack : e}`);
  for (const p of problems) log(`# ${p}`);
  if (browser) {
    for (const c of browser.contexts()) {
      for (const p of c.pages()) {
        await p.screenshot({ path: join(DIR, 'dashboard-failure.png'), fullPage: true })
          .catch(() => {});
      }
    }
  }
} finally {
  if (browser) await browser.close().catch(() => {});
}
log(status === 0 ? 'PASS' : 'FAIL');
process.exit(status);
