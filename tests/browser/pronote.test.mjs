// The Pronote browser test: a pupil logged in to Préau clicks the Pronote tile of their collège
// and lands on that collège's Pronote, which validated the ticket; a teacher of two collèges
// clicks each collège's Pronote tile and gets each time the Pronote of that collège.
//
// It starts a small demo Préau (the debug binary, a free loopback port, a temporary data
// folder and SQLite database) and one stand-in Pronote per collège involved
// (scripts/pronote_stub.py: a CAS client of Préau on the loopback that validates the ticket with
// python-cas from PyPI and shows the user and attributes it received). The département's agent
// activates their account, enrols their second factor (TOTP codes computed here, RFC 6238) and,
// on each collège's desk, registers that collège's Pronote as a CAS application with Pronote's
// profile and adds its tile to the catalogue, through the console's forms. Then the pupil and
// the teacher activate their accounts, log in, open « Ressources » and click the tiles. Chromium
// resolves no other host than the loopback, so no click can leave this machine (the demo's own
// Pronote tiles name Index Éducation's hosting; the test's tiles are titled apart).
//
// Environment: PREAU_BIN (default: ../../target/debug/preau), CHROMIUM (default:
// /usr/bin/chromium), PYTHON (default: python3, which must have python-cas and requests:
// scripts/test.sh installs them).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM, PASSWORD, follow, freePort, sleep, startDemo, totp } from './support.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const PYTHON = process.env.PYTHON ?? 'python3';
const STUB = resolve(here, '../../scripts/pronote_stub.py');
/** The title of the test's tiles, apart from the demo's own « Pronote » tiles. */
const TILE = 'Pronote (serveur local)';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Every name but the loopback's resolves to nothing.
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
];



/** Starts one collège's stand-in Pronote and waits until it listens. */
async function startPronote(baseUrl, college) {
  const port = await freePort();
  const stub = spawn(PYTHON, [STUB, '--port', String(port), '--cas', baseUrl, '--college', college], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  stub.stdout.on('data', (chunk) => { output += chunk; });
  stub.stderr.on('data', (chunk) => { output += chunk; });
  let exited = null;
  stub.on('exit', (code) => { exited = code; });
  stub.on('error', (error) => { exited = error.message; });
  const deadline = Date.now() + 30_000;
  while (!output.includes('prêt sur')) {
    if (exited !== null) {
      const missing = exited === 3 ? ' (python-cas manque : lancez bash scripts/test.sh, qui l\'installe)' : '';
      throw new Error(`le Pronote de test s'est arrêté (${exited})${missing} :\n${output}`);
    }
    assert.ok(Date.now() < deadline, `le Pronote de test ne démarre pas :\n${output}`);
    await sleep(100);
  }
  const stop = () => { if (exited === null) stub.kill('SIGTERM'); };
  return { college, url: `http://127.0.0.1:${port}/pronote/`, stop, output: () => output };
}



/** Activates the account through the form, then logs in if the app did not already; an
 * administrator then enrols a second factor (the key the page shows, confirmed with a code
 * computed here). */
async function activateAndLogIn(page, baseUrl, account, administrator) {
  await page.goto(`${baseUrl}/activation`);
  await page.fill('#login', account.login);
  await page.fill('#code', account.activation_code);
  if (account.birth_date_fr) {
    await page.fill('#birth_date', account.birth_date_fr);
  }
  await page.fill('#password', PASSWORD);
  await page.fill('#password_confirm', PASSWORD);
  await follow(page, page.locator('form[action="/activation"] button[type=submit]'));
  if (new URL(page.url()).pathname === '/connexion') {
    await page.fill('#login', account.login);
    await page.fill('#password', PASSWORD);
    await follow(page, page.locator('form[action="/connexion"] button[type=submit]'));
  }
  if (administrator) {
    assert.equal(new URL(page.url()).pathname, '/parametres/second-facteur', `${account.login} n'est pas invité à activer la double authentification`);
    const secret = (await page.locator('#cle-second-facteur').textContent()).replace(/\s/g, '');
    await page.fill('#code', totp(secret, Math.floor(Date.now() / 30_000)));
    await follow(page, page.locator('form[action="/parametres/second-facteur/activer"] button[type=submit]'));
    await follow(page, page.getByRole('link', { name: /continuer/ }));
  }
  assert.equal(new URL(page.url()).pathname, '/accueil', `${account.login} n'arrive pas sur l'accueil`);
}

/** A collège's name in a demo account's description (`… au Collège X (Ville)`). */
const collegeName = (text) => text.replace(/ \([^)]*\)$/, '');

/** The UAI of a collège, from the labels (`Nom (UAI)`) of the département's application form. */
async function uaiOf(page, baseUrl, college) {
  await page.goto(`${baseUrl}/departement/applications/nouvelle`);
  const labels = await page.locator('input[name=ecoles] + label').allTextContents();
  const label = labels.find((text) => text.startsWith(`${college} (`));
  assert.ok(label, `${college} n'est pas dans la liste des collèges : ${labels.join(' ; ')}`);
  return label.slice(college.length + 2, -1);
}

/** On the collège's desk: registers its Pronote (CAS, Pronote's profile) at the stand-in's
 * address, then adds its tile, bound to that application. */
async function registerPronote(page, baseUrl, uai, pronote) {
  const name = `Pronote de test (${pronote.college})`;
  await page.goto(`${baseUrl}/etablissement/${uai}/applications/nouvelle`);
  await page.fill('#nom', name);
  await page.check('#protocole-cas');
  await page.fill('#prefixes', pronote.url);
  for (const box of await page.locator('input[name=profils]').all()) {
    await box.check();
  }
  await page.check('#pronote');
  await follow(page, page.getByRole('button', { name: "Enregistrer l'application" }));
  assert.match(page.url(), /fait=creee/, `l'application ${name} n'est pas enregistrée : ${await page.locator('.erreur').allTextContents()}`);

  await page.goto(`${baseUrl}/etablissement/${uai}/ressources/nouvelle`);
  await page.fill('#titre', TILE);
  await page.selectOption('#type', 'vie-scolaire');
  await page.fill('#adresse', pronote.url);
  await page.selectOption('#application', { label: `${name} (CAS)` });
  for (const box of await page.locator('input[name=profils]').all()) {
    await box.check();
  }
  await follow(page, page.getByRole('button', { name: 'Ajouter la ressource' }));
  assert.match(page.url(), /fait=creee/, `la tuile de ${pronote.college} n'est pas créée : ${await page.locator('.erreur').allTextContents()}`);
}

/** How many of the test's Pronote tiles « Ressources » shows. */
async function tilesShown(page, baseUrl) {
  await page.goto(`${baseUrl}/ressources`);
  return page.getByRole('link', { name: new RegExp(`^${TILE.replace(/[()]/g, '\\$&')}`) }).count();
}

/** Opens « Ressources » and clicks the test's Pronote tile of the collège; the stand-in's page,
 * read. */
async function openPronote(page, baseUrl, college) {
  await page.goto(`${baseUrl}/ressources`);
  const tile = page.getByRole('link', { name: `${TILE} (${college})`, exact: true });
  assert.equal(await tile.count(), 1, `pas de tuile « ${TILE} » du ${college}`);
  await follow(page, tile);
  const attributes = {};
  for (const item of await page.locator('dd[data-attribut]').all()) {
    attributes[await item.getAttribute('data-attribut')] = (await item.textContent()).trim();
  }
  return {
    url: page.url(),
    college: (await page.locator('#college').textContent().catch(() => '')).trim(),
    result: (await page.locator('#resultat').textContent().catch(() => '')).trim(),
    user: (await page.locator('#user').textContent().catch(() => '')).trim(),
    attributes,
  };
}

test('un élève et un enseignant de deux collèges ouvrent le Pronote de leur collège', { timeout: 900_000 }, async () => {
  const demo = await startDemo({ prefix: 'preau-pronote-' });
  const stubs = [];
  let browser;
  try {
    const account = (role) => demo.accounts.find((a) => a.role === role);
    const [pupil, teacher, agent] = [account('pupil'), account('teacher'), account('agent')];
    assert.ok(pupil && teacher && agent, 'comptes de démonstration manquants');
    const pupilCollege = collegeName(pupil.description.split(' au ').slice(1).join(' au '));
    const teacherColleges = teacher.description.replace(/^Enseignant au /, '').split(' et au ').map(collegeName);
    assert.equal(teacherColleges.length, 2, teacher.description);
    const colleges = [...new Set([pupilCollege, ...teacherColleges])];

    const pronotes = new Map();
    for (const college of colleges) {
      const pronote = await startPronote(demo.baseUrl, college);
      stubs.push(pronote);
      pronotes.set(college, pronote);
    }

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const admin = await (await browser.newContext()).newPage();
    await activateAndLogIn(admin, demo.baseUrl, agent, true);
    for (const college of colleges) {
      const uai = await uaiOf(admin, demo.baseUrl, college);
      await registerPronote(admin, demo.baseUrl, uai, pronotes.get(college));
    }

    // The pupil: their collège's Pronote, with Pronote's attributes.
    const pupilPage = await (await browser.newContext()).newPage();
    await activateAndLogIn(pupilPage, demo.baseUrl, pupil, false);
    assert.equal(await tilesShown(pupilPage, demo.baseUrl), 1, "l'élève ne voit pas que le Pronote de son collège");
    const seen = await openPronote(pupilPage, demo.baseUrl, pupilCollege);
    assert.ok(seen.url.startsWith(pronotes.get(pupilCollege).url), `l'élève arrive sur ${seen.url}`);
    assert.equal(seen.result, 'Ticket validé par Préau.', JSON.stringify(seen));
    assert.equal(seen.college, pupilCollege);
    assert.equal(seen.user, pupil.login);
    const [first, ...rest] = pupil.name.split(' ');
    assert.equal(seen.attributes.prenom, first, JSON.stringify(seen));
    assert.equal(seen.attributes.nom, rest.join(' '), JSON.stringify(seen));
    assert.equal(seen.attributes.dateNaissance, pupil.birth_date_fr, JSON.stringify(seen));
    assert.equal(seen.attributes.categories, 'National_1', JSON.stringify(seen));

    // The teacher: each tile opens the Pronote of its own collège.
    const teacherPage = await (await browser.newContext()).newPage();
    await activateAndLogIn(teacherPage, demo.baseUrl, teacher, false);
    assert.equal(await tilesShown(teacherPage, demo.baseUrl), 2, "l'enseignant ne voit pas les Pronote de ses deux collèges");
    for (const college of teacherColleges) {
      const got = await openPronote(teacherPage, demo.baseUrl, college);
      assert.ok(got.url.startsWith(pronotes.get(college).url), `${college} : l'enseignant arrive sur ${got.url}`);
      assert.equal(got.result, 'Ticket validé par Préau.', JSON.stringify(got));
      assert.equal(got.college, college);
      assert.equal(got.user, teacher.login);
      assert.equal(got.attributes.categories, 'National_3', JSON.stringify(got));
    }
  } catch (error) {
    const logs = stubs.map((s) => `${s.college} :\n${s.output()}`).join('\n');
    error.message += `\n--- journal de preau demo ---\n${demo.output().slice(-4000)}\n--- Pronote de test ---\n${logs}`;
    throw error;
  } finally {
    if (browser) await browser.close();
    for (const stub of stubs) stub.stop();
    await demo.stop();
  }
});
