// sm3: the terminal page's own SM3 and HMAC-SM3 (web/src/terminal/sm3.js) against the standard's vectors
// (GB/T 32905-2016, appendix A) and against node's crypto for many lengths and both key-length cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { sm3, hmacSm3, toHex, fromHex } from '../../web/src/terminal/sm3.js';

test('SM3: the two examples of GB/T 32905', () => {
	assert.equal(toHex(sm3(new TextEncoder().encode('abc'))), '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
	assert.equal(toHex(sm3('abcd'.repeat(16))), 'debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732');
});

test('SM3: the same as node for every length 0..300', () => {
	for (let n = 0; n <= 300; n++) {
		const data = randomBytes(n);
		assert.equal(toHex(sm3(new Uint8Array(data))), createHash('sm3').update(data).digest('hex'), `length ${n}`);
	}
	// And a longer one, over many blocks.
	const big = randomBytes(100000);
	assert.equal(toHex(sm3(new Uint8Array(big))), createHash('sm3').update(big).digest('hex'));
});

test('HMAC-SM3: the same as node with 32- and 100-byte keys', () => {
	for (const keyLen of [0, 1, 32, 63, 64, 65, 100]) {
		for (let n = 0; n <= 300; n += keyLen === 32 || keyLen === 100 ? 1 : 37) {
			const key = randomBytes(keyLen);
			const data = randomBytes(n);
			assert.equal(toHex(hmacSm3(new Uint8Array(key), new Uint8Array(data))),
				createHmac('sm3', key).update(data).digest('hex'), `key ${keyLen}, length ${n}`);
		}
	}
});

test('HMAC-SM3: a terminal signature as the harness makes it', () => {
	const secret = randomBytes(32).toString('hex');
	const body = JSON.stringify({ code: '1ABCDEFG' });
	const msg = `POST\n/v1/scans\n1764230400\n${'a'.repeat(32)}\n${createHash('sm3').update(body).digest('hex')}`;
	const mine = toHex(hmacSm3(fromHex(secret), `POST\n/v1/scans\n1764230400\n${'a'.repeat(32)}\n${toHex(sm3(body))}`));
	assert.equal(mine, createHmac('sm3', Buffer.from(secret, 'hex')).update(msg).digest('hex'));
});

test('hex: round trip and refusal', () => {
	const b = new Uint8Array(randomBytes(40));
	assert.deepEqual(fromHex(toHex(b)), b);
	assert.throws(() => fromHex('abc'));
	assert.throws(() => fromHex('zz'));
});
