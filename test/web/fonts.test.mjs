// fonts: the pages' Chinese drawn as characters, not as boxes. Chromium draws a character that no installed font
// has as a box ("tofu"): a fresh Debian has no Chinese font, so scripts/install-deps installs one
// (fonts-wqy-microhei) and the pages' font stack names it. Each page's Chinese headings are checked picture by
// picture (boxedHan in city.mjs), and the check is shown to see boxes where there are boxes: a Chromium from
// which fontconfig hides every font that has Chinese draws the same heading as boxes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { City, launch, openPage, noProblems, shot, boxedHan, fontsOf } from './city.mjs';

// The first screen of each page: the resident's log-in (its heading and the brand), the console's, the terminal's set-up.
const HEADINGS = [
	['resident', '/', 'h1'],
	['resident', '/', '.brand-title'],
	['console', '/console', 'h1'],
	['terminal', '/terminal', 'h1'],
];
let city, browser;

before(async () => {
	city = await City.start({ people: 1 });
	browser = await launch();
});

after(async () => {
	await browser?.close();
	await city?.stop();
});

async function opened(b, path, sel) {
	const page = await openPage(b);
	await page.goto(city.url(path));
	await page.locator(sel).first().waitFor();
	return page;
}

test('every page draws its Chinese headings as characters, not boxes', async () => {
	for (const [name, path, sel] of HEADINGS) {
		const page = await opened(browser, path, sel);
		const boxes = await boxedHan(page, sel);
		assert.deepEqual(boxes, [], `${path} ${sel} ("${await page.textContent(sel)}") drawn as boxes, with ${(await fontsOf(page, sel)).join(', ')}: `
			+ 'no installed font has these characters (scripts/install-deps installs fonts-wqy-microhei)');
		if (sel === 'h1') await shot(page, `fonts-${name}`);
		noProblems(page);
		await page.context().close();
	}
});

test('with the fonts that have Chinese hidden from Chromium, the same check sees boxes', async () => {
	// fontconfig as the system has it, less every font that covers Chinese (what a fresh Debian 12 has).
	const conf = join(city.root, 'fonts-without-chinese.conf');
	writeFileSync(conf, `<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
	<include ignore_missing="yes">/etc/fonts/fonts.conf</include>
	<selectfont><rejectfont><pattern><patelt name="lang"><string>zh-cn</string></patelt></pattern></rejectfont></selectfont>
</fontconfig>
`);
	const bare = await launch({ env: { ...process.env, FONTCONFIG_FILE: conf } });
	try {
		const page = await opened(bare, '/', 'h1');
		const heading = await page.textContent('h1');
		assert.deepEqual(await boxedHan(page, 'h1'), [...new Set(heading.match(/\p{Script=Han}/gu))], `"${heading}" drawn without Chinese fonts`);
		await shot(page, 'fonts-hidden-boxes');
		noProblems(page);
	} finally {
		await bare.close();
	}
});
