// code: the big code card. It shows a QR image of a fresh code (mine or a relative's), framed in the holder's
// colour, with the masked name and a countdown, and fetches the next code before this one expires: when 1/6
// of the code's lifetime or 10 s remain, whichever is less, never two fetches at once. The holder's colour is
// asked again every 15 s while the card is open, and whenever the page is shown again, so a decision taken
// elsewhere (an appeal upheld, a colour set by staff) shows without a reload. While the page is hidden (a locked
// phone, another tab) nothing is asked: each code fetched is a code issued; showing the page again catches up.
import { h, replace, when } from '../common/dom.js';
import { t, L, La } from './strings.js';
import { meGet } from './session.js';
import { errorBox, errorText } from './ui.js';

const STATUS_EVERY = 15000;
const RETRY_AFTER = 3000;
const ME_RETRY = 5000; // GET /v1/me again after a failure, not more often than this (ms)

// How long a code expiring at `expires` (the server's clock, ms) has left, on our clock. A phone's clock may be
// off by minutes: then the answer's Date (the server's clock, to the second) says what "now" is. A lifetime
// that still makes no sense is taken as a minute, so the page keeps renewing rather than stalling.
function lifeLeft(expires, serverNow) {
	const now = Date.now();
	let left = expires - now;
	if (Number.isFinite(serverNow) && Math.abs(now - (serverNow + 500)) > 2000) left = expires - (serverNow + 500);
	return left > 0 && left < 3600000 ? left : 60000;
}

// target: null for my own code, or { id, name } for a relative's (the link's id and the masked name).
export function codeView({ go, target = null, onTarget }) {
	let expiresAt = 0; // local ms when the shown code expires
	let ttl = 0; // ms, the code's lifetime as the server gives it
	let inflight = false;
	let nextTry = 0; // after a failure, not before this (ms)
	let statusAt = 0;
	let statusInflight = false;
	let url = null; // the blob: URL shown now (revoked when replaced)
	let stopped = false;
	let generation = 0; // bumped on every switch of holder, so a late answer for the old one is dropped
	let myName = ''; // masked, from GET /v1/me
	let myId = '';
	let meLoaded = false;
	let meInflight = false;
	let meAt = 0; // when GET /v1/me was last asked

	const img = h('img', { id: 'code-img', width: '240', height: '240', decoding: 'async', draggable: 'false' });
	La(img, 'alt', 'code.alt');
	const frame = h('div', { id: 'code-frame', class: 'code-frame' }, img);
	const colorLabel = h('div', { id: 'code-color', class: 'code-color' });
	const name = h('div', { id: 'code-name', class: 'code-name' });
	const idLine = h('div', { id: 'code-idnum', class: 'muted code-idnum' });
	const forLine = h('div', { id: 'code-for', class: 'code-for', hidden: true });
	const countdown = h('span', { id: 'code-countdown', class: 'code-countdown', 'aria-live': 'off' });
	const clock = h('div', { id: 'code-clock', class: 'code-clock' });
	const err = errorBox('code-error');
	const note = h('div', { class: 'notice warn', id: 'code-note', role: 'status', hidden: true }); // why a relative's code stopped
	const refresh = h('button', { type: 'button', id: 'code-refresh', class: 'secondary' }, L('code.refresh'));
	const reasons = h('button', { type: 'button', id: 'code-reasons', class: 'link' }, L('code.reasons'));
	const switcher = h('div', { id: 'code-switch', class: 'code-switch', role: 'tablist' });

	refresh.addEventListener('click', () => {
		nextTry = 0;
		renew(true);
		loadStatus();
	});
	reasons.addEventListener('click', () => go('status'));

	const card = h('section', { class: 'card code-card', id: 'code-view' },
		switcher,
		note,
		forLine,
		h('div', { class: 'code-head' }, name, idLine),
		frame,
		colorLabel,
		h('div', { class: 'code-meta' }, countdown, refresh),
		clock,
		err,
		h('p', { class: 'muted code-hint' }, L('code.hint')),
		reasons);

	const path = () => (target ? `/v1/me/dependents/${encodeURIComponent(target.id)}` : '/v1/me');

	function setColor(color) {
		if (!['green', 'yellow', 'red'].includes(color)) return;
		frame.dataset.color = color;
		card.dataset.color = color;
		// The label follows the language (L binds it): bound again only when the colour changes, not every 15 s.
		if (colorLabel.dataset.color === color && colorLabel.firstChild) return;
		replace(colorLabel, L(`result.${color}`));
		colorLabel.dataset.color = color;
	}

	// Shows the image at blob URL next; answers true once it has loaded, false if it cannot be shown. Listeners,
	// not img.onload: a wait still running when a newer image is set ends too (with that image's load or error).
	function showImage(next) {
		return new Promise((resolve) => {
			const done = (ev) => {
				img.removeEventListener('load', done);
				img.removeEventListener('error', done);
				resolve(ev.type === 'load');
			};
			img.addEventListener('load', done, { once: true });
			img.addEventListener('error', done, { once: true });
			img.src = next;
		});
	}

	async function loadStatus() {
		if (statusInflight || stopped) return;
		statusInflight = true;
		statusAt = Date.now();
		const gen = generation;
		try {
			const s = await meGet(`${path()}/status`);
			if (gen === generation && !stopped) setColor(s.color);
		} catch {
			// The next tick asks again; the code itself still shows.
		} finally {
			statusInflight = false;
		}
	}

	// Fetches a new code image; force renews even if the shown code still has time.
	async function renew(force = false) {
		if (inflight || stopped) return;
		if (!force && Date.now() < nextTry) return;
		inflight = true;
		const gen = generation;
		if (!expiresAt || Date.now() >= expiresAt) replace(countdown, t('code.renewing'));
		try {
			const res = await meGet(`${path()}/code.svg`, { raw: true });
			const header = res.headers.get('X-Code-Expires-At');
			const blob = await res.blob();
			if (gen !== generation || stopped) return;
			const next = URL.createObjectURL(blob);
			const loaded = await showImage(next);
			if (gen !== generation || stopped) {
				// Switched holder or left the view while it loaded: this image is not wanted any more.
				URL.revokeObjectURL(next);
				return;
			}
			if (!loaded) {
				URL.revokeObjectURL(next);
				if (url) img.src = url; // the last good image (marked stale once it expires)
				throw new Error('the code image did not load');
			}
			if (url) URL.revokeObjectURL(url);
			url = next;
			img.classList.remove('stale');
			const left = lifeLeft(Date.parse(header), Date.parse(res.headers.get('Date')));
			ttl = Math.ceil(left / 1000) * 1000;
			expiresAt = Date.now() + left;
			err.hidden = true;
			nextTry = 0;
			tick();
		} catch (e) {
			if (gen !== generation || stopped) return;
			nextTry = Date.now() + RETRY_AFTER;
			if (target && (e.status === 409 || e.status === 404)) {
				// The link is pending, ended or gone: back to my own code, saying why.
				switchTo(null);
				loadRelatives();
				replace(note, t('err.dep.code'));
				note.hidden = false;
				return;
			}
			if (e.status !== 401) showErr(`${t('code.failed')} ${errorText(e)}`);
		} finally {
			if (gen === generation) inflight = false;
		}
	}

	function showErr(text) {
		replace(err, text);
		err.hidden = false;
	}

	function tick() {
		if (stopped || document.visibilityState !== 'visible') return; // onVisible catches up when shown
		const now = Date.now();
		const left = expiresAt - now;
		if (expiresAt) {
			if (left > 0) replace(countdown, t('code.countdown', { s: Math.ceil(left / 1000) }));
			else {
				img.classList.add('stale'); // an expired code must not look scannable
				if (!inflight) replace(countdown, t('code.renewing'));
			}
		}
		const margin = Math.min(ttl / 6, 10000);
		if (!expiresAt || left <= margin) renew();
		if (now - statusAt >= STATUS_EVERY) loadStatus();
		if (!meLoaded && !meInflight && now - meAt >= ME_RETRY) loadMe();
		replace(clock, when(now, true));
	}

	// My masked name and number; asked again from the tick (every ME_RETRY at most) until it has answered.
	async function loadMe() {
		if (meInflight || stopped) return;
		meInflight = true;
		meAt = Date.now();
		try {
			const me = await meGet('/v1/me');
			if (stopped) return;
			myName = me.name || '';
			myId = me.id_number || '';
			meLoaded = true;
			if (!target) {
				replace(name, myName);
				replace(idLine, myId);
			}
		} catch {
			// the tick asks again
		} finally {
			meInflight = false;
		}
	}
	// The holder tabs: me, then each active relative.
	async function loadRelatives() {
		let deps = [];
		try {
			deps = ((await meGet('/v1/me/dependents')).dependents || []).filter((d) => d.state === 'active');
		} catch {
			deps = [];
		}
		if (!deps.length && !target) {
			switcher.hidden = true;
			return;
		}
		const tab = (label, dep) => {
			const on = dep ? target && String(target.id) === String(dep.dependent_id) : !target;
			return h('button', {
				type: 'button', role: 'tab', class: 'chip', 'aria-selected': on ? 'true' : 'false',
				dataset: { dependent: dep ? String(dep.dependent_id) : '' },
				id: dep ? null : 'code-mine',
				onclick: () => switchTo(dep ? { id: dep.dependent_id, name: dep.name } : null),
			}, label);
		};
		switcher.hidden = false;
		replace(switcher, tab(L('code.mine'), null), deps.map((d) => tab(d.name, d)));
	}

	function showHolder() {
		if (target) {
			replace(forLine, L('code.for', { name: target.name }));
			forLine.hidden = false;
			replace(name, target.name);
			replace(idLine);
			reasons.hidden = true;
		} else {
			forLine.hidden = true;
			replace(name, myName);
			replace(idLine, myId);
			reasons.hidden = false;
		}
		for (const b of switcher.querySelectorAll('button')) {
			const on = target ? b.dataset.dependent === String(target.id) : !b.dataset.dependent;
			b.setAttribute('aria-selected', on ? 'true' : 'false');
		}
	}

	function switchTo(next) {
		generation++;
		note.hidden = true;
		inflight = false;
		statusInflight = false;
		target = next;
		if (onTarget) onTarget(target);
		expiresAt = 0;
		ttl = 0;
		nextTry = 0;
		delete frame.dataset.color;
		delete card.dataset.color;
		delete colorLabel.dataset.color;
		replace(colorLabel);
		img.classList.add('stale');
		showHolder();
		renew(true);
		loadStatus();
	}

	function onVisible() {
		if (document.visibilityState !== 'visible' || stopped) return;
		loadStatus();
		if (!expiresAt || expiresAt - Date.now() <= Math.min(ttl / 6, 10000)) renew(true);
	}
	document.addEventListener('visibilitychange', onVisible);

	showHolder();
	loadMe();
	loadRelatives();
	if (document.visibilityState === 'visible') {
		renew(true);
		loadStatus();
	}
	const timer = setInterval(tick, 250);

	return {
		el: card,
		stop() {
			stopped = true;
			clearInterval(timer);
			document.removeEventListener('visibilitychange', onVisible);
			if (url) URL.revokeObjectURL(url);
			url = null;
		},
		// The countdown's words are built each tick; nothing else to redo on a language switch.
		relabel() {
			tick();
		},
	};
}
