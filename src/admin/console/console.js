/*
 * OneWindow Gateway ops console: plain browser JavaScript, no build step, nothing fetched from
 * elsewhere. Every API call carries the ops token typed in once (kept in sessionStorage only) and the
 * operator's name (X-OW-Operator, percent-encoded) for the audit trail. Data reaches the page only as
 * text nodes (textContent), never as HTML. After sign-in the console asks the token's role
 * (GET /admin/whoami) and builds no control the role may not use; the API checks every call anyway.
 * Words and the gateway's messages come from words.js, in Chinese by default or in English.
 */
/* global document, window, sessionStorage, fetch, URLSearchParams */
'use strict';

(() => {
  const TOKEN_KEY = 'ow.console.token';
  const NAME_KEY = 'ow.console.operator';
  const WALL_KEY = 'ow.console.wall';
  const API = '/api/v1';
  const REFRESH_MS = 5000;
  const PAGE_SIZE = 50;

  const W = window.OWWords;
  const { L, word } = W;

  const LEVEL_ORDER = { national: 0, provincial: 1, city: 2 };
  // Ops roles, least first: each may do what the ones before it may.
  const ROLE_ORDER = ['viewer', 'operator', 'admin'];
  const ROLE_TONE = { viewer: 'muted', operator: 'info', admin: 'warn' };
  const DELIVERY_TONE = { queued: 'info', delivering: 'info', delivered: 'ok', completed: 'ok', rejected: 'bad', dead: 'bad' };
  const CASE_TONE = { in_progress: 'info', completed: 'ok', failed: 'bad', partially_failed: 'warn' };
  const CIRCUIT_TONE = { closed: 'ok', open: 'bad', half_open: 'warn' };
  const DOCUMENT_TONE = { found: 'ok', not_found: 'muted', error: 'bad', timeout: 'warn' };
  // The API's order of urgency: a system with a problem is listed before every system without one.
  const PROBLEM_ORDER = ['circuit_open', 'unreachable', 'paused', 'window_closed', 'failing', 'dead_letters', 'apply_error'];

  // ---------------------------------------------------------------- DOM helpers (text only)

  const $ = (id) => document.getElementById(id);

  /** Builds an element; strings become text nodes, so nothing inserted is ever parsed as HTML. */
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') el.className = value;
      else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
      else el.setAttribute(key, value === true ? '' : String(value));
    }
    append(el, children);
    return el;
  }

  function append(el, children) {
    for (const child of children.flat(Infinity)) {
      if (child === undefined || child === null || child === false) continue;
      el.append(child instanceof window.Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  function fill(el, ...children) {
    el.replaceChildren();
    return append(el, children);
  }

  /** A badge with a vocabulary word: `badge('CIRCUIT', 'open', 'bad')`. */
  const badge = (vocab, key, tone) => h('span', { class: `badge ${tone || 'muted'}`, 'data-key': key }, word(vocab, key));
  const plainBadge = (label, tone) => h('span', { class: `badge ${tone}` }, label);

  /** A button that says what it does, to whom: `data-action` and `data-target` for tests and styles. */
  function actionButton(action, target, label, tone, onClick) {
    const button = h('button', { type: 'button', class: tone, 'data-action': action, 'data-target': target, 'aria-label': `${label} ${target}` }, label);
    button.addEventListener('click', () => onClick(button));
    return button;
  }

  const clock = new Intl.DateTimeFormat('zh-CN', {
    timeZone: 'Asia/Shanghai',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  });

  /** Beijing time, as ops read it: 2026-11-28 09:30:00. */
  function beijing(iso) {
    const date = new Date(iso);
    if (!iso || Number.isNaN(date.getTime())) return iso ? String(iso) : '—';
    const p = Object.fromEntries(clock.formatToParts(date).map((part) => [part.type, part.value]));
    return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
  }

  /** An instant in Beijing time, the zone said in English (where the reader may be elsewhere); the ISO instant on hover. */
  function when(iso) {
    const shown = beijing(iso);
    const zoned = shown !== '—' && shown !== String(iso) ? L(shown, `${shown} UTC+8`) : shown;
    return h('time', { datetime: iso, title: iso || undefined }, zoned);
  }

  /** A span of time in words: "2 小时 5 分" / "2 h 5 min". */
  function duration(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    const d = Math.floor(s / 86400);
    const hrs = Math.floor((s % 86400) / 3600);
    const min = Math.floor((s % 3600) / 60);
    const parts = [];
    if (d) parts.push(L(`${d} 天`, `${d} d`));
    if (hrs) parts.push(L(`${hrs} 小时`, `${hrs} h`));
    if (min && !d) parts.push(L(`${min} 分`, `${min} min`));
    if (!parts.length) parts.push(L(`${s} 秒`, `${s} s`));
    return parts.join(' ');
  }

  /** "(3 分钟前)" / "(in 2 min)": how far an instant is from now. */
  function relative(iso) {
    const ms = Date.parse(iso) - Date.now();
    if (!Number.isFinite(ms)) return '';
    return ms >= 0 ? L(`（${duration(ms)}后）`, ` (in ${duration(ms)})`) : L(`（${duration(-ms)}前）`, ` (${duration(-ms)} ago)`);
  }

  const dash = (value) => (value === undefined || value === null || value === '' ? '—' : String(value));

  /**
   * A message the gateway wrote, in the page's language: translated from its pattern; what the
   * legacy system said itself kept word for word and marked as the system's.
   */
  function gatewayText(message) {
    const { parts, known } = W.gatewayParts(message);
    if (!parts.length) return '—';
    const out = h('span', { class: 'gw', 'data-known': String(known), title: message });
    for (const part of parts) {
      if (typeof part === 'string') append(out, [part]);
      else if (part.own !== undefined) append(out, [h('q', { class: 'own', title: L('业务系统原话', 'the system’s own words') }, part.own)]);
      else if (part.tech !== undefined) append(out, [h('span', { class: 'tech' }, part.tech)]);
      else if (part.time !== undefined) append(out, [when(part.time)]);
    }
    return out;
  }

  // ---------------------------------------------------------------- toasts

  const MAX_TOASTS = 3;

  /**
   * One region, a few toasts at most: the same message again replaces the one shown, a success
   * leaves after 5 s, an error stays until closed (the oldest success goes first when full).
   */
  function message(kind, title, lines = [], details = []) {
    const box = $('messages');
    const key = [kind, title, ...lines].join('\n');
    for (const old of box.querySelectorAll('.message')) if (old.dataset.key === key) old.remove();
    const close = h('button', { type: 'button', class: 'close', 'aria-label': L('关闭', 'Close') }, '×');
    const el = h(
      'div',
      { class: `message ${kind}`, role: kind === 'error' ? 'alert' : 'status', 'data-key': key },
      close,
      h('strong', {}, title),
      lines.filter(Boolean).map((line) => h('div', {}, line)),
      details.length ? h('ul', {}, details.map((d) => h('li', {}, d))) : null,
    );
    close.addEventListener('click', () => el.remove());
    box.append(el);
    while (box.children.length > MAX_TOASTS) (box.querySelector('.message.ok') || box.firstElementChild).remove();
    if (kind !== 'error') window.setTimeout(() => el.remove(), 5000);
  }

  const ok = (title, line) => message('ok', title, [line]);

  /** An API error in plain words: what it means, what the gateway said, and each detail. */
  function describe(err) {
    const meaning = word('ERROR_CODES', err.code) || err.code || L('未知错误', 'unknown error');
    const status = err.status ? `HTTP ${err.status}` : '';
    const details = (err.details || []).map((d) => (d.path ? [`${d.path}: `, gatewayText(d.message)] : gatewayText(d.message)));
    // The gateway's own text of an API error is English: in Chinese it follows as the original.
    const said = err.message ? L(`网关原文：${err.message}`, err.message) : '';
    return { lines: [`${meaning}${status ? L(`（${status}，${err.code}）`, ` (${status}, ${err.code})`) : ''}`, said], details };
  }

  function report(title, err) {
    if (err && err.auth) return; // the sign-in form already says why
    const { lines, details } = describe(err);
    message('error', title, lines, details);
  }

  // ---------------------------------------------------------------- the API

  class ApiProblem extends Error {
    constructor(status, code, text, details, auth) {
      super(text);
      this.status = status;
      this.code = code;
      this.details = details || [];
      this.auth = Boolean(auth);
    }
  }

  /** Calls the gateway; `accept` lists non-2xx statuses that are answers rather than errors. */
  async function api(method, path, body, accept = []) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (!token) {
      showLogin();
      throw new ApiProblem(401, 'unauthorized', L('请先输入运维令牌。', 'Enter the ops token first.'), [], true);
    }
    const headers = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
    const name = sessionStorage.getItem(NAME_KEY);
    if (name) headers['X-OW-Operator'] = encodeURIComponent(name);
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(API + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store', credentials: 'omit' });
    } catch (err) {
      throw new ApiProblem(0, 'network', `Cannot reach the gateway (${err && err.message ? err.message : err}).`);
    }
    const text = await res.text();
    let data;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    const error = data && typeof data === 'object' && data.error && typeof data.error === 'object' ? data.error : null;
    // A 403 once the role is known is this role being refused one action: said, not signed out.
    if (res.status === 401 || (res.status === 403 && !role)) {
      // Only a token that is still the one in use is forgotten: a late answer must not sign out a new one.
      if (sessionStorage.getItem(TOKEN_KEY) === token) {
        sessionStorage.removeItem(TOKEN_KEY);
        showLogin(res.status === 401 ? L('令牌无效或已更换，请重新输入。', 'The token was refused; enter it again.') : L('此令牌不是运维令牌（可能是受理平台的令牌）。', 'This token may not use the ops API.'));
      }
      throw new ApiProblem(res.status, error ? error.code : 'unauthorized', error ? error.message : '', error && error.details, true);
    }
    if (!res.ok && !accept.includes(res.status)) {
      if (error) throw new ApiProblem(res.status, error.code, error.message, error.details);
      throw new ApiProblem(res.status, 'bad_answer', text.slice(0, 200) || res.statusText);
    }
    if (data === null) throw new ApiProblem(res.status, 'bad_answer', 'The gateway answered without JSON.');
    return { status: res.status, data };
  }

  // ---------------------------------------------------------------- the reason dialog

  /** Asks for a reason; resolves to the text ('' when optional and left empty), or null if cancelled. */
  function askReason({ title, text, required, okLabel, danger }) {
    const dialog = $('ask');
    const reason = $('ask-reason');
    const error = $('ask-error');
    const form = $('ask-form');
    const cancel = $('ask-cancel');
    const okButton = $('ask-ok');
    const before = document.activeElement;
    $('ask-title').textContent = title;
    $('ask-text').textContent = text || '';
    $('ask-label').textContent = required ? L('原因（必填）', 'Reason (required)') : L('原因（可选，写入审计记录）', 'Reason (optional, audited)');
    reason.value = '';
    reason.required = Boolean(required);
    reason.setAttribute('aria-required', required ? 'true' : 'false');
    reason.placeholder = required ? L('例如：申请人已撤回', 'e.g. the applicant withdrew') : L('例如：系统升级维护', 'e.g. system upgrade');
    error.textContent = '';
    okButton.textContent = okLabel || L('确定', 'OK');
    okButton.className = danger ? 'danger' : 'primary';

    return new Promise((resolve) => {
      const finish = (value) => {
        form.removeEventListener('submit', onSubmit);
        cancel.removeEventListener('click', onCancel);
        dialog.removeEventListener('cancel', onEscape);
        if (dialog.open) dialog.close();
        if (before && before.isConnected && typeof before.focus === 'function') before.focus();
        resolve(value);
      };
      const onSubmit = (event) => {
        event.preventDefault();
        const value = reason.value.trim();
        if (required && !value) {
          error.textContent = L('请填写原因。', 'A reason is required.');
          reason.focus();
          return;
        }
        finish(value);
      };
      const onCancel = () => finish(null);
      const onEscape = (event) => {
        event.preventDefault();
        finish(null);
      };
      form.addEventListener('submit', onSubmit);
      cancel.addEventListener('click', onCancel);
      dialog.addEventListener('cancel', onEscape);
      dialog.showModal();
      reason.focus();
    });
  }

  /** Runs an action with its button disabled, reporting any error under `title`. */
  async function busy(button, title, action) {
    if (button) button.disabled = true;
    try {
      return await action();
    } catch (err) {
      report(title, err);
      return undefined;
    } finally {
      if (button && button.isConnected) button.disabled = false;
    }
  }

  /**
   * The one path of every audited action: ask the reason, call the API, say it is done, reload.
   * Pause/resume, replay, discard (dead letter or unmatched result) and bulk replay all go here.
   */
  async function act({ button, ask, failed, call, done, reload }) {
    const reason = await askReason(ask);
    if (reason === null) return;
    await busy(button, failed, async () => {
      const answer = await call(reason);
      if (done) done(answer);
      if (reload) await reload();
    });
  }

  const withReason = (reason, body = {}) => (reason ? { ...body, reason } : body);

  // ---------------------------------------------------------------- sign-in

  let timer;
  /** The token's role, as the gateway says (GET /admin/whoami); undefined when signed out. */
  let role;

  /** Whether the signed-in role may do what `needed` (an ops role) may. */
  function may(needed) {
    return ROLE_ORDER.includes(role) && ROLE_ORDER.indexOf(role) >= ROLE_ORDER.indexOf(needed);
  }

  /** Asks the gateway the role of the token in use. */
  async function whoami() {
    const { data } = await api('GET', '/admin/whoami');
    if (!data || !ROLE_ORDER.includes(data.role)) throw new ApiProblem(200, 'bad_answer', 'The gateway did not say the role of this token.');
    role = data.role;
    // Rows built for another role are built again.
    systemRows.clear();
  }

  /** Shows the role and hides the static controls it may not use (marked data-needs in the page). */
  function applyRole() {
    const badgeEl = $('who-role');
    badgeEl.textContent = role ? word('ROLES', role) : '—';
    badgeEl.className = `badge ${ROLE_TONE[role] || 'muted'}`;
    for (const el of document.querySelectorAll('[data-needs]')) el.hidden = !may(el.getAttribute('data-needs'));
  }

  /** Drops what the last token was shown, so the next one (perhaps a viewer) never sees it. */
  function forget() {
    role = undefined;
    systems = [];
    systemRows.clear();
    deadLetters = [];
    lastCase = undefined;
    for (const pager of [deadPager, auditPager, unmatchedPager]) pager.reset();
    lookupsFilter = { caseId: '', person: '' };
    $('lookups-person').value = '';
    $('lookups-case').value = '';
    showPersonFilter();
    for (const id of ['systems-table', 'dead-table', 'audit-table', 'unmatched-table', 'lookups-table']) $(id).tBodies[0].replaceChildren();
    for (const id of ['case-result', 'systems-summary', 'dead-count', 'unmatched-count', 'dead-pager', 'audit-pager', 'unmatched-pager']) $(id).replaceChildren();
  }

  function showLogin(errorText) {
    window.clearInterval(timer);
    timer = undefined;
    forget();
    $('app').hidden = true;
    $('who').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = errorText || '';
    $('login-token').value = '';
    $('login-name').value = sessionStorage.getItem(NAME_KEY) || $('login-name').value;
    $('login-token').focus();
  }

  function showApp() {
    $('login').hidden = true;
    $('app').hidden = false;
    $('who').hidden = false;
    $('who-name').textContent = sessionStorage.getItem(NAME_KEY) || '';
    applyRole();
    window.clearInterval(timer);
    timer = window.setInterval(autoRefresh, REFRESH_MS);
  }

  async function signIn(event) {
    event.preventDefault();
    const token = $('login-token').value.trim();
    const name = $('login-name').value.trim();
    if (!token || !name) {
      $('login-error').textContent = !token ? L('请输入运维令牌。', 'Enter the ops token.') : L('请输入您的姓名（用于审计记录）。', 'Enter your name (for the audit trail).');
      (!token ? $('login-token') : $('login-name')).focus();
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(NAME_KEY, name);
    $('login-error').textContent = L('正在验证…', 'Checking…');
    try {
      await whoami();
      const { data } = await api('GET', '/admin/systems');
      showApp();
      renderSystems(data);
      selectTab('systems', false);
      $('main').focus();
      ok(L('已登录', 'Signed in'), L(`${name}（${word('ROLES', role)}），欢迎。`, `${name} (${word('ROLES', role)}), welcome.`));
      loadUnmatched(true);
    } catch (err) {
      if (err.auth) return; // showLogin already explains
      sessionStorage.removeItem(TOKEN_KEY);
      role = undefined;
      $('login-error').textContent = describe(err).lines.filter(Boolean).join(' — ');
    }
  }

  /** A reload with a token in this tab: its role is asked again before anything is shown. */
  async function resume() {
    try {
      await whoami();
    } catch (err) {
      if (err.auth) return; // showLogin already explains
      sessionStorage.removeItem(TOKEN_KEY);
      showLogin(describe(err).lines.filter(Boolean).join(' — '));
      return;
    }
    showApp();
    selectTab('systems', false);
    loadUnmatched(true);
  }

  function signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin(L('已退出。', 'Signed out.'));
  }

  // ---------------------------------------------------------------- tabs

  // The tabs are those in the page (a tab `tab-x` shows the panel `panel-x`), so a section added to
  // index.html, such as the system page, takes part without a change here; it hears `ow:tab`.
  const TABS = [...document.querySelectorAll('[role="tab"][id^="tab-"]')].map((tab) => tab.id.slice(4));
  let currentTab = 'systems';

  function selectTab(name, focusTab = true) {
    currentTab = name;
    for (const tab of TABS) {
      const button = $(`tab-${tab}`);
      const selected = tab === name;
      button.setAttribute('aria-selected', String(selected));
      button.tabIndex = selected ? 0 : -1;
      $(`panel-${tab}`).hidden = !selected;
    }
    if (focusTab) $(`tab-${name}`).focus();
    if (name === 'systems') loadSystems();
    if (name === 'dead') loadDeadLetters();
    if (name === 'audit') loadAudit();
    if (name === 'unmatched') loadUnmatched();
    if (name === 'lookups') loadLookups();
    document.dispatchEvent(new window.CustomEvent('ow:tab', { detail: { tab: name } }));
  }

  function onTabKey(event) {
    const index = TABS.indexOf(currentTab);
    const next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: TABS.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    selectTab(TABS[(next + TABS.length) % TABS.length]);
  }

  // ---------------------------------------------------------------- paging (dead letters, unmatched, audit)

  /**
   * Cursor paging as the API gives it (`next`): the cursors of the pages before are kept, so ops can
   * go back as well as on. `load(cursor)` fetches a page and answers its `next`.
   */
  function pager(elementId, load) {
    let before = []; // cursors of the pages before this one ('' = the first)
    let cursor = '';
    let next;
    const state = {
      cursor: () => cursor,
      reset() {
        before = [];
        cursor = '';
        next = undefined;
      },
      /** Called with a page's `next` once it is shown. */
      shown(nextCursor, count) {
        next = nextCursor;
        const first = h('button', { type: 'button', class: 'secondary', 'data-page': 'first', disabled: before.length === 0 }, L('第一页', 'First page'));
        const prev = h('button', { type: 'button', class: 'secondary', 'data-page': 'prev', disabled: before.length === 0 }, L('上一页', 'Previous'));
        const more = h('button', { type: 'button', class: 'secondary', 'data-page': 'next', disabled: !next }, L('下一页', 'Next page'));
        first.addEventListener('click', () => {
          state.reset();
          load();
        });
        prev.addEventListener('click', () => {
          cursor = before.pop() || '';
          load();
        });
        more.addEventListener('click', () => {
          before.push(cursor);
          cursor = next;
          load();
        });
        const page = before.length + 1;
        fill($(elementId), first, prev, h('span', { class: 'hint' }, L(`第 ${page} 页，本页 ${count} 条${next ? '，后面还有' : ''}`, `page ${page}, ${count} here${next ? ', more after' : ''}`)), more);
      },
    };
    return state;
  }

  /** The query string of a page: the filter's fields that are set, the cursor and the page size. */
  function pageQuery(filter, cursor) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(filter)) if (value) params.set(key, value);
    if (cursor) params.set('cursor', cursor);
    params.set('limit', String(PAGE_SIZE));
    return `?${params.toString()}`;
  }

  /** Shows a table's rows, or its "nothing here" line. */
  function showRows(tableId, emptyId, rows) {
    $(tableId).tBodies[0].replaceChildren(...rows);
    $(emptyId).hidden = rows.length > 0;
    $(tableId).hidden = rows.length === 0;
  }

  // ---------------------------------------------------------------- systems

  let systems = [];
  const systemRows = new Map();
  let systemsLoading = false;
  let lastSystemsOk;
  let problemFilter = '';

  function systemName(id) {
    const found = systems.find((s) => s.id === id);
    return found ? found.name : '';
  }

  function problemRank(s) {
    const first = Array.isArray(s.problems) && s.problems.length ? PROBLEM_ORDER.indexOf(s.problems[0]) : -1;
    return first < 0 ? PROBLEM_ORDER.length : first;
  }

  function sortSystems(list) {
    return [...list].sort((a, b) => problemRank(a) - problemRank(b) || (LEVEL_ORDER[a.level] ?? 9) - (LEVEL_ORDER[b.level] ?? 9) || a.id.localeCompare(b.id));
  }

  /** The state cell: running or paused, the circuit, and each problem the API names. */
  function stateCell(s) {
    const c = s.circuit || { state: 'closed', failures: 0 };
    const parts = [s.paused ? plainBadge(L('已暂停', 'paused'), 'warn') : plainBadge(L('运行中', 'running'), 'ok'), ' ', badge('CIRCUIT', c.state, CIRCUIT_TONE[c.state])];
    if (c.failures) parts.push(h('div', { class: 'hint' }, L(`连续失败 ${c.failures} 次`, `${c.failures} failures in a row`)));
    // A paused system sends nothing, so it probes nothing; a probe time already past says nothing either.
    if (!s.paused && c.openUntil && Date.parse(c.openUntil) > Date.now()) parts.push(h('div', { class: 'hint', 'data-field': 'next-probe' }, L('下次试探 ', 'next probe '), when(c.openUntil)));
    if (s.paused && c.state !== 'closed') parts.push(h('div', { class: 'hint' }, L('暂停中不试探，恢复后才会试探', 'no probe while paused; one follows the resume')));
    return parts;
  }

  /** What ops need at 3 a.m.: since when it fails, what it said, when it last worked, who waits how long. */
  function healthCell(s) {
    const lines = [];
    const problems = Array.isArray(s.problems) ? s.problems : [];
    if (problems.length) lines.push(h('div', { class: 'problems' }, problems.map((p) => [badge('PROBLEMS', p, p === 'dead_letters' || p === 'window_closed' ? 'warn' : 'bad'), ' '])));
    if (s.window && !s.window.open) lines.push(h('div', { class: 'hint' }, L('维护窗口外，开放于 ', 'outside the window; opens '), when(s.window.opensAt)));
    // The health probe's view: unreachable since its first failed probe, with what it met.
    if (s.probe && !s.probe.ok) lines.push(h('div', { class: 'hint bad-text', 'data-field': 'unreachable-since' }, L('不可达，自 ', 'unreachable since '), when(s.probe.unreachableSince || s.probe.checkedAt), relative(s.probe.unreachableSince || s.probe.checkedAt), s.probe.error ? h('div', { class: 'hint wrap' }, gatewayText(s.probe.error)) : null));
    if (s.failingSince) lines.push(h('div', { class: 'hint bad-text', 'data-field': 'failing-since' }, L('故障自 ', 'failing since '), when(s.failingSince), relative(s.failingSince)));
    if (s.lastError) lines.push(h('div', { class: 'hint wrap', 'data-field': 'last-error' }, L('最后错误：', 'last error: '), gatewayText(s.lastError)));
    if (s.lastSuccessAt) lines.push(h('div', { class: 'hint', 'data-field': 'last-success' }, L('最近成功 ', 'last success '), when(s.lastSuccessAt), relative(s.lastSuccessAt)));
    else if (s.failingSince) lines.push(h('div', { class: 'hint', 'data-field': 'last-success' }, L('最近成功：从未', 'last success: never')));
    if (s.oldestWaitingAt) lines.push(h('div', { class: 'hint', 'data-field': 'oldest-waiting' }, L(`最早一件已等待 ${duration(Date.now() - Date.parse(s.oldestWaitingAt))}`, `oldest waiting for ${duration(Date.now() - Date.parse(s.oldestWaitingAt))}`)));
    if (Array.isArray(s.applyErrors) && s.applyErrors.length) lines.push(h('div', { class: 'hint bad-text' }, L(`配置版本 ${s.applyErrors[0].version} 未在 ${s.applyErrors.length} 个进程生效`, `version ${s.applyErrors[0].version} not applied on ${s.applyErrors.length} process(es)`)));
    return lines.length ? lines : h('span', { class: 'hint' }, L('无异常', 'no problem'));
  }

  function numberCell(td, value) {
    td.textContent = String(value ?? 0);
    td.className = `num${value ? '' : ' zero'}`;
  }

  /** Dead letters of a system: the number links to them, filtered to that system. */
  function deadCell(td, s) {
    const n = s.deadLetters ?? 0;
    td.className = `num${n ? '' : ' zero'}`;
    if (!n) return fill(td, '0');
    const link = h('button', { type: 'button', class: 'link', 'data-dead-for': s.id, title: L('查看该系统的死信', 'Show its dead letters') }, String(n));
    link.addEventListener('click', () => {
      $('dead-system').value = s.id;
      $('dead-error').value = '';
      deadFilter = { systemId: s.id, error: '' };
      deadPager.reset();
      selectTab('dead');
    });
    return fill(td, link);
  }

  function buildSystemRow(s) {
    const cells = {};
    const tr = h('tr', { 'data-system': s.id });
    const keys = ['level', 'id', 'protocol', 'state', 'health', 'waiting', 'active', 'delayed', 'dead'];
    // Pausing and resuming: operator and admin only; a viewer's row has no action cell at all.
    if (may('operator')) keys.push('action');
    for (const key of keys) {
      cells[key] = h('td');
      tr.append(cells[key]);
    }
    cells.health.className = 'health';
    if (!cells.action) return { tr, cells };
    cells.action.className = 'nowrap';
    return { tr, cells };
  }

  function updateSystemRow(row, s) {
    const { cells } = row;
    fill(cells.level, h('span', { class: `level-${s.level}` }, word('LEVELS', s.level)));
    // The id opens the system's page (system-page.js); the link is kept across refreshes, for focus.
    if (!cells.id.firstChild) cells.id.append(h('div', { class: 'mono nowrap' }, h('a', { href: `#system/${encodeURIComponent(s.id)}`, 'data-open-system': s.id }, s.id)), h('div', { class: 'name' }));
    cells.id.lastChild.textContent = s.name;
    cells.protocol.textContent = String(s.protocol).toUpperCase();
    fill(cells.state, stateCell(s));
    fill(cells.health, healthCell(s));
    const q = s.queue || {};
    numberCell(cells.waiting, q.waiting);
    numberCell(cells.active, q.active);
    numberCell(cells.delayed, q.delayed);
    deadCell(cells.dead, s);
    row.tr.classList.toggle('paused', Boolean(s.paused));
    row.tr.classList.toggle('problem', problemRank(s) < PROBLEM_ORDER.length);
    if (!cells.action) return;
    // The same button is kept across refreshes (unless its label changes) so keyboard focus stays.
    const label = s.paused ? L('恢复', 'Resume') : L('暂停', 'Pause');
    const action = s.paused ? 'resume' : 'pause';
    if (!row.button || row.button.dataset.action !== action || row.button.textContent !== label) {
      const hadFocus = row.button && document.activeElement === row.button;
      row.button = actionButton(action, s.id, label, s.paused ? 'primary' : 'secondary', (button) => togglePause(s.id, button));
      fill(cells.action, row.button);
      if (hadFocus) row.button.focus();
    }
  }

  function applySystemFilter() {
    const text = $('systems-filter').value.trim().toLowerCase();
    const level = $('systems-level').value;
    for (const s of systems) {
      const row = systemRows.get(s.id);
      if (!row) continue;
      const matches =
        (!level || s.level === level) &&
        (!problemFilter || (Array.isArray(s.problems) && s.problems.includes(problemFilter))) &&
        (!text || s.id.toLowerCase().includes(text) || String(s.name).toLowerCase().includes(text));
      row.tr.hidden = !matches;
    }
  }

  function renderSystems(list) {
    systems = sortSystems(Array.isArray(list) ? list : []);
    const tbody = $('systems-table').tBodies[0];
    const sameOrder = systems.length === systemRows.size && [...systemRows.keys()].every((id, i) => systems[i].id === id);
    if (!sameOrder) {
      // Rows are kept (and their buttons with them); only the order changes as problems come and go.
      const kept = new Map(systemRows);
      systemRows.clear();
      for (const s of systems) systemRows.set(s.id, kept.get(s.id) || buildSystemRow(s));
      tbody.replaceChildren(...[...systemRows.values()].map((r) => r.tr));
    }
    for (const s of systems) updateSystemRow(systemRows.get(s.id), s);
    applySystemFilter();
    renderSummary();
    lastSystemsOk = new Date().toISOString();
    $('systems-updated').textContent = L(`更新于 ${beijing(lastSystemsOk)}`, `Updated ${beijing(lastSystemsOk)}`);
    const dead = systems.reduce((n, s) => n + (s.deadLetters ?? 0), 0);
    $('dead-count').textContent = dead ? String(dead) : '';
    fillSystemSelect();
  }

  /** The header counters, each a link to the systems it counts (a second click shows them all). */
  function renderSummary() {
    const having = (problem) => systems.filter((s) => Array.isArray(s.problems) && s.problems.includes(problem)).length;
    const counter = (problem, count) => {
      const active = problemFilter === problem;
      const link = h('button', { type: 'button', class: `link counter${active ? ' active' : ''}${count ? ' nonzero' : ''}`, 'data-problem': problem, 'aria-pressed': String(active) }, `${word('PROBLEMS', problem)} `, h('strong', {}, String(count)));
      link.addEventListener('click', () => {
        problemFilter = active ? '' : problem;
        renderSummary();
        applySystemFilter();
      });
      return link;
    };
    const waiting = systems.reduce((n, s) => n + ((s.queue && s.queue.waiting) || 0), 0);
    const deadTotal = systems.reduce((n, s) => n + (s.deadLetters ?? 0), 0);
    fill(
      $('systems-summary'),
      h('span', {}, L('共 ', ''), h('strong', {}, String(systems.length)), L(' 个系统', ' systems')),
      counter('circuit_open', having('circuit_open')),
      counter('unreachable', having('unreachable')),
      counter('paused', having('paused')),
      counter('window_closed', having('window_closed')),
      counter('failing', having('failing')),
      counter('dead_letters', deadTotal),
      h('span', {}, L('等待 ', 'waiting '), h('strong', {}, String(waiting))),
      problemFilter ? h('span', { class: 'hint' }, L(`仅显示：${word('PROBLEMS', problemFilter)}`, `showing only: ${word('PROBLEMS', problemFilter)}`)) : null,
    );
  }

  function fillSystemSelect() {
    const select = $('dead-system');
    const chosen = select.value || deadFilter.systemId;
    const options = [h('option', { value: '' }, L('全部', 'all'))];
    for (const s of systems) options.push(h('option', { value: s.id }, `${s.id} ${s.name}`));
    select.replaceChildren(...options);
    select.value = systems.some((s) => s.id === chosen) ? chosen : '';
  }

  async function loadSystems(quiet = false) {
    if (systemsLoading) return;
    systemsLoading = true;
    try {
      const { data } = await api('GET', '/admin/systems');
      renderSystems(data);
    } catch (err) {
      if (quiet && !err.auth) {
        // A background refresh says so in place instead of stacking a message every 5 s.
        const { lines } = describe(err);
        $('systems-updated').textContent = `${L('刷新失败', 'Refresh failed')}: ${lines.filter(Boolean).join(' — ')}${lastSystemsOk ? L(`（上次成功 ${beijing(lastSystemsOk)}）`, ` (last ok ${beijing(lastSystemsOk)})`) : ''}`;
      } else report(L('读取系统列表失败', 'Could not load systems'), err);
    } finally {
      systemsLoading = false;
    }
  }

  function autoRefresh() {
    if ($('app').hidden || document.hidden || !$('systems-auto').checked) return;
    loadSystems(true);
  }

  async function togglePause(id, button) {
    const s = systems.find((x) => x.id === id);
    if (!s) return;
    const pausing = !s.paused;
    await act({
      button,
      ask: {
        title: `${pausing ? L('暂停', 'Pause') : L('恢复', 'Resume')} ${s.name}（${s.id}）`,
        text: pausing
          ? L('暂停后，发往该系统的投递继续排队，但不会发送，直到恢复。', 'Deliveries keep queueing; nothing is sent until resumed.')
          : L('恢复后，排队中的投递会立即开始发送。', 'Queued deliveries start going out.'),
        required: false,
        okLabel: pausing ? L('暂停', 'Pause') : L('恢复', 'Resume'),
        danger: pausing,
      },
      failed: pausing ? L('暂停失败', 'Pause failed') : L('恢复失败', 'Resume failed'),
      call: async (reason) => (await api('POST', `/admin/systems/${encodeURIComponent(id)}/${pausing ? 'pause' : 'resume'}`, withReason(reason))).data,
      done: (status) => {
        renderSystems(systems.map((x) => (x.id === id ? status : x)));
        ok(pausing ? L('已暂停', 'Paused') : L('已恢复', 'Resumed'), `${s.name}（${s.id}）`);
      },
    });
  }

  // ---------------------------------------------------------------- dead letters

  let deadFilter = { systemId: '', error: '' };
  let deadLetters = [];
  const deadPager = pager('dead-pager', () => loadDeadLetters());

  async function loadDeadLetters(quiet = false) {
    const filter = deadFilter;
    try {
      const { data } = await api('GET', `/admin/dead-letters${pageQuery(filter, deadPager.cursor())}`);
      if (filter !== deadFilter) return; // the filter changed meanwhile
      deadLetters = data && Array.isArray(data.items) ? data.items : [];
      renderDeadLetters();
      deadPager.shown(data && data.next, deadLetters.length);
    } catch (err) {
      if (!quiet) report(L('读取死信失败', 'Could not load dead letters'), err);
    }
  }

  function renderDeadLetters() {
    const rows = deadLetters.map((d) => {
      let actions = null;
      if (may('operator')) {
        actions = h(
          'td',
          { class: 'actions' },
          actionButton('replay', d.id, L('重放', 'Replay'), 'secondary', (b) => replayOne(d, b)),
          // Correcting the case needs full case data and is an admin's.
          may('admin') ? actionButton('correct', d.id, L('更正后重放', 'Correct & replay'), 'secondary', (b) => correctOne(d, b)) : null,
          actionButton('discard', d.id, L('丢弃', 'Discard'), 'danger', (b) => discardOne(d, b)),
        );
      }
      return h(
        'tr',
        { 'data-dead-letter': d.id },
        h('td', { class: 'nowrap' }, caseLink(d.caseId)),
        h('td', {}, h('div', { class: 'mono' }, d.systemId), h('div', { class: 'hint' }, systemName(d.systemId))),
        h('td', { class: 'num' }, String(d.attempts)),
        h('td', { class: 'wrap' }, gatewayText(d.lastError)),
        h('td', { class: 'nowrap' }, when(d.failedAt)),
        actions,
      );
    });
    showRows('dead-table', 'dead-empty', rows);
  }

  function caseLink(caseId) {
    const link = h('button', { type: 'button', class: 'link', title: L('查看办件', 'Open the case') }, caseId);
    link.addEventListener('click', () => {
      $('case-id').value = caseId;
      selectTab('case');
      lookupCase();
    });
    return link;
  }

  /** After a change to dead letters: the list, and the board's counts, are read again. */
  async function deadLettersChanged() {
    await Promise.all([loadDeadLetters(), loadSystems(true)]);
  }

  function replayOne(d, button, reload = deadLettersChanged) {
    return act({
      button,
      ask: {
        title: `${L('重放死信', 'Replay')} ${d.caseId} → ${d.systemId}`,
        text: L('重新排队，重新计算尝试次数，幂等键不变。', 'Queued again with fresh attempts and the same Idempotency-Key.'),
        required: false,
        okLabel: L('重放', 'Replay'),
      },
      failed: L('重放失败', 'Replay failed'),
      call: (reason) => api('POST', `/admin/dead-letters/${encodeURIComponent(d.id)}/replay`, withReason(reason)),
      done: () => ok(L('已重放', 'Replayed'), `${d.caseId} → ${d.systemId}`),
      reload,
    });
  }

  function discardOne(d, button) {
    return act({
      button,
      ask: {
        title: `${L('丢弃死信', 'Discard')} ${d.caseId} → ${d.systemId}`,
        text: L('丢弃后不再投递，该投递保持“投递失败”状态，原因记入办件历史和审计记录。', 'It is never delivered; the delivery stays dead and the reason is kept.'),
        required: true,
        okLabel: L('丢弃', 'Discard'),
        danger: true,
      },
      failed: L('丢弃失败', 'Discard failed'),
      call: (reason) => api('DELETE', `/admin/dead-letters/${encodeURIComponent(d.id)}`, { reason }),
      done: () => ok(L('已丢弃', 'Discarded'), `${d.caseId} → ${d.systemId}`),
      reload: deadLettersChanged,
    });
  }

  /**
   * Bulk replay: a filter, or "every system" ticked explicitly; the API counts first (dryRun) and
   * the count is shown before anything is replayed.
   */
  async function replayMany(button) {
    const filter = { systemId: $('dead-system').value, error: $('dead-error').value.trim() };
    const all = $('dead-all').checked;
    if (!filter.systemId && !filter.error && !all) {
      message('error', L('请先选择范围', 'Choose what to replay'), [L('选择系统或填写“错误包含”，或勾选“全部系统”。不会在没有范围的情况下重放全部死信。', 'Pick a system or an error text, or tick “every system”. Nothing is replayed without a scope.')]);
      return;
    }
    const body = {};
    if (filter.systemId) body.systemId = filter.systemId;
    if (filter.error) body.error = filter.error;
    if (!filter.systemId && !filter.error) body.all = true;
    const counted = await busy(button, L('统计失败', 'Count failed'), async () => (await api('POST', '/admin/dead-letters/replay', { ...body, dryRun: true })).data);
    if (!counted) return;
    if (!counted.count) {
      ok(L('没有匹配的死信', 'Nothing matches'), L('该范围内没有死信，未重放任何内容。', 'No dead letter in this scope; nothing replayed.'));
      return;
    }
    const scope = [
      body.all ? L('全部系统', 'every system') : '',
      filter.systemId ? L(`系统 = ${filter.systemId}`, `system = ${filter.systemId}`) : '',
      filter.error ? L(`错误包含“${filter.error}”`, `error contains “${filter.error}”`) : '',
    ].filter(Boolean);
    await act({
      button,
      ask: {
        title: L(`批量重放 ${counted.count} 条死信`, `Replay ${counted.count} dead letter(s)`),
        text: L(`范围：${scope.join('，')}。共 ${counted.count} 条将重新排队（幂等键不变）。`, `Scope: ${scope.join(', ')}. ${counted.count} will be queued again (same Idempotency-Keys).`),
        required: false,
        okLabel: L(`重放 ${counted.count} 条`, `Replay ${counted.count}`),
        danger: Boolean(body.all),
      },
      failed: L('批量重放失败', 'Bulk replay failed'),
      call: async (reason) => (await api('POST', '/admin/dead-letters/replay', withReason(reason, body))).data,
      done: (answer) => ok(L('已批量重放', 'Replayed'), L(`共 ${answer.count} 条重新排队。`, `${answer.count} queued again.`)),
      reload: deadLettersChanged,
    });
    $('dead-all').checked = false;
  }

  // ---------------------------------------------------------------- correcting a dead letter's case

  /** Where two JSON values differ, with both values (an admin's screen: full data is theirs to see). */
  function diffPaths(before, after, at = '') {
    if (JSON.stringify(before) === JSON.stringify(after)) return [];
    const objects = before && after && typeof before === 'object' && typeof after === 'object' && Array.isArray(before) === Array.isArray(after);
    if (!objects) return [{ path: at || '(case)', before, after }];
    const keys = Array.isArray(before) ? [...Array(Math.max(before.length, after.length)).keys()] : [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => diffPaths(before[k], after[k], Array.isArray(before) ? `${at}[${k}]` : at ? `${at}.${k}` : k));
  }

  const shown = (value) => (value === undefined ? L('（无）', '(none)') : JSON.stringify(value));

  function renderDiff(original, text) {
    const out = $('correct-diff');
    let edited;
    try {
      edited = JSON.parse(text);
    } catch (err) {
      fill(out, h('p', { class: 'error-text' }, L('不是有效的 JSON：', 'Not valid JSON: '), err.message));
      return undefined;
    }
    const changes = diffPaths(original, edited);
    if (!changes.length) fill(out, h('p', { class: 'hint' }, L('尚无改动。', 'No change yet.')));
    else fill(out, h('ul', {}, changes.map((c) => h('li', { 'data-path': c.path }, h('span', { class: 'mono' }, c.path), '：', h('del', {}, shown(c.before)), ' → ', h('ins', {}, shown(c.after))))));
    return { edited, changes };
  }

  /** An admin edits the stored case (JSON), sees what changes, and replays: the API validates it. */
  async function correctOne(d, button) {
    const loaded = await busy(button, L('读取办件失败', 'Could not load the case'), async () => (await api('GET', `/admin/dead-letters/${encodeURIComponent(d.id)}/case`)).data);
    if (!loaded || !loaded.case) return;
    const original = loaded.case;
    const dialog = $('correct');
    const area = $('correct-case');
    const form = $('correct-form');
    const error = $('correct-error');
    const okButton = $('correct-ok');
    $('correct-title').textContent = `${L('更正后重放', 'Correct and replay')} ${d.caseId} → ${d.systemId}`;
    area.value = JSON.stringify(original, null, 2);
    $('correct-reason').value = '';
    error.replaceChildren();
    renderDiff(original, area.value);
    // An edit makes the last refusal stale: it is cleared, the diff redrawn.
    const onInput = () => {
      error.replaceChildren();
      renderDiff(original, area.value);
    };
    const finish = () => {
      area.removeEventListener('input', onInput);
      form.removeEventListener('submit', onSubmit);
      $('correct-cancel').removeEventListener('click', finish);
      if (dialog.open) dialog.close();
    };
    const onSubmit = async (event) => {
      event.preventDefault();
      const diff = renderDiff(original, area.value);
      if (!diff) return;
      if (!diff.changes.length) {
        fill(error, L('没有改动：不需要更正就请直接重放。', 'Nothing changed: replay it without correcting.'));
        return;
      }
      okButton.disabled = true;
      try {
        const reason = $('correct-reason').value.trim();
        const { data } = await api('POST', `/admin/dead-letters/${encodeURIComponent(d.id)}/replay`, withReason(reason, { case: diff.edited }));
        finish();
        ok(L('已更正并重放', 'Corrected and replayed'), `${d.caseId} → ${d.systemId}：${(data.changed || []).join(', ')}`);
        await deadLettersChanged();
      } catch (err) {
        if (err.auth) return finish();
        // Refused by the API (e.g. not a valid case): said in the dialog, nothing was changed.
        const { lines, details } = describe(err);
        fill(error, h('strong', {}, L('网关拒绝了这次更正，未做任何改动：', 'The gateway refused the correction; nothing changed:')), lines.filter(Boolean).map((l) => h('div', {}, l)), details.length ? h('ul', {}, details.map((x) => h('li', {}, x))) : null);
      } finally {
        okButton.disabled = false;
      }
    };
    area.addEventListener('input', onInput);
    form.addEventListener('submit', onSubmit);
    $('correct-cancel').addEventListener('click', finish);
    dialog.addEventListener('close', finish, { once: true });
    dialog.showModal();
    area.focus();
  }

  // ---------------------------------------------------------------- case lookup

  let lastCase;

  async function lookupCase(event) {
    if (event) event.preventDefault();
    const caseId = $('case-id').value.trim();
    const out = $('case-result');
    if (!caseId) {
      fill(out, h('p', { class: 'error-text' }, L('请输入办件编号。', 'Enter a caseId.')));
      $('case-id').focus();
      return;
    }
    fill(out, h('p', { class: 'hint' }, L('查询中…', 'Looking up…')));
    const token = sessionStorage.getItem(TOKEN_KEY);
    try {
      const { data } = await api('GET', `/cases/${encodeURIComponent(caseId)}`);
      // Signed out (or in with another token) meanwhile: this case is not for the next one to see.
      if (sessionStorage.getItem(TOKEN_KEY) !== token) return;
      lastCase = data;
      renderCase(data);
    } catch (err) {
      lastCase = undefined;
      if (err.auth) return;
      if (err.code === 'unknown_case') {
        fill(out, h('p', { class: 'empty' }, L(`没有找到办件“${caseId}”。`, `No case “${caseId}”.`)));
        return;
      }
      const { lines, details } = describe(err);
      fill(out, h('div', { class: 'message error', role: 'alert' }, h('strong', {}, L('查询失败', 'Lookup failed')), lines.filter(Boolean).map((l) => h('div', {}, l)), details.map((d) => h('div', {}, d))));
    }
  }

  function renderCase(c) {
    const head = h(
      'dl',
      { class: 'case-head' },
      h('div', {}, h('dt', {}, L('办件编号', 'caseId')), h('dd', { class: 'mono' }, c.caseId)),
      h('div', {}, h('dt', {}, L('事项编码', 'itemCode')), h('dd', { class: 'mono' }, dash(c.itemCode))),
      h('div', {}, h('dt', {}, L('状态', 'Status')), h('dd', {}, badge('CASE_STATUS', c.status, CASE_TONE[c.status]))),
      h('div', {}, h('dt', {}, L('受理时间', 'Accepted')), h('dd', {}, when(c.acceptedAt))),
    );
    const cards = (c.deliveries || []).map((d) => deliveryCard(c.caseId, d));
    fill($('case-result'), h('h3', { class: 'visually-hidden' }, `${L('办件', 'Case')} ${c.caseId}`), head, h('div', { class: 'deliveries' }, cards));
  }

  /** A result as labelled fields: the outcome in words, the system's message, when it was decided, its documents. */
  function resultFields(r) {
    if (!r || typeof r !== 'object') return '—';
    const field = (name, label, value) => [h('dt', {}, label), h('dd', { 'data-field': name }, value)];
    return h(
      'dl',
      { class: 'result-fields' },
      field('outcome', L('结论', 'Outcome'), r.outcome ? word('OUTCOME', r.outcome) : '—'),
      r.message ? field('message', L('意见', 'Message'), h('q', { class: 'own', title: L('业务系统原话', 'the system’s own words') }, r.message)) : null,
      r.receiptNo ? field('receipt', L('回执号', 'Receipt'), h('span', { class: 'mono' }, r.receiptNo)) : null,
      r.decidedAt ? field('decided-at', L('决定时间', 'Decided at'), when(r.decidedAt)) : null,
      Array.isArray(r.documents) && r.documents.length ? field('documents', L('文书', 'Documents'), h('ul', { class: 'documents' }, r.documents.map((doc) => h('li', {}, documentText(doc))))) : null,
    );
  }

  /** A document of a result, by whatever names it: its name or title, its kind and number, its link. */
  function documentText(doc) {
    if (!doc || typeof doc !== 'object') return String(doc);
    const named = ['name', 'title', 'fileName', 'kind', 'type', 'number', 'no', 'url'].map((k) => doc[k]).filter((v) => typeof v === 'string' || typeof v === 'number');
    return named.length ? named.join(' · ') : JSON.stringify(doc);
  }

  /** A timeline step's detail: a result step as its fields (its detail ends in the result as JSON), anything else as the gateway wrote it. */
  function stepDetail(e) {
    if (e.event === 'result') {
      const at = e.detail.indexOf(' {');
      try {
        if (at >= 0) return resultFields(JSON.parse(e.detail.slice(at + 1)));
      } catch {
        // not the result's JSON: shown as written
      }
    }
    return gatewayText(e.detail);
  }

  /** Why a queued delivery waits and until when, in a sentence. */
  function waitingSentence(d) {
    const reason = word('WAITING', d.waitingFor);
    if (d.waitingFor === 'paused') return [h('strong', {}, reason), L('：恢复该系统后才会发送，没有预定时间。', ': nothing is sent until the system is resumed; no time is set.')];
    if (!d.nextAttemptAt) return [h('strong', {}, reason)];
    return [h('strong', {}, reason), L('：下次尝试于 ', ': next attempt at '), when(d.nextAttemptAt), relative(d.nextAttemptAt)];
  }

  function deliveryCard(caseId, d) {
    // The timeline, oldest first as the history is kept.
    const steps = (d.history || []).map((e) =>
      h('li', { class: `step ev-${e.event}`, 'data-event': e.event }, h('span', { class: 'at' }, when(e.at)), h('span', { class: 'ev' }, word('EVENTS', e.event)), e.detail ? h('span', { class: 'detail' }, stepDetail(e)) : null),
    );
    let action = null;
    if (d.status === 'dead' && may('operator')) {
      const letter = { id: `${d.systemId}.${caseId}`, caseId, systemId: d.systemId };
      action = actionButton('replay', letter.id, L('重放', 'Replay'), 'secondary', (b) => replayOne(letter, b, lookupCase));
    }
    const settled = d.status === 'delivered' || d.status === 'completed';
    const waiting = d.waitingFor ? h('p', { class: 'waiting', 'data-waiting': d.waitingFor }, h('span', { class: 'label' }, L('为何等待：', 'Why it waits: ')), waitingSentence(d)) : null;
    return h(
      'article',
      { class: 'delivery', 'data-delivery': d.systemId },
      h('h3', {}, h('span', { class: 'mono' }, d.systemId), h('span', { class: 'hint' }, systemName(d.systemId)), badge('DELIVERY_STATUS', d.status, DELIVERY_TONE[d.status]), action),
      waiting,
      h(
        'dl',
        {},
        h('dt', {}, L('尝试次数', 'Attempts')),
        h('dd', {}, String(d.attempts ?? 0)),
        h('dt', {}, L('回执号', 'Receipt')),
        h('dd', { class: 'mono' }, dash(d.receiptNo)),
        // Once delivered or decided, an earlier error is history (the timeline keeps it), not the state.
        settled ? null : h('dt', {}, L('最后错误', 'Last error')),
        settled ? null : h('dd', { 'data-field': 'last-error' }, gatewayText(d.lastError)),
        h('dt', {}, L('办理结果', 'Result')),
        h('dd', {}, resultFields(d.result)),
      ),
      h('h4', {}, L('时间线', 'Timeline')),
      h('ol', { class: 'timeline', 'aria-label': `${L('投递时间线', 'Delivery timeline')} ${d.systemId}` }, steps),
    );
  }

  // ---------------------------------------------------------------- audit trail

  const auditPager = pager('audit-pager', () => loadAudit());

  async function loadAudit() {
    try {
      const { data } = await api('GET', `/admin/audit${pageQuery({}, auditPager.cursor())}`);
      const entries = data && Array.isArray(data.items) ? data.items : [];
      const rows = entries.map((a) =>
        h(
          'tr',
          { 'data-action': a.action },
          h('td', { class: 'nowrap' }, when(a.at)),
          h('td', {}, dash(a.who)),
          h('td', { class: 'nowrap', title: a.action }, word('ACTIONS', a.action)),
          h('td', { class: 'mono' }, dash(a.target)),
          h('td', { class: 'wrap' }, dash(a.reason)),
          h('td', { class: 'wrap' }, gatewayText(a.detail)),
        ),
      );
      showRows('audit-table', 'audit-empty', rows);
      auditPager.shown(data && data.next, rows.length);
    } catch (err) {
      report(L('读取审计记录失败', 'Could not load the audit trail'), err);
    }
  }

  // ---------------------------------------------------------------- unmatched results

  const unmatchedPager = pager('unmatched-pager', () => loadUnmatched());

  async function loadUnmatched(quiet = false) {
    try {
      const { data } = await api('GET', `/admin/unmatched-results${pageQuery({}, unmatchedPager.cursor())}`);
      const list = data && Array.isArray(data.items) ? data.items : [];
      // On the first page, the count (with "+" when there are more pages).
      if (!unmatchedPager.cursor()) $('unmatched-count').textContent = list.length ? `${list.length}${data.next ? '+' : ''}` : '';
      const rows = list.map((u) => {
        const r = u.result || {};
        const actions = may('operator')
          ? h('td', { class: 'actions' }, actionButton('rematch', u.id, L('重新匹配', 'Rematch'), 'secondary', (b) => rematchOne(u, b)), actionButton('discard-unmatched', u.id, L('丢弃', 'Discard'), 'danger', (b) => discardUnmatched(u, b)))
          : null;
        return h(
          'tr',
          { 'data-unmatched': u.id },
          h('td', { class: 'nowrap' }, when(u.receivedAt)),
          h('td', { class: 'mono nowrap' }, dash(u.systemId)),
          h('td', { class: 'mono nowrap' }, dash(r.caseId), r.receiptNo ? h('div', { class: 'hint' }, `${L('回执', 'receipt')} ${r.receiptNo}`) : null),
          h('td', {}, r.outcome ? word('OUTCOME', r.outcome) : '—', r.message ? h('div', { class: 'hint' }, h('q', { class: 'own' }, r.message)) : null),
          h('td', { class: 'wrap' }, gatewayText(u.reason)),
          h('td', {}, h('details', {}, h('summary', {}, L('查看', 'Show')), h('pre', {}, JSON.stringify(u.pushed, null, 2)))),
          actions,
        );
      });
      showRows('unmatched-table', 'unmatched-empty', rows);
      unmatchedPager.shown(data && data.next, rows.length);
    } catch (err) {
      if (!quiet) report(L('读取未匹配结果失败', 'Could not load unmatched results'), err);
    }
  }

  async function rematchOne(u, button) {
    await busy(button, L('重新匹配失败', 'Rematch failed'), async () => {
      const { data } = await api('POST', `/admin/unmatched-results/${encodeURIComponent(u.id)}/rematch`, {}, [409]);
      if (data && data.matched) ok(L('已匹配', 'Matched'), L(`${u.systemId}：结果已记入办件。`, `${u.systemId}: the result is on its case.`));
      else message('error', L('仍未匹配', 'Still unmatched'), [L('仍找不到对应的办件或回执号。', 'No delivery matches it yet.')]);
      await loadUnmatched();
    });
  }

  function discardUnmatched(u, button) {
    return act({
      button,
      ask: {
        title: `${L('丢弃未匹配结果', 'Discard the unmatched result')} ${u.id}`,
        text: L('丢弃后该结果不再保留，也不会再自动匹配；原因写入审计记录。', 'It is no longer kept nor matched again; the reason is audited.'),
        required: true,
        okLabel: L('丢弃', 'Discard'),
        danger: true,
      },
      failed: L('丢弃失败', 'Discard failed'),
      call: (reason) => api('DELETE', `/admin/unmatched-results/${encodeURIComponent(u.id)}`, { reason }),
      done: () => ok(L('已丢弃', 'Discarded'), u.id),
      reload: () => loadUnmatched(),
    });
  }

  // ---------------------------------------------------------------- shared-data look-ups (read-only)

  /** The filter in use; the ID number typed in is kept here only, and shown masked. */
  let lookupsFilter = { caseId: '', person: '' };

  /** As the gateway masks an ID number: the first 3 and last 2 characters kept. */
  function maskId(value) {
    if (value.length <= 5) return '*'.repeat(value.length);
    return value.slice(0, 3) + '*'.repeat(value.length - 5) + value.slice(-2);
  }

  function showPersonFilter() {
    const person = lookupsFilter.person;
    $('lookups-person-filter').textContent = person ? L(`当前身份证号筛选：${maskId(person)}`, `filtered by ID: ${maskId(person)}`) : '';
    $('lookups-clear').hidden = !person && !lookupsFilter.caseId;
  }

  function statusCell(l) {
    if (l.outcome === 'refused') {
      // Entries before `refusal` existed were all refused for a kind the purpose may not use.
      const why = l.refusal && l.refusal !== 'purpose_not_allowed' ? word('ERROR_CODES', l.refusal) : null;
      return [plainBadge(L('拒绝', 'refused'), 'bad'), h('div', { class: 'hint' }, why ?? [L('用途不允许：', 'purpose not allowed: '), (l.refused || []).join('、') || '—'])];
    }
    return (l.statuses || []).map((s) =>
      h('div', { 'data-kind': s.kind }, h('span', { class: 'mono' }, s.kind), ' ', badge('DOCUMENT_STATUS', s.status, DOCUMENT_TONE[s.status]), ' ', h('span', { class: 'hint' }, s.source), s.cached ? h('span', { class: 'hint' }, L(' 缓存', ' cached')) : null),
    );
  }

  async function loadLookups() {
    const filter = lookupsFilter;
    const params = new URLSearchParams();
    if (filter.caseId) params.set('caseId', filter.caseId);
    if (filter.person) params.set('person', filter.person);
    const q = params.toString();
    const token = sessionStorage.getItem(TOKEN_KEY);
    try {
      const { data } = await api('GET', `/admin/shared-data/lookups${q ? `?${q}` : ''}`);
      // Signed out, or the filter changed meanwhile: this answer is not the one to show.
      if (sessionStorage.getItem(TOKEN_KEY) !== token || filter !== lookupsFilter) return;
      const list = data && Array.isArray(data.items) ? data.items : [];
      const rows = list.map((l) =>
        h(
          'tr',
          { 'data-lookup': l.queryId, 'data-case': l.caseId, 'data-outcome': l.outcome },
          h('td', { class: 'nowrap' }, when(l.at)),
          h('td', {}, dash(l.who)),
          h('td', { class: 'nowrap' }, l.caseId ? caseLink(l.caseId) : '—'),
          h('td', { class: 'mono nowrap' }, dash(l.purpose)),
          h('td', { class: 'mono nowrap' }, dash(l.person)),
          h('td', {}, (l.kinds || []).join('、') || '—'),
          h('td', {}, statusCell(l)),
          h('td', { class: 'num' }, dash(l.ms)),
        ),
      );
      showRows('lookups-table', 'lookups-empty', rows);
    } catch (err) {
      report(L('读取查询记录失败', 'Could not load the look-ups'), err);
    }
  }

  function filterLookups(event) {
    event.preventDefault();
    const typed = $('lookups-person').value.trim();
    // The full ID number is never left on the page: the field is emptied, the filter shown masked.
    $('lookups-person').value = '';
    lookupsFilter = { caseId: $('lookups-case').value.trim(), person: typed || lookupsFilter.person };
    showPersonFilter();
    loadLookups();
  }

  function clearLookupsFilter() {
    lookupsFilter = { caseId: '', person: '' };
    $('lookups-case').value = '';
    $('lookups-person').value = '';
    showPersonFilter();
    loadLookups();
  }

  // ---------------------------------------------------------------- language and wall screen

  function showLangToggle() {
    // The toggle names the other language, in that language.
    $('lang-toggle').textContent = W.lang() === 'en' ? '中文' : 'English';
    $('lang-toggle').setAttribute('lang', W.lang() === 'en' ? 'zh-CN' : 'en');
    document.title = L('一窗受理网关 · 运维控制台', 'OneWindow Gateway · Ops console');
  }

  /** Everything built from data is built again in the new language (static text: words.js). */
  function relabel() {
    showLangToggle();
    if ($('app').hidden) return;
    applyRole();
    systemRows.clear();
    renderSystems(systems);
    renderDeadLetters();
    showPersonFilter();
    if (lastCase) renderCase(lastCase);
    if (currentTab === 'audit') loadAudit();
    if (currentTab === 'unmatched') loadUnmatched();
    if (currentTab === 'lookups') loadLookups();
    if (currentTab === 'dead') loadDeadLetters();
  }

  function wallRemembered() {
    try {
      return window.localStorage.getItem(WALL_KEY) === '1';
    } catch {
      return false; // no storage: the default
    }
  }

  function setWall(on) {
    document.documentElement.classList.toggle('wall', on);
    $('wall-toggle').setAttribute('aria-pressed', String(on));
    try {
      if (on) window.localStorage.setItem(WALL_KEY, '1');
      else window.localStorage.removeItem(WALL_KEY);
    } catch {
      // no storage: for this page only
    }
  }

  // ---------------------------------------------------------------- wiring

  function start() {
    W.setLang(W.initialLang(), false);
    showLangToggle();
    if (wallRemembered()) setWall(true);
    document.addEventListener('ow:lang', relabel);
    $('lang-toggle').addEventListener('click', () => W.setLang(W.lang() === 'en' ? 'zh-CN' : 'en'));
    $('wall-toggle').addEventListener('click', () => setWall(!document.documentElement.classList.contains('wall')));
    $('login-form').addEventListener('submit', signIn);
    $('sign-out').addEventListener('click', signOut);
    for (const tab of TABS) $(`tab-${tab}`).addEventListener('click', () => selectTab(tab, false));
    document.querySelector('[role="tablist"]').addEventListener('keydown', onTabKey);
    $('systems-refresh').addEventListener('click', (e) => busy(e.currentTarget, L('刷新失败', 'Refresh failed'), () => loadSystems()));
    // Adding a system is a page of the bundle (system-page.js): a template per protocol in the editor.
    $('systems-add').addEventListener('click', () => {
      window.location.hash = '#new-system';
    });
    $('systems-filter').addEventListener('input', applySystemFilter);
    $('systems-level').addEventListener('change', applySystemFilter);
    $('dead-form').addEventListener('submit', (event) => {
      event.preventDefault();
      deadFilter = { systemId: $('dead-system').value, error: $('dead-error').value.trim() };
      deadPager.reset();
      loadDeadLetters();
    });
    $('dead-replay-many').addEventListener('click', (e) => replayMany(e.currentTarget));
    $('case-form').addEventListener('submit', lookupCase);
    $('audit-refresh').addEventListener('click', () => loadAudit());
    $('unmatched-refresh').addEventListener('click', () => loadUnmatched());
    $('lookups-form').addEventListener('submit', filterLookups);
    $('lookups-clear').addEventListener('click', clearLookupsFilter);
    $('lookups-refresh').addEventListener('click', () => loadLookups());
    document.addEventListener('visibilitychange', autoRefresh);

    if (sessionStorage.getItem(TOKEN_KEY)) resume();
    else showLogin();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
