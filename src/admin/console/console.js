// The approval console: lists the calls waiting for a person, approves or denies them with
// a reason, and shows and flips the writes switch, through the admin API with the bearer
// token the approver pastes (kept in sessionStorage, so it leaves with the tab). Every
// value shown comes from clients or the store and is set as text, never as markup.
'use strict';

const TOKEN_KEY = 'scopegate.approverToken';
const REFRESH_MS = 2000;
const $ = (id) => document.getElementById(id);

let token = sessionStorage.getItem(TOKEN_KEY) || '';
let writesEnabled = null;
let timer = null;
const rows = new Map(); // approval id -> { tr, wait }

function say(text, error = false) {
  const s = $('status');
  s.textContent = text;
  s.classList.toggle('error', error);
}

async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${token}` };
  const init = { method, headers, cache: 'no-store', credentials: 'omit' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  let data = null;
  try {
    data = await r.json();
  } catch {
    data = null;
  }
  if (!r.ok) {
    const e = new Error(data?.error?.message || `the admin API answered ${r.status}`);
    e.status = r.status;
    throw e;
  }
  return data;
}

// Who the token says it is, for the page only (the server verifies it on every request).
function tokenSubject(t) {
  try {
    const part = t.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), '=')));
    return typeof claims.sub === 'string' ? claims.sub : null;
  } catch {
    return null;
  }
}

function showWho() {
  if (!token) {
    $('who').textContent = 'No token yet.';
    return;
  }
  const sub = tokenSubject(token);
  $('who').textContent = sub ? `Acting as ${sub}.` : 'A token is in use.';
}

function waited(seconds) {
  if (typeof seconds !== 'number') return '';
  const s = Math.floor(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

function argumentsText(a) {
  if (a.arguments !== null && a.arguments !== undefined) return JSON.stringify(a.arguments, null, 2);
  return a.args_json ?? '(not recorded)';
}

function cell(tr, text, code = false) {
  const td = document.createElement('td');
  if (code) {
    const c = document.createElement('code');
    c.textContent = text ?? '';
    td.append(c);
  } else {
    td.textContent = text ?? '';
  }
  tr.append(td);
  return td;
}

function makeRow(a) {
  const tr = document.createElement('tr');
  tr.dataset.id = a.id;
  const tool = cell(tr, a.tool, true);
  tool.id = `tool-${a.id}`;
  cell(tr, a.subject);
  cell(tr, a.tenant);
  cell(tr, a.env);
  const args = document.createElement('td');
  const pre = document.createElement('pre');
  pre.textContent = argumentsText(a);
  args.append(pre);
  tr.append(args);
  const wait = cell(tr, waited(a.waiting_seconds));

  const decision = document.createElement('td');
  decision.className = 'decision';
  const label = document.createElement('label');
  label.htmlFor = `reason-${a.id}`;
  label.textContent = `Reason for ${a.tool} by ${a.subject ?? 'unknown'}`;
  const reason = document.createElement('input');
  reason.type = 'text';
  reason.id = `reason-${a.id}`;
  const approve = document.createElement('button');
  approve.type = 'button';
  approve.className = 'approve';
  approve.textContent = 'Approve';
  const deny = document.createElement('button');
  deny.type = 'button';
  deny.className = 'deny';
  deny.textContent = 'Deny';
  for (const b of [approve, deny]) b.setAttribute('aria-describedby', tool.id);
  const buttons = document.createElement('div');
  buttons.className = 'row';
  buttons.append(approve, deny);
  decision.append(label, reason, buttons);
  tr.append(decision);

  const act = async (yes) => {
    const why = reason.value.trim();
    if (!why) {
      say(`Give a reason before you ${yes ? 'approve' : 'deny'} the ${a.tool} call.`, true);
      reason.focus();
      return;
    }
    approve.disabled = deny.disabled = true;
    try {
      await api('POST', `/admin/approvals/${a.id}/${yes ? 'approve' : 'deny'}`, { reason: why });
      say(`The ${a.tool} call by ${a.subject} was ${yes ? 'approved' : 'denied'}.`);
      tr.remove();
      rows.delete(a.id);
      updateEmpty();
    } catch (e) {
      say(e.message, true);
      approve.disabled = deny.disabled = false;
    }
  };
  reason.addEventListener('input', () => {
    if ($('status').classList.contains('error')) say('');
  });
  approve.addEventListener('click', () => act(true));
  deny.addEventListener('click', () => act(false));
  return { tr, wait };
}

function updateEmpty() {
  $('empty').hidden = rows.size > 0;
  $('pending').hidden = rows.size === 0;
  $('count').textContent = rows.size ? `(${rows.size})` : '';
}

// Rows are kept across refreshes, so a reason being typed is never lost; only the waiting
// time changes, and rows come and go.
function renderApprovals(list) {
  const seen = new Set();
  for (const a of list) {
    seen.add(a.id);
    let r = rows.get(a.id);
    if (!r) {
      r = makeRow(a);
      rows.set(a.id, r);
      $('rows').append(r.tr);
    }
    r.wait.textContent = waited(a.waiting_seconds);
  }
  for (const [id, r] of rows) {
    if (!seen.has(id)) {
      r.tr.remove();
      rows.delete(id);
    }
  }
  updateEmpty();
}

function renderWrites(w) {
  writesEnabled = w.enabled;
  const state = $('writes-state');
  let text = `Write tools are ${w.enabled ? 'ON' : 'OFF'}`;
  if (w.updated_at) text += ` since ${w.updated_at} (by ${w.actor ?? 'unknown'}${w.reason ? `: ${w.reason}` : ''})`;
  state.textContent = `${text}.`;
  state.className = w.enabled ? 'on' : 'off';
  const button = $('writes-toggle');
  button.textContent = w.enabled ? 'Turn writes off' : 'Turn writes on';
  button.disabled = false;
}

async function refresh() {
  clearTimeout(timer);
  if (token) {
    try {
      const [list, writes] = await Promise.all([api('GET', '/admin/approvals'), api('GET', '/admin/writes')]);
      renderApprovals(list.approvals);
      renderWrites(writes);
      $('updated').textContent = `Last updated ${new Date().toLocaleTimeString()}.`;
      if ($('status').classList.contains('error') && /admin API|token/.test($('status').textContent)) say('');
    } catch (e) {
      say(e.status ? e.message : `The admin API cannot be reached: ${e.message}`, true);
    }
  }
  timer = setTimeout(refresh, REFRESH_MS);
}

function clearAll() {
  for (const r of rows.values()) r.tr.remove();
  rows.clear();
  updateEmpty();
  $('writes-state').textContent = 'Unknown until a token is given.';
  $('writes-state').className = '';
  $('writes-toggle').disabled = true;
}

document.addEventListener('DOMContentLoaded', () => {
  $('token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const t = $('token').value.trim();
    if (!t) {
      say('Paste a token first.', true);
      return;
    }
    token = t;
    sessionStorage.setItem(TOKEN_KEY, token);
    $('token').value = '';
    showWho();
    say('');
    refresh();
  });
  $('forget').addEventListener('click', () => {
    token = '';
    sessionStorage.removeItem(TOKEN_KEY);
    showWho();
    clearAll();
    say('The token is forgotten.');
  });
  $('writes-toggle').addEventListener('click', async () => {
    const reason = $('writes-reason').value.trim();
    const enable = !writesEnabled;
    if (!reason) {
      say(`Give a reason before you turn writes ${enable ? 'on' : 'off'}.`, true);
      $('writes-reason').focus();
      return;
    }
    $('writes-toggle').disabled = true;
    try {
      const w = await api('POST', '/admin/writes', { enabled: enable, reason });
      $('writes-reason').value = '';
      renderWrites(w);
      say(enable ? 'Write tools are on again.'
        : `Write tools are off; ${w.cancelled ?? 0} open approval(s) were cancelled.`);
    } catch (e) {
      say(e.message, true);
      $('writes-toggle').disabled = false;
    }
    refresh();
  });
  showWho();
  if (!token) say('Paste an approver token to see the pending calls.');
  refresh();
});
