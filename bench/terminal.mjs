// The terminal page reads a code (issue 6 item 2): "within a second of the code being in view".
//   node bench/terminal.mjs [RUNS (10)]        (from the repository, after `ninja -C build && (cd web && node build.mjs)`)
// One City (a real `suishen serve` with the built pages, test/web/city.mjs), one registered resident, one checkpoint
// terminal. Each run: a fresh code PNG (GET /v1/me/code.png), a Y4M video of BLANK_S (2) s of white then QR_S (6) s
// of the code at FPS (15) frames a second, a new headless Chromium whose fake camera plays that file (in a loop), the
// terminal page opened already set up (its id and secret put in localStorage before the page's scripts run). In the
// page, instruments added before its scripts (nothing in web/src changed) time:
//   - the first video frame showing the code: requestVideoFrameCallback on #camera-video; each frame drawn 160x120 and
//     called "code" when more than 5% of its pixels are darker than 160 of 255 and more than 30% lighter than 220 (the
//     quiet zone: the black or empty frames of a starting video are no code); the frame's captureTime
//     (when the fake camera made it) where Chromium gives one, else its presentationTime;
//   - #result getting data-result (a MutationObserver), and the next animation frame (the result on screen);
//   - the page's decode ticks (its getImageData calls on the camera canvas) and its POST /v1/scans (fetch),
//     to split the time into: waiting for a tick, decoding and signing, the request, showing the answer.
// Prints `name value` lines (milliseconds), the 1000 ms target and how many runs met it; the per-run figures go to
// stderr as they come (DEBUG=1: also all the page recorded). FPS, BLANK_S and QR_S may be set in the environment.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { City, REPO, launch, openPage, noProblems, y4mFromPng, maskName } from '../test/web/city.mjs';

const RUNS = Number(process.argv[2] || 10);
const FPS = Number(process.env.FPS || 15);
const BLANK_S = Number(process.env.BLANK_S || 2);
const QR_S = Number(process.env.QR_S || 6);
const TARGET_MS = 1000;
const TABLET = { width: 1024, height: 768 };
if (!(RUNS >= 1) || !(FPS >= 10) || !(BLANK_S > 0) || !(QR_S > 0)) {
	console.error('usage: node bench/terminal.mjs [RUNS (10)]   (FPS >= 10, BLANK_S > 0, QR_S > 0 in the environment)');
	process.exit(2);
}

// What bounds the decode rate: the page's own constants (web/src/terminal/camera.js).
const cameraJs = readFileSync(join(REPO, 'web', 'src', 'terminal', 'camera.js'), 'utf8');
const constant = (name) => {
	const m = cameraJs.match(new RegExp(`const ${name} = (\\d+)`));
	if (!m) throw new Error(`web/src/terminal/camera.js: no ${name}`);
	return Number(m[1]);
};
const EVERY_MS = constant('EVERY_MS');
const MAX_SIDE = constant('MAX_SIDE');

// Runs in the terminal page before its own scripts: sets the terminal up and times what the page does.
function probe({ key, term }) {
	if (location.pathname !== '/terminal') return;
	localStorage.setItem(key, JSON.stringify(term));
	const B = (window.__bench = { frames: 0, firstFrame: null, qr: [], blank: [], ticks: [], fetches: [], odd: [], result: null });
	const pick = (now, m) => ({ now, presented: m.presentationTime, expected: m.expectedDisplayTime, capture: m.captureTime ?? null,
		media: m.mediaTime, n: m.presentedFrames });
	// The page's decode ticks: getImageData of its (up to MAX_SIDE wide) camera canvas.
	const small = document.createElement('canvas');
	small.width = 160;
	small.height = 120;
	const getImageData = CanvasRenderingContext2D.prototype.getImageData;
	CanvasRenderingContext2D.prototype.getImageData = function (...a) {
		if (this.canvas !== small) B.ticks.push(performance.now());
		return getImageData.apply(this, a);
	};
	const fetch0 = window.fetch;
	window.fetch = function (url, opts) {
		const f = { url: String(url), start: performance.now(), end: null };
		if (f.url.endsWith('/v1/scans')) B.fetches.push(f);
		const p = fetch0.call(this, url, opts);
		p.then(() => (f.end = performance.now()), () => (f.end = performance.now()));
		return p;
	};
	let g = null;
	let showing = false;
	function onFrame(video) {
		return function frame(now, m) {
			B.frames++;
			if (!B.firstFrame) B.firstFrame = pick(now, m);
			g = g || small.getContext('2d', { willReadFrequently: true });
			g.drawImage(video, 0, 0, 160, 120);
			const d = getImageData.call(g, 0, 0, 160, 120).data;
			let dark = 0, light = 0;
			for (let i = 0; i < d.length; i += 4) {
				if (d[i + 3] < 255) continue; // nothing drawn (the video had no picture yet)
				const sum = d[i] + d[i + 1] + d[i + 2];
				if (sum < 3 * 160) dark++;
				else if (sum > 3 * 220) light++;
			}
			const n = d.length / 4;
			// A code: dark modules and a white quiet zone. A black or empty frame (the video starting) is neither.
			const code = dark > n * 0.05 && light > n * 0.3;
			if (!code && light < n * 0.9) B.odd.push({ ...pick(now, m), dark, light });
			if (code !== showing) (code ? B.qr : B.blank).push(pick(now, m));
			showing = code;
			video.requestVideoFrameCallback(frame);
		};
	}
	let watching = false;
	new MutationObserver(() => {
		const video = document.getElementById('camera-video');
		if (video && !watching) {
			watching = true;
			video.requestVideoFrameCallback(onFrame(video));
		}
		const r = document.getElementById('result');
		if (r && r.dataset.result && !B.result) {
			const res = (B.result = { kind: r.dataset.result, at: performance.now(), painted: null, name: document.getElementById('result-name').textContent });
			requestAnimationFrame((t) => (res.painted = t));
		}
	}).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-result'] });
}

const median = (a) => pct(a, 0.5);
function pct(a, p) {
	const s = [...a].sort((x, y) => x - y);
	return s[Math.max(0, Math.ceil(p * s.length) - 1)];
}
const r0 = (x) => Math.round(x);

const city = await City.start({ people: 4, codeTtl: 120 });
let helper;
const runs = [];
try {
	const terminal = await city.terminal('checkpoint', '人民广场站', '申通地铁');
	const { p, token } = await city.resident();
	const masked = maskName(p.name);
	helper = await launch(); // decodes the PNGs into video frames; idle while a run is timed
	const helperPage = await openPage(helper);
	const term = { id: String(terminal.terminal_id), secret: terminal.secret };

	for (let run = 1; run <= RUNS; run++) {
		const res = await fetch(city.url('/v1/me/code.png'), { headers: { Authorization: `Bearer ${token}` } });
		if (res.status !== 200) throw new Error(`GET /v1/me/code.png: ${res.status}`);
		const png = Buffer.from(await res.arrayBuffer());
		const file = join(city.root, `camera-${run}.y4m`);
		await y4mFromPng(helperPage, png, file, { blankFrames: BLANK_S * FPS, qrFrames: QR_S * FPS, fps: FPS });

		const browser = await launch({ camera: file });
		try {
			const page = await openPage(browser, { viewport: TABLET });
			await page.addInitScript(probe, { key: 'suishen.terminal', term });
			const sent = Date.now();
			await page.goto(city.url('/terminal'));
			await page.waitForFunction(() => window.__bench && window.__bench.result && window.__bench.result.painted !== null,
				null, { timeout: (BLANK_S + 2 * (BLANK_S + QR_S)) * 1000 + 10000, polling: 100 });
			const wall = Date.now() - sent;
			const B = await page.evaluate(() => window.__bench);
			noProblems(page);
			if (B.result.kind !== 'green' || B.result.name !== masked) throw new Error(`run ${run}: the page showed ${B.result.kind} ${B.result.name}`);
			if (process.env.DEBUG) console.error(JSON.stringify({ ...B, ticks: B.ticks.length }));
			if (!B.qr.length) throw new Error(`run ${run}: no video frame showing the code was seen`);
			const q = B.qr[0];
			const shown = q.capture ?? q.presented; // the code in view: captured by the camera (or else shown)
			if (B.result.at < shown) throw new Error(`run ${run}: a result before the code was in view`);
			const f = B.fetches[0];
			const tick = B.ticks.filter((t) => t <= f.start).pop(); // the tick whose decode found the code
			const r = {
				qr: B.result.at - shown,
				qrPainted: B.result.painted - shown,
				qrFromPresented: B.result.at - q.presented,
				nav: B.result.at, // performance.now() counts from the navigation's start
				wall,
				firstFrame: B.firstFrame.presented,
				captureLag: q.capture === null ? null : q.presented - q.capture,
				wait: tick - shown,
				decode: f.start - tick,
				request: f.end - f.start,
				render: B.result.at - f.end,
				ticks: B.ticks.filter((t) => t > shown && t <= f.start).length,
				tickGap: B.ticks.length > 1 ? median(B.ticks.slice(1).map((t, i) => t - B.ticks[i])) : null,
				scans: B.fetches.length,
				odd: B.odd.length,
				qrBeforeResult: B.qr.filter((x) => (x.capture ?? x.presented) < B.result.at).length,
				hasCapture: q.capture !== null,
			};
			runs.push(r);
			console.error(`run ${run}: code in view -> result ${r0(r.qr)} ms (wait for a tick ${r0(r.wait)}, decode+sign ${r0(r.decode)}, ` +
				`request ${r0(r.request)}, show ${r0(r.render)}; ${r.ticks} tick(s)); navigation -> result ${r0(r.nav)} ms; ` +
				`first frame at ${r0(r.firstFrame)} ms; page's ticks every ${r0(r.tickGap)} ms`);
		} finally {
			await browser.close();
			rmSync(file, { force: true });
		}
	}
} finally {
	if (helper) await helper.close();
	await city.stop();
}

const col = (k) => runs.map((r) => r[k]);
const stats = (name, a) => {
	console.log(`${name}_median ${r0(median(a))}`);
	console.log(`${name}_p90 ${r0(pct(a, 0.9))}`);
	console.log(`${name}_min ${r0(Math.min(...a))}`);
	console.log(`${name}_max ${r0(Math.max(...a))}`);
};
console.log(`runs ${runs.length}`);
console.log(`video_fps ${FPS}`);
console.log(`video_blank_s ${BLANK_S}`);
console.log(`video_code_s ${QR_S}`);
console.log(`page_scan_interval_ms ${EVERY_MS}`);
console.log(`page_decode_max_side_px ${MAX_SIDE}`);
console.log(`page_tick_gap_ms_median ${r0(median(col('tickGap')))}`);
console.log(`code_in_view_from ${runs.every((r) => r.hasCapture) ? 'captureTime' : 'presentationTime'}`);
console.log(`qr_to_result_ms_runs ${col('qr').map(r0).join(' ')}`);
stats('qr_to_result_ms', col('qr'));
console.log(`qr_to_result_painted_ms_median ${r0(median(col('qrPainted')))}`);
if (runs.every((r) => r.captureLag !== null)) console.log(`capture_to_presented_ms_median ${r0(median(col('captureLag')))}`);
console.log(`wait_for_tick_ms_median ${r0(median(col('wait')))}`);
console.log(`decode_and_sign_ms_median ${r0(median(col('decode')))}`);
console.log(`scan_request_ms_median ${r0(median(col('request')))}`);
console.log(`show_result_ms_median ${r0(median(col('render')))}`);
console.log(`ticks_to_read_median ${median(col('ticks'))}`);
console.log(`nav_to_result_ms_runs ${col('nav').map(r0).join(' ')}`);
stats('nav_to_result_ms', col('nav'));
console.log(`nav_to_first_frame_ms_median ${r0(median(col('firstFrame')))}`);
console.log(`target_ms ${TARGET_MS}`);
console.log(`within_target ${runs.filter((r) => r.qr <= TARGET_MS).length}/${runs.length}`);
console.log(`frames_neither_white_nor_code ${col('odd').reduce((a, b) => a + b, 0)}`);
console.log(`code_windows_before_result_max ${Math.max(...col('qrBeforeResult'))}`);
console.log(`scans_sent_per_run_max ${Math.max(...col('scans'))}`);
