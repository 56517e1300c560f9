// The browser test: starts a small demo Préau (the debug binary, a free loopback port, a
// temporary data folder and SQLite database), then, for each profile the demo prints (pupil,
// parent, teacher, head, département agent), activates the account through the form, logs in,
// walks that profile's pages in headless Chromium and checks each page with axe-core against
// WCAG 2.1 A and AA. Every violation of every page is listed before the test fails. Then the
// messaging: the head writes to the parents of the showcase pupil's collège with the editor and
// an attachment, the parent sees the live unread badge, reads the message, downloads the file
// and replies, and every mailbox page met on the way is checked with axe-core too. Then the
// timetables: the pupil's week and day and calendar feeds, the parent's children's timetables,
// the teacher's week merged across collèges (with its conflicts box when there is one), and the
// head's school views, import page and change form of one lesson, each checked with axe-core at
// desktop width and again at phone width, where the page must not scroll sideways. Each
// profile's resources page (and its DYS filter) is checked too, and the administrators' pages
// of the registry of applications, the catalogue and (département) its statistics.
// Administrators (the head, the département agent) must pass a second factor: at their first
// login they enrol one (the test reads the key the page shows and computes the TOTP codes
// itself, RFC 6238 with Node's HMAC-SHA1), keep their recovery codes, and type a fresh code at
// every later login; the enrolment, recovery-code and code pages are checked with axe-core too.
//
// Environment: PREAU_BIN (default: ../../target/debug/preau), CHROMIUM (default:
// /usr/bin/chromium), PREAU_BROWSER_PORT (default: a free loopback port).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import {
  CHROMIUM,
  PASSWORD,
  base32Bytes,
  currentStep,
  follow,
  sleep,
  startDemo,
  totp,
} from './support.mjs';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];



/** Runs axe-core on the page; returns its violations labelled with the page. */
async function audit(page, label) {
  await page.addScriptTag({ content: AXE_SOURCE });
  const result = await page.evaluate(
    async (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags } }),
    WCAG_TAGS,
  );
  return result.violations.map((violation) => ({
    page: label,
    url: page.url(),
    id: violation.id,
    impact: violation.impact,
    help: violation.help,
    nodes: violation.nodes.map((node) => `${node.target.join(' ')} — ${node.failureSummary?.split('\n').join(' ')}`),
  }));
}

/** At phone width: a violation when the page scrolls sideways, naming the widest elements. */
async function sideways(phone, label) {
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow <= 1) return [];
  const wide = await phone.evaluate(() => [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 5).map((e) => `${e.tagName.toLowerCase()}.${e.className}`));
  return [{ page: label, url: phone.url(), id: 'horizontal-scroll', impact: 'serious', help: `la page déborde de ${overflow} px en largeur`, nodes: wide }];
}



/** A code of the account's factor for a step not used yet (the server takes each step once),
 * waiting for the next step when the current one was used. */
async function nextCode(account) {
  const used = account.secondFactor.lastStep;
  if (currentStep() <= used) {
    await sleep((used + 1) * 30_000 - Date.now() + 200);
  }
  const step = currentStep();
  account.secondFactor.lastStep = step;
  return totp(account.secondFactor.secret, step);
}

/** An administrator's first login lands on the enrolment: reads the key the page shows, confirms
 * it with a computed code, keeps the recovery codes, and goes on. Returns the violations. */
async function enrolSecondFactor(page, account) {
  const violations = [];
  const role = account.role;
  assert.equal(new URL(page.url()).pathname, '/parametres/second-facteur', `${account.login} n'est pas invité à activer la double authentification`);
  assert.equal(await page.locator('img.qr').count(), 1, "le QR code n'est pas affiché");
  violations.push(...(await audit(page, `${role} : activation de la double authentification`)));
  const secret = (await page.locator('#cle-second-facteur').textContent()).replace(/\s/g, '');
  assert.equal(base32Bytes(secret).length, 20, `clé de ${secret.length} caractères`);
  account.secondFactor = { secret, lastStep: 0, recovery: [] };
  await page.fill('#code', await nextCode(account));
  await follow(page, page.locator('form[action="/parametres/second-facteur/activer"] button[type=submit]'));
  const codes = await page.locator('#codes-secours li').allTextContents();
  assert.equal(codes.length, 10, "les codes de secours ne sont pas affichés");
  account.secondFactor.recovery = codes.map((code) => code.trim());
  violations.push(...(await audit(page, `${role} : codes de secours`)));
  await follow(page, page.getByRole('link', { name: /continuer/ }));
  return violations;
}

/** The second-factor step of a login: a fresh code of the account's factor. Returns the
 * violations of the code page. */
async function passSecondFactor(page, account) {
  assert.equal(new URL(page.url()).pathname, '/connexion/second-facteur', `${account.login} n'est pas invité à saisir son code`);
  const violations = await audit(page, `${account.role} : code de double authentification`);
  await page.fill('#code', await nextCode(account));
  await follow(page, page.locator('form[action="/connexion/second-facteur"] button[type=submit]'));
  return violations;
}

/** Activates the account through the form, then logs in if the app did not already. */
async function activateAndLogIn(page, baseUrl, account) {
  const violations = [];
  await page.goto(`${baseUrl}/activation`);
  await page.fill('#login', account.login);
  await page.fill('#code', account.activation_code);
  if (account.birth_date_fr) {
    await page.fill('#birth_date', account.birth_date_fr);
  }
  await page.fill('#password', PASSWORD);
  await page.fill('#password_confirm', PASSWORD);
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('button[type=submit]')]);
  const error = await page.locator('.erreur').allTextContents();
  assert.deepEqual(error, [], `activation de ${account.login} refusée`);

  if (!new URL(page.url()).pathname.startsWith('/accueil')) {
    await page.goto(`${baseUrl}/connexion`);
    await page.fill('#login', account.login);
    await page.fill('#password', PASSWORD);
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('button[type=submit]')]);
  }
  if (ADMINISTRATORS.includes(account.role)) {
    violations.push(...(await enrolSecondFactor(page, account)));
  }
  assert.equal(new URL(page.url()).pathname, '/accueil', `${account.login} n'arrive pas sur l'accueil`);
  return violations;
}

/** The showcase roles that administer something, and so must pass a second factor. */
const ADMINISTRATORS = ['head', 'agent'];

/** Walks one profile's pages and returns the violations found. */
async function walk(browser, baseUrl, account) {
  const violations = [];
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 }, locale: 'fr-FR' });
  const page = await context.newPage();
  const role = account.role;

  violations.push(...(await activateAndLogIn(page, baseUrl, account)));
  violations.push(...(await audit(page, `${role} : accueil`)));

  const surname = account.name.split(' ').slice(-1)[0];
  const query = surname.slice(0, 3);
  await page.goto(`${baseUrl}/annuaire?q=${encodeURIComponent(query)}`);
  assert.equal((await page.locator('h1').count()) > 0, true, 'annuaire sans titre');
  violations.push(...(await audit(page, `${role} : annuaire (« ${query} »)`)));

  await page.goto(`${baseUrl}/parametres`);
  violations.push(...(await audit(page, `${role} : paramètres`)));
  await page.check('#reading_mode');
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.locator('form[action="/parametres"] button[type=submit]').click()]);
  assert.equal(await page.isChecked('#reading_mode'), true, 'le mode lecture ne reste pas coché');
  violations.push(...(await audit(page, `${role} : paramètres, mode lecture activé`)));
  await page.goto(`${baseUrl}/accueil`);
  violations.push(...(await audit(page, `${role} : accueil en mode lecture`)));

  if (role === 'parent') {
    const other = page.locator('nav.enfants a:not([aria-current])');
    assert.ok((await other.count()) >= 1, 'le parent ne voit pas son second enfant');
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), other.first().click()]);
    violations.push(...(await audit(page, `${role} : accueil, second enfant`)));
  }

  // The resources and, for administrators, the registry of applications and the catalogue.
  const signOn = [['/ressources', 'ressources'], ['/ressources?dys=1', 'ressources adaptées DYS']];
  if (role === 'agent') {
    for (const path of ['applications', 'applications/nouvelle', 'ressources', 'ressources/nouvelle', 'ressources/statistiques']) {
      signOn.push([`/departement/${path}`, `département : ${path}`]);
    }
  }
  if (role === 'head') {
    const console = await page.locator('a[href^="/etablissement/"]').first().getAttribute('href');
    assert.ok(console, "le chef d'établissement n'a pas de lien vers sa console");
    for (const path of ['applications', 'applications/nouvelle', 'ressources']) {
      signOn.push([`${console}/${path}`, `établissement : ${path}`]);
    }
  }
  for (const [path, name] of signOn) {
    const response = await page.goto(`${baseUrl}${path}`);
    assert.equal(response.status(), 200, `${role} : ${path} répond ${response.status()}`);
    violations.push(...(await audit(page, `${role} : ${name}`)));
  }

  const phone = await context.newPage();
  await phone.setViewportSize({ width: 360, height: 740 });
  const pages = [['/accueil', 'accueil'], ['/messagerie', 'messagerie'], ['/messagerie/ecrire', 'écrire'], ['/actualites', 'actualités'], ['/ressources', 'ressources']];
  if (role === 'agent') pages.push(['/departement/applications/nouvelle', 'nouvelle application']);
  if (role !== 'pupil') {
    await page.goto(`${baseUrl}/parametres/second-facteur`);
    violations.push(...(await audit(page, `${role} : double authentification`)));
    pages.push(['/parametres/second-facteur', 'double authentification']);
  }
  for (const [path, name] of pages) {
    await phone.goto(`${baseUrl}${path}`);
    const label = `${role} : ${name} sur téléphone`;
    violations.push(...(await audit(phone, label)));
    violations.push(...(await sideways(phone, label)));
  }

  await context.close();
  return violations;
}

/** Logs in through the form (the account is already activated), with the second factor of an
 * administrator. Returns the violations of the pages on the way. */
async function logIn(page, baseUrl, account) {
  const violations = [];
  await page.goto(`${baseUrl}/connexion`);
  await page.fill('#login', account.login);
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('form[action="/connexion"] button[type=submit]')]);
  if (account.secondFactor) {
    violations.push(...(await passSecondFactor(page, account)));
  }
  assert.equal(new URL(page.url()).pathname, '/accueil', `${account.login} ne se connecte pas`);
  return violations;
}

async function logOut(page) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('form[action="/deconnexion"] button')]);
}

/** Clicks and waits for the page it leads to. */

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The teacher writes to the parents of the pupil's class with a file; the parent reads,
 * downloads, replies. */
async function messaging(browser, baseUrl, accounts) {
  const violations = [];
  const byRole = Object.fromEntries(accounts.map((account) => [account.role, account]));
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 }, locale: 'fr-FR', acceptDownloads: true });
  const page = await context.newPage();

  await logIn(page, baseUrl, byRole.pupil);
  const classCode = (await page.locator('dt:text-is("Classe") + dd').first().textContent()).trim();
  assert.ok(classCode, "la classe de l'élève n'apparaît pas");
  await logOut(page);

  // The teacher finds the parents of that class, writes with the editor and attaches a file.
  await logIn(page, baseUrl, byRole.teacher);
  await page.goto(`${baseUrl}/messagerie/ecrire`);
  violations.push(...(await audit(page, 'enseignant : écrire un message')));
  await page.fill('#recherche-destinataires', 'parents');
  await follow(page, page.locator('button[name="chercher"].secondaire'));
  violations.push(...(await audit(page, 'enseignant : destinataires proposés')));
  const group = page.getByLabel(new RegExp(`^Parents de ${escapeRegExp(classCode)}\\b`));
  const proposed = (await page.locator('.propositions label').allTextContents()).join(' | ');
  assert.ok((await group.count()) >= 1, `le groupe des parents de ${classCode} n'est pas proposé : ${proposed}`);
  await group.first().check();
  await follow(page, page.locator('button[name="ajouter_coches"]'));
  assert.ok((await page.locator('#destinataires li').count()) === 1, 'le groupe choisi ne figure pas parmi les destinataires');
  await page.fill('#sujet', 'Sortie au musée');
  const editor = page.locator('#editeur-corps');
  assert.equal(await editor.count(), 1, "l'éditeur de mail.js n'est pas en place");
  await editor.click();
  await page.keyboard.type('Bonjour, voici la ');
  await page.locator('.barre-outils').getByRole('button', { name: 'Gras', exact: true }).click();
  await page.keyboard.type('liste du matériel');
  await page.setInputFiles('#fichier', { name: 'materiel.txt', mimeType: 'text/plain', buffer: Buffer.from('Un cahier, deux crayons.\n') });
  await follow(page, page.locator('button[name="envoyer"]'));
  assert.match(new URL(page.url()).pathname, /^\/messagerie\/messages\//, "l'envoi n'aboutit pas au message envoyé");
  assert.match(await page.locator('.info').first().textContent(), /Votre message est envoyé/);
  assert.equal(await page.locator('.corps-message strong, .corps-message b').count(), 1, 'le gras est perdu');
  violations.push(...(await audit(page, 'enseignant : message envoyé')));
  await logOut(page);

  // The parent: the live badge, the inbox, the message, the file, the reply.
  await logIn(page, baseUrl, byRole.parent);
  await page.waitForFunction(() => {
    const badge = document.getElementById('compteur-messagerie');
    return badge && !badge.hidden && Number(badge.textContent.trim().split(/\s/)[0]) >= 1;
  }, null, { timeout: 10_000 });
  await page.goto(`${baseUrl}/messagerie`);
  violations.push(...(await audit(page, 'parent : boîte de réception')));
  await follow(page, page.locator('table.messages a', { hasText: 'Sortie au musée' }));
  violations.push(...(await audit(page, 'parent : lire un message')));
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('.pieces a', { hasText: 'materiel.txt' }).click()]);
  assert.equal(download.suggestedFilename(), 'materiel.txt');
  assert.equal(readFileSync(await download.path(), 'utf8'), 'Un cahier, deux crayons.\n');
  await follow(page, page.getByRole('link', { name: 'Répondre', exact: true }));
  violations.push(...(await audit(page, 'parent : répondre')));
  await page.locator('#editeur-corps').click();
  await page.keyboard.type('Merci, nous préparons le sac.');
  await follow(page, page.locator('button[name="envoyer"]'));
  assert.match(await page.locator('.info').first().textContent(), /Votre message est envoyé/);
  for (const folder of ['envoyes', 'brouillons', 'corbeille']) {
    await page.goto(`${baseUrl}/messagerie/dossiers/${folder}`);
    violations.push(...(await audit(page, `parent : dossier ${folder}`)));
  }
  await page.goto(`${baseUrl}/messagerie/recherche?q=musee`);
  assert.ok((await page.locator('table.messages tbody tr').count()) >= 1, 'la recherche ne trouve pas le message');
  violations.push(...(await audit(page, 'parent : recherche')));
  await logOut(page);

  await logIn(page, baseUrl, byRole.teacher);
  await page.goto(`${baseUrl}/messagerie`);
  assert.ok((await page.locator('table.messages tr.non-lu', { hasText: 'Sortie au musée' }).count()) >= 1, "la réponse n'arrive pas");

  await context.close();
  return violations;
}

/** Checks the page at desktop width, then the same address on the phone page (same session):
 * axe-core on both, no sideways scroll on the phone. */
async function auditBoth(page, phone, label) {
  const violations = await audit(page, label);
  await phone.goto(page.url());
  violations.push(...(await audit(phone, `${label} sur téléphone`)));
  violations.push(...(await sideways(phone, `${label} sur téléphone`)));
  return violations;
}

const lessons = (page) => page.locator('li.seance');

/** Opens the week view at `url` and moves on week by week (holidays) until it shows lessons. */
async function weekWithLessons(page, url, who) {
  await page.goto(url);
  for (let week = 0; week < 8 && (await lessons(page).count()) === 0; week++) {
    await follow(page, page.locator('nav.navigation-edt a', { hasText: 'Semaine suivante' }));
  }
  assert.ok((await lessons(page).count()) > 0, `aucun cours dans l'emploi du temps de ${who} sur huit semaines`);
}

/** The date (YYYY-MM-DD) of the first day of the shown week that has lessons. */
async function firstDayWithLessons(page) {
  return page.locator('section.jour', { has: page.locator('li.seance') }).first().locator('h2 time').getAttribute('datetime');
}

/** Every profile's timetable pages, at desktop and phone widths. */
async function timetables(browser, baseUrl, accounts) {
  const violations = [];
  const byRole = Object.fromEntries(accounts.map((account) => [account.role, account]));
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 }, locale: 'fr-FR' });
  const page = await context.newPage();
  const phone = await context.newPage();
  await phone.setViewportSize({ width: 360, height: 740 });

  // The pupil: the week, a day with lessons, the calendar feeds and a new feed's address.
  await logIn(page, baseUrl, byRole.pupil);
  await weekWithLessons(page, `${baseUrl}/emploi-du-temps?vue=semaine`, "l'élève");
  violations.push(...(await auditBoth(page, phone, 'élève : emploi du temps, semaine')));
  const day = await firstDayWithLessons(page);
  await page.goto(`${baseUrl}/emploi-du-temps?vue=jour&date=${day}`);
  assert.ok((await lessons(page).count()) > 0, `la vue du jour ${day} de l'élève est vide`);
  violations.push(...(await auditBoth(page, phone, `élève : emploi du temps, jour (${day})`)));
  await page.goto(`${baseUrl}/emploi-du-temps/agendas`);
  violations.push(...(await auditBoth(page, phone, 'élève : agendas')));
  for (const [where, label] of [[page, 'élève : adresse d\'agenda créée'], [phone, 'élève : adresse d\'agenda créée sur téléphone']]) {
    await where.fill('#nom', 'Téléphone');
    await follow(where, where.locator('form[action="/emploi-du-temps/agendas"] button[type=submit]'));
    assert.equal(await where.locator('#adresse-agenda').count(), 1, "l'adresse de l'agenda créé n'est pas affichée");
    violations.push(...(await audit(where, label)));
    if (where === phone) violations.push(...(await sideways(phone, label)));
  }
  await logOut(page);

  // The parent: each child's timetable.
  await logIn(page, baseUrl, byRole.parent);
  await weekWithLessons(page, `${baseUrl}/emploi-du-temps?vue=semaine`, "l'enfant du parent");
  violations.push(...(await auditBoth(page, phone, 'parent : emploi du temps du premier enfant')));
  const child = page.locator('nav.enfants a:not([aria-current])');
  assert.ok((await child.count()) >= 1, "le parent ne peut pas choisir l'emploi du temps de son second enfant");
  await follow(page, child.first());
  violations.push(...(await auditBoth(page, phone, 'parent : emploi du temps du second enfant')));
  await logOut(page);

  // The head: the school's views, the import page, the change form of one lesson.
  violations.push(...(await logIn(page, baseUrl, byRole.head)));
  await page.goto(`${baseUrl}/emploi-du-temps`);
  violations.push(...(await auditBoth(page, phone, 'principale : emploi du temps')));
  await follow(page, page.locator('a[href^="/emploi-du-temps/etablissement/"]').first());
  violations.push(...(await auditBoth(page, phone, 'principale : classes, salles et enseignants')));
  const picker = page.url();
  await follow(page, page.getByRole('link', { name: 'Importer un emploi du temps' }));
  violations.push(...(await auditBoth(page, phone, "principale : import d'un emploi du temps")));
  await page.goto(picker);
  await follow(page, page.locator('ul.choix-edt a[href^="/emploi-du-temps/classe/"]').first());
  await weekWithLessons(page, page.url(), "la classe");
  violations.push(...(await auditBoth(page, phone, "principale : semaine d'une classe")));
  await follow(page, page.locator('li.seance a', { hasText: 'Modifier' }).first());
  assert.match(new URL(page.url()).pathname, /^\/etablissement\/[^/]+\/seances\//, "le lien Modifier ne mène pas au formulaire d'une séance");
  violations.push(...(await auditBoth(page, phone, "principale : modification d'une séance")));

  // The head moves one of the showcase teacher's lessons onto another of theirs, so that the
  // teacher's merged week has a conflict to show.
  await page.goto(picker);
  const surname = byRole.teacher.name.split(' ').slice(-1)[0];
  await follow(page, page.locator('ul.choix-edt a[href^="/emploi-du-temps/enseignant/"]', { hasText: surname }).first());
  await weekWithLessons(page, page.url(), "l'enseignant vu par la principale");
  violations.push(...(await auditBoth(page, phone, "principale : semaine fusionnée d'un enseignant")));
  const shown = await page.locator('li.seance:not(.annulee)').evaluateAll((items) => items.map((li) => {
    const [start, end] = [...li.querySelectorAll('.seance-heure time')].map((t) => t.getAttribute('datetime'));
    return { start, end, edit: li.querySelector('a[href^="/etablissement/"]')?.getAttribute('href') };
  }));
  const moved = shown.find((lesson) => lesson.edit);
  const onto = shown.find((lesson) => moved && lesson.start !== moved.start);
  assert.ok(moved && onto, `la principale ne trouve pas deux séances de l'enseignant dont une modifiable : ${JSON.stringify(shown)}`);
  await page.goto(`${baseUrl}${moved.edit}`);
  await page.fill('#date', onto.start.slice(0, 10));
  await page.fill('#debut', onto.start.slice(11, 16));
  await page.fill('#fin', onto.end.slice(11, 16));
  await follow(page, page.locator('button[name="action"][value="enregistrer"]'));
  assert.match(await page.locator('.info').first().textContent(), /La séance est modifiée/);
  violations.push(...(await auditBoth(page, phone, 'principale : séance déplacée')));
  const conflictDate = onto.start.slice(0, 10);
  await logOut(page);

  // The teacher: the week merged across collèges, with the conflict the head made.
  await logIn(page, baseUrl, byRole.teacher);
  await page.goto(`${baseUrl}/emploi-du-temps?vue=semaine&date=${conflictDate}`);
  assert.ok((await lessons(page).count()) > 0, "la semaine fusionnée de l'enseignant est vide");
  assert.ok((await page.locator('section.conflits li').count()) >= 1, "la séance déplacée sur une autre n'est pas signalée en conflit");
  violations.push(...(await auditBoth(page, phone, 'enseignant : semaine fusionnée, avec ses conflits')));
  await logOut(page);

  await context.close();
  return violations;
}

test('every profile activates, logs in and walks its pages without an accessibility violation', { timeout: 900_000 }, async () => {
  const port = process.env.PREAU_BROWSER_PORT ? Number(process.env.PREAU_BROWSER_PORT) : undefined;
  const demo = await startDemo({ port, prefix: 'preau-browser-' });
  let browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    const violations = [];

    const anonymous = await browser.newContext({ bypassCSP: true });
    const page = await anonymous.newPage();
    for (const path of ['/connexion', '/activation', '/mot-de-passe-oublie']) {
      await page.goto(`${demo.baseUrl}${path}`);
      violations.push(...(await audit(page, `public : ${path}`)));
    }
    await anonymous.close();

    const roles = demo.accounts.map((account) => account.role);
    assert.deepEqual(roles, ['pupil', 'parent', 'teacher', 'head', 'agent', 'host']);
    // The host organisation's pages are walked by internship.test.mjs, along its journey.
    for (const account of demo.accounts.filter((a) => a.role !== 'host')) {
      violations.push(...(await walk(browser, demo.baseUrl, account)));
    }
    violations.push(...(await messaging(browser, demo.baseUrl, demo.accounts)));
    violations.push(...(await timetables(browser, demo.baseUrl, demo.accounts)));

    const report = violations
      .map((v) => `- [${v.page}] ${v.id} (${v.impact}) : ${v.help}\n    ${v.url}\n${v.nodes.map((n) => `    · ${n}`).join('\n')}`)
      .join('\n');
    assert.equal(violations.length, 0, `violations WCAG 2.1 A/AA :\n${report}`);
  } finally {
    if (browser) await browser.close();
    await demo.stop();
  }
});
