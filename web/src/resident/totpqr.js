// totpqr: the enrolment QR (the otpauth:// URI for an authenticator app), drawn module by module into a
// <canvas>: the secret never leaves the page, and no markup is made from strings.
import qrcode from 'qrcode-generator';
import { h } from '../common/dom.js';

export function qrCanvas(text, { px = 220, label = '' } = {}) {
	const qr = qrcode(0, 'M');
	qr.addData(text, 'Byte');
	qr.make();
	const n = qr.getModuleCount();
	const quiet = 4;
	const scale = Math.max(2, Math.floor((px * (window.devicePixelRatio || 1)) / (n + 2 * quiet)));
	const size = (n + 2 * quiet) * scale;
	const canvas = h('canvas', { width: size, height: size, role: 'img', 'aria-label': label, class: 'enrol-qr' });
	canvas.style.width = `${px}px`;
	canvas.style.height = `${px}px`;
	const g = canvas.getContext('2d');
	g.fillStyle = '#fff';
	g.fillRect(0, 0, size, size);
	g.fillStyle = '#000';
	for (let r = 0; r < n; r++)
		for (let c = 0; c < n; c++) if (qr.isDark(r, c)) g.fillRect((c + quiet) * scale, (r + quiet) * scale, scale, scale);
	return canvas;
}
