// appeal: one story across two pages, as the issue tells it: a resident whose code is red files an appeal on the
// resident page; a handler works it in the staff console (claim, both checks, upheld green, close); the resident
// page then shows the new colour, and a terminal scanning the resident's code answers green.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { City, launch, openPage, noProblems, shot, until, residentLogin, consoleAs } from './city.mjs';

let city, browser;

before(async () => {
	city = await City.start({ people: 6 });
	browser = await launch();
});

after(async () => {
	await browser?.close();
	await city?.stop();
});

test('an appeal filed on the resident page, decided in the console, turns the resident page green', async () => {
	const p = city.person();
	await city.register(p);
	await city.ok('POST', '/v1/staff/status', {
		token: city.staffToken('admin'),
		body: { id_number: p.id_number, color: 'red', reason: '测试：行程数据' },
	});

	// the resident logs in on their page and sees red
	const resident = await openPage(browser);
	await residentLogin(resident, city, p);
	await resident.waitForSelector('#code-frame[data-color="red"]');

	// and files an appeal
	await resident.click('#nav-appeals');
	await resident.click('#appeal-new');
	await resident.fill('#appeal-reason', '我没有去过中风险地区');
	await resident.fill('#appeal-details', '那天我一直在家，行程数据有误。');
	await resident.click('#appeal-submit');
	const item = await resident.waitForSelector('.appeal-item[data-state="submitted"]');
	const appealId = await item.getAttribute('data-appeal-id');
	assert.match(appealId, /^\d+$/);
	await shot(resident, 'appeal-filed-resident');

	// the handler works it in the console
	const consolePage = await consoleAs(browser, city, 'handler');
	await consolePage.click('#nav-appeals');
	await consolePage.click(`.appeal-row[data-appeal-id="${appealId}"]`);
	await consolePage.waitForSelector('#appeal-state[data-state="submitted"]');
	await consolePage.click('#appeal-claim');
	await consolePage.waitForSelector('#appeal-state[data-state="assigned"]');
	await consolePage.fill('#check-data-note', '行程数据核查：当日无到访记录');
	await consolePage.click('#appeal-check-data');
	await consolePage.waitForSelector('#appeal-state[data-state="checking"]');
	await consolePage.fill('#check-grassroots-note', '街道核实：居家');
	await consolePage.click('#appeal-check-grassroots');
	await until('the decision to be possible', async () => !(await consolePage.isDisabled('#appeal-decide')));
	await consolePage.selectOption('#appeal-decision-outcome', 'upheld');
	await consolePage.selectOption('#appeal-decision-color', 'green');
	await consolePage.fill('#appeal-decision-reason', '行程数据有误，已更正');
	await consolePage.click('#appeal-decide');
	await consolePage.click('#confirm-ok');
	await consolePage.waitForSelector('#appeal-state[data-state="upheld"]');
	await shot(consolePage, 'appeal-decided-console');
	await consolePage.click('#appeal-close');
	await consolePage.click('#confirm-ok');
	await consolePage.waitForSelector('#appeal-state[data-state="closed"]');

	// the resident page shows green (it re-reads the colour as it renews the code, or on a reload)
	await resident.click('#nav-code');
	await until('the resident page to show green', async () => {
		if ((await resident.getAttribute('#code-frame', 'data-color')) === 'green') return true;
		await resident.reload();
		await resident.waitForSelector('#code-frame');
		return (await resident.getAttribute('#code-frame', 'data-color')) === 'green';
	}, 20000);
	await resident.click('#nav-appeals');
	await resident.waitForSelector(`.appeal-item[data-appeal-id="${appealId}"][data-state="closed"]`);
	await resident.click('#nav-code');
	await shot(resident, 'appeal-green-resident');

	// and a terminal agrees
	const token = await city.login(p);
	const { code } = await city.ok('GET', '/v1/me/code', { token });
	const t = await city.terminal('community', '康乐小区东门', '康乐小区物业');
	const scan = await city.scan(t, code);
	assert.equal(scan.data.result, 'green');

	noProblems(resident);
	noProblems(consolePage);
});

test('after an upheld appeal the status page shows the reason of green, and what it replaced under it', async () => {
	const { p, token } = await city.resident();
	await city.ok('POST', '/v1/me/declarations', { token, body: { kind: 'health', temperature: 38.6 } });
	const { appeal_id: id } = await city.ok('POST', '/v1/me/appeals', { token, body: { reason: '体温计故障', details: '复测体温正常。' } });
	const hand = city.staffToken('handler');
	await city.ok('POST', `/v1/staff/appeals/${id}/claim`, { token: hand });
	await city.ok('POST', `/v1/staff/appeals/${id}/checks`, { token: hand, body: { kind: 'data', result: '无发热就诊记录' } });
	await city.ok('POST', `/v1/staff/appeals/${id}/checks`, { token: hand, body: { kind: 'grassroots', result: '社区复测体温正常' } });
	await city.ok('POST', `/v1/staff/appeals/${id}/decision`, { token: hand, body: { decision: 'upheld', color: 'green', reason: '复测正常' } });

	const page = await openPage(browser);
	await residentLogin(page, city, p);
	await page.click('#nav-status');
	await page.waitForSelector('#status-color[data-color="green"]');
	// one reason of green, the appeal's; the fever is under it as what it replaced, not a reason of green
	const top = page.locator('#status-reasons > li.reason');
	await until('the reasons', async () => (await top.count()) === 1);
	assert.equal(await top.first().getAttribute('data-rule'), 'manual_override');
	assert.match(await top.first().locator('> .reason-text').textContent(), new RegExp(`申诉 #${id}.*复测正常`));
	const aside = top.first().locator('.reason-overrides');
	assert.equal(await aside.getAttribute('data-color'), 'yellow');
	assert.match(await aside.textContent(), /取代按规则赋予的黄码/);
	assert.match(await aside.textContent(), /发热/);
	assert.equal(await aside.locator('li.reason[data-rule="yellow.fever"]').count(), 1);
	await shot(page, 'appeal-upheld-status');
	noProblems(page);
});
