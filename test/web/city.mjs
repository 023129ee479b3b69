// city: what the browser tests share: a synthetic city around a real `suishen serve` (its built pages
// included), a real headless Chromium driven by playwright-core, and the API calls a test needs to set
// the scene (registering people, creating terminals, signing scans, logging in staff).
//
//   const city = await City.start({ codeTtl: 60 });   // init, registry, one member of staff per role, serve
//                                                      // (loginDelayMs: --login-delay-ms, default 200)
//   const p = city.person();                           // an unregistered person of the registry
//   await city.register(p); const token = await city.login(p);
//   const { p, token } = await city.resident();        // the same in one step
//   const browser = await launch();                    // headless Chromium (fake camera: launch({ camera: y4m }))
//   await residentLogin(page, city, p);                // logs p in through the resident page's form
//   const page = await consoleAs(browser, city, 'handler');  // the console, logged in as a role's member of staff
//   maskName(p.name), maskId(p.id_number)              // as the API masks them
//   await boxedHan(page, 'h1')                         // its Chinese characters drawn as boxes ([] if a font has them)
//   const sent = watchRequests(page, /^\/v1\/me$/);     // the requests the page makes (sent.seen, sent.stop())
//   ...; await city.stop();                            // SIGTERM: the server must exit 0
//
// A code in front of the (fake) camera: y4mFromPng(page, png, file, { blankFrames, qrFrames, fps }) writes a Y4M
// video of the QR image png (GET /v1/me/code.png) on white, decoded by the browser of page (any open page will do):
// blankFrames white frames first, then qrFrames frames of the code, at fps frames a second (defaults 0, 10, 10).
// Chromium plays the file over and over from its first frame once a page opens the camera, so white frames first
// make the moment the code comes into view known, and seen again each loop (bench/terminal.mjs times it).
//
// SUISHEN_BIN names the binary (default build/suishen); the pages come from web/dist (`npm run build`).
import { spawn, execFileSync } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync, mkdirSync, readFileSync, rmSync, openSync, writeSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = process.env.SUISHEN_BIN || join(REPO, 'build', 'suishen');
export const WEB = join(REPO, 'web', 'dist');
export const SHOTS = join(REPO, 'test-results', 'web');
export const ROLES = ['admin', 'operator', 'handler', 'epidemiologist', 'security'];
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// playwright-core is one of web/'s (dev) packages, installed by scripts/build-web: resolved from there
const { chromium } = createRequire(join(REPO, 'web', 'package.json'))('playwright-core');

// ---- GB 11643 ID numbers and synthetic people --------------------------------------------------------------

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = '10X98765432';
const DIVISIONS = ['310101', '310104', '310105', '310106', '310107', '310109', '310110', '310112', '310113', '310115'];
const SURNAMES = ['张', '李', '王', '欧阳', '陈', '刘', '赵', '黄', '周', '吴'];
const GIVEN = ['三', '四', '小明', '建国', '秀英', '伟', '静', '晓红', '志强', '敏'];

export function idNumber(division, yyyymmdd, seq) {
	const body = `${division}${yyyymmdd}${String(seq).padStart(3, '0')}`;
	let sum = 0;
	for (let i = 0; i < 17; i++) sum += Number(body[i]) * WEIGHTS[i];
	return body + CHECK[sum % 11];
}

let serial = 0;
// A new person; `birth` (YYYY-MM-DD) makes a child or an elder when a test needs one.
export function makePerson({ name, birth, division } = {}) {
	const n = ++serial;
	division = division || DIVISIONS[n % DIVISIONS.length];
	if (!birth) {
		const d = new Date(Date.UTC(1960, 0, 1) + ((n * 53) % 15000) * 86400000);
		birth = d.toISOString().slice(0, 10);
	}
	const id = idNumber(division, birth.replaceAll('-', ''), (n * 7) % 1000);
	return {
		id_number: id,
		name: name || SURNAMES[n % SURNAMES.length] + GIVEN[Math.floor(n / SURNAMES.length) % GIVEN.length],
		sex: Number(id[16]) % 2 ? 'M' : 'F',
		birth_date: birth,
		division,
		phone: `139${String((n * 7919 + 12345678) % 1e8).padStart(8, '0')}`,
		password: `pw-${randomBytes(3).toString('hex')}-${n}-secret`,
		secret: null, // base32 TOTP secret once registered
		lastStep: null, // the TOTP step of the last log-in (a step logs in once only)
	};
}

// ---- TOTP (RFC 6238: HMAC-SHA1, 30 s, 6 digits) ----------------------------------------------------------------

export function base32(s) {
	const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
	let bits = 0, value = 0;
	const out = [];
	for (const ch of s.replace(/=+$/, '').toUpperCase()) {
		value = (value << 5) | alphabet.indexOf(ch);
		bits += 5;
		if (bits >= 8) {
			out.push((value >>> (bits - 8)) & 0xff);
			bits -= 8;
		}
	}
	return Buffer.from(out);
}

export function totp(secret, step = Math.floor(Date.now() / 30000)) {
	const counter = Buffer.alloc(8);
	counter.writeBigUInt64BE(BigInt(step));
	const mac = createHmac('sha1', base32(secret)).update(counter).digest();
	const off = mac[mac.length - 1] & 0x0f;
	return String((mac.readUInt32BE(off) & 0x7fffffff) % 1000000).padStart(6, '0');
}

export const secretOf = (uri) => new URL(uri).searchParams.get('secret');

// The API's masking of a name: its first character kept, each other one a '*'.
export const maskName = (name) => [...name].map((c, i) => (i ? '*' : c)).join('');
// The API's masking of an ID number: the first two and the last two characters kept, the 14 between a '*' each.
export const maskId = (id) => id.slice(0, 2) + '*'.repeat(14) + id.slice(16);

// A TOTP step not yet used by p, waiting (with a deadline) for the next one if need be; returns [step, otp].
export async function freshOtp(p) {
	const deadline = Date.now() + 40000;
	for (;;) {
		const step = Math.floor(Date.now() / 30000);
		const left = 30 - ((Date.now() / 1000) % 30);
		if (step !== p.lastStep && left > 2) {
			p.lastStep = step;
			return totp(p.secret, step);
		}
		if (Date.now() > deadline) throw new Error('no fresh TOTP step within 40 s');
		await sleep(100);
	}
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls fn until it returns a truthy value (returned) or the deadline passes (throws, naming what). The deadline
// only bounds how long a failure takes to show: 30 s, as Playwright's own waits, holds on a busy machine.
export async function until(what, fn, ms = 30000) {
	const deadline = Date.now() + ms;
	let last;
	for (;;) {
		try {
			const v = await fn();
			if (v) return v;
		} catch (e) {
			last = e;
		}
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ': ' + last.message : ''}`);
		await sleep(100);
	}
}

function freePort() {
	return new Promise((resolve, reject) => {
		const s = createServer();
		s.listen(0, '127.0.0.1', () => {
			const { port } = s.address();
			s.close(() => resolve(port));
		});
		s.on('error', reject);
	});
}

// ---- the city --------------------------------------------------------------------------------------------------

export class City {
	// Makes a data directory with a registry of `people` residents, one member of staff per role, and serves it.
	static async start({ people = 40, codeTtl = 60, loginDelayMs = 200, extra = [] } = {}) {
		const city = new City();
		city.root = mkdtempSync(join(tmpdir(), 'suishen-web-'));
		city.data = join(city.root, 'data');
		city.cli('init', '--data', city.data);
		city.pool = [];
		for (let i = 0; i < people; i++) city.pool.push(makePerson());
		city.importPeople(city.pool);
		city.staff = {};
		for (const role of ROLES) city.staff[role] = JSON.parse(city.cli('staff', 'create', '--data', city.data, '--name', `${role} 1`, '--role', role));
		await city.serve({ codeTtl, loginDelayMs, extra });
		return city;
	}

	cli(...args) {
		return execFileSync(BIN, args, { encoding: 'utf8', env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
	}

	// Adds people to the registry (`suishen import population`); a person's `guardians` (ID numbers) go into the
	// registry's guardians column, which lets them link the person's code at once.
	importPeople(people) {
		const csv = join(this.root, `registry-${Date.now()}-${Math.random().toString(16).slice(2)}.csv`);
		const guardians = people.some((p) => p.guardians && p.guardians.length);
		const row = (p) => `${p.id_number},${p.name},${p.sex},${p.birth_date},${p.division},${p.phone}` + (guardians ? `,${(p.guardians || []).join(';')}` : '');
		const lines = ['id_number,name,sex,birth_date,division,phone' + (guardians ? ',guardians' : ''), ...people.map(row)];
		writeFileSync(csv, lines.join('\n') + '\n');
		this.cli('import', 'population', '--data', this.data, csv);
	}

	async serve({ codeTtl = 60, loginDelayMs = 200, extra = [] } = {}) {
		this.port = await freePort();
		this.base = `http://127.0.0.1:${this.port}`;
		this.log = join(this.root, 'server.log');
		const out = (await import('node:fs')).openSync(this.log, 'a');
		this.proc = spawn(BIN, ['serve', '--data', this.data, '--listen', `127.0.0.1:${this.port}`, '--code-ttl', String(codeTtl),
			// every test speaks from 127.0.0.1: the default limit of log-ins per address (20 a second) is not what they test
			'--login-delay-ms', String(loginDelayMs), '--logins-per-ip', '100000', '--web', WEB, ...extra], { stdio: ['ignore', out, out], env: cleanEnv() });
		this.exited = new Promise((resolve) => this.proc.on('exit', (code, sig) => resolve({ code, sig })));
		await until('suishen serve to answer /healthz', async () => (await fetch(this.base + '/healthz')).ok, 30000);
	}

	// SIGTERM; the server must exit 0. Then the data directory is removed (kept if SUISHEN_KEEP is set).
	async stop() {
		if (!this.proc) return;
		this.proc.kill('SIGTERM');
		const { code, sig } = await Promise.race([this.exited, sleep(20000).then(() => ({ code: 'timeout' }))]);
		this.proc = null;
		if (code !== 0) throw new Error(`suishen serve ended with ${code ?? sig}: ${this.logTail()}`);
		if (!process.env.SUISHEN_KEEP) rmSync(this.root, { recursive: true, force: true });
	}

	logTail(n = 3000) {
		try {
			return readFileSync(this.log, 'utf8').slice(-n);
		} catch {
			return '';
		}
	}

	url(path) {
		return this.base + path;
	}

	// An unregistered person of the registry.
	person() {
		const p = this.pool.shift();
		if (!p) throw new Error('the registry has no unregistered people left');
		return p;
	}

	async api(method, path, { token, body, headers = {} } = {}) {
		const h = { ...headers };
		if (token) h.Authorization = `Bearer ${token}`;
		if (body !== undefined) h['Content-Type'] = 'application/json';
		const res = await fetch(this.base + path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
		const text = await res.text();
		let data = null;
		try {
			data = text ? JSON.parse(text) : null;
		} catch {
			data = text;
		}
		return { status: res.status, data, headers: res.headers };
	}

	// Like api() but the answer must be 2xx; returns its JSON.
	async ok(method, path, opts) {
		const r = await this.api(method, path, opts);
		if (r.status < 200 || r.status > 299) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.data)}`);
		return r.data;
	}

	// Registers p through the API (201) and keeps its TOTP secret.
	async register(p) {
		const d = await this.ok('POST', '/v1/citizens', { body: { name: p.name, id_number: p.id_number, phone: p.phone, password: p.password } });
		p.citizen_id = d.citizen_id;
		p.secret = secretOf(d.totp_uri);
		return d;
	}

	// Logs p in through the API; returns the bearer token.
	async login(p) {
		const otp = await freshOtp(p);
		const d = await this.ok('POST', '/v1/sessions', { body: { id_number: p.id_number, password: p.password, otp } });
		return d.token;
	}

	// A person of the registry, registered and logged in through the API: { p, token }.
	async resident() {
		const p = this.person();
		await this.register(p);
		return { p, token: await this.login(p) };
	}

	staffToken(role) {
		return this.staff[role].token;
	}

	// A terminal of scene at a place (created by the admin): { terminal_id, secret, org, place, scene }.
	async terminal(scene = 'checkpoint', place = '人民广场站', org = '申通地铁') {
		const d = await this.ok('POST', '/v1/staff/terminals', { token: this.staffToken('admin'), body: { org, place, scene } });
		return { ...d, org, place, scene };
	}

	// POST /v1/scans signed as terminal t (api.md: HMAC-SM3 over method, path, timestamp, nonce, SM3 of the body).
	async scan(t, code) {
		const body = JSON.stringify({ code });
		const ts = String(Math.floor(Date.now() / 1000));
		const nonce = randomBytes(16).toString('hex');
		const msg = `POST\n/v1/scans\n${ts}\n${nonce}\n${createHash('sm3').update(body).digest('hex')}`;
		const sig = createHmac('sm3', Buffer.from(t.secret, 'hex')).update(msg).digest('hex');
		const res = await fetch(this.base + '/v1/scans', {
			method: 'POST', body,
			headers: { 'Content-Type': 'application/json', 'X-Terminal-Id': String(t.terminal_id), 'X-Timestamp': ts, 'X-Nonce': nonce, 'X-Signature': sig },
		});
		return { status: res.status, data: await res.json() };
	}
}

function cleanEnv() {
	const env = { ...process.env };
	delete env.SUISHEN_MASTER_KEY;
	return env;
}

// ---- the browser ---------------------------------------------------------------------------------------------

// Headless Debian Chromium. camera: a .y4m/.mjpeg file that the fake capture device plays (and permission
// to use it granted), for pages that read codes from a camera. env: Chromium's environment (default this one's).
export async function launch({ camera, env } = {}) {
	const args = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
		'--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--autoplay-policy=no-user-gesture-required'];
	if (camera) args.push('--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${camera}`);
	return chromium.launch({ executablePath: CHROMIUM, headless: true, args, env });
}

// Makes a Y4M video (640x480, 4:2:0) for Chromium's fake camera: blankFrames white frames, then qrFrames frames of
// the QR image png on white, at fps frames a second (Chromium loops the file). The PNG is decoded by the browser
// itself (page), drawn with nearest-neighbour scaling so modules stay sharp, and turned into luma; the chroma planes
// are neutral grey (128): a black-and-white picture. Returns file.
export async function y4mFromPng(page, png, file, { blankFrames = 0, qrFrames = 10, fps = 10 } = {}) {
	const W = 640, H = 480;
	if (!(qrFrames >= 1) || !(blankFrames >= 0) || !(fps >= 1) || !Number.isInteger(fps)) throw new Error('y4mFromPng: qrFrames >= 1, blankFrames >= 0, fps a whole number >= 1');
	const yPlane = await page.evaluate(async ({ url, W, H }) => {
		const img = new Image();
		img.src = url;
		await img.decode();
		const c = document.createElement('canvas');
		c.width = W;
		c.height = H;
		const g = c.getContext('2d');
		g.fillStyle = '#fff';
		g.fillRect(0, 0, W, H);
		g.imageSmoothingEnabled = false;
		// At most 80% of the frame's height: a generous white quiet zone all around; whole multiples when enlarging.
		let k = (Math.min(W, H) * 0.8) / Math.max(img.width, img.height);
		if (k >= 1) k = Math.floor(k);
		const w = Math.round(img.width * k), h = Math.round(img.height * k);
		g.drawImage(img, Math.round((W - w) / 2), Math.round((H - h) / 2), w, h);
		const px = g.getImageData(0, 0, W, H).data;
		let s = '';
		for (let i = 0; i < W * H; i++) {
			const y = Math.round(0.299 * px[i * 4] + 0.587 * px[i * 4 + 1] + 0.114 * px[i * 4 + 2]);
			s += String.fromCharCode(y);
		}
		return btoa(s);
	}, { url: 'data:image/png;base64,' + png.toString('base64'), W, H });
	const qr = Buffer.from(yPlane, 'base64');
	if (qr.length !== W * H) throw new Error(`y4mFromPng: ${qr.length} bytes of luma, not ${W * H}`);
	const white = Buffer.alloc(W * H, 255);
	const uv = Buffer.alloc((W / 2) * (H / 2) * 2, 128);
	const frame = Buffer.from('FRAME\n');
	const fd = openSync(file, 'w');
	try {
		writeSync(fd, Buffer.from(`YUV4MPEG2 W${W} H${H} F${fps}:1 Ip A1:1 C420jpeg\n`));
		for (let i = 0; i < blankFrames + qrFrames; i++) {
			writeSync(fd, frame);
			writeSync(fd, i < blankFrames ? white : qr);
			writeSync(fd, uv);
		}
	} finally {
		closeSync(fd);
	}
	return file;
}

// A new page (phone-sized unless viewport says otherwise) that fails the test on any error the page logs
// or throws, and on any Content-Security-Policy violation.
export async function openPage(browser, { viewport = { width: 390, height: 844 }, permissions = [] } = {}) {
	const context = await browser.newContext({ viewport, deviceScaleFactor: 2, permissions });
	const page = await context.newPage();
	page.problems = [];
	page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
	page.on('console', (m) => {
		if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) page.problems.push(`console error: ${m.text()}`);
	});
	return page;
}

// Logs the registered person p in through the resident page's form (page opened at /); waits for the code view.
export async function residentLogin(page, city, p) {
	await page.goto(city.url('/'));
	await page.fill('#login-id', p.id_number);
	await page.fill('#login-password', p.password);
	await page.fill('#login-otp', await freshOtp(p));
	await page.click('#login-submit');
	await page.waitForSelector('#code-view');
}

export const DESKTOP = { width: 1280, height: 800 };

// A new page of the console of city (desktop size), logged in through its form as the member of staff of role
// (or the one of token); waits until it names who is logged in.
export async function consoleAs(browser, city, role, { token = city.staffToken(role) } = {}) {
	const page = await openPage(browser, { viewport: DESKTOP });
	await page.goto(city.url('/console'));
	await page.fill('#login-token', token);
	await page.click('#login-submit');
	await page.waitForSelector('#whoami');
	return page;
}

// The requests page makes to paths matching re, from now until stop() (which answers them): "METHOD /path" each.
export function watchRequests(page, re) {
	const seen = [];
	const on = (req) => {
		const path = new URL(req.url()).pathname;
		if (re.test(path)) seen.push(`${req.method()} ${path}`);
	};
	page.on('request', on);
	return {
		seen,
		stop() {
			page.off('request', on);
			return seen;
		},
	};
}

// Fails if the page logged an error or broke its policy (call at the end of a test).
export function noProblems(page) {
	if (page.problems.length) throw new Error('the page had problems:\n  ' + page.problems.join('\n  '));
}

// The Chinese characters of the element sel (the first match) that page draws as boxes ("tofu", what Chromium draws
// where no installed font has a character): [] when every one is a glyph. Each distinct Han character is drawn alone
// inside the element itself (its font, size, weight and lang, in the page as it is) and photographed, and so is
// U+10FFFD, a private-use character that no font draws. A box is the same picture whatever the character, so a
// character that looks like U+10FFFD, or like another character, is a box. Pictures, not fonts' names: this holds
// whichever font the page's stack or fontconfig's fallback picks, and says nothing of fonts that are merely there.
// The element's own content is put back after. Throws, naming the fonts used (CSS.getPlatformFontsForNode), if the
// element has fewer than two distinct Han characters to tell apart.
export async function boxedHan(page, sel) {
	const el = page.locator(sel).first();
	const chars = [...new Set((await el.textContent()).match(/\p{Script=Han}/gu) || [])];
	if (chars.length < 2) throw new Error(`boxedHan: ${sel} has ${chars.length} distinct Han characters, 2 are needed`);
	const MISSING = '\u{10FFFD}';
	const pictures = new Map();
	await el.evaluate((e) => {
		e.suishenKept = [...e.childNodes];
		e.replaceChildren(Object.assign(document.createElement('span'), { id: 'glyph-probe' }));
	});
	try {
		for (const c of [MISSING, ...chars]) {
			await el.evaluate((e, c) => (e.querySelector('#glyph-probe').textContent = c), c);
			pictures.set(c, (await page.locator('#glyph-probe').screenshot({ animations: 'disabled', caret: 'hide' })).toString('base64'));
		}
	} finally {
		await el.evaluate((e) => e.replaceChildren(...e.suishenKept));
	}
	const alike = new Map();
	for (const c of chars) alike.set(pictures.get(c), (alike.get(pictures.get(c)) || 0) + 1);
	return chars.filter((c) => pictures.get(c) === pictures.get(MISSING) || alike.get(pictures.get(c)) > 1);
}

// The fonts Chromium used for the text of the element sel (the first match): "family ×glyphs" each, for messages.
export async function fontsOf(page, sel) {
	const cdp = await page.context().newCDPSession(page);
	try {
		await cdp.send('DOM.enable');
		await cdp.send('CSS.enable');
		const { root } = await cdp.send('DOM.getDocument');
		const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector: sel });
		const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
		return fonts.map((f) => `${f.familyName} ×${f.glyphCount}`);
	} finally {
		await cdp.detach();
	}
}

// Saves a screenshot of the page as test-results/web/<name>.png and says where (the test output lists them).
export async function shot(page, name) {
	mkdirSync(SHOTS, { recursive: true });
	const path = join(SHOTS, `${name}.png`);
	await page.screenshot({ path, fullPage: true });
	console.log(`# screenshot: ${path}`);
	return path;
}
