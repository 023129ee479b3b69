// resident: the resident page (/) in a real headless Chromium against a real `suishen serve`: registering and
// logging in through the page, the code card (a code a terminal accepts, renewed before it expires, framed in
// the holder's colour), the colour's reasons, scan and access records, relatives (a child's code shown by the
// guardian, a request for my consent), appeals followed to a decision, declarations, the English switch, names
// and texts that look like markup staying text, an ended session, and logging out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { City, REPO, launch, openPage, noProblems, shot, until, makePerson, freshOtp, totp, maskName, residentLogin, watchRequests } from './city.mjs';

// jsQR reads the codes back from the page's pixels; it is one of web/'s packages (as city.mjs finds playwright-core).
const jsQR = createRequire(join(REPO, 'web', 'package.json'))('jsqr');

const TOKEN_KEY = 'suishen.resident.token';
let city, browser, page, p;
let fast; // a promise of { city, page, p }: see quick()
const mine = []; // the results of the scans of p's codes, in order (the scan history lists them)

before(async () => {
	// Codes live 60 s (the page renews them 10 s before the end): time enough to read one off the page and scan it
	// however busy the machine. Log-ins are slowed from 2 s on (the 5th failure), doubling: the test's next try must
	// come within that, which a busy machine does (200 ms it may not).
	city = await City.start({ people: 12, loginDelayMs: 2000 });
	browser = await launch();
	page = await openPage(browser);
});

after(async () => {
	if (browser) await browser.close();
	if (city) await city.stop();
	if (fast) await (await fast).city.stop();
});

// For the tests of the page's renewals: a second city whose codes live 6 s (renewed every ~5 s), and a page of its
// own, logged in through the form as a resident of that city. Made once, by the first test that asks.
function quick() {
	fast ??= (async () => {
		const c = await City.start({ people: 2, codeTtl: 6 });
		const r = c.person();
		await c.register(r);
		const pg = await openPage(browser);
		await residentLogin(pg, c, r);
		await until('the code card of the quick city', () => imgLoaded(pg));
		return { city: c, page: pg, p: r };
	})();
	return fast;
}

const text = (sel, pg = page) => pg.locator(sel).first().textContent();
const visible = (sel, pg = page) => pg.locator(sel).first().isVisible();

// The code on the page's #code-img, read back from its pixels as a scanner would. The page sends their luma (one
// byte a pixel, base64), not an array of numbers four times the size: quick to carry on a busy machine.
async function shownCode(pg = page) {
	const img = await pg.evaluate(() => {
		const el = document.getElementById('code-img');
		if (!el.complete || !el.naturalWidth) return null;
		const c = document.createElement('canvas');
		c.width = el.naturalWidth;
		c.height = el.naturalHeight;
		const g = c.getContext('2d');
		g.fillStyle = '#fff';
		g.fillRect(0, 0, c.width, c.height);
		g.drawImage(el, 0, 0);
		const px = g.getImageData(0, 0, c.width, c.height).data;
		let s = '';
		for (let i = 0; i < px.length; i += 4) s += String.fromCharCode(Math.round(0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2]));
		return { w: c.width, h: c.height, luma: btoa(s) };
	});
	if (!img) return null;
	const luma = Buffer.from(img.luma, 'base64');
	const rgba = new Uint8ClampedArray(luma.length * 4).fill(255);
	luma.forEach((y, i) => rgba.fill(y, i * 4, i * 4 + 3));
	const qr = jsQR(rgba, img.w, img.h);
	return qr ? qr.data : null;
}

async function imgLoaded(pg = page) {
	return pg.evaluate(() => {
		const el = document.getElementById('code-img');
		return el && el.complete && el.naturalWidth > 0 && el.src.startsWith('blob:') ? el.src : null;
	});
}

// Scans, as terminal t, the code that pg shows, read from its pixels; notes each result in into. Should the machine
// take longer between reading and scanning than the code had left, the scan answers `expired` (noted too: it is in
// the holder's history); then the code that replaced it is read and scanned, until a deadline. Answers the first
// scan that is not `expired`.
async function scanShown(t, { pg = page, into = mine } = {}) {
	let last = null;
	return until('a scan of the code on the page that is not expired', async () => {
		const code = await until('a readable code on the page, not the one scanned before', async () => {
			const c = await shownCode(pg);
			return c !== last && c;
		});
		last = code;
		const scan = await city.scan(t, code);
		into.push(scan.data.result);
		return scan.data.result !== 'expired' && scan;
	}, 60000);
}

const countdown = async (pg = page) => Number(((await text('#code-countdown', pg)) || '').replace(/\D/g, '')) || null;

// The code fetches of pg that began (by the page's clock, performance.now()) from `from` up to `to`, as resource
// timing lists them once answered. Clear the list (performance.clearResourceTimings) before `from`: it holds 250.
const codeFetches = (from, to = null, pg = page) => pg.evaluate(({ from, to }) => performance.getEntriesByType('resource')
	.filter((e) => /^\/v1\/me(\/dependents\/[^/]+)?\/code/.test(new URL(e.name).pathname) && e.startTime >= from && (to === null || e.startTime < to))
	.length, { from, to });

// For a test that a page asks for no code: answers a function that waits until the code pg shows now has expired,
// and 2 s more, when a page still renewing would have asked for the next one (it asks a second before the end).
async function codeOver(pg = page) {
	const end = Date.now() + ((await countdown(pg)) ?? 6) * 1000 + 2000;
	return () => until('the code shown to be over', () => Date.now() > end, 20000);
}

test('register through the page (errors shown by the form), then log in with the first code', async () => {
	p = city.person();
	await page.goto(city.url('/'));
	await page.locator('#login-id').waitFor();
	assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
	assert.match(await text('#login-submit'), /登录/);
	await shot(page, 'resident-login');

	await page.click('#to-register');
	const fill = async (name, id, phone, password) => {
		await page.fill('#reg-name', name);
		await page.fill('#reg-id', id);
		await page.fill('#reg-phone', phone);
		await page.fill('#reg-password', password);
		await page.click('#reg-submit');
	};
	// A name the registry does not have for this number: 422, said next to the form.
	await fill(p.name + '某', p.id_number, p.phone, p.password);
	await until('the real-name error', async () => /实名/.test(await text('#reg-error')));
	// A phone the API refuses: 400 naming the field, which the form marks.
	await fill(p.name, p.id_number, '12', p.password);
	await until('the phone marked invalid', async () => (await page.getAttribute('#reg-phone', 'aria-invalid')) === 'true');
	assert.ok(await visible('#reg-error'));

	await fill(p.name, p.id_number, p.phone, p.password);
	await page.locator('#reg-secret').waitFor();
	p.secret = (await text('#reg-secret')).trim();
	assert.match(p.secret, /^[A-Z2-7]{16,}$/);
	// The enrolment QR is the otpauth URI with that same secret (read back from the canvas's pixels).
	const enrol = await page.evaluate(() => {
		const c = document.querySelector('canvas.enrol-qr');
		return { w: c.width, h: c.height, data: Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data) };
	});
	const uri = jsQR(Uint8ClampedArray.from(enrol.data), enrol.w, enrol.h);
	assert.ok(uri, 'the enrolment QR reads');
	assert.match(uri.data, /^otpauth:\/\/totp\//);
	assert.equal(new URL(uri.data).searchParams.get('secret'), p.secret);
	await shot(page, 'resident-register');

	// A code from long ago is refused (401), and the form says so.
	await page.fill('#reg-otp', totp(p.secret, Math.floor(Date.now() / 30000) - 20));
	await page.click('#reg-otp-submit');
	await until('the wrong-code error', async () => /不正确/.test(await text('#reg-otp-error')));

	await page.fill('#reg-otp', await freshOtp(p));
	await page.click('#reg-otp-submit');
	await until('the code card', () => imgLoaded());
	assert.ok(await page.evaluate((k) => /^[0-9a-f]{64}$/.test(sessionStorage.getItem(k) || ''), TOKEN_KEY), 'token in sessionStorage');
	assert.equal(await page.evaluate((k) => localStorage.getItem(k), TOKEN_KEY), null, 'no token in localStorage');
	assert.ok(!page.url().includes(p.id_number));
	noProblems(page);
});

test('the code card: my masked name, a green frame, a code that a terminal accepts as mine', async () => {
	await until('the masked name', async () => (await text('#code-name')) === maskName(p.name));
	await until('a green frame', async () => (await page.getAttribute('#code-frame', 'data-color')) === 'green');
	assert.equal(await visible('#code-for'), false);
	const code = await until('a readable code on the page', () => shownCode());
	assert.match(code, /^1[A-Z2-7]{55}$/);
	const gate = await city.terminal('transit', '人民广场站', '申通地铁');
	const scan = await scanShown(gate);
	assert.equal(scan.status, 200);
	assert.equal(scan.data.result, 'green');
	assert.equal(scan.data.person.name, maskName(p.name));
	// A hospital scan shows the full name: it lands in the access log.
	const hospital = await city.terminal('hospital', '门诊大厅', '第九人民医院');
	const scan2 = await scanShown(hospital);
	assert.equal(scan2.data.result, 'green');
	assert.equal(scan2.data.person.name, p.name);
	await shot(page, 'resident-code');
	noProblems(page);
});

test('the code renews itself before it expires (TTL 6 s): a new image, the countdown back up', async () => {
	const { city: c, page: pg } = await quick();
	const firstCode = await until('a readable code', () => shownCode(pg));
	const first = await imgLoaded(pg);
	let low = Infinity;
	let renewed = null;
	await until('a renewed code', async () => {
		const n = await countdown(pg);
		const src = await imgLoaded(pg);
		if (n !== null && n < low) low = n;
		if (src && src !== first && n !== null && n > low) renewed = src;
		return renewed;
	});
	// The old code was replaced while it still had time: the countdown never showed 0 before the renewal.
	assert.ok(low >= 1, `countdown went down to ${low}`);
	// The new image is a new code, and an authentic one (a 6-s code may be over by the time a busy machine has read
	// it: `suishen verify` says what it is whatever the time, judged with a minute's life).
	const code = await until('a readable renewed code', async () => {
		const got = await shownCode(pg);
		return got !== firstCode && got;
	});
	const verdict = JSON.parse(c.cli('verify', '--data', c.data, '--code-ttl', '60', code));
	assert.equal(verdict.result, 'green', JSON.stringify(verdict));
	// The refresh button fetches a new one at once.
	const before = await imgLoaded(pg);
	await pg.click('#code-refresh');
	await until('a refreshed code', async () => {
		const src = await imgLoaded(pg);
		return src && src !== before;
	});
	noProblems(pg);
});

test('scan history and the access log', async () => {
	await page.click('#nav-scans');
	// Every scan of my codes, newest first: the two green ones, and any that a busy machine made too late.
	const results = () => page.locator('.scan-item').evaluateAll((els) => els.map((e) => e.dataset.result));
	await until('the scans', async () => (await results()).length === mine.length && mine.length >= 2);
	assert.deepEqual(await results(), [...mine].reverse());
	assert.equal(mine.filter((r) => r === 'green').length, 2);
	const items = await page.locator('#scans-list').textContent();
	assert.match(items, /人民广场站/);
	assert.match(items, /门诊大厅/);
	await page.click('#tab-access');
	await until('the access log', async () => /第九人民医院/.test((await text('#access-list')) || ''));
	assert.doesNotMatch(await text('#access-list'), /人民广场站/, 'a masked scan is not an unmasked read');
	await shot(page, 'resident-records');
	noProblems(page);
});

test('a colour set by the admin shows on the frame and in the reasons, in both languages', async () => {
	await page.click('#nav-code');
	await until('the code card', () => imgLoaded());
	await city.ok('POST', '/v1/staff/status', {
		token: city.staffToken('admin'),
		body: { id_number: p.id_number, color: 'red', reason: '与确诊病例密切接触' },
	});
	await page.click('#code-refresh');
	await until('a red frame', async () => (await page.getAttribute('#code-frame', 'data-color')) === 'red');
	assert.match(await text('#code-color'), /红码/);
	await page.click('#nav-status');
	await until('the red status', async () => (await page.getAttribute('#status-color', 'data-color')) === 'red');
	assert.match(await text('#status-reasons'), /与确诊病例密切接触/);
	assert.match(await text('#status-review'), /\d{4}-\d\d-\d\d/);
	await shot(page, 'resident-status');

	await page.click('#lang-toggle');
	await until('English', async () => (await text('#nav-status')).includes('Status'));
	assert.equal(await page.getAttribute('html', 'lang'), 'en');
	assert.match(await text('#status-reasons'), /Colour set by hand/);
	assert.match(await text('#status-color'), /Red/);
	await shot(page, 'resident-status-en');
	await page.click('#nav-code');
	await until('English code card', async () => /Valid for \d+ s/.test(await text('#code-countdown')));
	assert.match(await text('#code-color'), /Red/);
	await shot(page, 'resident-code-en');
	await page.click('#lang-toggle');
	await until('Chinese again', async () => (await text('#nav-code')).includes('亮码'));
	assert.equal(await page.evaluate(() => localStorage.getItem('suishen.lang')), 'zh');
	noProblems(page);
});

test('relatives: a child linked at once, their code shown for them; a request for my consent accepted', async () => {
	const child = makePerson({ birth: '2018-05-01' });
	child.guardians = [p.id_number]; // the registry names me: linked at once
	city.importPeople([child]);
	await page.click('#nav-relatives');
	await until('the relatives list', async () => /还没有添加亲属/.test((await text('#rel-list')) || ''));
	// A wrong name: the real-name check fails, said by the form, nothing added.
	await page.fill('#rel-name', child.name + '某');
	await page.fill('#rel-id', child.id_number);
	await page.selectOption('#rel-relation', 'child');
	await page.click('#rel-submit');
	await until('the real-name error', async () => /实名/.test((await text('#rel-add-error')) || ''));
	await page.fill('#rel-name', child.name);
	await page.click('#rel-submit');
	await until('the child listed', async () => (await page.locator('.rel-item[data-state="active"]').count()) === 1);
	assert.match(await text('.rel-item .rel-name'), new RegExp(`^${maskName(child.name).replace(/\*/g, '\\*')}$`));

	// Someone else asks to show my code: the request is on this page, and accepting it links us.
	const other = city.person();
	await city.register(other);
	const otherToken = await city.login(other);
	const link = await city.ok('POST', '/v1/me/dependents', { token: otherToken, body: { name: p.name, id_number: p.id_number, relation: 'parent' } });
	assert.equal(link.state, 'pending');
	await page.click('#nav-code');
	await page.click('#nav-relatives');
	await until('the request', async () => (await page.locator('.req-item').count()) === 1);
	assert.match(await text('.req-item'), new RegExp(maskName(other.name).replace(/\*/g, '\\*')));
	await shot(page, 'resident-relatives');
	await page.click('.req-accept');
	await until('the request gone', async () => (await page.locator('.req-item').count()) === 0);
	const theirs = await city.ok('GET', '/v1/me/dependents', { token: otherToken });
	assert.equal(theirs.dependents[0].state, 'active');

	// Showing the child's code.
	const mine = await imgLoaded();
	await page.click('.rel-item[data-state="active"] .rel-show');
	await until('the child code', async () => (await visible('#code-for')) && (await imgLoaded()) && (await imgLoaded()) !== mine);
	assert.match(await text('#code-for'), new RegExp(`为 ${maskName(child.name).replace(/\*/g, '\\*')} 出示`));
	assert.equal(await text('#code-name'), maskName(child.name));
	await until('the child frame green', async () => (await page.getAttribute('#code-frame', 'data-color')) === 'green');
	const gate = await city.terminal('community', '幼儿园门口', '长宁区');
	const scan = await scanShown(gate, { into: [] });
	assert.equal(scan.data.result, 'green');
	assert.equal(scan.data.person.name, maskName(child.name));
	assert.equal(scan.data.presented_by.name, maskName(p.name));
	await shot(page, 'resident-code-relative');
	// And back to mine (red, as the admin set it).
	await page.click('#code-mine');
	await until('my code again', async () => !(await visible('#code-for')) && (await text('#code-name')) === maskName(p.name));
	await until('my red frame', async () => (await page.getAttribute('#code-frame', 'data-color')) === 'red');

	// The child again (from the card's own switch), then the link removed while the card would still show it:
	// the card falls back to my code and says why.
	await page.click('#code-switch button[data-dependent]:not([data-dependent=""])');
	await until('the child code again', () => visible('#code-for'));
	await page.click('#nav-relatives');
	const removals = watchRequests(page, /^\/v1\/me\/dependents\/[^/]+$/);
	await page.click('.rel-item[data-state="active"] .rel-remove');
	await page.waitForTimeout(1000);
	assert.deepEqual(removals.seen.filter((r) => r.startsWith('DELETE')), [], 'one click sends no removal');
	assert.equal(await page.locator('.rel-item').count(), 1, 'one click does not remove');
	const held = await page.evaluate((k) => sessionStorage.getItem(k), TOKEN_KEY);
	const still = await city.ok('GET', '/v1/me/dependents', { token: held });
	assert.deepEqual(still.dependents.map((d) => [d.name, d.state]), [[maskName(child.name), 'active']], 'the child still linked on the server');
	await page.click('.rel-item[data-state="active"] .rel-remove');
	await until('the child removed', async () => (await page.locator('.rel-item').count()) === 0);
	assert.deepEqual(removals.stop().filter((r) => r.startsWith('DELETE')).length, 1, 'the confirmation sends the removal');
	await page.click('#nav-code');
	await until('back to my code, saying why', async () => (await visible('#code-note')) && !(await visible('#code-for')));
	assert.equal(await text('#code-name'), maskName(p.name));
	assert.equal(await page.locator('#code-switch button[data-dependent]:not([data-dependent=""])').count(), 0);
	noProblems(page);
});

test('who can show my code: I withdraw the consent I gave, and the code that relative holds stops at once', async () => {
	// Another resident asks to show my code, and I agree (through the API: the page's accept is tested above).
	const { p: g, token: gToken } = await city.resident();
	const link = await city.ok('POST', '/v1/me/dependents', { token: gToken, body: { name: p.name, id_number: p.id_number, relation: 'spouse' } });
	await city.ok('POST', `/v1/me/guardian-requests/${link.dependent_id}/accept`, { token: await page.evaluate((k) => sessionStorage.getItem(k), TOKEN_KEY) });
	const { code } = await city.ok('GET', `/v1/me/dependents/${link.dependent_id}/code`, { token: gToken });
	const gate = await city.terminal('community', '小区东门', '长宁区');
	assert.equal((await city.scan(gate, code)).data.result, 'red', 'their code for me answers my colour');

	await page.click('#nav-code');
	await page.click('#nav-relatives');
	const item = `.guardian-item[data-link-id="${link.dependent_id}"]`;
	await until('who can show my code', () => page.locator(item).count());
	assert.match(await text('#rel-guardians-card h2'), /谁可以为我出示健康码/);
	assert.match(await text(item), new RegExp(maskName(g.name).replace(/\*/g, '\\*')));
	assert.match(await text(item), /配偶/);
	assert.ok(!(await text(item)).includes(g.id_number), 'the ID number masked');
	await shot(page, 'resident-guardians');

	const withdrawals = watchRequests(page, /^\/v1\/me\/guardians\/[^/]+$/);
	await page.click(`${item} .guardian-withdraw`);
	await until('the button asks to confirm', async () => /确认撤回/.test(await text(`${item} .guardian-withdraw`)));
	assert.deepEqual(withdrawals.seen, [], 'one click sends nothing');
	await page.click(`${item} .guardian-withdraw`);
	await until('the link gone from the list', async () => (await page.locator(item).count()) === 0);
	assert.deepEqual(withdrawals.stop(), [`DELETE /v1/me/guardians/${link.dependent_id}`]);
	assert.match(await text('#rel-notice'), /已撤回/);
	await shot(page, 'resident-guardians-withdrawn');

	// At once: the code they hold answers as a removed link's, and they see the link withdrawn.
	const after = await city.scan(gate, code);
	assert.equal(after.data.result, 'unknown');
	assert.equal(after.data.person, undefined);
	const theirs = await city.ok('GET', '/v1/me/dependents', { token: gToken });
	assert.equal(theirs.dependents.find((d) => d.dependent_id === link.dependent_id).state, 'withdrawn');
	noProblems(page);
});

test('an appeal reason over 200 bytes (70 Chinese characters) is refused by the page: nothing sent', async () => {
	await page.click('#nav-appeals');
	await until('the appeals list', async () => /没有申诉记录/.test((await text('#appeal-list')) || ''));
	await page.click('#appeal-new');
	const sent = watchRequests(page, /^\/v1\/me\/appeals$/);
	const reason = '健康码'.repeat(23) + '误'; // 70 characters, 210 bytes of UTF-8
	assert.equal(Buffer.byteLength(reason), 210);
	await page.fill('#appeal-reason', reason);
	assert.equal(await page.inputValue('#appeal-reason'), reason, 'no maxlength cuts it');
	await page.click('#appeal-submit');
	await until('our too-long message', async () => (await visible('#appeal-form-error')) && /最多 200 字节/.test(await text('#appeal-form-error')));
	assert.match(await text('#appeal-form-error'), /210 字节/);
	assert.equal(await page.getAttribute('#appeal-reason', 'aria-invalid'), 'true');
	await page.waitForTimeout(500);
	assert.deepEqual(sent.seen.filter((r) => r.startsWith('POST')), [], 'no appeal sent');
	// And none on the server: the list, asked again, is still empty.
	await page.click('#nav-code');
	await page.click('#nav-appeals');
	await until('the appeals list, still empty', async () => /没有申诉记录/.test((await text('#appeal-list')) || ''));
	sent.stop();
	noProblems(page);
});

test('appeals: filed through the page (markup stays text), followed to a decision that turns the frame green', async () => {
	await page.click('#nav-appeals');
	await until('the appeals list', async () => /没有申诉记录/.test((await text('#appeal-list')) || ''));
	await page.click('#appeal-new');
	// An empty reason: the API names the field.
	await page.click('#appeal-submit');
	await until('the reason marked', async () => (await page.getAttribute('#appeal-reason', 'aria-invalid')) === 'true');
	const reason = '<img src=x id=pwned>健康码误判';
	await page.fill('#appeal-reason', reason);
	await page.fill('#appeal-details', '我 11 月 20 日没有去过风险地区。\n<script>alert(1)</script>');
	await page.click('#appeal-submit');
	const item = page.locator('.appeal-item[data-state="submitted"]');
	await until('the appeal listed as submitted', async () => (await item.count()) === 1);
	assert.ok((await item.textContent()).includes(reason));
	assert.equal(await page.locator('#pwned').count(), 0);
	assert.equal(await page.locator('#content img').count(), 0);
	const id = Number(await item.getAttribute('data-appeal-id'));
	assert.ok(id > 0);
	await shot(page, 'resident-appeals');

	// A handler takes it up, checks and upholds it.
	const hand = city.staffToken('handler');
	await city.ok('POST', `/v1/staff/appeals/${id}/claim`, { token: hand });
	await city.ok('POST', `/v1/staff/appeals/${id}/checks`, { token: hand, body: { kind: 'data', result: '行程数据有误' } });
	await city.ok('POST', `/v1/staff/appeals/${id}/checks`, { token: hand, body: { kind: 'grassroots', result: '社区核实无风险' } });
	await city.ok('POST', `/v1/staff/appeals/${id}/decision`, { token: hand, body: { decision: 'upheld', color: 'green', reason: '行程数据有误，已更正' } });

	await page.click('#nav-code');
	await page.click('#nav-appeals');
	await until('the appeal upheld', async () => (await page.locator(`.appeal-item[data-appeal-id="${id}"]`).getAttribute('data-state')) === 'upheld');
	await page.click(`.appeal-item[data-appeal-id="${id}"] .appeal-open`);
	await until('the decision', async () => /行程数据有误，已更正/.test((await text('#appeal-decision')) || ''));
	assert.equal(await page.locator('.timeline li').count(), 5);
	assert.ok((await text('.appeal-details-text')).includes('<script>alert(1)</script>'));
	await shot(page, 'resident-appeal-decided');
	await page.click('#lang-toggle');
	await until('English appeal', async () => /Upheld/.test(await text('#appeal-detail')));
	await shot(page, 'resident-appeals-en');
	await page.click('#lang-toggle');

	await page.click('#nav-code');
	await until('the frame green again', async () => (await page.getAttribute('#code-frame', 'data-color')) === 'green');
	noProblems(page);
});

test('declarations: health and trip accepted, a bad temperature marked', async () => {
	await page.click('#nav-declare');
	await page.fill('#dec-temperature', '50');
	await page.click('#dec-health-submit');
	await until('the temperature marked', async () => (await page.getAttribute('#dec-temperature', 'aria-invalid')) === 'true');
	await page.fill('#dec-temperature', '37.2');
	await page.check('#dec-sym-cough');
	await page.click('#dec-health-submit');
	await until('the health declaration accepted', () => visible('#declare-notice'));
	assert.match(await text('#declare-notice'), /申报已提交/);
	await page.evaluate(() => (document.getElementById('declare-notice').hidden = true));
	await page.fill('#dec-places', '310101，320581');
	await page.click('#dec-trip-submit');
	await until('the trip declaration accepted', () => visible('#declare-notice'));
	await shot(page, 'resident-declare');
	noProblems(page);
});

test('the open code card picks up a new colour by itself (every ~15 s), with no click', async () => {
	await page.click('#nav-code');
	await until('a green frame', async () => (await page.getAttribute('#code-frame', 'data-color')) === 'green');
	await city.ok('POST', '/v1/staff/status', {
		token: city.staffToken('admin'),
		body: { id_number: p.id_number, color: 'yellow', reason: '外省返沪，待核酸检测' },
	});
	await until('a yellow frame', async () => (await page.getAttribute('#code-frame', 'data-color')) === 'yellow', 45000);
	assert.match(await text('#code-color'), /黄码/);
	noProblems(page);
});

test('while the page is hidden (a locked phone) no code is fetched; shown again, a fresh code at once', async () => {
	const { page: pg } = await quick();
	await until('the code card', () => imgLoaded(pg));
	const shownBefore = await imgLoaded(pg);
	const over = await codeOver(pg);
	// Hidden, as a locked phone or a tab in the background: visibilityState is what the page reads. Which code
	// fetches began while it was hidden, the page's own clock says (resource timing): a fetch begun just before,
	// however late a busy machine reports it, is not one of them.
	const hiddenAt = await pg.evaluate(() => {
		performance.clearResourceTimings();
		Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
		Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
		document.dispatchEvent(new Event('visibilitychange'));
		return performance.now();
	});
	await over();
	const shownAt = await pg.evaluate(() => {
		const at = performance.now();
		delete document.visibilityState;
		delete document.hidden;
		document.dispatchEvent(new Event('visibilitychange'));
		return at;
	});
	assert.equal(await pg.evaluate(() => document.visibilityState), 'visible');
	await until('a code fetched once shown', async () => (await codeFetches(shownAt, null, pg)) >= 1);
	await until('a new image', async () => {
		const src = await imgLoaded(pg);
		return src && src !== shownBefore;
	});
	assert.equal(await codeFetches(hiddenAt, shownAt, pg), 0, 'no code fetched while hidden');
	noProblems(pg);
});

test('a registry name that looks like markup is shown as text; an ended session returns to log-in; log out', async () => {
	const q = makePerson({ name: '<b>李</b>四' });
	city.importPeople([q]);
	await city.register(q);
	const pg = await openPage(browser, { viewport: { width: 1280, height: 800 } });
	await residentLogin(pg, city, q);
	await until('the code card', () => imgLoaded(pg));
	await until('the masked name', async () => (await text('#code-name', pg)) === maskName(q.name));
	assert.equal(await pg.locator('b').count(), 0);
	await shot(pg, 'resident-desktop');

	// The server forgets the session (a token it does not know): the next call lands on log-in, saying why.
	await pg.evaluate((k) => sessionStorage.setItem(k, 'ab'.repeat(32)), TOKEN_KEY);
	await pg.click('#nav-status');
	await until('log-in with a message', async () => (await visible('#login-id', pg)) && /登录已失效/.test(await text('#login-notice', pg)));
	assert.equal(await pg.evaluate((k) => sessionStorage.getItem(k), TOKEN_KEY), null);
	noProblems(pg);
	await pg.context().close();

	// Logging out on the main page forgets the token, and the server ends the session: the token no longer works.
	const held = await page.evaluate((k) => sessionStorage.getItem(k), TOKEN_KEY);
	assert.equal((await city.api('GET', '/v1/me', { token: held })).status, 200);
	await page.click('#nav-code');
	await until('the code card', () => imgLoaded());
	await page.click('#logout');
	await until('log-in', () => visible('#login-id'));
	assert.equal(await page.evaluate((k) => sessionStorage.getItem(k), TOKEN_KEY), null);
	await until('the session to be over on the server', async () => (await city.api('GET', '/v1/me', { token: held })).status === 401);
	assert.equal(await page.locator('#tabbar').isVisible(), false);
	noProblems(page);

	// Once logged out, the code card's renewal (every ~5 s at TTL 6 s) does not go on behind log-in.
	const { page: qp } = await quick();
	await qp.click('#nav-code');
	await until('the code card', () => imgLoaded(qp));
	const over = await codeOver(qp);
	await qp.click('#logout');
	await until('log-in', () => visible('#login-id', qp));
	const outAt = await qp.evaluate(() => {
		performance.clearResourceTimings();
		return performance.now();
	});
	await over();
	assert.equal(await codeFetches(outAt, null, qp), 0, 'no code asked for after log-out');
	noProblems(qp);
});

test('too many wrong log-ins: the page says, in Chinese, how many seconds to wait, and holds the button', async () => {
	const r = city.person();
	await city.register(r);
	await until('log-in', () => visible('#login-id'));
	await page.fill('#login-id', r.id_number);
	await page.fill('#login-password', r.password + '-wrong');
	await page.fill('#login-otp', '000000');
	// From the 5th failure on, each next try must wait (--login-delay-ms 2000, doubling), and the 10th locks: keep
	// trying at once until the server answers 429 (at the 6th try, or a later one if the page was slower).
	const answer = () => page.evaluate(() => {
		const box = document.getElementById('login-error');
		return { text: box.hidden ? '' : box.textContent, disabled: document.getElementById('login-submit').disabled };
	});
	let last = null;
	for (let i = 0; i < 9 && !(last && /后再试/.test(last.text)); i++) {
		await page.click('#login-submit');
		last = await until(`an answer to try ${i + 1}`, async () => {
			const a = await answer();
			return a.text ? a : null;
		});
		if (i < 5) assert.match(last.text, /不正确/, `try ${i + 1} is checked`);
	}
	assert.match(last.text, /^尝试过于频繁，请 \d+ 秒后再试。$/);
	assert.doesNotMatch(last.text, /[a-z]{4,}/i, "not the server's English");
	assert.equal(last.disabled, true, 'the button held while the server asks to wait');
	const wait = Number(last.text.match(/\d+/)[0]);
	await until('the button back after the wait', async () => !(await answer()).disabled, wait * 1000 + 15000);
	noProblems(page);
});
