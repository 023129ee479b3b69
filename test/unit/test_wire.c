/* test_wire: the strict HTTP/1.1 reading of http/wire.h: heads, framing, chunked bodies, dates. */
#include "http/wire.h"

#include "check.h"

/* Scans and parses text as a whole head; the result, with the error and head in err and h. */
static enum ss_wire_result read_head(const char *text, struct ss_wire_head *h, struct ss_wire_error *err)
{
	struct ss_wire_scan s = {0};
	size_t n = strlen(text), head_len = 0;
	enum ss_wire_result r = ss_wire_scan(&s, text, n, &head_len, err);
	if (r != SS_WIRE_DONE)
		return r;
	return ss_wire_parse(text, head_len, h, err);
}

static enum ss_err refusal(const char *text)
{
	struct ss_wire_head h;
	struct ss_wire_error err = {SS_OK, NULL};
	return read_head(text, &h, &err) == SS_WIRE_ERROR ? err.err : SS_OK;
}

static void test_a_plain_request(void)
{
	struct ss_wire_head h;
	struct ss_wire_error err;
	CHECK(read_head("\r\nPOST /v1/scans?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length:  12 \r\n"
	                "X-Empty:\r\nExpect: 100-continue\r\n\r\n",
	                &h, &err) == SS_WIRE_DONE);
	CHECK(h.method_len == 4 && !memcmp(h.method, "POST", 4));
	CHECK(h.target_len == 13 && !memcmp(h.target, "/v1/scans?x=1", 13));
	CHECK(h.minor == 1 && h.keep_alive && h.has_length && h.length == 12 && !h.chunked && h.expect_continue);
	CHECK(h.nfields == 4);
	CHECK(h.fields[1].value_len == 2 &&
	      !memcmp(h.fields[1].value, "12", 2)); /* white space around is not the value */
	CHECK(h.fields[2].value_len == 0);
}

static void test_connection_and_versions(void)
{
	struct ss_wire_head h;
	struct ss_wire_error err;
	CHECK(read_head("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Close\r\n\r\n", &h, &err) ==
	      SS_WIRE_DONE);
	CHECK(!h.keep_alive);
	CHECK(read_head("GET / HTTP/1.0\r\n\r\n", &h, &err) == SS_WIRE_DONE);
	CHECK(h.minor == 0 && !h.keep_alive);
	CHECK(read_head("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &h, &err) == SS_WIRE_DONE);
	CHECK(h.keep_alive);
	CHECK(refusal("GET / HTTP/2.0\r\nHost: a\r\n\r\n") == SS_VERSION);
	CHECK(refusal("GET / HTTP/0.9\r\nHost: a\r\n\r\n") == SS_VERSION);
	CHECK(refusal("GET / HTTP/1.10\r\nHost: a\r\n\r\n") == SS_INVALID);
	CHECK(refusal("GET / http/1.1\r\nHost: a\r\n\r\n") == SS_INVALID);
	CHECK(refusal("GET /\r\n\r\n") == SS_INVALID);
}

/* Every reading another parser could disagree with is refused (request smuggling). */
static void test_ambiguous_framing_is_refused(void)
{
	CHECK(refusal("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n") == SS_INVALID);
	CHECK(refusal("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n") == SS_INVALID);
	CHECK(refusal("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n") == SS_INVALID);
	CHECK(refusal("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n") == SS_INVALID);
	CHECK(refusal("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2, 2\r\n\r\n") == SS_INVALID);
	CHECK(refusal("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +2\r\n\r\n") == SS_INVALID);
	CHECK(refusal("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1234567890123456789\r\n\r\n") == SS_INVALID);
	CHECK(refusal("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n") ==
	      SS_INVALID);
	CHECK(refusal("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n") == SS_NOT_IMPLEMENTED);
	CHECK(refusal("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
	              "chunked\r\n\r\n") == SS_INVALID);
	CHECK(refusal("GET / HTTP/1.1\r\nHost : a\r\n\r\n") == SS_INVALID);
	CHECK(refusal("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n") == SS_INVALID);
	CHECK(refusal("GET / HTTP/1.1\r\n Host: a\r\n\r\n") == SS_INVALID);
	CHECK(refusal("GET / HTTP/1.1\nHost: a\n\n") == SS_INVALID);
	CHECK(refusal("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n") == SS_INVALID);
	CHECK(refusal("GET / HTTP/1.1\r\n\r\n") == SS_INVALID); /* no Host */
	CHECK(refusal("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == SS_INVALID);
	CHECK(refusal("GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n") == SS_INVALID);
	CHECK(refusal("GET  / HTTP/1.1\r\nHost: a\r\n\r\n") == SS_INVALID);
	CHECK(refusal("G(T / HTTP/1.1\r\nHost: a\r\n\r\n") == SS_INVALID);
	CHECK(refusal("GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n") == SS_INVALID);
	CHECK(refusal("GET / HTTP/1.1\r\nHost: a\r\nX-A\r\n\r\n") == SS_INVALID);
}

/* A NUL or other control byte anywhere in the head is refused, not cut off. */
static void test_control_characters_are_refused(void)
{
	static const char nul_value[] = "GET / HTTP/1.1\r\nHost: a\r\nX-A: a\0b\r\n\r\n";
	static const char nul_name[] = "GET / HTTP/1.1\r\nHost: a\r\nX\0A: b\r\n\r\n";
	struct ss_wire_scan s = {0};
	struct ss_wire_error err;
	size_t head_len;
	CHECK(ss_wire_scan(&s, nul_value, sizeof(nul_value) - 1, &head_len, &err) == SS_WIRE_ERROR);
	CHECK(err.err == SS_INVALID);
	memset(&s, 0, sizeof(s));
	CHECK(ss_wire_scan(&s, nul_name, sizeof(nul_name) - 1, &head_len, &err) == SS_WIRE_ERROR);
	CHECK(refusal("GET / HTTP/1.1\r\nHost: a\r\nX-A: a\x7f\r\n\r\n") == SS_INVALID);
	CHECK(refusal("GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n") == SS_INVALID);
	/* the parser alone, given a head the scanner did not see, refuses them too */
	struct ss_wire_head h;
	CHECK(ss_wire_parse(nul_value, sizeof(nul_value) - 1, &h, &err) == SS_WIRE_ERROR);
	CHECK(refusal("GET / HTTP/1.1\r\nHost: a\r\nX-A: \xe4\xb8\xad\t\r\n\r\n") ==
	      SS_OK); /* UTF-8 and HTAB are fine */
}

static void test_sizes(void)
{
	char big[SS_WIRE_HEAD_MAX + 200];
	size_t n = (size_t)snprintf(big, sizeof(big), "GET /");
	while (n < SS_WIRE_LINE_MAX + 10)
		big[n++] = 'a';
	big[n] = '\0';
	struct ss_wire_scan s = {0};
	struct ss_wire_error err;
	size_t head_len;
	CHECK(ss_wire_scan(&s, big, n, &head_len, &err) == SS_WIRE_ERROR && err.err == SS_URI_TOO_LONG);

	n = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: a\r\n");
	while (n < SS_WIRE_HEAD_MAX + 100)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "X-Pad: %s\r\n",
		                      "0123456789012345678901234567890123456789");
	memset(&s, 0, sizeof(s));
	CHECK(ss_wire_scan(&s, big, n, &head_len, &err) == SS_WIRE_ERROR && err.err == SS_HEADERS_TOO_BIG);

	n = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: a\r\n");
	for (int i = 0; i < SS_WIRE_HEADERS_MAX + 1; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "X: %d\r\n", i);
	n += (size_t)snprintf(big + n, sizeof(big) - n, "\r\n");
	CHECK(refusal(big) == SS_HEADERS_TOO_BIG);
}

/* The scanner takes the head in any pieces, down to a byte at a time, and stops at its end. */
static void test_scan_in_pieces(void)
{
	const char *text = "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /next";
	struct ss_wire_scan s = {0};
	struct ss_wire_error err;
	size_t head_len = 0, len = strlen(text);
	enum ss_wire_result r = SS_WIRE_MORE;
	for (size_t k = 1; k <= len && r == SS_WIRE_MORE; k++)
		r = ss_wire_scan(&s, text, k, &head_len, &err);
	CHECK(r == SS_WIRE_DONE);
	CHECK(head_len == strlen("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
}

/* Decodes text (in pieces of step bytes) as a chunked body; the data, or NULL if refused. */
static const char *unchunk(const char *text, size_t step, size_t *rest)
{
	static char out[256], buf[256];
	struct ss_wire_chunked c = {0};
	struct ss_wire_error err;
	size_t n = strlen(text), pos = 0, got = 0;
	while (pos < n) {
		size_t k = n - pos < step ? n - pos : step, used, data;
		memcpy(buf, text + pos, k);
		enum ss_wire_result r = ss_wire_chunked_decode(&c, buf, k, &used, &data, &err);
		if (r == SS_WIRE_ERROR)
			return NULL;
		memcpy(out + got, buf, data);
		got += data;
		pos += used;
		if (r == SS_WIRE_DONE) {
			out[got] = '\0';
			*rest = n - pos;
			return out;
		}
	}
	return "(incomplete)";
}

static void test_chunked_bodies(void)
{
	size_t rest = 99;
	for (size_t step = 1; step <= 64; step *= 2) {
		CHECK_STR(unchunk("5\r\nhello\r\n1;ext=\"x\"\r\n \r\n0\r\nTrailer: t\r\n\r\nNEXT", step, &rest),
		          "hello ");
		CHECK(rest == 4);
	}
	CHECK_STR(unchunk("A\r\n0123456789\r\n0\r\n\r\n", 3, &rest), "0123456789");
	CHECK_STR(unchunk("3\r\nabc\r\n", 4, &rest), "(incomplete)");
	CHECK(unchunk("x\r\n\r\n", 1, &rest) == NULL);
	CHECK(unchunk("3\nabc\r\n0\r\n\r\n", 1, &rest) == NULL);
	CHECK(unchunk("3\r\nabcd\r\n0\r\n\r\n", 1, &rest) == NULL);
	CHECK(unchunk("1000000000000000\r\n", 1, &rest) == NULL);
	CHECK(unchunk("-1\r\n", 1, &rest) == NULL);
	CHECK(unchunk("0\r\n: x\r\n\r\n", 1, &rest) == NULL);
	CHECK(unchunk("1 x\r\na\r\n0\r\n\r\n", 1, &rest) == NULL);
}

static void test_dates_and_reasons(void)
{
	char d[30];
	ss_wire_date(784111777, d);
	CHECK_STR(d, "Sun, 06 Nov 1994 08:49:37 GMT");
	ss_wire_date(1796688000, d);
	CHECK_STR(d, "Tue, 08 Dec 2026 00:00:00 GMT");
	CHECK_STR(ss_wire_reason(431), "Request Header Fields Too Large");
	CHECK_STR(ss_wire_reason(299), "Unknown");
}

int main(void)
{
	RUN(test_a_plain_request);
	RUN(test_connection_and_versions);
	RUN(test_ambiguous_framing_is_refused);
	RUN(test_control_characters_are_refused);
	RUN(test_sizes);
	RUN(test_scan_in_pieces);
	RUN(test_chunked_bodies);
	RUN(test_dates_and_reasons);
	return check_done();
}
