// terminal page (/terminal): an entrance guard's tablet. Set up once with the terminal's id and secret, then
// it reads residents' codes (camera, or a USB scanner typing into a field), sends each to POST /v1/scans
// signed with HMAC-SM3, and shows the answer large for a few seconds: the status colour, the masked name,
// who presented a relative's code; expired, invalid and unknown codes and failures each look different.
import './style.css';
import { h, replace, when } from '../common/dom.js';
import { ApiError } from '../common/api.js';
import { getLang, setLang, onLang } from '../common/i18n.js';
import { t } from './strings.js';
import { loadTerminal, saveTerminal, forgetTerminal, validId, validSecret, signedCall, why401 } from './signed.js';
import { startCamera } from './camera.js';
import { armSound, playResult } from './sound.js';

const RESULT_MS = 4000; // how long an answer stays up before scanning again
const ERROR_MS = 6000; // failures stay a little longer: someone must read them
const REPEAT_MS = 3000; // the same code read again within this is not sent again
const ANSWER_MS = 10000; // a scan unanswered by then is reported, so the guard is not left waiting
const RECENT = 6; // results kept in the list (in memory only: names never reach storage)
const KINDS = new Set(['green', 'yellow', 'red', 'expired', 'invalid', 'unknown']);

const app = document.getElementById('app');
let term = loadTerminal();
let view = term ? 'scan' : 'setup';

// ---- setup -----------------------------------------------------------------------------------------------------

const blankSetup = () => ({ id: '', secret: '', errors: {}, message: null, busy: false });
let setup = blankSetup();

function setupView() {
	const s = setup;
	const fieldError = (key, id) => (s.errors[key] ? h('div', { class: 'error', id, role: 'alert' }, t(s.errors[key])) : null);
	const idInput = h('input', {
		id: 'setup-id', name: 'terminal-id', inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false',
		value: s.id, 'aria-invalid': s.errors.id ? 'true' : null, oninput: (e) => (s.id = e.target.value),
	});
	const secretInput = h('input', {
		id: 'setup-secret', name: 'terminal-secret', type: 'password', autocomplete: 'off', spellcheck: 'false',
		maxlength: 200, value: s.secret, 'aria-invalid': s.errors.secret ? 'true' : null,
		oninput: (e) => (s.secret = e.target.value),
	});
	return h('div', { class: 'setup-page' },
		h('header', { class: 'bar' },
			h('div', { class: 'place' }, t('title')),
			h('span', { class: 'spacer' }),
			langButton()),
		h('form', { class: 'card setup', id: 'setup-form', novalidate: true, onsubmit: submitSetup },
			h('h1', null, t('setupTitle')),
			h('p', { class: 'muted' }, t('setupIntro')),
			h('label', { for: 'setup-id' }, t('setupId')), idInput, fieldError('id', 'setup-id-error'),
			h('label', { for: 'setup-secret' }, t('setupSecret')), secretInput, fieldError('secret', 'setup-secret-error'),
			s.message ? h('div', { class: 'error', id: 'setup-error', role: 'alert' }, t(s.message.key, s.message.vars)) : null,
			h('button', { id: 'setup-submit', type: 'submit', class: 'block', disabled: s.busy }, s.busy ? t('setupChecking') : t('setupSubmit'))));
}

async function submitSetup(ev) {
	ev.preventDefault();
	if (setup.busy) return;
	const id = setup.id.trim();
	const secret = setup.secret.trim().toLowerCase();
	setup.errors = {};
	setup.message = null;
	if (!validId(id)) setup.errors.id = 'badId';
	if (!validSecret(secret)) setup.errors.secret = 'badSecret';
	if (setup.errors.id || setup.errors.secret) {
		render();
		document.getElementById(setup.errors.id ? 'setup-id' : 'setup-secret').focus();
		return;
	}
	setup.busy = true;
	render();
	try {
		// The server is the judge of an id and secret: only a pair it accepts is kept.
		const me = await signedCall({ id, secret }, 'GET', '/v1/terminals/me');
		saveTerminal({ id, secret, org: me.org, place: me.place, scene: me.scene });
		term = loadTerminal();
		setup = blankSetup();
		view = 'scan';
		render();
		startScanning();
	} catch (e) {
		setup.busy = false;
		setup.message = e.status === 401 ? await why401('setupClock', 'setupRefused')
			: { key: 'setupFailed', vars: { msg: e.status === 0 ? t('offline') : `${e.status} ${e.message}` } };
		render();
	}
}

// ---- scanning: the parts live as long as the page, so the camera's video keeps playing across re-renders ----

const video = h('video', { id: 'camera-video', muted: true, playsinline: true, autoplay: true, 'aria-hidden': 'true' });
video.muted = true;
const part = {
	place: h('div', { id: 'terminal-place', class: 'place' }),
	banner: h('div', { class: 'banner', id: 'terminal-banner', role: 'alert', hidden: true }),
	confirm: h('div', { class: 'confirm', id: 'reset-confirm', role: 'alertdialog', hidden: true }),
	scanLabel: h('label', { for: 'scan-input' }),
	scanInput: h('input', {
		id: 'scan-input', name: 'code', autocomplete: 'off', autocapitalize: 'characters', spellcheck: 'false',
		maxlength: 512, enterkeyhint: 'go',
	}),
	scanButton: h('button', { type: 'submit' }),
	busy: h('span', { class: 'busy', hidden: true }),
	cameraMsg: h('p', { class: 'camera-msg', id: 'camera-state' }),
	guide: h('div', { class: 'guide', 'aria-hidden': 'true' }),
	recentTitle: h('h2'),
	recentList: h('ol', { class: 'recent', id: 'recent' }),
	result: h('div', { id: 'result', class: 'result', role: 'status', 'aria-live': 'assertive', hidden: true }),
	resultWord: h('div', { id: 'result-word', class: 'word' }),
	resultName: h('div', { id: 'result-name', class: 'name' }),
	resultId: h('div', { id: 'result-id', class: 'idno' }),
	resultBy: h('div', { id: 'result-presented-by', class: 'by' }),
	resultDetail: h('div', { id: 'result-detail', class: 'detail' }),
	resultHint: h('div', { class: 'hint' }),
};
part.result.append(h('div', { class: 'mark', 'aria-hidden': 'true' }), part.resultWord, part.resultName, part.resultId,
	part.resultBy, part.resultDetail, part.resultHint);
part.result.addEventListener('click', () => closeResult());
// On a touch screen the field holds the focus for the scanner, and a keyboard popping up at each focus would
// hide the camera: the on-screen keyboard comes only when the guard taps the field to type.
if (window.matchMedia && matchMedia('(pointer: coarse)').matches) {
	part.scanInput.inputMode = 'none';
	part.scanInput.addEventListener('pointerdown', () => (part.scanInput.inputMode = 'text'));
	part.scanInput.addEventListener('blur', () => (part.scanInput.inputMode = 'none'));
}

const scanForm = h('form', { class: 'scan-form', onsubmit: submitTyped }, part.scanLabel,
	h('div', { class: 'row' }, part.scanInput, part.scanButton, part.busy));
const cameraBox = h('section', { class: 'camera' }, video, part.guide, part.cameraMsg);
const recentBox = h('aside', { class: 'recent-box' }, part.recentTitle, part.recentList);
const scanPage = h('div', { class: 'scan-page' },
	h('header', { class: 'bar' }, part.place, h('span', { class: 'spacer' }), langButton(),
		h('button', { type: 'button', class: 'secondary', id: 'reset-terminal', 'data-text': 'reset', onclick: askReset }, t('reset'))),
	part.confirm, part.banner, scanForm,
	h('div', { class: 'stage' }, cameraBox, recentBox, part.result));

let banner = null; // null, or { key, vars, error } of a standing problem: the secret, the clock, the network
let cameraState = 'starting';
let stopCamera = null;
let result = null; // what #result shows: { kind, person, presentedBy } or { kind: 'error', key, vars }
let resultTimer = null;
let recent = [];
let lastCode = null; // the last code read and when it was last seen, to drop repeats
let lastSeen = 0;
let seq = 0; // only the answer to the latest code sent is shown
let confirming = false;

function fillScan() {
	part.place.textContent = term && term.org
		? [term.org, term.place, t.or(`scene.${term.scene}`, String(term.scene))].join(' · ')
		: term ? t('terminalNo', { id: term.id }) : '';
	part.banner.hidden = !banner;
	part.banner.className = banner && banner.error ? 'banner error' : 'banner warn';
	part.banner.textContent = banner ? t(banner.key, banner.vars) : '';
	part.scanLabel.textContent = t('scanLabel');
	part.scanInput.placeholder = t('scanPlaceholder');
	part.scanButton.textContent = t('scanSubmit');
	part.busy.textContent = t('checking');
	part.recentTitle.textContent = t('recent');
	fillConfirm();
	fillCamera();
	fillResult();
	fillRecent();
	// Buttons made once carry their text's key in data-text.
	for (const b of scanPage.querySelectorAll('[data-text]')) b.textContent = t(b.dataset.text);
}

function fillCamera() {
	cameraBox.dataset.state = cameraState;
	const key = { starting: 'cameraStarting', on: 'cameraOn', denied: 'cameraDenied', absent: 'cameraAbsent', failed: 'cameraFailed' }[cameraState];
	part.cameraMsg.textContent = t(key);
	part.guide.hidden = cameraState !== 'on';
}

function fillConfirm() {
	part.confirm.hidden = !confirming;
	if (!confirming) return replace(part.confirm);
	replace(part.confirm,
		h('p', null, t('resetConfirm')),
		h('div', { class: 'row' },
			h('button', { type: 'button', class: 'danger', id: 'reset-yes', onclick: doReset }, t('resetYes')),
			h('button', { type: 'button', class: 'secondary', id: 'reset-no', onclick: cancelReset }, t('cancel'))));
}

function fillResult() {
	const r = result;
	const el = part.result;
	if (!r) {
		el.hidden = true;
		el.removeAttribute('data-result');
		return;
	}
	el.hidden = false;
	el.dataset.result = r.kind;
	el.className = `result r-${r.kind}`;
	const person = r.person || {};
	part.resultWord.textContent = r.kind === 'error' ? t('error') : t.or(`word.${r.kind}`, t(`result.${r.kind}`));
	part.resultName.textContent = person.name || '';
	part.resultId.textContent = person.id_number || '';
	const by = r.presentedBy;
	part.resultBy.textContent = by ? t('presentedBy', { name: by.name || '', relation: t.or(`relation.${by.relation}`, String(by.relation)) }) : '';
	part.resultBy.hidden = !by;
	part.resultDetail.textContent = r.kind === 'error' ? t(r.key, r.vars)
		: r.kind === 'expired' ? t('expiredDetail') : r.kind === 'invalid' ? t('invalidDetail')
			: r.kind === 'unknown' ? t('unknownDetail') : '';
	part.resultHint.textContent = t('tapToClose');
}

function fillRecent() {
	if (!recent.length) return replace(part.recentList, h('li', { class: 'muted' }, t('recentNone')));
	replace(part.recentList, recent.map((r) => {
		const time = when(r.at, true).slice(11); // the time of day: the list holds the last few minutes
		const word = r.kind === 'error' ? t('error') : t(`result.${r.kind}`);
		return h('li', { dataset: { result: r.kind } },
			h('span', { class: 'time' }, time),
			h('span', { class: `pill ${pillClass(r.kind)}` }, word),
			h('span', { class: 'who' }, (r.person && r.person.name) || ''),
			r.presentedBy ? h('span', { class: 'muted' }, ' ← ' + (r.presentedBy.name || '')) : null);
	}));
}

const pillClass = (kind) => (kind === 'green' || kind === 'yellow' || kind === 'red' ? kind : kind === 'invalid' || kind === 'error' ? 'dark' : 'grey');

// A code from the camera or the typed field. The camera sees the same code many times a second: a code seen
// again within REPEAT_MS of its last sighting is dropped, so a code held up is sent once.
function offer(raw) {
	const code = String(raw).trim();
	if (!code || !term) return;
	const now = Date.now();
	if (code === lastCode && now - lastSeen < REPEAT_MS) {
		lastSeen = now;
		return;
	}
	lastCode = code;
	lastSeen = now;
	send(code);
}

async function send(code) {
	const mine = ++seq;
	part.busy.hidden = false;
	let r;
	try {
		const d = await withTimeout(signedCall(term, 'POST', '/v1/scans', { code }), ANSWER_MS);
		r = { kind: KINDS.has(d.result) ? d.result : 'unknown', person: d.person || null, presentedBy: d.presented_by || null };
		if (banner) {
			banner = null;
			fillScan();
		}
	} catch (e) {
		lastCode = null; // nothing was checked: the same code may be tried again at once
		if (e.status === 401) {
			const cause = await why401('errClock', 'errAuth');
			r = { kind: 'error', ...cause };
			banner = { key: cause.key === 'errClock' ? 'clockProblem' : 'authProblem', vars: cause.vars, error: true };
			fillScan();
		} else {
			r = { kind: 'error', ...errorText(e) };
		}
	}
	if (mine !== seq) return;
	part.busy.hidden = true;
	showResult(r);
}

// p, or an ApiError 'timeout' if it has not settled within ms (the request goes on; a late answer is dropped).
function withTimeout(p, ms) {
	let timer;
	const late = new Promise((resolve, reject) => {
		timer = setTimeout(() => reject(new ApiError(0, 'timeout', 'no answer in time')), ms);
	});
	return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

function errorText(e) {
	if (e.code === 'timeout') return { key: 'errTimeout' };
	if (e.status === 0) return { key: 'errNetwork' };
	if (e.status === 503) return { key: 'errBusy' };
	return { key: 'errOther', vars: { status: e.status, msg: e.message } };
}

function showResult(r) {
	result = r;
	recent = [{ ...r, at: new Date() }, ...recent].slice(0, RECENT);
	fillResult();
	fillRecent();
	playResult(r.kind === 'green');
	clearTimeout(resultTimer);
	resultTimer = setTimeout(closeResult, r.kind === 'error' ? ERROR_MS : RESULT_MS);
}

function closeResult() {
	clearTimeout(resultTimer);
	result = null;
	fillResult();
	keepFocus();
}

function submitTyped(ev) {
	ev.preventDefault();
	const code = part.scanInput.value;
	part.scanInput.value = '';
	// A scanner types the symbols of a QR's alphanumeric mode, upper case; a person may type lower case.
	offer(code.toUpperCase());
	part.scanInput.focus();
}

// The typed field keeps the focus whenever nothing else wants it, so a USB scanner always types into it.
function keepFocus() {
	if (view !== 'scan' || confirming) return;
	const a = document.activeElement;
	if (!a || a === document.body || a === document.documentElement || (a.tagName === 'BUTTON' && a.closest('.bar'))) {
		part.scanInput.focus({ preventScroll: true });
	}
}
document.addEventListener('focusout', () => setTimeout(keepFocus, 0));

function askReset() {
	confirming = true;
	fillConfirm();
	document.getElementById('reset-no').focus();
}

function cancelReset() {
	confirming = false;
	fillConfirm();
	keepFocus();
}

function doReset() {
	confirming = false;
	if (stopCamera) stopCamera();
	stopCamera = null;
	forgetTerminal();
	term = null;
	banner = null;
	result = null;
	recent = [];
	lastCode = null;
	clearTimeout(resultTimer);
	view = 'setup';
	render();
}

function startScanning() {
	if (!stopCamera) {
		stopCamera = startCamera(video, {
			onCode: offer,
			onState: (s) => {
				cameraState = s;
				fillCamera();
			},
		});
	}
	refreshInfo();
	keepFocus();
}

// The header names where the terminal stands, as the server knows it now; a 401 here says the saved secret
// (or this device's clock) is wrong, which the guard must hear before the first resident does.
let retry = null;
async function refreshInfo() {
	clearTimeout(retry);
	if (!term) return;
	const asked = term;
	try {
		const me = await signedCall(asked, 'GET', '/v1/terminals/me');
		if (term !== asked) return;
		term = { ...term, org: me.org, place: me.place, scene: me.scene };
		saveTerminal(term);
		banner = null;
	} catch (e) {
		if (term !== asked) return;
		if (e.status === 401) banner = { ...(await why401('clockProblem', 'authProblem')), error: true };
		else {
			banner = { key: 'offline' };
			retry = setTimeout(refreshInfo, 10000);
		}
	}
	if (view === 'scan') fillScan();
}

// ---- the page --------------------------------------------------------------------------------------------------

function langButton() {
	return h('button', { type: 'button', class: 'secondary lang', 'data-text': 'switchLang', onclick: () => setLang(getLang() === 'en' ? 'zh' : 'en') }, t('switchLang'));
}

function render() {
	document.title = `${t('title')} · suishen`;
	if (view === 'setup') {
		replace(app, setupView());
		return;
	}
	if (scanPage.parentNode !== app) {
		replace(app, scanPage);
		// Moving a playing video in the document pauses it; the stream is still there.
		if (video.srcObject) video.play().catch(() => {});
	}
	fillScan();
}

onLang(() => {
	render();
	keepFocus();
});
armSound();
render();
if (view === 'scan') startScanning();
