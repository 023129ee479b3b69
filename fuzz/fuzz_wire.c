/*
 * fuzz_wire: libFuzzer target for the bytes a peer sends the server
 * (http/wire.h): the head found by ss_wire_scan (whole, and again a few bytes
 * at a time, which must agree), parsed by ss_wire_parse, and what follows
 * decoded as a chunked body. Every field lies inside the head and holds no
 * control byte; a Content-Length is digits; decoding never yields more bytes
 * than it consumed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_field(const char *buf, size_t head_len, const char *p, size_t n)
{
	if (n && (p < buf || p + n > buf + head_len))
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 && p[i] != '\t')
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	/* the first byte chooses the piece size of the second scan */
	size_t step = (size_t)(data[0] % 7) + 1;
	char *buf = malloc(size);
	memcpy(buf, data + 1, size - 1);
	size_t len = size - 1;

	struct ss_wire_scan whole = {0}, pieces = {0};
	struct ss_wire_error err, err2;
	size_t head_len = 0, head_len2 = 0;
	enum ss_wire_result r = ss_wire_scan(&whole, buf, len, &head_len, &err);
	enum ss_wire_result r2 = SS_WIRE_MORE;
	for (size_t k = step < len ? step : len; r2 == SS_WIRE_MORE; k = k + step < len ? k + step : len) {
		r2 = ss_wire_scan(&pieces, buf, k, &head_len2, &err2);
		if (k == len)
			break;
	}
	if (r != r2 || (r == SS_WIRE_DONE && head_len != head_len2) || (r == SS_WIRE_ERROR && err.err != err2.err))
		abort();

	if (r == SS_WIRE_DONE) {
		if (head_len > len || head_len > SS_WIRE_HEAD_MAX)
			abort();
		struct ss_wire_head h;
		if (ss_wire_parse(buf, head_len, &h, &err) == SS_WIRE_DONE) {
			check_field(buf, head_len, h.method, h.method_len);
			check_field(buf, head_len, h.target, h.target_len);
			if (h.target[0] != '/' || (h.minor != 0 && h.minor != 1) || (h.chunked && h.has_length))
				abort();
			for (size_t i = 0; i < h.nfields; i++) {
				check_field(buf, head_len, h.fields[i].name, h.fields[i].name_len);
				check_field(buf, head_len, h.fields[i].value, h.fields[i].value_len);
			}
			if (h.has_length && h.length > SS_WIRE_LENGTH_MAX)
				abort();
		}
		/* what follows, as a chunked body, in two pieces */
		struct ss_wire_chunked c = {0};
		size_t rest = len - head_len, half = rest / 2, used, got;
		char *body = buf + head_len;
		enum ss_wire_result cr = ss_wire_chunked_decode(&c, body, half, &used, &got, &err);
		if (got > used || used > half)
			abort();
		if (cr == SS_WIRE_MORE) {
			cr = ss_wire_chunked_decode(&c, body + half, rest - half, &used, &got, &err);
			if (got > used || used > rest - half)
				abort();
		}
	}
	free(buf);
	return 0;
}
