// camera: reads codes from the device's camera. Frames are drawn onto a canvas a few times a second and
// decoded with jsQR; the caller hears each code read and each change of the camera's state.
import jsQR from 'jsqr';

const EVERY_MS = 150; // about 6 decodes a second: quick enough for a hand, light enough for a tablet
const MAX_SIDE = 640; // frames are decoded at most this wide: a code filling the frame guide stays readable

// Starts the camera into video. onCode(text) for each code read (the caller drops repeats);
// onState('starting' | 'on' | 'denied' | 'absent' | 'failed'). Returns a function that stops it all.
export function startCamera(video, { onCode, onState }) {
	let stopped = false;
	let stream = null;
	let timer = null;
	const canvas = document.createElement('canvas');
	const ctx = canvas.getContext('2d', { willReadFrequently: true });

	function tick() {
		timer = null;
		if (stopped) return;
		try {
			if (video.readyState >= 2 && video.videoWidth > 0) {
				const scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
				const w = Math.round(video.videoWidth * scale);
				const hgt = Math.round(video.videoHeight * scale);
				if (canvas.width !== w || canvas.height !== hgt) {
					canvas.width = w;
					canvas.height = hgt;
				}
				ctx.drawImage(video, 0, 0, w, hgt);
				const img = ctx.getImageData(0, 0, w, hgt);
				// Codes are dark on light (in the status colour); trying inverted images too would halve the rate.
				const found = jsQR(img.data, w, hgt, { inversionAttempts: 'dontInvert' });
				if (found && found.data) onCode(found.data);
			}
		} catch {
			// A frame that cannot be read (the video changing size, say) is simply skipped.
		}
		timer = setTimeout(tick, EVERY_MS);
	}

	(async () => {
		if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
			onState('absent');
			return;
		}
		onState('starting');
		try {
			stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
		} catch (e) {
			if (stopped) return;
			const name = e && e.name;
			onState(name === 'NotAllowedError' || name === 'SecurityError' ? 'denied'
				: name === 'NotFoundError' || name === 'OverconstrainedError' ? 'absent' : 'failed');
			return;
		}
		if (stopped) {
			stream.getTracks().forEach((tr) => tr.stop());
			return;
		}
		video.srcObject = stream;
		video.muted = true;
		video.playsInline = true;
		try {
			await video.play();
		} catch {
			// Autoplay of a muted stream is allowed; if a browser still refuses, frames come once it plays.
		}
		onState('on');
		tick();
	})();

	return () => {
		stopped = true;
		if (timer) clearTimeout(timer);
		if (stream) stream.getTracks().forEach((tr) => tr.stop());
		video.srcObject = null;
	};
}
