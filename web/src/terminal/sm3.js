// sm3: the SM3 hash (GB/T 32905-2016) and HMAC-SM3 (RFC 2104, 64-byte block) over Uint8Array, because
// WebCrypto has no SM3 and every terminal request is signed with HMAC-SM3 (docs/api.md "Terminals").
// Also hex and UTF-8 helpers the signing needs. Plain JS, no DOM: test/web/sm3.test.mjs runs it in node.

const IV = [0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600, 0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e];

const rotl = (x, n) => ((x << n) | (x >>> (32 - n))) >>> 0;
const p0 = (x) => (x ^ rotl(x, 9) ^ rotl(x, 17)) >>> 0;
const p1 = (x) => (x ^ rotl(x, 15) ^ rotl(x, 23)) >>> 0;

// T_j rotated left by j (mod 32), precomputed: T_j is 0x79cc4519 for rounds 0-15 and 0x7a879d8a after.
const TJ = new Uint32Array(64);
for (let j = 0; j < 64; j++) TJ[j] = rotl(j < 16 ? 0x79cc4519 : 0x7a879d8a, j % 32);

// One compression of the 64-byte block at `off` of `buf` into state v (8 words, changed in place).
function compress(v, buf, off, w, w1) {
	for (let j = 0; j < 16; j++) {
		const i = off + j * 4;
		w[j] = ((buf[i] << 24) | (buf[i + 1] << 16) | (buf[i + 2] << 8) | buf[i + 3]) >>> 0;
	}
	for (let j = 16; j < 68; j++) {
		w[j] = (p1(w[j - 16] ^ w[j - 9] ^ rotl(w[j - 3], 15)) ^ rotl(w[j - 13], 7) ^ w[j - 6]) >>> 0;
	}
	for (let j = 0; j < 64; j++) w1[j] = (w[j] ^ w[j + 4]) >>> 0;
	let [a, b, c, d, e, f, g, hh] = v;
	for (let j = 0; j < 64; j++) {
		const a12 = rotl(a, 12);
		const ss1 = rotl((a12 + e + TJ[j]) >>> 0, 7);
		const ss2 = (ss1 ^ a12) >>> 0;
		const ff = j < 16 ? a ^ b ^ c : (a & b) | (a & c) | (b & c);
		const gg = j < 16 ? e ^ f ^ g : (e & f) | (~e & g);
		const tt1 = (ff + d + ss2 + w1[j]) >>> 0;
		const tt2 = (gg + hh + ss1 + w[j]) >>> 0;
		d = c;
		c = rotl(b, 9);
		b = a;
		a = tt1;
		hh = g;
		g = rotl(f, 19);
		f = e;
		e = p0(tt2);
	}
	v[0] ^= a; v[1] ^= b; v[2] ^= c; v[3] ^= d;
	v[4] ^= e; v[5] ^= f; v[6] ^= g; v[7] ^= hh;
}

// SM3 of a Uint8Array (or a string, taken as UTF-8): a 32-byte Uint8Array.
export function sm3(data) {
	const msg = typeof data === 'string' ? utf8(data) : data;
	const len = msg.length;
	// Padding: 0x80, zeros to 56 mod 64, then the length in bits as a 64-bit big-endian number.
	const total = (((len + 8) >> 6) + 1) << 6;
	const buf = new Uint8Array(total);
	buf.set(msg);
	buf[len] = 0x80;
	const bits = len * 8;
	const dv = new DataView(buf.buffer);
	dv.setUint32(total - 8, Math.floor(bits / 0x100000000));
	dv.setUint32(total - 4, bits >>> 0);
	const v = Uint32Array.from(IV);
	const w = new Uint32Array(68);
	const w1 = new Uint32Array(64);
	for (let off = 0; off < total; off += 64) compress(v, buf, off, w, w1);
	const out = new Uint8Array(32);
	const ov = new DataView(out.buffer);
	for (let i = 0; i < 8; i++) ov.setUint32(i * 4, v[i]);
	return out;
}

// HMAC-SM3 (RFC 2104): key and message as Uint8Array (or strings, taken as UTF-8); a 32-byte Uint8Array.
export function hmacSm3(key, message) {
	let k = typeof key === 'string' ? utf8(key) : key;
	if (k.length > 64) k = sm3(k);
	const ipad = new Uint8Array(64).fill(0x36);
	const opad = new Uint8Array(64).fill(0x5c);
	for (let i = 0; i < k.length; i++) {
		ipad[i] ^= k[i];
		opad[i] ^= k[i];
	}
	const m = typeof message === 'string' ? utf8(message) : message;
	return sm3(concat(opad, sm3(concat(ipad, m))));
}

export function concat(a, b) {
	const out = new Uint8Array(a.length + b.length);
	out.set(a);
	out.set(b, a.length);
	return out;
}

export function utf8(s) {
	return new TextEncoder().encode(s);
}

export function toHex(bytes) {
	let s = '';
	for (const b of bytes) s += b.toString(16).padStart(2, '0');
	return s;
}

// Hex (an even number of 0-9a-fA-F) to bytes; throws on anything else.
export function fromHex(hex) {
	if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new Error('not hex');
	const out = new Uint8Array(hex.length / 2);
	for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
	return out;
}
