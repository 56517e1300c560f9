// Préau's messaging script. Every page works without it: it only adds, when it can,
// the live unread badge (server-sent events), drafts saved as one types, recipient
// suggestions while typing, a small rich-text editor over the message field, a box that
// ticks every message of a list, and a confirmation before destructive actions.
// Loaded from 'self' with `defer`; no inline script, no eval, nothing built from HTML strings.
(() => {
  'use strict';

  const SAVE_DELAY_MS = 1500;
  const SUGGEST_DELAY_MS = 250;
  const SUGGEST_MIN_CHARS = 2;
  const ALLOWED_TAGS = new Set([
    'P', 'BR', 'B', 'STRONG', 'I', 'EM', 'U', 'S', 'UL', 'OL', 'LI', 'BLOCKQUOTE', 'A', 'H3',
    'H4', 'PRE', 'CODE',
  ]);
  const DROPPED_TAGS = new Set(['SCRIPT', 'STYLE', 'TEMPLATE', 'IFRAME', 'OBJECT', 'SVG', 'MATH']);
  const SAFE_HREF = /^(https?:|mailto:)/i;

  /** A function that runs `action` once calls stop for `delay` ms. */
  function debounce(action, delay) {
    let timer = null;
    const run = () => {
      timer = null;
      action();
    };
    run.schedule = () => {
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(run, delay);
    };
    run.now = () => {
      if (timer !== null) clearTimeout(timer);
      run();
    };
    return run;
  }

  /** The hours and minutes of now, as the French write them (14:32). */
  function clock() {
    const now = new Date();
    const pad = (n) => String(n).padStart(2, '0');
    return `${pad(now.getHours())}:${pad(now.getMinutes())}`;
  }

  // ---- The live unread badge -------------------------------------------------------------

  function liveBadge() {
    const badge = document.getElementById('compteur-messagerie');
    if (!badge || typeof EventSource === 'undefined') return;
    const number = badge.querySelector('.nombre');
    if (!number) return;
    const source = new EventSource('/messagerie/evenements');
    source.addEventListener('unread', (event) => {
      const count = Number.parseInt(event.data, 10);
      if (!Number.isFinite(count) || count < 0) return;
      number.textContent = String(count);
      badge.hidden = count === 0;
    });
    window.addEventListener('pagehide', () => source.close());
  }

  // ---- Rich text -------------------------------------------------------------------------

  /** Copies the allowed elements and the text of `from` into `to` (the server sanitises again). */
  function copyAllowed(from, to) {
    for (const node of Array.from(from.childNodes)) {
      if (node.nodeType === Node.TEXT_NODE) {
        to.appendChild(document.createTextNode(node.data));
      } else if (node.nodeType === Node.ELEMENT_NODE) {
        const tag = node.tagName.toUpperCase();
        if (ALLOWED_TAGS.has(tag)) {
          const copy = document.createElement(tag);
          const href = tag === 'A' ? node.getAttribute('href') || '' : '';
          if (href && SAFE_HREF.test(href)) copy.setAttribute('href', href);
          copyAllowed(node, copy);
          to.appendChild(copy);
        } else if (!DROPPED_TAGS.has(tag)) {
          copyAllowed(node, to);
        }
      }
    }
  }

  /** Fills the editor from HTML parsed in an inert document (nothing in it runs or loads). */
  function fillFromHtml(target, html) {
    const parsed = new DOMParser().parseFromString(html, 'text/html');
    target.replaceChildren();
    copyAllowed(parsed.body, target);
  }

  /** Fills the editor from plain text: blank lines separate paragraphs. */
  function fillFromText(target, text) {
    target.replaceChildren();
    for (const block of text.replace(/\r\n?/g, '\n').split(/\n{2,}/)) {
      if (!block.trim()) continue;
      const paragraph = document.createElement('p');
      block.split('\n').forEach((line, index) => {
        if (index > 0) paragraph.appendChild(document.createElement('br'));
        paragraph.appendChild(document.createTextNode(line));
      });
      target.appendChild(paragraph);
    }
  }

  function toolButton(label, action) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'secondaire';
    button.textContent = label;
    // Keep the selection in the editor when the button is pressed.
    button.addEventListener('mousedown', (event) => event.preventDefault());
    button.addEventListener('click', action);
    return button;
  }

  /** Replaces the message field by a small editor that writes HTML back into it. */
  function editor(form, changed) {
    const textarea = form.querySelector('textarea[name="corps"]');
    const format = form.querySelector('input[name="format"]');
    if (!textarea || !format || typeof document.execCommand !== 'function') return null;

    const area = document.createElement('div');
    area.className = 'editeur';
    area.id = 'editeur-corps';
    area.contentEditable = 'true';
    area.setAttribute('role', 'textbox');
    area.setAttribute('aria-multiline', 'true');
    const label = form.querySelector(`label[for="${textarea.id}"]`);
    if (label) {
      if (!label.id) label.id = `${textarea.id}-etiquette`;
      area.setAttribute('aria-labelledby', label.id);
    }
    // The server gives the body as sanitised HTML in a field without name (never sent).
    const source = document.getElementById('corps-html');
    if (source && source.value) {
      fillFromHtml(area, source.value);
    } else {
      fillFromText(area, textarea.value);
    }

    const sync = () => {
      textarea.value = area.innerHTML;
      changed();
    };
    const command = (name, value) => () => {
      area.focus();
      document.execCommand(name, false, value);
      sync();
    };
    const toolbar = document.createElement('div');
    toolbar.className = 'barre-outils';
    toolbar.setAttribute('role', 'toolbar');
    toolbar.setAttribute('aria-label', 'Mise en forme du message');
    toolbar.setAttribute('aria-controls', area.id);
    toolbar.append(
      toolButton('Gras', command('bold')),
      toolButton('Italique', command('italic')),
      toolButton('Liste à puces', command('insertUnorderedList')),
      toolButton('Liste numérotée', command('insertOrderedList')),
      toolButton('Lien', () => {
        const address = window.prompt('Adresse du lien (https://…)', 'https://');
        if (!address) return;
        if (!SAFE_HREF.test(address.trim())) {
          window.alert('Seules les adresses en http://, https:// ou mailto: sont acceptées.');
          return;
        }
        command('createLink', address.trim())();
      }),
    );

    area.addEventListener('input', sync);
    textarea.hidden = true;
    textarea.insertAdjacentElement('afterend', area);
    area.insertAdjacentElement('beforebegin', toolbar);
    format.value = 'html';
    textarea.value = area.innerHTML;
    return sync;
  }

  // ---- Drafts saved as one types ---------------------------------------------------------

  function autosave(form) {
    const status = document.getElementById('etat-brouillon');
    const draftField = form.querySelector('input[name="brouillon"]');
    let inFlight = false;
    let again = false;

    const save = debounce(async () => {
      if (inFlight) {
        again = true;
        return;
      }
      inFlight = true;
      const data = new URLSearchParams();
      for (const name of ['csrf_token', 'brouillon', 'cle', 'mode', 'parent', 'sujet', 'corps', 'format']) {
        const field = form.elements.namedItem(name);
        if (field && 'value' in field) data.append(name, field.value);
      }
      for (const chip of form.querySelectorAll('input[name="dest"]')) data.append('dest', chip.value);
      for (const piece of form.querySelectorAll('input[name="piece"]')) data.append('piece', piece.value);
      const id = draftField && draftField.value ? draftField.value : 'nouveau';
      try {
        const response = await fetch(`/messagerie/brouillons/${encodeURIComponent(id)}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
          body: data,
          credentials: 'same-origin',
        });
        if (!response.ok) throw new Error(String(response.status));
        if (response.status === 200) {
          const saved = await response.json();
          if (draftField && saved && typeof saved.id === 'string') draftField.value = saved.id;
        }
        if (status) status.textContent = `Brouillon enregistré à ${clock()}.`;
      } catch {
        if (status) status.textContent = "Le brouillon n'a pas pu être enregistré automatiquement.";
      } finally {
        inFlight = false;
        if (again) {
          again = false;
          save.schedule();
        }
      }
    }, SAVE_DELAY_MS);
    return save;
  }

  // ---- Recipients ------------------------------------------------------------------------

  function chip(token, label) {
    const item = document.createElement('li');
    item.className = 'puce';
    const hidden = document.createElement('input');
    hidden.type = 'hidden';
    hidden.name = 'dest';
    hidden.value = token;
    const name = document.createElement('bdi');
    name.textContent = label;
    const remove = document.createElement('button');
    remove.type = 'submit';
    remove.name = 'retirer_destinataire';
    remove.value = token;
    remove.className = 'retirer';
    remove.textContent = '×';
    remove.setAttribute('aria-label', `Retirer ${label}`);
    item.append(hidden, name, ' ', remove);
    return item;
  }

  function recipients(form, save) {
    const list = form.querySelector('#destinataires');
    const search = form.querySelector('#recherche-destinataires');
    if (!list || !search || typeof fetch !== 'function') return;
    const empty = form.querySelector('#aucun-destinataire');

    form.addEventListener('click', (event) => {
      const button = event.target.closest('button[name="retirer_destinataire"]');
      if (!button) return;
      event.preventDefault();
      const item = button.closest('li');
      if (item) item.remove();
      if (empty) empty.hidden = list.querySelector('li') !== null;
      search.focus();
      save.schedule();
    });

    const results = document.createElement('ul');
    results.className = 'suggestions';
    results.id = 'suggestions-destinataires';
    const announce = document.createElement('p');
    announce.className = 'visuellement-cache';
    announce.setAttribute('role', 'status');
    search.setAttribute('autocomplete', 'off');
    search.setAttribute('aria-controls', results.id);
    search.closest('p')?.insertAdjacentElement('afterend', results);
    results.insertAdjacentElement('afterend', announce);

    const add = (token, label) => {
      const present = Array.from(list.querySelectorAll('input[name="dest"]')).some((i) => i.value === token);
      if (!present) list.appendChild(chip(token, label));
      if (empty) empty.hidden = true;
      results.replaceChildren();
      announce.textContent = `${label} ajouté aux destinataires.`;
      search.value = '';
      search.focus();
      save.schedule();
    };

    let asked = 0;
    const suggest = debounce(async () => {
      const query = search.value.trim();
      const ticket = ++asked;
      if (query.length < SUGGEST_MIN_CHARS) {
        results.replaceChildren();
        return;
      }
      try {
        const response = await fetch(`/messagerie/destinataires?q=${encodeURIComponent(query)}`, {
          headers: { Accept: 'application/json' },
          credentials: 'same-origin',
        });
        if (!response.ok || ticket !== asked) return;
        const found = await response.json();
        if (!Array.isArray(found) || ticket !== asked) return;
        results.replaceChildren();
        for (const option of found.slice(0, 20)) {
          if (typeof option.token !== 'string' || typeof option.label !== 'string') continue;
          const item = document.createElement('li');
          const button = document.createElement('button');
          button.type = 'button';
          button.className = 'secondaire';
          const name = document.createElement('bdi');
          name.textContent = option.label;
          button.append('Ajouter ', name);
          if (typeof option.detail === 'string' && option.detail) {
            const detail = document.createElement('span');
            detail.className = 'badge';
            detail.textContent = option.detail;
            button.append(' ', detail);
          }
          button.addEventListener('click', () => add(option.token, option.label));
          item.appendChild(button);
          results.appendChild(item);
        }
        announce.textContent = found.length === 0
          ? 'Aucun destinataire trouvé.'
          : `${Math.min(found.length, 20)} destinataire(s) proposé(s).`;
      } catch {
        results.replaceChildren();
      }
    }, SUGGEST_DELAY_MS);
    search.addEventListener('input', () => suggest.schedule());
  }

  function compose() {
    const form = document.getElementById('composer');
    if (!form) return;
    const save = autosave(form);
    const sync = editor(form, () => save.schedule());
    recipients(form, save);
    for (const name of ['sujet', 'corps']) {
      const field = form.elements.namedItem(name);
      if (field) field.addEventListener('input', () => save.schedule());
    }
    form.addEventListener('submit', () => {
      if (sync) sync();
    });
  }

  // ---- Lists and confirmations -----------------------------------------------------------

  function tickAll() {
    for (const table of document.querySelectorAll('table.messages')) {
      const cell = table.querySelector('thead .selection');
      const boxes = table.querySelectorAll('tbody input[type="checkbox"][name="ids"]');
      if (!cell || boxes.length === 0) continue;
      const all = document.createElement('input');
      all.type = 'checkbox';
      all.setAttribute('aria-label', 'Tout sélectionner');
      all.addEventListener('change', () => {
        for (const box of boxes) box.checked = all.checked;
      });
      cell.replaceChildren(all);
    }
  }

  function confirmations() {
    document.addEventListener('submit', (event) => {
      const form = event.target;
      const question = form instanceof HTMLFormElement ? form.dataset.confirmer : undefined;
      if (question && !window.confirm(question)) event.preventDefault();
    });
  }

  const start = () => {
    liveBadge();
    compose();
    tickAll();
    confirmations();
  };
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
