// terminal: the guard's page (/terminal) in a real headless Chromium against a real `suishen serve`: set-up
// with the terminal's id and secret, a resident's code read through a (fake) camera, codes typed as a USB
// scanner types them, each result's look (colours, expired, invalid, a relative's code), and failures shown
// as failures. Every request the page makes is signed by the page itself (web/src/terminal/sm3.js).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { City, launch, openPage, noProblems, shot, until, makePerson, y4mFromPng, maskName, maskId } from './city.mjs';

const TABLET = { width: 1024, height: 768 };
let city;
let browser; // no camera: getUserMedia finds none, so the page reads only the typed field
let terminal;

before(async () => {
	city = await City.start({ people: 12 });
	terminal = await city.terminal('checkpoint', '人民广场站', '申通地铁');
	browser = await launch();
});

after(async () => {
	if (browser) await browser.close();
	if (city) await city.stop();
});

// A new page at /terminal of c, set up as terminal t through its form; waits for the header to name the place.
// clock: the page's timers run on Playwright's clock (page.clock), which the test then moves itself.
async function terminalPage(b, t = terminal, { c = city, viewport = TABLET, clock = false } = {}) {
	const page = await openPage(b, { viewport });
	if (clock) await page.clock.install();
	await page.goto(c.url('/terminal'));
	await page.fill('#setup-id', String(t.terminal_id));
	await page.fill('#setup-secret', t.secret);
	await page.click('#setup-submit');
	await page.waitForSelector('#scan-input', { state: 'visible' });
	await until('the header to name the place', async () => (await page.textContent('#terminal-place')).includes(t.place));
	return page;
}

// Types code into the scanner's field and presses Enter, as a USB scanner does.
async function typeCode(page, code) {
	await page.fill('#scan-input', code);
	await page.press('#scan-input', 'Enter');
}

// Waits for #result to show kind; returns { word, name, by, detail, bg } as shown.
async function resultOf(page, kind, timeout = 30000) {
	await page.waitForSelector(`#result[data-result="${kind}"]`, { state: 'visible', timeout });
	return page.evaluate(() => {
		const text = (id) => document.getElementById(id).textContent;
		const r = document.getElementById('result');
		return { word: text('result-word'), name: text('result-name'), by: text('result-presented-by'), detail: text('result-detail'),
			bg: getComputedStyle(r).backgroundColor, color: getComputedStyle(r).color };
	});
}

test('(a) a resident\'s code read through the camera: green and the masked name, sent once', async () => {
	const { p, token } = await city.resident();
	const res = await fetch(city.url('/v1/me/code.png'), { headers: { Authorization: `Bearer ${token}` } });
	assert.equal(res.status, 200);
	assert.equal(res.headers.get('content-type'), 'image/png');
	const png = Buffer.from(await res.arrayBuffer());
	const helper = await openPage(browser);
	const file = await y4mFromPng(helper, png, join(city.root, 'camera.y4m'));
	await helper.context().close();

	const camBrowser = await launch({ camera: file });
	try {
		const page = await terminalPage(camBrowser);
		await until('the camera to be on', async () => (await page.getAttribute('.camera', 'data-state')) === 'on');
		const r = await resultOf(page, 'green', 15000);
		assert.equal(r.word, '绿码');
		assert.equal(r.name, maskName(p.name));
		assert.equal(r.by, '');
		await shot(page, 'terminal-green-camera');
		// The code stays in view the whole time: the page must not send it again and again.
		await page.waitForSelector('#result', { state: 'hidden' });
		const scans = await city.ok('GET', '/v1/me/scans', { token });
		assert.equal(scans.scans.length, 1, 'one scan of a code held in front of the camera');
		assert.equal(scans.scans[0].result, 'green');
		assert.equal(scans.scans[0].place, terminal.place);
		noProblems(page);
	} finally {
		await camBrowser.close();
	}
});

test('(b) a code typed into the scanner field: green and the masked name; the field keeps the focus', async () => {
	const { p, token } = await city.resident();
	// The page's timers decide what happens next (a repeat within 3 s is dropped, an answer stays up 4 s): its clock
	// stands still from here, and the test moves it, so the machine's speed decides nothing.
	const page = await terminalPage(browser, terminal, { clock: true });
	await page.clock.pauseAt(Date.now() + 1000);
	// No camera in this browser: the page says so and the typed field works.
	await until('the page to say there is no camera', async () => ['absent', 'failed', 'denied'].includes(await page.getAttribute('.camera', 'data-state')));
	assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.id), 'scan-input');
	assert.equal(await page.textContent('#terminal-place'), '申通地铁 · 人民广场站 · 卡口');
	const { code } = await city.ok('GET', '/v1/me/code', { token });
	// A USB scanner types into whatever has the focus: keyboard input only, no click.
	await page.keyboard.type(code);
	await page.keyboard.press('Enter');
	const r = await resultOf(page, 'green');
	assert.equal(r.word, '绿码');
	assert.equal(r.name, maskName(p.name));
	assert.equal(r.bg, 'rgb(15, 157, 88)'); // --green fills the panel
	assert.equal(await page.inputValue('#scan-input'), '', 'the field is emptied for the next code');
	await shot(page, 'terminal-typed');
	// The same code again at once is not sent again (a scanner's double read).
	await typeCode(page, code);
	await page.click('#result'); // back to scanning at once
	await page.waitForSelector('#result', { state: 'hidden' });
	assert.equal(await page.evaluate(() => document.activeElement.id), 'scan-input');
	assert.equal((await city.ok('GET', '/v1/me/scans', { token })).scans.length, 1);
	assert.equal(await page.locator('#recent li[data-result="green"]').count(), 1);
	// The result is gone by itself after 4 s, too.
	const { code: code2 } = await city.ok('GET', '/v1/me/code', { token });
	await typeCode(page, code2);
	await resultOf(page, 'green');
	await page.clock.runFor(3900);
	assert.ok(await page.isVisible('#result'), 'still up before 4 s');
	await page.clock.runFor(100);
	await page.waitForSelector('#result', { state: 'hidden' });
	assert.equal((await city.ok('GET', '/v1/me/scans', { token })).scans.length, 2);
	noProblems(page);
});

test('(c) a red and a yellow person: the panel in that colour', async () => {
	const { p: red, token: redToken } = await city.resident();
	const { p: yellow, token: yellowToken } = await city.resident();
	const admin = city.staffToken('admin');
	await city.ok('POST', '/v1/staff/status', { token: admin, body: { id_number: red.id_number, color: 'red', reason: '与确诊病例密切接触' } });
	await city.ok('POST', '/v1/staff/status', { token: admin, body: { id_number: yellow.id_number, color: 'yellow', reason: '重点地区来沪' } });
	const page = await terminalPage(browser);

	await typeCode(page, (await city.ok('GET', '/v1/me/code', { token: yellowToken })).code);
	let r = await resultOf(page, 'yellow');
	assert.equal(r.word, '黄码');
	assert.equal(r.name, maskName(yellow.name));
	assert.equal(r.bg, 'rgb(242, 182, 0)');

	await typeCode(page, (await city.ok('GET', '/v1/me/code', { token: redToken })).code);
	r = await resultOf(page, 'red');
	assert.equal(r.word, '红码');
	assert.equal(r.name, maskName(red.name));
	assert.equal(r.bg, 'rgb(217, 48, 37)');
	await shot(page, 'terminal-yellow-or-red');
	assert.deepEqual(await page.locator('#recent li').evaluateAll((els) => els.map((e) => e.dataset.result)), ['red', 'yellow']);
	noProblems(page);
});

test('(d) an expired code: grey, "ask for a fresh code"', async () => {
	const short = await City.start({ people: 2, codeTtl: 1 });
	try {
		const t = await short.terminal('venue', '上海图书馆', '上海图书馆');
		const { token } = await short.resident();
		const page = await terminalPage(browser, t, { c: short });
		const got = await short.ok('GET', '/v1/me/code', { token });
		const expires = Date.parse(got.expires_at);
		await until('the code to expire', () => Date.now() > expires + 1000, 10000);
		await typeCode(page, got.code);
		let r = await resultOf(page, 'expired');
		assert.equal(r.word, '已过期，请刷新');
		assert.equal(r.name, '', 'no name for an expired code');
		assert.equal(r.bg, 'rgb(128, 134, 139)', 'the expired look: grey');
		await shot(page, 'terminal-expired');
		// English, on request.
		await page.click('button.lang');
		r = await resultOf(page, 'expired');
		assert.equal(r.word, 'Expired: ask for a fresh code');
		noProblems(page);
	} finally {
		await short.stop();
	}
});

test('(e) a tampered code and garbage: invalid, dark with a warning (phone-sized)', async () => {
	const { token } = await city.resident();
	const page = await terminalPage(browser, terminal, { viewport: { width: 390, height: 844 } });
	const { code } = await city.ok('GET', '/v1/me/code', { token });
	// One character of the authenticated part changed: the tag no longer matches.
	const i = 30;
	const tampered = code.slice(0, i) + (code[i] === 'A' ? 'B' : 'A') + code.slice(i + 1);
	await typeCode(page, tampered);
	let r = await resultOf(page, 'invalid');
	assert.equal(r.word, '无效码');
	assert.equal(r.name, '');
	assert.equal(r.bg, 'rgb(17, 17, 17)');
	assert.ok(r.detail.length > 0, 'a warning says why');
	await shot(page, 'terminal-invalid');
	await typeCode(page, 'HELLO WORLD 12345');
	await until('a second invalid result in the list', async () => (await page.locator('#recent li[data-result="invalid"]').count()) === 2);
	r = await resultOf(page, 'invalid');
	assert.equal(r.word, '无效码');
	assert.equal((await city.ok('GET', '/v1/me/scans', { token })).scans.length, 0, 'the tampered code names nobody');
	noProblems(page);
});

test('(f) a dependent\'s code: the child\'s masked name, presented by the guardian (relation)', async () => {
	const { p: guardian, token } = await city.resident();
	const child = makePerson({ birth: '2018-05-01' });
	child.guardians = [guardian.id_number];
	city.importPeople([child]);
	const dep = await city.ok('POST', '/v1/me/dependents', { token, body: { name: child.name, id_number: child.id_number, relation: 'child' } });
	assert.equal(dep.state, 'active');
	const { code } = await city.ok('GET', `/v1/me/dependents/${dep.dependent_id}/code`, { token });
	const page = await terminalPage(browser);
	await typeCode(page, code);
	let r = await resultOf(page, 'green');
	assert.equal(r.name, maskName(child.name));
	assert.equal(r.by, `由 ${maskName(guardian.name)}（子女）出示`);
	assert.ok(await page.isVisible('#result-presented-by'));
	await shot(page, 'terminal-presented-by');
	// The same in English (the switch re-renders the answer in place).
	await page.click('button.lang');
	r = await resultOf(page, 'green');
	assert.equal(r.word, 'Green');
	assert.equal(r.by, `Presented by ${maskName(guardian.name)} (child)`);
	// Once the guardian removes the link, the child's codes scan `unknown`: no name, no presenter.
	const { code: later } = await city.ok('GET', `/v1/me/dependents/${dep.dependent_id}/code`, { token });
	await city.ok('DELETE', `/v1/me/dependents/${dep.dependent_id}`, { token });
	await typeCode(page, later);
	r = await resultOf(page, 'unknown');
	assert.equal(r.word, 'Unknown code');
	assert.equal(r.name, '');
	assert.equal(r.by, '');
	assert.equal(await page.isVisible('#result-presented-by'), false);
	noProblems(page);
});

test('a hospital terminal: the full name and the masked ID number', async () => {
	const { p, token } = await city.resident();
	const t = await city.terminal('hospital', '门诊大厅', '瑞金医院');
	const page = await terminalPage(browser, t);
	assert.equal(await page.textContent('#terminal-place'), '瑞金医院 · 门诊大厅 · 医院');
	await typeCode(page, (await city.ok('GET', '/v1/me/code', { token })).code);
	await resultOf(page, 'green');
	assert.equal(await page.textContent('#result-name'), p.name);
	assert.equal(await page.textContent('#result-id'), maskId(p.id_number));
	noProblems(page);
});

test('(g) set-up: a malformed secret and a wrong one are refused and nothing is saved', async () => {
	const page = await openPage(browser, { viewport: TABLET });
	await page.goto(city.url('/terminal'));
	await page.waitForSelector('#setup-id');
	await shot(page, 'terminal-setup');
	// Format first, in the page: no request is made.
	await page.fill('#setup-id', String(terminal.terminal_id));
	await page.fill('#setup-secret', 'not hex at all');
	await page.click('#setup-submit');
	await page.waitForSelector('#setup-secret-error');
	assert.match(await page.textContent('#setup-secret-error'), /64/);
	// Well-formed but wrong: the server refuses (401), the page says so.
	await page.fill('#setup-secret', 'ab'.repeat(32));
	await page.click('#setup-submit');
	await page.waitForSelector('#setup-error');
	assert.match(await page.textContent('#setup-error'), /不认可/);
	assert.equal(await page.evaluate(() => localStorage.getItem('suishen.terminal')), null);
	await page.reload();
	await page.waitForSelector('#setup-id', { state: 'visible' });
	assert.equal(await page.locator('#scan-input').count(), 0);
	noProblems(page);
});

test('a device clock an hour off: set-up says it is the clock, and saves nothing', async () => {
	const page = await openPage(browser, { viewport: TABLET });
	// The page's clock runs an hour ahead of the server's (the terminal's signatures carry that time).
	await page.clock.install({ time: new Date(Date.now() + 3600 * 1000) });
	await page.goto(city.url('/terminal'));
	await page.fill('#setup-id', String(terminal.terminal_id));
	await page.fill('#setup-secret', terminal.secret);
	await page.click('#setup-submit');
	await page.waitForSelector('#setup-error');
	assert.match(await page.textContent('#setup-error'), /时钟.*60 分钟/);
	assert.equal(await page.evaluate(() => localStorage.getItem('suishen.terminal')), null);
	noProblems(page);
});

test('a saved secret that has become wrong: the page says so, and a scan shows an error, not a colour', async () => {
	const { token } = await city.resident();
	const page = await openPage(browser, { viewport: TABLET });
	await page.goto(city.url('/terminal'));
	await page.evaluate((id) => localStorage.setItem('suishen.terminal', JSON.stringify({ id, secret: 'cd'.repeat(32) })), String(terminal.terminal_id));
	await page.reload();
	await page.waitForSelector('#terminal-banner', { state: 'visible' });
	assert.match(await page.textContent('#terminal-banner'), /密钥/);
	await typeCode(page, (await city.ok('GET', '/v1/me/code', { token })).code);
	const r = await resultOf(page, 'error');
	assert.match(r.detail, /401/);
	assert.equal(r.name, '');
	noProblems(page);
});

test('the server out of reach: the scan shows a network error, not a colour, and the same code may be tried again', async () => {
	const { p, token } = await city.resident();
	const page = await terminalPage(browser);
	const { code } = await city.ok('GET', '/v1/me/code', { token });
	await page.route('**/v1/scans', (route) => route.abort('connectionrefused'));
	await typeCode(page, code);
	const r = await resultOf(page, 'error');
	assert.equal(r.word, '未能查验');
	assert.match(r.detail, /无法连接服务器/);
	assert.equal(r.name, '');
	// The aborted request is logged by Chromium; that is the point of this test, not a fault of the page.
	page.problems = page.problems.filter((m) => !/net::ERR_CONNECTION_REFUSED/.test(m));
	await page.unroute('**/v1/scans');
	await typeCode(page, code); // at once: nothing was checked the first time
	const again = await resultOf(page, 'green');
	assert.equal(again.name, maskName(p.name));
	noProblems(page);
});

test('reset: confirmed, the terminal is forgotten; cancelled, nothing changes', async () => {
	const page = await terminalPage(browser);
	assert.ok(await page.evaluate(() => localStorage.getItem('suishen.terminal')));
	await page.click('#reset-terminal');
	await page.click('#reset-no');
	assert.ok(await page.isVisible('#scan-input'));
	assert.ok(await page.evaluate(() => localStorage.getItem('suishen.terminal')));
	await page.click('#reset-terminal');
	await page.click('#reset-yes');
	await page.waitForSelector('#setup-id', { state: 'visible' });
	assert.equal(await page.evaluate(() => localStorage.getItem('suishen.terminal')), null);
	await page.reload();
	await page.waitForSelector('#setup-id', { state: 'visible' });
	noProblems(page);
});
