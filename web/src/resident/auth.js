// auth: logging in (ID number, password, authenticator code) and registering (real-name check, then the
// authenticator enrolment QR and its secret, then the first code, which logs the new resident in).
import { h, replace } from '../common/dom.js';
import { post, ApiError } from '../common/api.js';
import { CHANNEL } from './session.js';
import { t, L, La } from './strings.js';
import { field, errorBox, noticeBox, showError, clearError, busy } from './ui.js';
import { qrCanvas } from './totpqr.js';

function input(id, props = {}) {
	return h('input', { id, name: id, autocomplete: 'off', ...props });
}

const otpInput = (id) =>
	input(id, { inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '6', pattern: '[0-9]{6}', class: 'otp' });

// POST /v1/sessions; answers the token. A code that is not 6 digits is refused here, before it costs a try.
async function logIn(idNumber, password, otp) {
	if (!/^[0-9]{6}$/.test(otp)) throw new ApiError(400, 'otp_format', t('err.otp'), 'otp');
	const d = await post('/v1/sessions', { id_number: idNumber.trim().toUpperCase(), password, otp }, { headers: CHANNEL });
	return d.token;
}

// The log-in screen; message (a key) is shown above the form (why we are here: logged out, session over).
export function loginView({ message, onLoggedIn, toRegister }) {
	const err = errorBox('login-error');
	const note = noticeBox('login-notice');
	if (message) {
		replace(note, L(message));
		note.hidden = false;
	}
	const submit = h('button', { id: 'login-submit', type: 'submit', class: 'block' }, L('login.submit'));
	const form = h('form', { id: 'login-form', novalidate: true },
		field('login.id', input('login-id', { autocomplete: 'username', maxlength: '18', autocapitalize: 'characters' })),
		field('login.password', input('login-password', { type: 'password', autocomplete: 'current-password' })),
		field('login.otp', otpInput('login-otp')),
		err,
		submit);
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clearError(err, form);
		note.hidden = true;
		await busy(submit, 'login.busy', async () => {
			try {
				const tok = await logIn(form.querySelector('#login-id').value, form.querySelector('#login-password').value,
					form.querySelector('#login-otp').value.trim());
				onLoggedIn(tok);
			} catch (e) {
				showError(err, e, form, { id_number: 'login-id', password: 'login-password', otp: 'login-otp' });
			}
		});
	});
	return h('section', { class: 'card auth', id: 'login-view' },
		h('h1', null, L('login.title')),
		h('p', { class: 'muted' }, L('login.lead')),
		note,
		form,
		h('button', { type: 'button', class: 'link', id: 'to-register', onclick: toRegister }, L('login.toRegister')));
}

export function registerView({ onLoggedIn, toLogin }) {
	const err = errorBox('reg-error');
	const submit = h('button', { id: 'reg-submit', type: 'submit', class: 'block' }, L('reg.submit'));
	const form = h('form', { id: 'reg-form', novalidate: true },
		field('reg.name', input('reg-name', { autocomplete: 'name', maxlength: '64' })),
		field('reg.id', input('reg-id', { maxlength: '18', autocapitalize: 'characters' })),
		field('reg.phone', input('reg-phone', { type: 'tel', autocomplete: 'tel', maxlength: '16' })),
		field('reg.password', input('reg-password', { type: 'password', autocomplete: 'new-password' })),
		err,
		submit);
	const view = h('section', { class: 'card auth', id: 'register-view' },
		h('h1', null, L('reg.title')),
		h('p', { class: 'muted' }, L('reg.lead')),
		form,
		h('button', { type: 'button', class: 'link', id: 'to-login', onclick: toLogin }, L('reg.toLogin')));

	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clearError(err, form);
		const idNumber = form.querySelector('#reg-id').value.trim().toUpperCase();
		const password = form.querySelector('#reg-password').value;
		await busy(submit, 'reg.busy', async () => {
			try {
				const d = await post('/v1/citizens', {
					name: form.querySelector('#reg-name').value.trim(),
					id_number: idNumber,
					phone: form.querySelector('#reg-phone').value.trim(),
					password,
				}, { headers: CHANNEL });
				replace(view, enrol(d.totp_uri, idNumber, password, onLoggedIn));
			} catch (e) {
				showError(err, e, form, { name: 'reg-name', id_number: 'reg-id', phone: 'reg-phone', password: 'reg-password' });
			}
		});
	});
	return view;
}

// Step two: the authenticator enrolment, then the first code logs in (with the number and password just typed,
// kept only in this closure).
function enrol(uri, idNumber, password, onLoggedIn) {
	let secret = '';
	try {
		secret = new URL(uri).searchParams.get('secret') || '';
	} catch {
		secret = '';
	}
	const err = errorBox('reg-otp-error');
	const submit = h('button', { id: 'reg-otp-submit', type: 'submit', class: 'block' }, L('reg.otpSubmit'));
	const form = h('form', { id: 'reg-otp-form', novalidate: true },
		field('reg.otp', otpInput('reg-otp')),
		err,
		submit);
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clearError(err, form);
		await busy(submit, 'login.busy', async () => {
			try {
				onLoggedIn(await logIn(idNumber, password, form.querySelector('#reg-otp').value.trim()));
			} catch (e) {
				showError(err, e, form, { otp: 'reg-otp' });
			}
		});
	});
	const canvas = qrCanvas(uri, { px: 200 });
	La(canvas, 'aria-label', 'reg.scan');
	return [
		h('h1', null, L('reg.done')),
		h('p', null, L('reg.scan')),
		h('div', { class: 'enrol' }, canvas),
		h('p', { class: 'muted' }, L('reg.manual')),
		// The bare base32 secret, to type or copy into an app that cannot scan: text only, in no attribute.
		h('p', { class: 'secret' }, h('code', { id: 'reg-secret' }, secret)),
		h('p', { class: 'notice warn', id: 'reg-secret-once', role: 'note' }, L('reg.secretOnce')),
		form,
	];
}
