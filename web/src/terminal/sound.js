// sound: a tone for each result, so a guard hears it without looking. Browsers let a page make sound only
// after a user gesture, so the audio context is created at the first tap or key (a USB scanner's keys count).
let ctx = null;

export function armSound() {
	const arm = () => {
		if (!ctx) {
			try {
				ctx = new (window.AudioContext || window.webkitAudioContext)();
			} catch {
				ctx = null;
			}
		}
		if (ctx && ctx.state === 'suspended') ctx.resume().catch(() => {});
	};
	window.addEventListener('pointerdown', arm, { capture: true });
	window.addEventListener('keydown', arm, { capture: true });
}

function tone(freq, start, length, type, volume) {
	const osc = ctx.createOscillator();
	const gain = ctx.createGain();
	osc.type = type;
	osc.frequency.value = freq;
	// A short attack and release: no clicks.
	gain.gain.setValueAtTime(0.0001, start);
	gain.gain.exponentialRampToValueAtTime(volume, start + 0.015);
	gain.gain.exponentialRampToValueAtTime(0.0001, start + length);
	osc.connect(gain).connect(ctx.destination);
	osc.start(start);
	osc.stop(start + length + 0.02);
}

// good: a short rising pleasant chime (green); otherwise a low double tone that asks for attention.
export function playResult(good) {
	if (!ctx || ctx.state !== 'running') return;
	const now = ctx.currentTime + 0.01;
	if (good) {
		tone(880, now, 0.12, 'sine', 0.3);
		tone(1318.5, now + 0.1, 0.18, 'sine', 0.3);
	} else {
		tone(220, now, 0.18, 'square', 0.15);
		tone(220, now + 0.26, 0.18, 'square', 0.15);
	}
}
