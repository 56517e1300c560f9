// The browser test of the 3e internship platform: over a small demo Préau (the debug binary, a
// free loopback port, a temporary data folder and SQLite database), the whole journey in
// headless Chromium. The département's agent opens the desk (and lets new offers be seen by all
// pupils at once) and the hosts' list; the demo's host activates its account and posts an offer
// in the town of a 3e pupil of the first collège; the pupil activates their account, finds the
// offer near home on /stages and applies; the host accepts; the legal guardians give their
// consent and the pupil confirms; the host completes its part of the agreement, the head the
// school's part and validates it; every party signs (the head, the pupil, the guardians and the
// referent teacher in their ENT session, the host's representative and the tutor through their
// single-use link and one-time code); the head downloads the sealed PDF and the public
// verification page says it is authentic. Every page visited is checked with axe-core (WCAG 2.1
// A and AA) at desktop width and again at phone width, where it must not scroll sideways.
//
// What the demo does not print (the 3e pupil, their guardians and principal teacher, and the
// links and codes the platform e-mails) is read from the demo's SQLite database with the
// `sqlite3` command: no SMTP server is configured, so the e-mails wait in `internship_mails`.
// A failing step names itself in the assertion message.
//
// Environment: PREAU_BIN (default: ../../target/debug/preau), CHROMIUM (default:
// /usr/bin/chromium), PREAU_BROWSER_PORT (default: a free loopback port).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, PASSWORD, base32Bytes, currentStep, follow, sleep, startDemo, totp } from './support.mjs';

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
const OFFER_TITLE = 'Fournil Tournesol : une semaine au cœur de la boulangerie';
const TUTOR_EMAIL = 'julien.tuteur@example.org';
const ADMINISTRATORS = ['head', 'agent'];

/** Runs a named step; a failure says which step and why. */
async function step(name, body) {
  try {
    return await body();
  } catch (error) {
    error.message = `étape « ${name} » : ${error.message}`;
    throw error;
  }
}

/** Reads rows from the demo's database (read-only). */
function query(db, sql, ...params) {
  let text = sql;
  for (const param of params) {
    text = text.replace('?', `'${String(param).replaceAll("'", "''")}'`);
  }
  const out = execFileSync('sqlite3', ['-readonly', '-json', db, text], { encoding: 'utf8' });
  return out.trim() ? JSON.parse(out) : [];
}

/** The demo's data folder: the only temporary folder with this run's prefix. */
function dataDirOf(prefix) {
  const found = readdirSync(tmpdir()).filter((name) => name.startsWith(prefix));
  assert.equal(found.length, 1, `dossier de la démonstration introuvable (${found.join(', ')})`);
  return join(tmpdir(), found[0]);
}

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

/** A person in the browser: one desktop page and one phone page in the same session. */
class Party {
  constructor(context, baseUrl, account, violations) {
    this.context = context;
    this.baseUrl = baseUrl;
    this.account = account;
    this.violations = violations;
  }

  static async open(browser, baseUrl, account, violations) {
    const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 }, locale: 'fr-FR' });
    const party = new Party(context, baseUrl, account, violations);
    party.page = await context.newPage();
    party.phone = await context.newPage();
    await party.phone.setViewportSize({ width: 360, height: 740 });
    return party;
  }

  /** Checks the page as it is now, at desktop width, then the same address at phone width. */
  async check(label) {
    const page = this.page;
    this.violations.push(...(await audit(page, `${this.account.role} : ${label}`)));
    if (page.url().endsWith('.pdf')) return;
    await this.phone.goto(page.url());
    const phoneLabel = `${this.account.role} : ${label} sur téléphone`;
    this.violations.push(...(await audit(this.phone, phoneLabel)));
    const overflow = await this.phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 1) {
      const wide = await this.phone.evaluate(() => [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 5).map((e) => `${e.tagName.toLowerCase()}.${e.className}`));
      this.violations.push({ page: phoneLabel, url: this.phone.url(), id: 'horizontal-scroll', impact: 'serious', help: `la page déborde de ${overflow} px en largeur`, nodes: wide });
    }
  }

  /** Opens a page, expects 200, and checks it. */
  async visit(path, label) {
    const response = await this.page.goto(`${this.baseUrl}${path}`);
    assert.equal(response.status(), 200, `${this.account.role} : ${path} répond ${response.status()}`);
    await this.check(label);
  }

  /** Clicks a submit button and waits for the page it leads to; no error may show. */
  async submit(locator, label) {
    await follow(this.page, locator);
    const errors = await this.page.locator('.erreur, [role=alert]').allTextContents();
    assert.deepEqual(errors.map((e) => e.trim()).filter(Boolean), [], `${label} : refusé (${this.page.url()})`);
    await this.check(label);
  }

  async close() {
    await this.context.close();
  }
}

/** A code of the account's factor for a step not used yet. */
async function nextCode(account) {
  const used = account.secondFactor.lastStep;
  if (currentStep() <= used) {
    await sleep((used + 1) * 30_000 - Date.now() + 200);
  }
  const step = currentStep();
  account.secondFactor.lastStep = step;
  return totp(account.secondFactor.secret, step);
}

/** Activates the account through the form, logs in if needed, enrols an administrator's
 * second factor; ends on the person's home. */
async function activate(party) {
  const { page, account, baseUrl } = party;
  await page.goto(`${baseUrl}/activation`);
  await page.fill('#login', account.login);
  await page.fill('#code', account.activation_code);
  if (account.birth_date_fr) await page.fill('#birth_date', account.birth_date_fr);
  await page.fill('#password', PASSWORD);
  await page.fill('#password_confirm', PASSWORD);
  await follow(page, page.locator('button[type=submit]'));
  const error = await page.locator('.erreur').allTextContents();
  assert.deepEqual(error, [], `activation de ${account.login} refusée`);
  const path = () => new URL(page.url()).pathname;
  if (path() === '/connexion' || path() === '/activation') {
    await page.goto(`${baseUrl}/connexion`);
    await page.fill('#login', account.login);
    await page.fill('#password', PASSWORD);
    await follow(page, page.locator('button[type=submit]'));
  }
  if (ADMINISTRATORS.includes(account.role)) {
    assert.equal(path(), '/parametres/second-facteur', `${account.login} n'est pas invité à activer la double authentification`);
    const secret = (await page.locator('#cle-second-facteur').textContent()).replace(/\s/g, '');
    assert.equal(base32Bytes(secret).length, 20);
    account.secondFactor = { secret, lastStep: 0 };
    await page.fill('#code', await nextCode(account));
    await follow(page, page.locator('form[action="/parametres/second-facteur/activer"] button[type=submit]'));
    await follow(page, page.getByRole('link', { name: /continuer/ }));
  }
  assert.ok(['/accueil', '/organisme'].includes(path()), `${account.login} arrive sur ${page.url()}`);
  await party.check('accueil');
}

/** The 3e pupil of the head's collège who lives in the collège's town, their legal guardians
 * and their class's principal teachers, with logins and codes. */
function familyOf(db, headLogin) {
  const [school] = query(db, `SELECT s.id, s.uai, s.name, s.city FROM schools s JOIN person_functions f ON f.school_id = s.id JOIN accounts a ON a.person_id = f.person_id WHERE a.login = ? AND f.code = 'DIR'`, headLogin);
  assert.ok(school, 'collège de la principale introuvable');
  const pupils = query(db, `SELECT p.id, a.login, a.activation_code AS code, p.birth_date, c.id AS class_id, p.last_name, p.first_name FROM people p JOIN accounts a ON a.person_id = p.id JOIN pupil_classes pc ON pc.pupil_id = p.id JOIN classes c ON c.id = pc.class_id WHERE c.school_id = ? AND p.profile = 'pupil' AND p.mef_code LIKE '103%' AND UPPER(p.city) = UPPER(?) AND a.activation_code IS NOT NULL AND EXISTS (SELECT 1 FROM principal_teachers t WHERE t.class_id = c.id) AND EXISTS (SELECT 1 FROM guardianships g JOIN accounts ga ON ga.person_id = g.relative_id WHERE g.pupil_id = p.id AND g.legal IN (1, 2)) ORDER BY p.id LIMIT 1`, school.id, school.city);
  assert.equal(pupils.length, 1, `aucun élève de 3e habitant ${school.city} au ${school.name}`);
  const pupil = pupils[0];
  const [y, m, d] = pupil.birth_date.split('-');
  const guardians = query(db, `SELECT a.login, a.activation_code AS code FROM guardianships g JOIN accounts a ON a.person_id = g.relative_id WHERE g.pupil_id = ? AND g.legal IN (1, 2) ORDER BY g.legal`, pupil.id);
  const teachers = query(db, `SELECT a.login, a.activation_code AS code FROM principal_teachers t JOIN accounts a ON a.person_id = t.teacher_id WHERE t.class_id = ? ORDER BY a.login`, pupil.class_id);
  return {
    school,
    pupil: { role: 'pupil', login: pupil.login, activation_code: pupil.code, birth_date_fr: `${d}/${m}/${y}`, name: `${pupil.first_name} ${pupil.last_name}` },
    guardians: guardians.map((g, i) => ({ role: `parent ${i + 1}`, login: g.login, activation_code: g.code })),
    teachers: teachers.map((t) => ({ role: 'professeur principal', login: t.login, activation_code: t.code })),
  };
}

/** The newest e-mail body sent to `to` that contains `pattern`, waiting for it a little. */
async function mailMatching(db, to, pattern) {
  for (let i = 0; i < 40; i++) {
    const rows = query(db, 'SELECT body FROM internship_mails WHERE to_email = ? ORDER BY created_at DESC, id DESC', to);
    for (const row of rows) {
      const found = row.body.match(pattern);
      if (found) return found;
    }
    await sleep(250);
  }
  assert.fail(`aucun courriel à ${to} ne contient ${pattern}`);
}

/** Clicks every "Signer en tant que" button the person has on the agreement's page. */
async function signAll(party, agreementPath, label) {
  await party.visit(agreementPath, `convention (${label})`);
  let signed = 0;
  for (;;) {
    const button = party.page.locator('form[action$="/signer"] button[type=submit]');
    if ((await button.count()) === 0) break;
    await party.submit(button.first(), `signature (${label})`);
    signed += 1;
    assert.ok(signed < 5, `${label} : les boutons de signature ne disparaissent pas`);
  }
  return signed;
}

test('a host posts an offer, a 3e pupil finds it near home, applies, and every party signs the agreement', { timeout: 900_000 }, async () => {
  const port = process.env.PREAU_BROWSER_PORT ? Number(process.env.PREAU_BROWSER_PORT) : undefined;
  const prefix = `preau-stages-${process.pid}-`;
  const demo = await startDemo({ port, prefix });
  const db = join(dataDirOf(prefix), 'preau.db');
  assert.ok(existsSync(db), `base de la démonstration introuvable : ${db}`);
  const byRole = Object.fromEntries(demo.accounts.map((account) => [account.role, account]));
  const violations = [];
  let browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    const open = (account) => Party.open(browser, demo.baseUrl, account, violations);
    assert.ok(byRole.host, "la démonstration n'imprime pas de compte d'organisme d'accueil");
    const family = familyOf(db, byRole.head.login);

    const agent = await open(byRole.agent);
    await step('le département ouvre son bureau des stages', async () => {
      await activate(agent);
      await agent.visit('/departement/stages', 'bureau des stages');
      await agent.page.fill('#reglage-avance', '0');
      await agent.submit(agent.page.locator('form[action="/departement/stages/reglages"] button[type=submit]'), 'réglages enregistrés');
      await agent.visit('/departement/stages/organismes', 'organismes d\'accueil');
      await agent.visit('/departement/stages/partenaires', 'plateformes partenaires');
    });
    await step('le département vérifie un organisme en attente', async () => {
      await agent.visit('/departement/stages/organismes?etat=pending', 'organismes en attente');
      const pending = agent.page.locator('a[href^="/departement/stages/organismes/"]').filter({ hasNotText: /nouveau|créer/i });
      if ((await pending.count()) > 0) {
        await follow(agent.page, pending.first());
        await agent.check('fiche d\'un organisme');
        const verify = agent.page.locator('form[action$="/decision"] button[value="verify"], form[action$="/decision"] button:has-text("Vérifier")');
        if ((await verify.count()) > 0) await agent.submit(verify.first(), 'organisme vérifié');
      }
    });

    const host = await open(byRole.host);
    let offerPath;
    await step("l'organisme active son compte et publie une offre près du domicile de l'élève", async () => {
      await activate(host);
      await host.visit('/organisme/offres', 'offres de l\'organisme');
      await host.visit('/organisme/offres/nouvelle', 'nouvelle offre');
      const page = host.page;
      await page.fill('#titre', OFFER_TITLE);
      await page.fill('#description', 'Pétrir, façonner, cuire : découvrir le fournil et la boutique avec notre équipe.');
      const sector = await page.locator('#secteur option:not([value=""])').first().getAttribute('value');
      await page.selectOption('#secteur', sector);
      await page.fill('#code_postal', query(db, 'SELECT postal_code FROM schools WHERE id = ?', family.school.id)[0].postal_code);
      await page.fill('#commune', family.school.city);
      const weeks = query(db, "SELECT iso_week FROM school_internship_weeks WHERE school_id = ? AND level = '3e' ORDER BY iso_week", family.school.id).map((w) => w.iso_week);
      assert.ok(weeks.length > 0, "le collège n'a pas de semaine de stage");
      await page.fill('#autres_semaines', weeks.join(', '));
      await page.fill('#places_semaine', '2');
      await page.fill('#places_total', '2');
      await page.fill('#tuteur_nom', 'Julien Tuteur');
      await page.fill('#tuteur_fonction', 'Chef boulanger');
      await page.fill('#tuteur_courriel', TUTOR_EMAIL);
      await host.submit(page.locator('form.formulaire button[type=submit]').last(), 'brouillon enregistré');
      const publish = page.locator('form[action$="/etat"]:has(input[value="published"]) button');
      if ((await publish.count()) === 0) {
        const edit = page.locator('a', { hasText: OFFER_TITLE }).first();
        await follow(page, edit);
      }
      await host.submit(page.locator('form[action$="/etat"]:has(input[value="published"]) button'), 'offre publiée');
    });

    const pupil = await open(family.pupil);
    await step("l'élève de 3e trouve l'offre près de chez lui et candidate", async () => {
      await activate(pupil);
      await pupil.visit('/stages', 'recherche de stages');
      await pupil.visit('/stages?autour=domicile&mots=tournesol', 'recherche « tournesol »');
      const hit = pupil.page.locator('ol.offres a', { hasText: 'Tournesol' });
      assert.equal(await hit.count(), 1, "l'offre n'apparaît pas dans la recherche autour du domicile");
      await follow(pupil.page, hit.first());
      offerPath = new URL(pupil.page.url()).pathname;
      await pupil.check("page de l'offre");
      await pupil.page.fill('#motivation', "J'aime cuisiner avec ma famille et je voudrais découvrir le métier de boulanger.");
      await pupil.submit(pupil.page.locator(`form[action="${offerPath}/candidater"] button[type=submit]`), 'candidature envoyée');
    });

    await step("l'organisme accepte la candidature", async () => {
      await host.visit('/organisme/candidatures', 'candidatures reçues');
      const line = host.page.locator('a[href^="/organisme/candidatures/"]').first();
      await follow(host.page, line);
      await host.check('candidature');
      await host.submit(host.page.locator('form[action$="/accepter"] button'), 'candidature acceptée');
    });

    const guardians = [];
    await step('les responsables légaux donnent leur accord', async () => {
      for (const account of family.guardians) {
        const guardian = await open(account);
        guardians.push(guardian);
        await activate(guardian);
        await guardian.visit('/stages/candidatures', 'candidatures de mon enfant');
        const consent = guardian.page.locator('form[action$="/accord"] button');
        if ((await consent.count()) > 0) await guardian.submit(consent.first(), 'accord donné');
      }
    });

    await step("l'élève confirme son stage", async () => {
      await pupil.visit('/stages/candidatures', 'mes candidatures');
      await pupil.submit(pupil.page.locator('form[action$="/confirmer"] button'), 'stage confirmé');
    });

    let agreementPath;
    await step("l'organisme complète sa partie de la convention", async () => {
      await host.visit('/conventions', 'conventions de l\'organisme');
      await follow(host.page, host.page.locator('a[href^="/conventions/"]').filter({ hasNotText: /toutes/i }).first());
      agreementPath = new URL(host.page.url()).pathname;
      await host.check('convention');
      await host.visit(`${agreementPath}/organisme`, 'partie de l\'organisme');
      const page = host.page;
      for (const [field, value] of [['#representant_email', 'margaux.pelletier@example.org'], ['#assureur', 'Mutuelle des artisans du Poitou'], ['#activites', 'Observation du pétrissage, du façonnage et de la cuisson ; accueil des clients à la boutique.']]) {
        if (!(await page.locator(field).inputValue())) await page.fill(field, value);
      }
      await host.submit(page.locator(`form[action="${agreementPath}/organisme"] button[type=submit]`), 'partie de l\'organisme enregistrée');
    });

    const head = await open(byRole.head);
    await step('le collège complète sa partie et valide la convention', async () => {
      await activate(head);
      await head.visit(`/etablissement/${family.school.uai}/stages`, 'stages du collège');
      await head.visit(`/etablissement/${family.school.uai}/conventions`, 'conventions du collège');
      await head.visit(`/etablissement/${family.school.uai}/stages/statistiques`, 'statistiques du collège');
      await head.visit(`${agreementPath}/college`, 'partie du collège');
      const page = head.page;
      if (!(await page.locator('#adresse').inputValue())) await page.fill('#adresse', '3 rue des Écoles');
      if (!(await page.locator('#referent').inputValue())) {
        const first = await page.locator('#referent option:not([value=""])').first().getAttribute('value');
        await page.selectOption('#referent', first);
      }
      await head.submit(page.locator('button[name="action"][value="valider"]'), 'convention validée');
    });

    await step('chacun signe la convention', async () => {
      assert.ok((await signAll(head, agreementPath, 'principale')) >= 1, 'la principale ne peut pas signer');
      assert.ok((await signAll(pupil, agreementPath, 'élève')) >= 1, "l'élève ne peut pas signer");
      for (const guardian of guardians) await signAll(guardian, agreementPath, guardian.account.role);
      let referentSigned = 0;
      for (const account of family.teachers) {
        const teacher = await open(account);
        await activate(teacher);
        referentSigned += await signAll(teacher, agreementPath, 'professeur référent');
        await teacher.close();
      }
      assert.ok(referentSigned >= 1, 'le professeur référent ne peut pas signer');
      await signAll(host, agreementPath, 'organisme');

      // The host's representative and the tutor sign through the link and code e-mailed to them.
      for (const email of [TUTOR_EMAIL, 'margaux.pelletier@example.org']) {
        const rows = query(db, "SELECT body FROM internship_mails WHERE to_email = ? AND body LIKE '%/signature/%'", email);
        if (rows.length === 0) continue;
        const [link] = await mailMatching(db, email, /https?:\/\/[^\s]+\/signature\/[A-Za-z0-9_-]+/);
        const visitor = await Party.open(browser, demo.baseUrl, { role: `lien de signature (${email})` }, violations);
        const response = await visitor.page.goto(link.replace(/^https?:\/\/[^/]+/, demo.baseUrl));
        assert.equal(response.status(), 200, `lien de signature : ${response.status()}`);
        if ((await visitor.page.locator('#code').count()) === 0) {
          await visitor.close();
          continue;
        }
        await visitor.check('signature par lien');
        const [, code] = await mailMatching(db, email, /\b(\d{6})\b/);
        await visitor.page.fill('#code', code);
        await visitor.submit(visitor.page.locator('form.formulaire button[type=submit]').first(), 'signature par lien enregistrée');
        await visitor.close();
      }
    });

    await step('la principale télécharge la convention scellée', async () => {
      await head.visit(agreementPath, 'convention signée');
      const sealed = query(db, 'SELECT state, sealed_file_key FROM internship_agreements');
      assert.ok(sealed.some((a) => a.sealed_file_key), `convention non scellée : ${JSON.stringify(sealed)}`);
      const response = await head.page.request.get(`${demo.baseUrl}${agreementPath}/convention.pdf`);
      assert.equal(response.status(), 200);
      const bytes = await response.body();
      assert.equal(bytes.subarray(0, 5).toString('latin1'), '%PDF-');
      const anonymous = await Party.open(browser, demo.baseUrl, { role: 'public' }, violations);
      await anonymous.visit('/verification', 'vérification d\'une convention');
      await anonymous.close();
    });

    await step('le département lit les statistiques', async () => {
      await agent.visit('/departement/stages/statistiques', 'statistiques des stages');
      const text = await agent.page.locator('main').textContent();
      assert.match(text, /ont un stage confirmé/);
      const csv = await agent.page.request.get(`${demo.baseUrl}/departement/stages/statistiques/colleges.csv`);
      assert.equal(csv.status(), 200);
    });

    const report = violations
      .map((v) => `- [${v.page}] ${v.id} (${v.impact}) : ${v.help}\n    ${v.url}\n${v.nodes.map((n) => `    · ${n}`).join('\n')}`)
      .join('\n');
    assert.equal(violations.length, 0, `violations WCAG 2.1 A/AA :\n${report}`);
  } finally {
    if (browser) await browser.close();
    await demo.stop();
  }
});
