/*
 * OneWindow Gateway ops console: plain browser JavaScript, no build step, nothing fetched from
 * elsewhere. Every API call carries the ops token typed in once (kept in sessionStorage only) and the
 * operator's name (X-OW-Operator, percent-encoded) for the audit trail. Data reaches the page only as
 * text nodes (textContent), never as HTML. After sign-in the console asks the token's role
 * (GET /admin/whoami) and builds no control the role may not use; the API checks every call anyway.
 */
/* global document, window, sessionStorage, fetch, URLSearchParams */
'use strict';

(() => {
  const TOKEN_KEY = 'ow.console.token';
  const NAME_KEY = 'ow.console.operator';
  const API = '/api/v1';
  const REFRESH_MS = 5000;

  // ---------------------------------------------------------------- words shown to ops staff

  const LEVELS = { national: '国家级', provincial: '省级', city: '市级' };
  const LEVEL_ORDER = { national: 0, provincial: 1, city: 2 };
  // Ops roles, least first: each may do what the ones before it may.
  const ROLE_ORDER = ['viewer', 'operator', 'admin'];
  const ROLES = { viewer: ['只读 viewer', 'muted'], operator: ['操作员 operator', 'info'], admin: ['管理员 admin', 'warn'] };
  const DELIVERY_STATUS = {
    queued: ['排队中 queued', 'info'],
    delivering: ['投递中 delivering', 'info'],
    delivered: ['已送达 delivered', 'ok'],
    completed: ['已办结 completed', 'ok'],
    rejected: ['被拒绝 rejected', 'bad'],
    dead: ['投递失败 dead', 'bad'],
  };
  const CASE_STATUS = {
    in_progress: ['办理中 in progress', 'info'],
    completed: ['已完成 completed', 'ok'],
    failed: ['失败 failed', 'bad'],
    partially_failed: ['部分失败 partially failed', 'warn'],
  };
  const CIRCUIT = { closed: ['正常 closed', 'ok'], open: ['熔断 open', 'bad'], half_open: ['试探中 half-open', 'warn'] };
  const OUTCOME = { approved: '准予 approved', rejected: '不予 rejected', need_more: '需补正 need more', info: '告知 info' };
  const ACTIONS = {
    'system.pause': '暂停系统 pause',
    'system.resume': '恢复系统 resume',
    'system.configure': '修改配置 configure',
    'system.rollback': '回滚配置 rollback',
    'system.reset': '恢复文件配置 reset',
    'dead_letter.replay': '重放死信 replay',
    'dead_letter.correct': '更正办件 correct',
    'dead_letter.discard': '丢弃死信 discard',
    'unmatched.discard': '丢弃未匹配结果 discard',
    'shared-data.query': '共享数据查询 look-up',
  };
  const DOCUMENT_STATUS = {
    found: ['已找到 found', 'ok'],
    not_found: ['无记录 not found', 'muted'],
    error: ['出错 error', 'bad'],
    timeout: ['超时 timeout', 'warn'],
  };
  const WAITING = {
    paused: '系统已暂停 system paused',
    window: '维护窗口外 outside the maintenance window',
    circuit: '熔断中 circuit open',
    retry: '等待重试 retry backoff',
    rate_limit: '限流 rate limit',
  };
  const EVENTS = {
    accepted: '受理 accepted',
    attempt: '投递尝试 attempt',
    delivered: '已送达 delivered',
    result: '收到结果 result',
    retry_scheduled: '等待重试 retry scheduled',
    throttled: '对方限流 throttled',
    waiting: '等待 waiting',
    rejected: '被拒绝 rejected',
    dead: '投递失败 dead',
    case_corrected: '更正办件 case corrected',
    replayed: '重放 replayed',
    discarded: '丢弃 discarded',
  };
  const ERROR_CODES = {
    unauthorized: '令牌无效或未提供',
    forbidden: '此令牌的角色无权执行此操作',
    not_found: '找不到该对象',
    unknown_case: '没有这个办件',
    unknown_system: '没有这个业务系统',
    invalid_request: '请求内容不正确',
    invalid_json: '请求内容不是有效的 JSON',
    invalid_config: '配置不正确',
    version_conflict: '配置已被他人修改，请刷新后再试',
    case_conflict: '办件编号冲突',
    payload_too_large: '请求内容过大',
    unsupported_media_type: '请求格式不受支持',
    internal: '网关内部错误（已记录日志）',
    unavailable: '网关暂时无法处理，请稍后再试',
    network: '无法连接网关',
    bad_answer: '网关的回答无法识别',
  };

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

  function badge(pair, fallback) {
    const [label, tone] = pair || [fallback, 'muted'];
    return h('span', { class: `badge ${tone}` }, label);
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

  function when(iso) {
    return h('time', { datetime: iso, title: iso ? `${iso}（显示为北京时间 Beijing time）` : undefined }, beijing(iso));
  }

  const dash = (value) => (value === undefined || value === null || value === '' ? '—' : String(value));

  // ---------------------------------------------------------------- messages

  function message(kind, title, lines = [], details = []) {
    const box = kind === 'error' ? $('alerts') : $('messages');
    const close = h('button', { type: 'button', class: 'close', 'aria-label': '关闭 Close' }, '×');
    const el = h(
      'div',
      { class: `message ${kind}` },
      close,
      h('strong', {}, title),
      lines.filter(Boolean).map((line) => h('div', {}, line)),
      details.length ? h('ul', {}, details.map((d) => h('li', {}, d))) : null,
    );
    close.addEventListener('click', () => el.remove());
    box.append(el);
    while (box.children.length > 4) box.firstElementChild.remove();
    if (kind !== 'error') window.setTimeout(() => el.remove(), 6000);
  }

  const ok = (title, line) => message('ok', title, [line]);

  /** An API error in plain words: what it means, what the gateway said, and each detail. */
  function describe(err) {
    const meaning = ERROR_CODES[err.code] || err.code || '未知错误';
    const status = err.status ? `HTTP ${err.status}` : '';
    const details = (err.details || []).map((d) => (d.path ? `${d.path}: ${d.message}` : String(d.message)));
    return { lines: [`${meaning}${status ? `（${status}，${err.code}）` : ''}`, err.message], details };
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
      throw new ApiProblem(401, 'unauthorized', '请先输入运维令牌 Enter the ops token first.', [], true);
    }
    const headers = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
    const name = sessionStorage.getItem(NAME_KEY);
    if (name) headers['X-OW-Operator'] = encodeURIComponent(name);
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(API + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'omit',
      });
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
        showLogin(
          res.status === 401
            ? '令牌无效或已更换，请重新输入。The token was refused; enter it again.'
            : '此令牌不是运维令牌（可能是受理平台的令牌）。This token may not use the ops API.',
        );
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
    $('ask-label').textContent = required ? '原因（必填）Reason, required' : '原因（可选，写入审计记录）Reason, optional';
    reason.value = '';
    reason.required = Boolean(required);
    reason.setAttribute('aria-required', required ? 'true' : 'false');
    reason.placeholder = required ? '例如：申请人已撤回' : '例如：系统升级维护';
    error.textContent = '';
    okButton.textContent = okLabel || '确定 OK';
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
          error.textContent = '请填写原因。A reason is required.';
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
    const [label, tone] = ROLES[role] || ['—', 'muted'];
    const badgeEl = $('who-role');
    badgeEl.textContent = label;
    badgeEl.className = `badge ${tone}`;
    for (const el of document.querySelectorAll('[data-needs]')) el.hidden = !may(el.getAttribute('data-needs'));
  }

  /** Drops what the last token was shown, so the next one (perhaps a viewer) never sees it. */
  function forget() {
    role = undefined;
    systems = [];
    systemRows.clear();
    deadLetters = [];
    lookupsFilter = { caseId: '', person: '' };
    $('lookups-person').value = '';
    $('lookups-case').value = '';
    showPersonFilter();
    for (const id of ['systems-table', 'dead-table', 'audit-table', 'unmatched-table', 'lookups-table']) $(id).tBodies[0].replaceChildren();
    for (const id of ['case-result', 'systems-summary', 'dead-count', 'unmatched-count']) $(id).replaceChildren();
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
      $('login-error').textContent = !token ? '请输入运维令牌。Enter the ops token.' : '请输入您的姓名（用于审计记录）。Enter your name.';
      (!token ? $('login-token') : $('login-name')).focus();
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(NAME_KEY, name);
    $('login-error').textContent = '正在验证… Checking…';
    try {
      await whoami();
      const { data } = await api('GET', '/admin/systems');
      showApp();
      renderSystems(data);
      selectTab('systems', false);
      $('main').focus();
      ok('已登录 Signed in', `${name}（${ROLES[role][0]}），欢迎。`);
      loadDeadLetters(true);
      loadUnmatched(true);
    } catch (err) {
      if (err.auth) return; // showLogin already explains
      sessionStorage.removeItem(TOKEN_KEY);
      role = undefined;
      const { lines } = describe(err);
      $('login-error').textContent = lines.filter(Boolean).join(' — ');
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
    loadDeadLetters(true);
    loadUnmatched(true);
  }

  function signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin('已退出。Signed out.');
  }

  // ---------------------------------------------------------------- tabs

  const TABS = ['systems', 'dead', 'case', 'audit', 'unmatched', 'lookups'];
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
  }

  function onTabKey(event) {
    const index = TABS.indexOf(currentTab);
    const next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: TABS.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    selectTab(TABS[(next + TABS.length) % TABS.length]);
  }

  // ---------------------------------------------------------------- systems

  let systems = [];
  const systemRows = new Map();
  let systemsLoading = false;
  let lastSystemsOk;

  function systemName(id) {
    const found = systems.find((s) => s.id === id);
    return found ? found.name : '';
  }

  // The API's order of urgency: a system with a problem is listed before every system without one.
  const PROBLEM_ORDER = ['circuit_open', 'paused', 'window_closed', 'failing', 'dead_letters', 'apply_error'];
  const PROBLEM_LABEL = {
    circuit_open: '熔断 circuit open',
    paused: '已暂停 paused',
    window_closed: '维护窗口外 window closed',
    failing: '故障 failing',
    dead_letters: '死信 dead letters',
    apply_error: '配置未生效 config not applied',
  };
  let problemFilter = '';

  function problemRank(s) {
    const first = Array.isArray(s.problems) && s.problems.length ? PROBLEM_ORDER.indexOf(s.problems[0]) : -1;
    return first < 0 ? PROBLEM_ORDER.length : first;
  }

  function sortSystems(list) {
    return [...list].sort((a, b) => problemRank(a) - problemRank(b) || (LEVEL_ORDER[a.level] ?? 9) - (LEVEL_ORDER[b.level] ?? 9) || a.id.localeCompare(b.id));
  }

  /** What ops need at 3 a.m. under the circuit: since when it fails, what it said, when it last worked. */
  function healthLines(s) {
    const lines = [];
    if (s.window && !s.window.open) lines.push(h('div', { class: 'hint' }, '维护窗口外，开放于 window opens ', when(s.window.opensAt)));
    if (s.failingSince) lines.push(h('div', { class: 'hint bad-text' }, '故障自 failing since ', when(s.failingSince)));
    if (s.lastError) lines.push(h('div', { class: 'hint wrap', title: s.lastError }, '最后错误 last error：', s.lastError.length > 120 ? `${s.lastError.slice(0, 120)}…` : s.lastError));
    if (s.lastSuccessAt) lines.push(h('div', { class: 'hint' }, '最近成功 last success ', when(s.lastSuccessAt)));
    if (s.oldestWaitingAt) lines.push(h('div', { class: 'hint' }, '最早等待 oldest waiting ', when(s.oldestWaitingAt)));
    if (Array.isArray(s.applyErrors) && s.applyErrors.length) lines.push(h('div', { class: 'hint bad-text' }, `配置版本 ${s.applyErrors[0].version} 未在 ${s.applyErrors.length} 个进程生效 not applied`));
    return lines;
  }

  function numberCell(td, value) {
    td.textContent = String(value ?? 0);
    td.className = `num${value ? '' : ' zero'}`;
  }

  function circuitCell(circuit) {
    const c = circuit || { state: 'closed', failures: 0 };
    const parts = [badge(CIRCUIT[c.state], c.state)];
    if (c.failures) parts.push(h('span', { class: 'hint' }, ` 连续失败 ${c.failures} 次`));
    // A probe time already past says nothing (the probe is due, or the system is paused).
    if (c.openUntil && Date.parse(c.openUntil) > Date.now()) parts.push(h('div', { class: 'hint' }, '下次试探 next probe ', when(c.openUntil)));
    return parts;
  }

  function buildSystemRow(s) {
    const cells = {};
    const tr = h('tr', { 'data-system': s.id });
    const keys = ['level', 'id', 'name', 'protocol', 'paused', 'circuit', 'waiting', 'active', 'delayed', 'failed'];
    // Pausing and resuming: operator and admin only; a viewer's row has no action cell at all.
    if (may('operator')) keys.push('action');
    for (const key of keys) {
      cells[key] = h('td');
      tr.append(cells[key]);
    }
    cells.id.className = 'mono nowrap';
    if (!cells.action) return { tr, cells };
    cells.action.className = 'nowrap';
    const button = h('button', { type: 'button', class: 'secondary' });
    button.addEventListener('click', () => togglePause(s.id, button));
    cells.action.append(button);
    return { tr, cells, button };
  }

  function updateSystemRow(row, s) {
    const { cells, button } = row;
    fill(cells.level, h('span', { class: `level-${s.level}` }, LEVELS[s.level] || s.level));
    if (!cells.id.firstChild) cells.id.append(h('a', { href: `#system/${encodeURIComponent(s.id)}`, 'data-open-system': s.id }, s.id)); // the system page (system-page.js)
    cells.name.textContent = s.name;
    cells.protocol.textContent = String(s.protocol).toUpperCase();
    fill(cells.paused, s.paused ? badge(['已暂停 paused', 'warn']) : badge(['运行中 running', 'ok']));
    fill(cells.circuit, circuitCell(s.circuit), healthLines(s));
    const q = s.queue || {};
    numberCell(cells.waiting, q.waiting);
    numberCell(cells.active, q.active);
    numberCell(cells.delayed, q.delayed);
    numberCell(cells.failed, q.failed);
    row.tr.classList.toggle('paused', Boolean(s.paused));
    if (!button) return;
    // The same button is kept across refreshes so keyboard focus stays where it was.
    button.textContent = s.paused ? '恢复 Resume' : '暂停 Pause';
    button.className = s.paused ? 'primary' : 'secondary';
    button.setAttribute('aria-label', `${s.paused ? '恢复 Resume' : '暂停 Pause'} ${s.id}`);
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
    const sameSet = systems.length === systemRows.size && systems.every((s) => systemRows.has(s.id));
    if (!sameSet) {
      systemRows.clear();
      tbody.replaceChildren();
      for (const s of systems) {
        const row = buildSystemRow(s);
        systemRows.set(s.id, row);
        tbody.append(row.tr);
      }
    }
    for (const s of systems) updateSystemRow(systemRows.get(s.id), s);
    applySystemFilter();

    const sum = (key) => systems.reduce((n, s) => n + ((s.queue && s.queue[key]) || 0), 0);
    const having = (problem) => systems.filter((s) => Array.isArray(s.problems) && s.problems.includes(problem)).length;
    // Each counter is a link to the systems it counts (a second click shows them all again).
    const counter = (problem, label) => {
      const n = having(problem);
      const link = h('button', { type: 'button', class: `link counter${problemFilter === problem ? ' active' : ''}`, 'data-problem': problem, 'aria-pressed': String(problemFilter === problem) }, `${label} `, h('strong', {}, String(n)));
      link.addEventListener('click', () => {
        problemFilter = problemFilter === problem ? '' : problem;
        renderSystems(systems);
      });
      return link;
    };
    const dead = systems.reduce((n, s) => n + (s.deadLetters ?? (s.queue && s.queue.failed) ?? 0), 0);
    const deadLink = h('button', { type: 'button', class: 'link counter', 'data-problem': 'dead-letters-tab' }, '死信 ', h('strong', {}, String(dead)));
    deadLink.addEventListener('click', () => selectTab('dead'));
    fill(
      $('systems-summary'),
      h('span', {}, '共 ', h('strong', {}, String(systems.length)), ' 个系统'),
      counter('circuit_open', '熔断'),
      counter('paused', '已暂停'),
      counter('failing', '故障'),
      counter('window_closed', '窗口外'),
      h('span', {}, '等待 ', h('strong', {}, String(sum('waiting')))),
      deadLink,
      problemFilter ? h('span', { class: 'hint' }, `仅显示 showing: ${PROBLEM_LABEL[problemFilter]}`) : null,
    );
    lastSystemsOk = new Date().toISOString();
    $('systems-updated').textContent = `更新于 Updated ${beijing(lastSystemsOk)}`;
    fillSystemSelect();
  }

  function fillSystemSelect() {
    const select = $('dead-system');
    const chosen = select.value;
    const options = [h('option', { value: '' }, '全部 all')];
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
        $('systems-updated').textContent = `刷新失败 Refresh failed: ${lines.filter(Boolean).join(' — ')}${lastSystemsOk ? `（上次成功 last ok ${beijing(lastSystemsOk)}）` : ''}`;
      } else report('读取系统列表失败 Could not load systems', err);
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
    const reason = await askReason({
      title: `${pausing ? '暂停' : '恢复'} ${s.name}（${s.id}）`,
      text: pausing
        ? '暂停后，发往该系统的投递继续排队，但不会发送，直到恢复。Deliveries keep queueing; nothing is sent until resumed.'
        : '恢复后，排队中的投递会立即开始发送。Queued deliveries start going out.',
      required: false,
      okLabel: pausing ? '暂停 Pause' : '恢复 Resume',
      danger: pausing,
    });
    if (reason === null) return;
    await busy(button, `${pausing ? '暂停' : '恢复'}失败 ${pausing ? 'Pause' : 'Resume'} failed`, async () => {
      const { data } = await api('POST', `/admin/systems/${encodeURIComponent(id)}/${pausing ? 'pause' : 'resume'}`, reason ? { reason } : {});
      renderSystems(systems.map((x) => (x.id === id ? data : x)));
      ok(pausing ? '已暂停 Paused' : '已恢复 Resumed', `${s.name}（${s.id}）`);
    });
  }

  // ---------------------------------------------------------------- dead letters

  let deadFilter = { systemId: '', error: '' };
  let deadLetters = [];

  function deadQuery(filter) {
    const params = new URLSearchParams();
    if (filter.systemId) params.set('systemId', filter.systemId);
    if (filter.error) params.set('error', filter.error);
    const q = params.toString();
    return q ? `?${q}` : '';
  }

  async function loadDeadLetters(quiet = false) {
    const filter = deadFilter;
    try {
      const { data } = await api('GET', `/admin/dead-letters${deadQuery(filter)}`);
      deadLetters = data && Array.isArray(data.items) ? data.items : [];
      if (!filter.systemId && !filter.error) $('dead-count').textContent = deadLetters.length ? String(deadLetters.length) : '';
      renderDeadLetters();
    } catch (err) {
      if (!quiet) report('读取死信失败 Could not load dead letters', err);
    }
  }

  function renderDeadLetters() {
    const tbody = $('dead-table').tBodies[0];
    const rows = deadLetters.map((d) => {
      let actions = null;
      if (may('operator')) {
        const replay = h('button', { type: 'button', class: 'secondary', 'aria-label': `重放 Replay ${d.id}` }, '重放 Replay');
        const discard = h('button', { type: 'button', class: 'danger', 'aria-label': `丢弃 Discard ${d.id}` }, '丢弃 Discard');
        replay.addEventListener('click', () => replayOne(d, replay));
        discard.addEventListener('click', () => discardOne(d, discard));
        actions = h('td', { class: 'actions' }, replay, discard);
      }
      return h(
        'tr',
        { 'data-dead-letter': d.id },
        h('td', { class: 'nowrap' }, caseLink(d.caseId)),
        h('td', {}, h('div', { class: 'mono' }, d.systemId), h('div', { class: 'hint' }, systemName(d.systemId))),
        h('td', { class: 'num' }, String(d.attempts)),
        h('td', { class: 'wrap' }, dash(d.lastError)),
        h('td', { class: 'nowrap' }, when(d.failedAt)),
        actions,
      );
    });
    tbody.replaceChildren(...rows);
    $('dead-empty').hidden = rows.length > 0;
    $('dead-table').hidden = rows.length === 0;
    const all = $('dead-replay-all');
    all.disabled = rows.length === 0;
    all.textContent = rows.length ? `重放全部匹配 Replay all matching（${rows.length}）` : '重放全部匹配 Replay all matching';
  }

  function caseLink(caseId) {
    const link = h('button', { type: 'button', class: 'link', title: '查看办件 Open the case' }, caseId);
    link.addEventListener('click', () => {
      $('case-id').value = caseId;
      selectTab('case');
      lookupCase();
    });
    return link;
  }

  async function replayOne(d, button) {
    const reason = await askReason({
      title: `重放死信 Replay ${d.caseId} → ${d.systemId}`,
      text: '重新排队，重新计算尝试次数，幂等键不变。Queued again with fresh attempts and the same Idempotency-Key.',
      required: false,
      okLabel: '重放 Replay',
    });
    if (reason === null) return;
    await busy(button, '重放失败 Replay failed', async () => {
      await api('POST', `/admin/dead-letters/${encodeURIComponent(d.id)}/replay`, reason ? { reason } : {});
      ok('已重放 Replayed', `${d.caseId} → ${d.systemId}`);
      await loadDeadLetters();
    });
  }

  async function replayAll(button) {
    const filter = deadFilter;
    const scope = [
      filter.systemId ? `系统 system = ${filter.systemId}` : '全部系统 all systems',
      filter.error ? `错误包含 error contains “${filter.error}”` : '',
    ]
      .filter(Boolean)
      .join('，');
    const reason = await askReason({
      title: `重放全部匹配的死信（当前 ${deadLetters.length} 条）Replay all matching`,
      text: `范围 Scope：${scope}。`,
      required: false,
      okLabel: '全部重放 Replay all',
    });
    if (reason === null) return;
    await busy(button, '批量重放失败 Replay all failed', async () => {
      const body = {};
      if (filter.systemId) body.systemId = filter.systemId;
      if (filter.error) body.error = filter.error;
      // The API refuses a bulk replay without a filter unless every dead letter is asked for.
      if (!filter.systemId && !filter.error) body.all = true;
      if (reason) body.reason = reason;
      const { data } = await api('POST', '/admin/dead-letters/replay', body);
      const n = Array.isArray(data && data.replayed) ? data.replayed.length : 0;
      ok('已批量重放 Replayed', `共 ${n} 条 ${n} dead letter(s) queued again.`);
      await loadDeadLetters();
    });
  }

  async function discardOne(d, button) {
    const reason = await askReason({
      title: `丢弃死信 Discard ${d.caseId} → ${d.systemId}`,
      text: '丢弃后不再投递，该投递保持“投递失败”状态，原因记入办件历史和审计记录。It is never delivered; the reason is kept.',
      required: true,
      okLabel: '丢弃 Discard',
      danger: true,
    });
    if (reason === null) return;
    await busy(button, '丢弃失败 Discard failed', async () => {
      await api('DELETE', `/admin/dead-letters/${encodeURIComponent(d.id)}`, { reason });
      ok('已丢弃 Discarded', `${d.caseId} → ${d.systemId}`);
      await loadDeadLetters();
    });
  }

  // ---------------------------------------------------------------- case lookup

  async function lookupCase(event) {
    if (event) event.preventDefault();
    const caseId = $('case-id').value.trim();
    const out = $('case-result');
    if (!caseId) {
      fill(out, h('p', { class: 'error-text' }, '请输入办件编号。Enter a caseId.'));
      $('case-id').focus();
      return;
    }
    fill(out, h('p', { class: 'hint' }, '查询中… Looking up…'));
    const token = sessionStorage.getItem(TOKEN_KEY);
    try {
      const { data } = await api('GET', `/cases/${encodeURIComponent(caseId)}`);
      // Signed out (or in with another token) meanwhile: this case is not for the next one to see.
      if (sessionStorage.getItem(TOKEN_KEY) !== token) return;
      renderCase(data);
    } catch (err) {
      if (err.auth) return;
      if (err.code === 'unknown_case') {
        fill(out, h('p', { class: 'empty' }, `没有找到办件 “${caseId}”。No case with this id.`));
        return;
      }
      const { lines, details } = describe(err);
      fill(out, h('div', { class: 'message error', role: 'alert' }, h('strong', {}, '查询失败 Lookup failed'), lines.filter(Boolean).map((l) => h('div', {}, l)), details.map((d) => h('div', {}, d))));
    }
  }

  function renderCase(c) {
    const head = h(
      'dl',
      { class: 'case-head' },
      h('dt', {}, '办件编号 caseId'),
      h('dt', {}, '事项编码 itemCode'),
      h('dt', {}, '状态 Status'),
      h('dt', {}, '受理时间 Accepted'),
      h('dd', { class: 'mono' }, c.caseId),
      h('dd', { class: 'mono' }, dash(c.itemCode)),
      h('dd', {}, badge(CASE_STATUS[c.status], c.status)),
      h('dd', {}, when(c.acceptedAt)),
    );
    const cards = (c.deliveries || []).map((d) => deliveryCard(c.caseId, d));
    fill($('case-result'), h('h3', { class: 'visually-hidden' }, `办件 ${c.caseId}`), head, h('div', { class: 'deliveries' }, cards));
  }

  function resultText(r) {
    if (!r) return '—';
    return [OUTCOME[r.outcome] || r.outcome, r.message, r.receiptNo ? `回执 ${r.receiptNo}` : '', r.decidedAt ? `决定于 ${beijing(r.decidedAt)}` : ''].filter(Boolean).join(' · ');
  }

  function deliveryCard(caseId, d) {
    const history = (d.history || []).map((e) =>
      h('tr', {}, h('td', { class: 'nowrap' }, when(e.at)), h('td', { class: 'nowrap' }, EVENTS[e.event] || e.event), h('td', { class: 'wrap' }, dash(e.detail))),
    );
    let action = null;
    if (d.status === 'dead' && may('operator')) {
      const letter = { id: `${d.systemId}.${caseId}`, caseId, systemId: d.systemId };
      action = h('button', { type: 'button', class: 'secondary', 'aria-label': `重放 Replay ${letter.id}` }, '重放 Replay');
      action.addEventListener('click', async () => {
        await replayOne(letter, action);
        lookupCase();
      });
    }
    return h(
      'article',
      { class: 'delivery', 'data-delivery': d.systemId },
      h('h3', {}, h('span', { class: 'mono' }, d.systemId), h('span', { class: 'hint' }, systemName(d.systemId)), badge(DELIVERY_STATUS[d.status], d.status), action),
      h(
        'dl',
        {},
        h('dt', {}, '尝试次数 Attempts'),
        h('dd', {}, String(d.attempts ?? 0)),
        h('dt', {}, '回执号 Receipt'),
        h('dd', { class: 'mono' }, dash(d.receiptNo)),
        h('dt', {}, '最后错误 Last error'),
        h('dd', {}, dash(d.lastError)),
        d.waitingFor ? [h('dt', {}, '等待原因 Waiting for'), h('dd', { 'data-waiting': d.waitingFor }, WAITING[d.waitingFor] || d.waitingFor, d.nextAttemptAt ? [' · 下次尝试 next attempt ', when(d.nextAttemptAt)] : ' · 恢复后发送 sent once resumed')] : null,
        h('dt', {}, '办理结果 Result'),
        h('dd', {}, resultText(d.result)),
      ),
      h(
        'div',
        { class: 'history' },
        h(
          'table',
          { class: 'data' },
          h('caption', { class: 'visually-hidden' }, `投递历史 History ${d.systemId}`),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, '时间 At'), h('th', { scope: 'col' }, '事件 Event'), h('th', { scope: 'col' }, '说明 Detail'))),
          h('tbody', {}, history),
        ),
      ),
    );
  }

  // ---------------------------------------------------------------- audit trail

  async function loadAudit() {
    try {
      const { data } = await api('GET', '/admin/audit');
      const entries = data && Array.isArray(data.items) ? data.items : [];
      const rows = entries.map((a) =>
        h(
          'tr',
          {},
          h('td', { class: 'nowrap' }, when(a.at)),
          h('td', {}, dash(a.who)),
          h('td', { class: 'nowrap', title: a.action }, ACTIONS[a.action] || a.action),
          h('td', { class: 'mono' }, dash(a.target)),
          h('td', { class: 'wrap' }, dash(a.reason)),
          h('td', { class: 'wrap' }, dash(a.detail)),
        ),
      );
      $('audit-table').tBodies[0].replaceChildren(...rows);
      $('audit-empty').hidden = rows.length > 0;
      $('audit-table').hidden = rows.length === 0;
    } catch (err) {
      report('读取审计记录失败 Could not load the audit trail', err);
    }
  }

  // ---------------------------------------------------------------- unmatched results

  async function loadUnmatched(quiet = false) {
    try {
      // The first page only (oldest first, by system); "+" says there are more than shown.
      const { data } = await api('GET', '/admin/unmatched-results?limit=200');
      const list = data && Array.isArray(data.items) ? data.items : [];
      $('unmatched-count').textContent = list.length ? `${list.length}${data.next ? '+' : ''}` : '';
      const rows = list.map((u) => {
        const r = u.result || {};
        let rematch = null;
        if (may('operator')) {
          const button = h('button', { type: 'button', class: 'secondary', 'aria-label': `重新匹配 Rematch ${u.id}` }, '重新匹配 Rematch');
          button.addEventListener('click', () => rematchOne(u, button));
          rematch = h('td', {}, button);
        }
        return h(
          'tr',
          { 'data-unmatched': u.id },
          h('td', { class: 'nowrap' }, when(u.receivedAt)),
          h('td', { class: 'mono nowrap' }, dash(u.systemId)),
          h('td', { class: 'mono nowrap' }, dash(r.caseId), r.receiptNo ? h('div', { class: 'hint' }, `回执 ${r.receiptNo}`) : null),
          h('td', {}, r.outcome ? OUTCOME[r.outcome] || r.outcome : '—', r.message ? h('div', { class: 'hint' }, r.message) : null),
          h('td', { class: 'wrap' }, dash(u.reason)),
          h('td', {}, h('details', {}, h('summary', {}, '查看 Show'), h('pre', {}, JSON.stringify(u.pushed, null, 2)))),
          rematch,
        );
      });
      $('unmatched-table').tBodies[0].replaceChildren(...rows);
      $('unmatched-empty').hidden = rows.length > 0;
      $('unmatched-table').hidden = rows.length === 0;
    } catch (err) {
      if (!quiet) report('读取未匹配结果失败 Could not load unmatched results', err);
    }
  }

  async function rematchOne(u, button) {
    await busy(button, '重新匹配失败 Rematch failed', async () => {
      const { data } = await api('POST', `/admin/unmatched-results/${encodeURIComponent(u.id)}/rematch`, {}, [409]);
      if (data && data.matched) ok('已匹配 Matched', `${u.systemId}：结果已记入办件。`);
      else message('error', '仍未匹配 Still unmatched', ['仍找不到对应的办件或回执号。No delivery matches it yet.']);
      await loadUnmatched();
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
    $('lookups-person-filter').textContent = person ? `当前身份证号筛选 filtered by ID：${maskId(person)}` : '';
    $('lookups-clear').hidden = !person && !lookupsFilter.caseId;
  }

  function statusCell(l) {
    if (l.outcome === 'refused') {
      return [badge(['拒绝 refused', 'bad']), h('div', { class: 'hint' }, `用途不允许 purpose not allowed：${(l.refused || []).join('、') || '—'}`)];
    }
    return (l.statuses || []).map((s) =>
      h('div', { 'data-kind': s.kind }, h('span', { class: 'mono' }, s.kind), ' ', badge(DOCUMENT_STATUS[s.status], s.status), ' ', h('span', { class: 'hint' }, s.source), s.cached ? h('span', { class: 'hint' }, ' 缓存 cached') : null),
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
      $('lookups-table').tBodies[0].replaceChildren(...rows);
      $('lookups-empty').hidden = rows.length > 0;
      $('lookups-table').hidden = rows.length === 0;
    } catch (err) {
      report('读取查询记录失败 Could not load the look-ups', err);
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

  // ---------------------------------------------------------------- wiring

  function start() {
    $('login-form').addEventListener('submit', signIn);
    $('sign-out').addEventListener('click', signOut);
    for (const tab of TABS) $(`tab-${tab}`).addEventListener('click', () => selectTab(tab, false));
    document.querySelector('[role="tablist"]').addEventListener('keydown', onTabKey);
    $('systems-refresh').addEventListener('click', (e) => busy(e.currentTarget, '刷新失败 Refresh failed', () => loadSystems()));
    $('systems-filter').addEventListener('input', applySystemFilter);
    $('systems-level').addEventListener('change', applySystemFilter);
    $('dead-form').addEventListener('submit', (event) => {
      event.preventDefault();
      deadFilter = { systemId: $('dead-system').value, error: $('dead-error').value.trim() };
      loadDeadLetters();
    });
    $('dead-replay-all').addEventListener('click', (e) => replayAll(e.currentTarget));
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
