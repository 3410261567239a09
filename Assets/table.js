// Feature table: sorting, filtering and paging over window.LOUPE_FEATURES (loaded from features.js).
// Rows are built with createElement and textContent only; no data is ever parsed as HTML.
(function () {
  'use strict';

  var table = document.getElementById('features');
  if (!table) { return; }
  var tbody = table.querySelector('tbody');
  var filter = document.getElementById('filter');
  var count = document.getElementById('count');
  var more = document.getElementById('more');
  var PAGE = 200;
  var shown = PAGE;
  var sortKey = 'i';
  var sortDir = 1;

  var source = Array.isArray(window.LOUPE_FEATURES) ? window.LOUPE_FEATURES : [];
  var rows = [];
  source.forEach(function (r) {
    if (!r || !Number.isInteger(r.i)) { return; }
    var tokens = Array.isArray(r.t) ? r.t.filter(function (t) { return typeof t === 'string'; }) : [];
    var explanation = typeof r.e === 'string' ? r.e : '';
    rows.push({
      r: r,
      tokens: tokens,
      explanation: explanation,
      hay: ('#' + r.i + '\n' + explanation + '\n' + tokens.join('\n')).toLowerCase()
    });
  });

  function num(v) { return typeof v === 'number' && isFinite(v) ? v : null; }

  function significant(v, digits) {
    if (v === null) { return 'n/a'; }
    if (v === 0) { return '0'; }
    var a = Math.abs(v);
    if (a >= 1e6 || a < 1e-4) { return v.toExponential(digits - 1); }
    var decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(a)));
    return v.toFixed(decimals);
  }

  function percent(v) { return v === null ? 'n/a' : significant(v * 100, 3) + '%'; }

  function compare(a, b) {
    var x = sortKey === 'i' ? a.r.i : num(a.r[sortKey]);
    var y = sortKey === 'i' ? b.r.i : num(b.r[sortKey]);
    if (x === null && y === null) { return a.r.i - b.r.i; }
    if (x === null) { return 1; }   // missing values last in either direction
    if (y === null) { return -1; }
    if (x !== y) { return (x < y ? -1 : 1) * sortDir; }
    return a.r.i - b.r.i;
  }

  function cell(text, className) {
    var td = document.createElement('td');
    if (className) { td.className = className; }
    if (text !== null) { td.textContent = text; }
    return td;
  }

  function row(item) {
    var r = item.r;
    var tr = document.createElement('tr');

    var link = document.createElement('a');
    link.href = 'features/' + String(r.i) + '.html';
    link.textContent = String(r.i);
    var first = cell(null, 'num');
    first.appendChild(link);
    tr.appendChild(first);

    var expl = cell(item.explanation || 'no explanation', item.explanation ? 'expl' : 'expl muted');
    tr.appendChild(expl);

    var toks = cell(null, 'toks');
    item.tokens.forEach(function (t) {
      var span = document.createElement('span');
      span.className = 'tok';
      span.textContent = t;
      toks.appendChild(span);
    });
    tr.appendChild(toks);

    tr.appendChild(cell(percent(num(r.d)), 'num'));
    tr.appendChild(cell(significant(num(r.m), 3), 'num'));
    var s = num(r.s);
    tr.appendChild(cell(s === null ? 'n/a' : s.toFixed(2), 'num'));
    return tr;
  }

  function render() {
    var query = filter ? filter.value.trim().toLowerCase() : '';
    var terms = query.split(/\s+/).filter(function (t) { return t.length > 0; });
    var matched = rows.filter(function (item) {
      return terms.every(function (t) { return item.hay.indexOf(t) >= 0; });
    });
    matched.sort(compare);
    var fragment = document.createDocumentFragment();
    matched.slice(0, shown).forEach(function (item) { fragment.appendChild(row(item)); });
    while (tbody.firstChild) { tbody.removeChild(tbody.firstChild); }
    tbody.appendChild(fragment);
    if (count) {
      count.textContent = (matched.length === rows.length ? rows.length : matched.length + ' of ' + rows.length) + ' features';
    }
    if (more) {
      more.hidden = matched.length <= shown;
      more.textContent = 'Show more (' + Math.max(0, matched.length - shown) + ' hidden)';
    }
  }

  function markSorted() {
    table.querySelectorAll('th').forEach(function (th) { th.removeAttribute('aria-sort'); });
    var button = table.querySelector('button[data-sort="' + sortKey + '"]');
    if (button && button.parentElement) {
      button.parentElement.setAttribute('aria-sort', sortDir > 0 ? 'ascending' : 'descending');
    }
  }

  table.querySelectorAll('button[data-sort]').forEach(function (button) {
    button.addEventListener('click', function () {
      var key = button.getAttribute('data-sort');
      if (key === sortKey) {
        sortDir = -sortDir;
      } else {
        sortKey = key;
        sortDir = key === 'i' ? 1 : -1;  // numbers: largest first
      }
      shown = PAGE;
      markSorted();
      render();
    });
  });

  if (filter) {
    filter.addEventListener('input', function () { shown = PAGE; render(); });
  }
  if (more) {
    more.addEventListener('click', function () { shown += PAGE; render(); });
  }

  markSorted();
  render();
}());
