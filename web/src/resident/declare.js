// declare: a resident's own health declaration (temperature, symptoms) and trip declaration (the divisions
// visited), each kept as a record about me (POST /v1/me/declarations).
import { h } from '../common/dom.js';
import { L } from './strings.js';
import { mePost } from './session.js';
import { field, errorBox, noticeBox, showError, clearError, notice, busy, tooLong } from './ui.js';

// Symptoms are sent as these short English words (what the rules and the data may match on); shown translated.
const SYMPTOMS = ['fever', 'cough', 'sore_throat', 'fatigue', 'loss_of_smell', 'diarrhea'];
const SYMPTOM_MAX = 32; // bytes of UTF-8 (docs/api.md), not characters

export function declareView() {
	const note = noticeBox('declare-notice');

	// health
	const temp = h('input', { id: 'dec-temperature', type: 'number', step: '0.1', min: '30', max: '45', inputmode: 'decimal', value: '36.5' });
	temp.defaultValue = '36.5'; // what a reset form goes back to
	const boxes = SYMPTOMS.map((s) => h('label', { class: 'check' },
		h('input', { type: 'checkbox', value: s.replace(/_/g, ' '), class: 'dec-symptom', id: `dec-sym-${s}` }), ' ', L(`sym.${s}`)));
	const other = h('input', { id: 'dec-other', autocomplete: 'off' }); // no maxlength: the limit is bytes
	const hErr = errorBox('dec-health-error');
	const hSubmit = h('button', { type: 'submit', id: 'dec-health-submit' }, L('dec.submit'));
	const health = h('form', { id: 'dec-health', novalidate: true },
		field('dec.temperature', temp),
		h('fieldset', { class: 'symptoms' }, h('legend', null, L('dec.symptoms')), boxes),
		field('dec.otherSymptom', other),
		hErr,
		hSubmit);
	health.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clearError(hErr, health);
		note.hidden = true;
		const symptoms = [...health.querySelectorAll('.dec-symptom:checked')].map((b) => b.value);
		if (other.value.trim()) symptoms.push(other.value.trim());
		const long = tooLong(other.value.trim(), SYMPTOM_MAX, 'symptoms');
		if (long) return showError(hErr, long, health, { symptoms: 'dec-other' });
		// An empty or unreadable temperature goes as it is, so the API names the field.
		const temperature = temp.value.trim() === '' ? null : Number(temp.value);
		await busy(hSubmit, null, async () => {
			try {
				await mePost('/v1/me/declarations', { kind: 'health', temperature, symptoms });
				health.reset();
				done(health);
			} catch (e) {
				showError(hErr, e, health, { temperature: 'dec-temperature', symptoms: 'dec-other' });
			}
		});
	});

	// The thanks go under the form just sent, where the eye is.
	function done(form) {
		form.after(note);
		notice(note, 'dec.done');
	}

	// trip
	const places = h('input', { id: 'dec-places', autocomplete: 'off', inputmode: 'numeric', placeholder: '310101, 320581' });
	const tErr = errorBox('dec-trip-error');
	const tSubmit = h('button', { type: 'submit', id: 'dec-trip-submit' }, L('dec.submit'));
	const trip = h('form', { id: 'dec-trip', novalidate: true }, field('dec.places', places, 'dec.placesHint'), tErr, tSubmit);
	trip.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clearError(tErr, trip);
		note.hidden = true;
		const list = places.value.split(/[\s,，、;；]+/).filter(Boolean);
		await busy(tSubmit, null, async () => {
			try {
				await mePost('/v1/me/declarations', { kind: 'trip', places: list });
				trip.reset();
				done(trip);
			} catch (e) {
				showError(tErr, e, trip, { places: 'dec-places' });
			}
		});
	});

	const el = h('div', { id: 'declare-view' },
		h('section', { class: 'card' }, h('h2', null, L('dec.title')), h('p', { class: 'muted' }, L('dec.lead'))),
		h('section', { class: 'card' }, h('h3', null, L('dec.health')), health),
		h('section', { class: 'card' }, h('h3', null, L('dec.trip')), trip));
	return { el };
}
