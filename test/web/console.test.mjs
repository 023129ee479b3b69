// console: the staff console (/console) in a real Chromium against a real server: log-in by token and the
// sections each role sees; the dashboard's charts and figures after scans this test makes; a handler working
// a resident's appeal from claim to close (the resident then green by the appeal's override); the operator's
// hotline tools; an epidemiologist's trace with the companion masked; security's alerts and audit search; an
// administrator's what-if, rule errors by line, applying a rule set (a job whose progress shows, over a city of
// thousands), and a terminal whose secret shows once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { City, launch, openPage, noProblems, shot, until, ROLES, DESKTOP, BIN, maskName, maskId, makePerson, watchRequests, consoleAs } from './city.mjs';

const NAV = {
	admin: ['dashboard', 'rules'],
	operator: ['dashboard', 'operator'],
	handler: ['dashboard', 'appeals'],
	epidemiologist: ['dashboard', 'trace'],
	security: ['dashboard', 'alerts', 'audit'],
};
const ALL = ['dashboard', 'appeals', 'operator', 'rules', 'trace', 'alerts', 'audit'];

let city, browser;
const made = { scans: 0, checkpointGreen: 0, venueInvalid: 0 }; // what this test did before the dashboard looks

before(async () => {
	city = await City.start({ people: 30 });
	browser = await launch();
});

after(async () => {
	await browser?.close();
	await city?.stop();
});

const code = async (token) => (await city.ok('GET', '/v1/me/code', { token })).code;

const navIds = (page) => page.$$eval('nav button', (bs) => bs.map((b) => b.id.replace(/^nav-/, '')));
const text = (page, sel) => page.textContent(sel).then((s) => s.trim());

// First: the server keeps its statistics for 30 s, and the tests after this one open dashboards too.
test('dashboard: charts and figures of the scans this test made', async () => {
	const checkpoint = await city.terminal('checkpoint', '人民广场站', '申通地铁');
	const venue = await city.terminal('venue', '大剧院', '上海大剧院');
	const a = await city.resident();
	const b = await city.resident();
	for (const r of [a, b]) {
		assert.equal((await city.scan(checkpoint, await code(r.token))).data.result, 'green');
		made.scans++;
		made.checkpointGreen++;
	}
	assert.equal((await city.scan(venue, '1' + 'A'.repeat(55))).data.result, 'invalid');
	made.scans++;
	made.venueInvalid++;
	await city.ok('POST', '/v1/me/appeals', { token: a.token, body: { reason: '测试申诉', details: '仅用于统计' } });

	const page = await consoleAs(browser, city, 'epidemiologist');
	await page.waitForSelector('#chart-by-hour');
	// Every chart has its data, and has drawn something.
	const charts = await page.$$eval('canvas', (cs) => cs.map((c) => {
		const ch = c.chart;
		const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
		let painted = 0;
		for (let i = 3; i < px.length; i += 4) if (px[i]) painted++;
		return { id: c.id, labels: ch.data.labels.length, data: ch.data.datasets.map((d) => d.data), painted };
	}));
	assert.deepEqual(charts.map((c) => c.id), ['chart-by-hour', 'chart-by-day', 'chart-by-scene', 'chart-by-district']);
	for (const c of charts) assert.ok(c.painted > 1000, `${c.id} is blank`);
	const [hour, day, scene, district] = charts;
	assert.equal(hour.labels, 24);
	assert.equal(day.labels, 14);
	assert.equal(hour.data[0].reduce((x, y) => x + y, 0), made.scans);
	assert.equal(day.data[0].reduce((x, y) => x + y, 0), made.scans);
	assert.equal(day.data[0][13], made.scans, 'today is the last day');
	assert.equal(scene.data.length, 6, 'six results stacked');
	// The figures as a table: checkpoint 2 green, venue 1 invalid.
	const sceneRow = (s) => page.$$eval(`tr.num-scene[data-scene="${s}"] td`, (tds) => tds.map((td) => td.textContent));
	const cp = await sceneRow('checkpoint');
	assert.equal(cp[1], String(made.checkpointGreen));
	assert.equal(cp[7], String(made.checkpointGreen));
	const ve = await sceneRow('venue');
	assert.equal(ve[5], String(made.venueInvalid));
	// Colours by district: the two residents, green, each in their district of registration.
	const greens = {};
	for (const r of [a, b]) greens[r.p.division] = (greens[r.p.division] || 0) + 1;
	const districts = await page.$$eval('tr.num-district', (trs) => trs.map((tr) => [tr.dataset.division, tr.cells[1].textContent, tr.cells[2].textContent, tr.cells[3].textContent]));
	assert.deepEqual(Object.fromEntries(districts.map(([d, g]) => [d, Number(g)])), greens);
	assert.ok(districts.every(([, , y, r]) => y === '0' && r === '0'));
	assert.equal(district.data[0].reduce((x, y) => x + y, 0), 2);
	assert.equal(await text(page, '#dash-appeals-open'), '1');
	assert.equal(await text(page, '#dash-appeals-overdue'), '0');
	await shot(page, 'console-dashboard');
	noProblems(page);
	await page.context().close();
});

test('log-in: a bad token is refused, a good one shows who and the role, and a lost session returns to log-in', async () => {
	const page = await openPage(browser, { viewport: DESKTOP });
	await page.goto(city.url('/console'));
	assert.equal(await page.getAttribute('#login-token', 'type'), 'password');
	await shot(page, 'console-login');
	await page.fill('#login-token', 'ab'.repeat(32));
	await page.click('#login-submit');
	await page.waitForSelector('#login-error.error:not([hidden])');
	assert.equal(await page.$('#whoami'), null);

	await page.fill('#login-token', city.staffToken('handler'));
	await page.click('#login-submit');
	await page.waitForSelector('#whoami');
	assert.match(await text(page, '#whoami'), /handler 1/);
	assert.match(await text(page, '#whoami'), /申诉处理员/);
	// The token is kept for this tab only, and never in the URL.
	assert.equal(await page.evaluate(() => sessionStorage.getItem('suishen.console.token')), city.staffToken('handler'));
	assert.equal(await page.evaluate((tok) => Object.values(localStorage).some((v) => v.includes(tok)), city.staffToken('handler')), false);
	assert.ok(!page.url().includes(city.staffToken('handler')));

	// A reload stays logged in; English on request (and kept).
	await page.reload();
	await page.waitForSelector('#whoami');
	await page.click('#lang');
	await until('English', async () => (await text(page, '#nav-appeals')) === 'Appeals');
	assert.match(await text(page, '#whoami'), /appeal handler/);
	await page.click('#lang');
	await until('Chinese again', async () => (await text(page, '#nav-appeals')) === '申诉处理');

	// A token the server no longer knows: the next call answers 401 and the log-in shows, saying why.
	await page.evaluate(() => sessionStorage.setItem('suishen.console.token', 'cd'.repeat(32)));
	await page.click('#nav-appeals');
	await page.waitForSelector('#login-token');
	assert.match(await text(page, '#login-error'), /重新登录/);
	noProblems(page);
});

test('each role sees only its own sections, and a section it may not use is not shown even by URL', async () => {
	for (const role of ROLES) {
		const page = await consoleAs(browser, city, role);
		assert.deepEqual(await navIds(page), NAV[role], role);
		for (const s of ALL.filter((s) => !NAV[role].includes(s))) assert.equal(await page.$(`#nav-${s}`), null, `${role} sees ${s}`);
		if (role === 'operator') {
			// The rules by URL: the console shows the dashboard instead, and the server refuses the call anyway.
			await page.goto(city.url('/console#rules'));
			await page.waitForSelector('#whoami');
			assert.equal(await page.getAttribute('#nav-dashboard', 'aria-current'), 'page');
			assert.equal(await page.$('#rules-card'), null);
			assert.equal((await city.api('GET', '/v1/staff/rules', { token: city.staffToken('operator') })).status, 403);
		}
		noProblems(page);
		await page.context().close();
	}
});

test('a refusal of the server (403) is said plainly, not hidden', async () => {
	// The console shows an operator only the operator's sections; were it to offer more (here: told the operator is
	// an admin), the server still refuses and the page says why.
	const page = await openPage(browser, { viewport: DESKTOP });
	await page.route('**/v1/staff/me', async (route) => {
		const res = await route.fetch();
		route.fulfill({ response: res, json: { ...(await res.json()), role: 'admin' } });
	});
	await page.goto(city.url('/console'));
	await page.fill('#login-token', city.staffToken('operator'));
	await page.click('#login-submit');
	await page.click('#nav-rules');
	await page.waitForSelector('#rules-error.error:not([hidden])');
	assert.equal(await page.getAttribute('#rules-error', 'data-status'), '403');
	assert.match(await text(page, '#rules-error'), /无权.*403/);
	await page.fill('#terminal-org', '某单位');
	await page.fill('#terminal-place', '某处');
	await page.click('#terminal-create');
	await page.waitForSelector('#terminal-error[data-status="403"]');
	assert.equal(await page.$('#terminal-secret'), null);
	noProblems(page);
	await page.context().close();
});

test('appeals: a handler works a resident’s appeal from claim to close, and the resident is green by it', async () => {
	const r = await city.resident();
	// Red by hand first, so that the appeal's green is a change.
	await city.ok('POST', '/v1/staff/status', { token: city.staffToken('admin'), body: { id_number: r.p.id_number, color: 'red', reason: '测试：人工赋红' } });
	assert.equal((await city.ok('GET', '/v1/me/status', { token: r.token })).color, 'red');
	const { appeal_id: id } = await city.ok('POST', '/v1/me/appeals', { token: r.token, body: { reason: '健康码误判', details: '我一直在家，\n没有去过任何地方。' } });

	const page = await consoleAs(browser, city, 'handler');
	await page.click('#nav-appeals');
	const row = `.appeal-row[data-appeal-id="${id}"]`;
	await page.waitForSelector(`${row}[data-state="submitted"]`);
	assert.ok(Number(await text(page, '#appeal-stats-open')) >= 1);
	await shot(page, 'console-appeals');
	// Filtered by state: a closed-only queue does not list it.
	await page.selectOption('#appeal-filter-state', 'closed');
	await until('the closed queue', async () => !(await page.$(row)));
	await page.selectOption('#appeal-filter-state', '');
	await page.click(`${row} button`);

	const state = () => page.getAttribute('#appeal-state', 'data-state');
	const enabled = async () => Object.fromEntries(await Promise.all(['claim', 'check-data', 'check-grassroots', 'decide', 'close']
		.map(async (b) => [b, await page.isEnabled(`#appeal-${b}`)])));
	await page.waitForSelector('#appeal-state[data-state="submitted"]');
	assert.equal(await text(page, '#appeal-person-name'), r.p.name, 'the handler sees the name unmasked');
	assert.match(await text(page, '#appeal-details'), /没有去过任何地方/);
	assert.deepEqual(await enabled(), { claim: true, 'check-data': false, 'check-grassroots': false, decide: false, close: false });

	await page.click('#appeal-claim');
	await page.waitForSelector('#appeal-state[data-state="assigned"]');
	assert.deepEqual(await enabled(), { claim: false, 'check-data': true, 'check-grassroots': true, decide: false, close: false });

	await page.fill('#check-data-note', '大数据中心核实：行程数据有误');
	await page.click('#appeal-check-data');
	await page.waitForSelector('#appeal-state[data-state="checking"]');
	await page.waitForSelector('.check[data-kind="data"][data-recorded="true"]');
	assert.equal(await page.isEnabled('#appeal-decide'), false, 'not before both checks');
	await page.fill('#check-grassroots-note', '居委会核实：本人在家');
	await page.click('#appeal-check-grassroots');
	await page.waitForSelector('.check[data-kind="grassroots"][data-recorded="true"]');
	assert.equal(await page.isEnabled('#appeal-decide'), true);

	await page.selectOption('#appeal-decision-outcome', 'upheld');
	await page.selectOption('#appeal-decision-color', 'green');
	await page.fill('#appeal-decision-reason', '行程数据有误，已更正');
	await page.click('#appeal-decide');
	await page.click('#confirm-ok');
	await page.waitForSelector('#appeal-state[data-state="upheld"]');
	assert.deepEqual(await enabled(), { claim: false, 'check-data': false, 'check-grassroots': false, decide: false, close: true });
	assert.equal(await page.$$eval('#appeal-timeline li', (li) => li.map((l) => l.dataset.action).join(' ')), 'filed claimed checked checked decided');
	await shot(page, 'console-appeal-detail');

	// Closing asks first: Cancel sends nothing, and the appeal stays upheld on the server too.
	const closes = watchRequests(page, new RegExp(`^/v1/staff/appeals/${id}/close$`));
	await page.click('#appeal-close');
	await page.click('#confirm-cancel');
	await page.waitForTimeout(1000);
	assert.deepEqual(closes.stop(), [], 'cancelled: no close sent');
	assert.equal(await state(), 'upheld');
	assert.equal((await city.ok('GET', `/v1/staff/appeals/${id}`, { token: city.staffToken('handler') })).state, 'upheld');
	await page.click('#appeal-close');
	await page.click('#confirm-ok');
	await page.waitForSelector('#appeal-state[data-state="closed"]');
	assert.equal(await page.isEnabled('#appeal-close'), false);

	const st = await city.ok('GET', '/v1/me/status', { token: r.token });
	assert.equal(st.color, 'green');
	assert.equal(st.reasons[0].rule, 'manual_override');
	assert.match(st.reasons[0].text, new RegExp(`#${id}.*行程数据有误，已更正`));
	const mine = await city.ok('GET', `/v1/me/appeals/${id}`, { token: r.token });
	assert.equal(mine.state, 'closed');
	assert.equal(mine.decision.color, 'green');
	noProblems(page);
	await page.context().close();
});

test('appeals: a claim refused because another handler claimed first (409) says so and shows who has it now', async () => {
	const r = await city.resident();
	const { appeal_id: id } = await city.ok('POST', '/v1/me/appeals', { token: r.token, body: { reason: '两位处理员', details: '同时认领' } });
	const other = await city.ok('POST', '/v1/staff/staff', { token: city.staffToken('admin'), body: { name: 'handler 2', role: 'handler' } });

	// This handler opens the appeal while it is unclaimed...
	const page = await consoleAs(browser, city, 'handler');
	await page.goto(city.url(`/console#appeals/${id}`));
	await page.waitForSelector('#appeal-state[data-state="submitted"]');
	assert.equal(await page.isEnabled('#appeal-claim'), true);
	// ... the other claims it first, through the API ...
	await city.ok('POST', `/v1/staff/appeals/${id}/claim`, { token: other.token });
	// ... and this one's claim is refused: the page says why, and shows the appeal as it is now.
	await page.click('#appeal-claim');
	await page.waitForSelector('#appeal-error.error:not([hidden])');
	assert.equal(await page.getAttribute('#appeal-error', 'data-status'), '409');
	assert.match(await text(page, '#appeal-error'), /当前状态不允许/);
	await page.waitForSelector('#appeal-state[data-state="assigned"]');
	assert.match(await text(page, '#appeal'), new RegExp(`工作人员 #${other.staff_id}(?!\\d)`), 'the other handler named');
	assert.match(await text(page, '#appeal'), /此申诉由其他处理员负责/);
	assert.deepEqual(await Promise.all(['claim', 'check-data', 'check-grassroots', 'decide', 'close'].map((b) => page.isEnabled(`#appeal-${b}`))),
		[false, false, false, false, false], 'nothing left for this handler to do');
	const now = await city.ok('GET', `/v1/staff/appeals/${id}`, { token: city.staffToken('handler') });
	assert.equal(now.state, 'assigned');
	assert.equal(now.handler_id, other.staff_id);
	await shot(page, 'console-appeal-claimed-by-another');
	noProblems(page);
	await page.context().close();
});

test('appeals: the queue pages by key, without gaps or repeats', async () => {
	const r = await city.resident();
	const ids = [];
	for (let i = 0; i < 23; i++) ids.push((await city.ok('POST', '/v1/me/appeals', { token: r.token, body: { reason: `第 ${i} 件`, details: '分页测试' } })).appeal_id);
	const page = await consoleAs(browser, city, 'handler');
	await page.click('#nav-appeals');
	await page.waitForSelector('.appeal-row');
	await page.selectOption('#appeal-page-size', '20');
	await until('a page of 20', async () => (await page.$$('.appeal-row')).length === 20 && page.isVisible('#appeal-more'));
	let n = 20;
	while (await page.isVisible('#appeal-more')) {
		await page.click('#appeal-more');
		await until('the next page', async () => (await page.$$('.appeal-row')).length > n);
		n = (await page.$$('.appeal-row')).length;
	}
	const listed = await page.$$eval('.appeal-row', (trs) => trs.map((tr) => Number(tr.dataset.appealId)));
	assert.equal(new Set(listed).size, listed.length, 'no appeal twice');
	for (const id of ids) assert.ok(listed.includes(id), `appeal ${id} listed`);
	const all = await city.ok('GET', '/v1/staff/appeals?limit=500', { token: city.staffToken('handler') });
	assert.deepEqual(listed, all.appeals.map((a) => a.appeal_id), 'the same queue, in the same order');
	noProblems(page);
	await page.context().close();
});

test('operator: files an appeal for a caller and looks it up; a wrong name is refused', async () => {
	const caller = city.person(); // need not be registered
	const page = await consoleAs(browser, city, 'operator');
	await page.click('#nav-operator');
	await page.fill('#op-file-id', caller.id_number);
	await page.fill('#op-file-name', caller.name);
	await page.fill('#op-file-reason', '来电申诉');
	await page.fill('#op-file-details', '来电人称从未去过风险地区');
	await page.click('#op-file-submit');
	await page.waitForSelector('#op-file-result.notice:not([hidden])');
	const id = await page.getAttribute('#op-file-result', 'data-appeal-id');
	assert.match(id, /^\d+$/);

	await page.fill('#op-lookup-id', caller.id_number);
	await page.fill('#op-lookup-name', caller.name + '错');
	await page.click('#op-lookup-submit');
	await page.waitForSelector('#op-lookup-error.error:not([hidden])');
	assert.match(await text(page, '#op-lookup-error'), /不匹配/);
	await page.fill('#op-lookup-name', caller.name);
	await page.click('#op-lookup-submit');
	await page.waitForSelector(`.lookup-row[data-appeal-id="${id}"]`);
	assert.match(await text(page, `.lookup-row[data-appeal-id="${id}"]`), /已提交/);
	assert.match(await text(page, `.lookup-row[data-appeal-id="${id}"]`), /12345/);

	// A guardian adds an adult with no account (pending); the operator confirms on the call.
	const g = await city.resident();
	const elder = city.person();
	const link = await city.ok('POST', '/v1/me/dependents', { token: g.token, body: { name: elder.name, id_number: elder.id_number, relation: 'parent' } });
	assert.equal(link.state, 'pending');
	await page.fill('#op-link-id', String(link.dependent_id));
	await page.click('#op-link-show');
	await page.waitForSelector('#op-link-state[data-state="pending"]');
	assert.ok(!(await page.textContent('#op-link-result')).includes(elder.id_number), 'masked');
	await page.click('#op-link-confirm');
	await page.click('#confirm-ok');
	await page.waitForSelector('#op-link-state[data-state="active"]');
	const deps = await city.ok('GET', '/v1/me/dependents', { token: g.token });
	assert.equal(deps.dependents.find((d) => d.dependent_id === link.dependent_id).state, 'active');
	noProblems(page);
	await page.context().close();
});

test('operator: confirms a child\'s link after seeing the household register; the document is recorded and audited', async () => {
	// A resident the registry does not name as the child's guardian asks to link them: the link waits.
	const g = await city.resident();
	const child = makePerson({ birth: '2019-09-09' });
	city.importPeople([child]);
	const link = await city.ok('POST', '/v1/me/dependents', { token: g.token, body: { name: child.name, id_number: child.id_number, relation: 'child' } });
	assert.equal(link.state, 'pending');
	assert.equal((await city.api('GET', `/v1/me/dependents/${link.dependent_id}/code`, { token: g.token })).status, 409);

	const page = await consoleAs(browser, city, 'operator');
	await page.click('#nav-operator');
	await page.fill('#op-link-id', String(link.dependent_id));
	await page.click('#op-link-show');
	await page.waitForSelector('#op-link-state[data-state="pending"]');
	await page.waitForSelector('#op-link-minor[data-minor="true"]');
	assert.match(await text(page, '#op-link-minor'), /出生医学证明或户口簿/);
	assert.ok(!(await page.textContent('#op-link-result')).includes(child.id_number), 'masked');
	await page.selectOption('#op-link-document', 'household_register');
	await shot(page, 'console-operator-document');
	// Cancelling the question sends nothing.
	const sent = watchRequests(page, /^\/v1\/staff\/dependents\/\d+\/(document|confirm)$/);
	await page.click('#op-link-confirm');
	assert.match(await text(page, '#confirm-text'), /户口簿/);
	await page.click('#confirm-cancel');
	assert.deepEqual(sent.seen, []);
	await page.click('#op-link-confirm');
	await page.click('#confirm-ok');
	await page.waitForSelector('#op-link-state[data-state="active"]');
	await page.waitForSelector('#op-link-basis[data-basis="household_register"]');
	assert.deepEqual(sent.stop(), [`POST /v1/staff/dependents/${link.dependent_id}/document`]);
	await shot(page, 'console-operator-document-confirmed');

	const deps = await city.ok('GET', '/v1/me/dependents', { token: g.token });
	const d = deps.dependents.find((x) => x.dependent_id === link.dependent_id);
	assert.deepEqual([d.state, d.basis], ['active', 'household_register']);
	await city.ok('GET', `/v1/me/dependents/${link.dependent_id}/code`, { token: g.token });
	const audit = await city.ok('GET', '/v1/staff/audit?action=dependent.document', { token: city.staffToken('security') });
	const entry = audit.entries.find((e) => e.detail && e.detail.link_id === link.dependent_id);
	assert.ok(entry, 'the confirmation is in the audit log');
	assert.equal(entry.actor.kind, 'staff');
	assert.equal(entry.actor.id, city.staff.operator.staff_id);
	assert.equal(entry.detail.basis, 'household_register');
	noProblems(page);
	await page.context().close();
});

test('tracing: an epidemiologist finds the companion of a case, masked', async () => {
	const t = await city.terminal('transit', '徐家汇站', '申通地铁');
	const other = await city.terminal('venue', '美术馆', '中华艺术宫');
	const cas = await city.resident();
	const near = await city.resident();
	const far = await city.resident();
	await city.scan(t, await code(cas.token));
	await city.scan(t, await code(near.token));
	await city.scan(other, await code(far.token));

	const page = await consoleAs(browser, city, 'epidemiologist');
	await page.click('#nav-trace');
	await page.fill('#trace-id', cas.p.id_number);
	await page.click('#trace-run');
	await page.waitForSelector('#trace-count');
	assert.equal(await page.getAttribute('#trace-count', 'data-count'), '1');
	const rows = await page.$$eval('tr.trace-companion', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
	assert.equal(rows.length, 1);
	assert.equal(rows[0][0], maskName(near.p.name));
	assert.equal(rows[0][1], maskId(near.p.id_number));
	assert.equal(rows[0][3], '徐家汇站');
	assert.equal(await page.$$eval('tr.trace-place', (trs) => trs.length), 1);
	const body = await page.textContent('body');
	assert.ok(!body.includes(near.p.id_number) && !body.includes(near.p.name), 'the companion only masked');
	await shot(page, 'console-trace');

	// Recording the companions as close contacts asks first, then colours them at once.
	await page.check('#trace-emit');
	const traces = watchRequests(page, /^\/v1\/staff\/trace$/);
	await page.click('#trace-run');
	await page.click('#confirm-cancel');
	await page.waitForTimeout(1000);
	assert.deepEqual(traces.stop(), [], 'cancelled: no trace sent');
	assert.equal(await page.$('#trace-count'), null, 'cancelled: no result shown');
	assert.equal((await city.ok('GET', '/v1/me/status', { token: near.token })).color, 'green');
	await page.click('#trace-run');
	await page.click('#confirm-ok');
	await page.waitForSelector('#trace-emitted');
	assert.match(await text(page, '#trace-emitted'), /已登记 1 条/);
	const st = await city.ok('GET', '/v1/me/status', { token: near.token });
	assert.equal(st.color, 'red');
	assert.equal(st.reasons[0].rule, 'red.close-contact');
	assert.equal((await city.ok('GET', '/v1/me/status', { token: far.token })).color, 'green');
	noProblems(page);
	await page.context().close();
});

test('security: a shared code raises an alert that names places and the person masked, and is acknowledged; the audit search finds staff calls', async () => {
	const r = await city.resident();
	const t1 = await city.terminal('checkpoint', '外滩入口', '黄浦公安');
	const t2 = await city.terminal('checkpoint', '虹桥站', '长宁公安');
	const c = await code(r.token);
	await city.scan(t1, c);
	await city.scan(t2, c);

	const page = await consoleAs(browser, city, 'security');
	await page.click('#nav-alerts');
	const row = '.alert-row[data-kind="shared_code"]';
	await until('the shared-code alert', async () => {
		if (await page.$(row)) return true;
		await page.click('#alert-refresh');
		return false;
	});
	assert.equal(await page.getAttribute(row, 'data-acknowledged'), 'false');
	// What an officer acts on, as a person reads it: the holder masked, both places with their organisations in the
	// order the code was seen, what happened in words; no raw id, no full name or ID number on the page.
	assert.equal(await text(page, `${row} .alert-person`), `${maskName(r.p.name)}（${maskId(r.p.id_number)}）`);
	const places = await page.$$eval(`${row} .alert-place`, (lis) => lis.map((li) => li.innerText));
	assert.equal(places.length, 2);
	assert.match(places[0], /^外滩入口 · 黄浦公安 \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
	assert.match(places[1], /^虹桥站 · 长宁公安 /);
	assert.match(await text(page, `${row} .alert-what`), /同一个码在两处被扫，相隔 [\d.]+ 秒/);
	const seen = await page.innerText(row);
	assert.ok(!/person:|terminal:|place_id|person_id/.test(seen), `raw ids on the page: ${seen}`);
	const whole = await page.textContent('main');
	assert.ok(!whole.includes(r.p.name) && !whole.includes(r.p.id_number), 'the name or ID number in full');
	assert.match(await text(page, `${row} pre.json`), /"seconds_apart"/, 'the ids are there, folded, for the audit search');
	await shot(page, 'console-alerts');
	await page.click(`${row} .alert-ack`);
	await page.waitForSelector(`${row}[data-acknowledged="true"]`);
	assert.match(await text(page, `${row} .acked`), /已由 security 1 于 .* 确认/);

	// The audit log: the trace above, by action; then this resident's entries, named by ID number in the body.
	await page.click('#nav-audit');
	await page.fill('#audit-action', 'POST /v1/staff/trace');
	await page.click('#audit-search');
	await page.waitForSelector('.audit-row');
	const rows = await page.$$eval('.audit-row', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
	assert.ok(rows.length >= 1);
	assert.ok(rows.every((cells) => cells[3] === 'POST /v1/staff/trace'));
	assert.match(rows[0][2], /epidemiologist/);
	assert.match(rows[0][6], /"status": 200/, 'the detail pretty-printed');
	await shot(page, 'console-audit');

	// Paging: older entries continue where the page ended.
	await page.fill('#audit-action', '');
	await page.selectOption('#audit-limit', '50');
	await page.click('#audit-search');
	await until('a page of 50', async () => (await page.$$('.audit-row')).length === 50);
	await page.click('#audit-older');
	await until('the older page', async () => (await page.$$('.audit-row')).length > 50);
	const seqs = await page.$$eval('.audit-row', (trs) => trs.map((tr) => Number(tr.dataset.seq)));
	assert.ok(seqs.every((x, i) => i === 0 || x < seqs[i - 1]), 'newest first, no repeats');

	await page.fill('#audit-subject', r.p.id_number);
	const requests = [];
	page.on('request', (q) => requests.push(q.url()));
	await page.click('#audit-search');
	await page.waitForSelector('#audit-count:not(:empty)');
	assert.ok(requests.every((u) => !u.includes(r.p.id_number)), 'no ID number in a URL');
	await page.fill('#audit-subject', '');
	await page.fill('#audit-actor', 'nobody');
	await page.click('#audit-search');
	await page.waitForSelector('#audit-error.error:not([hidden])');
	noProblems(page);
	await page.context().close();
});

test('rules: what-if shows the mover, a bad file its lines, apply changes the colour; a new terminal shows its secret once', async () => {
	const r = await city.resident();
	await city.ok('POST', '/v1/me/declarations', { token: r.token, body: { kind: 'health', temperature: 36.6, symptoms: [] } });
	assert.equal((await city.ok('GET', '/v1/me/status', { token: r.token })).color, 'green');

	const page = await consoleAs(browser, city, 'admin');
	await page.click('#nav-rules');
	await page.waitForSelector('#rules-version[data-version]');
	const current = await page.inputValue('#rules-text');
	assert.match(current, /^version /m);

	// A bad rule file: its errors by line.
	await page.fill('#rules-text', current + '\nrule yellow.bad\n    color purple\n');
	await page.click('#rules-whatif-run');
	await page.waitForSelector('#rules-errors li[data-line]');
	const line = current.split('\n').length + 2;
	assert.ok(await page.$(`#rules-errors li[data-line="${line}"]`), `an error on line ${line}`);
	await page.click(`#rules-errors li[data-line="${line}"] button`);
	assert.equal(await page.evaluate(() => { const ta = document.querySelector('#rules-text'); return ta.value.slice(ta.selectionStart, ta.selectionEnd); }), '    color purple');

	// A rule that makes anyone who declared their health yellow moves this resident.
	const next = current.replace(/^version .*$/m, 'version 2026.9') + '\nrule yellow.declared\n    color yellow\n    when health_declaration within 3d\n    reason zh 测试规则\n    reason en Test rule\n';
	await page.fill('#rules-text', next);
	await page.click('#rules-whatif-run');
	await page.waitForSelector('#whatif-people');
	assert.match(await text(page, '#whatif-people'), /2026\.9/);
	assert.equal(await page.getAttribute('#whatif-first-move', 'data-from'), 'green');
	assert.equal(await page.getAttribute('#whatif-first-move', 'data-to'), 'yellow');
	assert.equal(await page.getAttribute('#whatif-first-move', 'data-count'), '1');
	assert.ok(await page.$(`.district[data-division="${r.p.division}"] tr.move[data-to="yellow"]`), 'by district');
	await shot(page, 'console-rules-whatif');
	assert.equal((await city.ok('GET', '/v1/me/status', { token: r.token })).color, 'green', 'what-if changes nothing');

	await page.click('#rules-apply');
	await page.click('#confirm-ok');
	await until('version 2026.9 in force', async () => (await page.getAttribute('#rules-version', 'data-version')) === '2026.9');
	await page.waitForSelector('#rules-job[data-state="done"]');
	assert.match(await text(page, '#rules-job-counts'), /2026\.9/);
	assert.equal(await page.getAttribute('#rules-job', 'data-changed'), '1');
	assert.equal(await page.getAttribute('#job-first-move', 'data-to'), 'yellow');
	const st = await city.ok('GET', '/v1/me/status', { token: r.token });
	assert.equal(st.color, 'yellow');
	assert.equal(st.reasons[0].rule, 'yellow.declared');

	// A terminal: its secret once, and it signs scans.
	await page.fill('#terminal-org', '测试医院');
	await page.fill('#terminal-place', '发热门诊');
	await page.selectOption('#terminal-scene', 'hospital');
	await page.click('#terminal-create');
	await page.waitForSelector('#terminal-secret');
	const secret = await text(page, '#terminal-secret');
	assert.match(secret, /^[0-9a-f]{64}$/);
	const tid = Number(await page.getAttribute('#terminal-secret', 'data-terminal-id'));
	const scan = await city.scan({ terminal_id: tid, secret }, await code(r.token));
	assert.equal(scan.status, 200);
	assert.equal(scan.data.result, 'yellow');
	assert.equal(scan.data.person.name, r.p.name, 'a hospital sees the name');
	// A colour by hand, after a confirmation.
	const other = await city.resident();
	await page.fill('#status-id', other.p.id_number);
	await page.selectOption('#status-color', 'red');
	await page.fill('#status-reason', '测试：人工赋码');
	await page.click('#status-set');
	await page.click('#confirm-ok');
	await page.waitForSelector('#status-result.notice:not([hidden])');
	const os = await city.ok('GET', '/v1/me/status', { token: other.token });
	assert.equal(os.color, 'red');
	assert.equal(os.reasons[0].text, '测试：人工赋码');

	await page.click('#nav-dashboard');
	await page.click('#nav-rules');
	await page.waitForSelector('#rules-version[data-version]');
	assert.equal(await page.$('#terminal-secret'), null, 'shown once');
	noProblems(page);
	await page.context().close();
});

test('rules: applying over a city of 3,000 shows the job as a progress bar with counts, then who changed colour', async () => {
	// Everyone declared 36.5 an hour ago: green by the rules in force, yellow by the new set, so each of them is a
	// change of colour, a commit of its own: a job of seconds, which the page looks at every half second.
	const N = 3000;
	const big = await City.start({ people: 0 });
	try {
		const people = Array.from({ length: N }, () => makePerson());
		big.importPeople(people);
		const when = new Date(Date.now() - 3600e3).toISOString().replace(/\.\d{3}Z$/, 'Z');
		const file = join(big.root, 'declared.jsonl');
		writeFileSync(file, people.map((p, i) => JSON.stringify({ record_id: `hd-${i}`, kind: 'health_declaration', id_number: p.id_number, occurred_at: when, attributes: { temperature: 36.5, symptoms: [] } }) + '\n').join(''));
		execFileSync(BIN, ['import', 'records', '--data', big.data, '--source', 'cdc', file], { env: { ...process.env, SUISHEN_LOG: 'warn' }, stdio: 'ignore' });

		const page = await consoleAs(browser, big, 'admin');
		await page.click('#nav-rules');
		await page.waitForSelector('#rules-version[data-version]');
		const next = (await page.inputValue('#rules-text')).replace(/^version .*$/m, 'version 2026.10') + '\nrule yellow.warm\n    color yellow\n    when health_declaration where temperature >= 36.0 within 3d\n    reason zh 体温偏高\n    reason en Warm\n';
		const diff = await big.ok('POST', '/v1/staff/rules/diff', { token: big.staffToken('admin'), body: { rules: next } });
		assert.deepEqual(diff.changes, [{ from: 'green', to: 'yellow', count: N }]);

		// Every state of the job the page shows, as it shows it.
		await page.evaluate(() => {
			window.jobShown = [];
			new MutationObserver(() => {
				const el = document.querySelector('#rules-job');
				const bar = el && el.querySelector('progress');
				if (el) window.jobShown.push({ state: el.dataset.state, done: Number(el.dataset.done), total: el.dataset.total, bar: bar ? [bar.value, bar.max, bar.position] : null, text: el.textContent });
			}).observe(document.querySelector('#rules-job-box'), { childList: true, subtree: true });
		});
		await page.fill('#rules-text', next);
		await page.click('#rules-apply');
		await page.click('#confirm-ok');
		await page.waitForSelector('#rules-job[data-state="running"] progress');
		assert.equal(await page.isDisabled('#rules-apply'), true, 'one job at a time');
		await until('the job part-way', async () => {
			const d = Number(await page.getAttribute('#rules-job', 'data-done'));
			return d > 0 && d < N;
		}, 60000);
		await shot(page, 'console-rules-job-running');
		await page.waitForSelector('#rules-job[data-state="done"]', { timeout: 120000 });

		const shown = await page.evaluate(() => window.jobShown);
		const running = shown.filter((x) => x.state === 'running');
		const part = running.filter((x) => x.done > 0 && x.done < N);
		assert.ok(part.length >= 1, `a state part-way was shown: ${JSON.stringify(running.map((x) => x.done))}`);
		for (const x of part) {
			assert.equal(x.total, String(N));
			assert.deepEqual(x.bar.slice(0, 2), [x.done, N], 'the bar is the count');
			assert.ok(x.text.includes(`${x.done} / ${N}`), x.text);
		}
		const dones = running.map((x) => x.done);
		assert.deepEqual(dones, [...dones].sort((a, b) => a - b), 'the count only rises');
		// The outcome: everyone re-evaluated, the moves overall and by district, as the what-if had them.
		assert.equal(await page.getAttribute('#rules-job', 'data-done'), String(N));
		assert.equal(await page.getAttribute('#rules-job', 'data-changed'), String(N));
		assert.match(await text(page, '#rules-job-counts'), new RegExp(`2026\\.10.*${N}`));
		assert.equal(await page.getAttribute('#job-first-move', 'data-count'), String(N));
		const districts = await page.$$eval('#rules-job .district', (ds) => ds.map((d) => [d.dataset.division, Number(d.querySelector('tr.move').dataset.count)]));
		assert.deepEqual(districts, diff.by_district.map((x) => [x.division, x.changes[0].count]));
		assert.equal(await page.isDisabled('#rules-apply'), false);
		assert.equal(await page.getAttribute('#rules-version', 'data-version'), '2026.10');
		await shot(page, 'console-rules-job-done');

		noProblems(page);
		await page.context().close();
	} finally {
		await big.stop();
	}
});
