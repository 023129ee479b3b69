/*
 * wire: the bytes of HTTP/1.1 (RFC 9112) as the server reads and writes
 * them: request heads found and parsed strictly, chunked bodies decoded,
 * response heads written. No sockets, no threads, no allocation: the server
 * (server.c) feeds bytes in and acts on the answers, and the fuzzer
 * (fuzz/fuzz_wire.c) feeds anything.
 *
 * Strict means a request is taken in one reading only: what a proxy in front
 * of us could read another way is refused, with the status to answer and a
 * message, and the connection is then closed by the server. Refused: a line
 * not ended by CRLF (a bare CR or LF), a control character (NUL included) or
 * DEL anywhere in the head, a header line folded onto the next (obs-fold) or
 * with white space before its colon, a field name that is not a token, a
 * request target that is not a path ("/..."), more than one Content-Length,
 * a Content-Length that is not 1 to 18 digits, Transfer-Encoding together
 * with Content-Length, a transfer coding other than a single "chunked" (501),
 * an HTTP version other than 1.0 and 1.1 (505), an HTTP/1.1 request without
 * exactly one Host; and sizes: a request line over SS_WIRE_LINE_MAX (414), a
 * head over SS_WIRE_HEAD_MAX or with more than SS_WIRE_HEADERS_MAX fields
 * (431).
 */
#ifndef SS_HTTP_WIRE_H
#define SS_HTTP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define SS_WIRE_HEAD_MAX    16384 /* request line and header fields, through the blank line */
#define SS_WIRE_LINE_MAX    4096  /* the request line */
#define SS_WIRE_HEADERS_MAX 64
#define SS_WIRE_LENGTH_MAX  999999999999999999ull /* 18 digits */

enum ss_wire_result {
	SS_WIRE_MORE,  /* nothing wrong so far; more bytes are needed */
	SS_WIRE_DONE,  /* complete */
	SS_WIRE_ERROR, /* refused: answer status with the message, then close */
};

struct ss_wire_error {
	enum ss_err err; /* SS_INVALID (400), SS_URI_TOO_LONG, SS_HEADERS_TOO_BIG, SS_NOT_IMPLEMENTED or SS_VERSION */
	const char *why; /* a static, lowercase message naming what is wrong */
};

/*
 * Finding the end of a head as its bytes arrive, looking at each byte once.
 * Zero it for each new request, then call ss_wire_scan() with the whole
 * buffer so far (its first bytes are those already looked at).
 */
struct ss_wire_scan {
	size_t pos;        /* bytes looked at */
	size_t line_start; /* where the current line began */
	unsigned lines;    /* complete lines so far */
};

/*
 * SS_WIRE_DONE with *head_len the bytes through the blank line; SS_WIRE_MORE;
 * or SS_WIRE_ERROR for what can be told before the end: a bare CR or LF, a
 * control character, a request line over SS_WIRE_LINE_MAX (414), or no end
 * within SS_WIRE_HEAD_MAX (431). Empty lines before the request line are
 * skipped, as RFC 9112 2.2 allows (their bytes count into *head_len).
 */
enum ss_wire_result ss_wire_scan(struct ss_wire_scan *s, const char *buf, size_t len, size_t *head_len,
                                 struct ss_wire_error *err);

struct ss_wire_field {
	const char *name, *value; /* not NUL-terminated: pointers into the head */
	size_t name_len, value_len;
};

struct ss_wire_head {
	const char *method, *target;
	size_t method_len, target_len;
	int minor; /* HTTP/1.minor */
	struct ss_wire_field fields[SS_WIRE_HEADERS_MAX];
	size_t nfields;
	/* the body's framing */
	bool chunked;
	bool has_length;
	uint64_t length; /* with has_length */
	bool keep_alive; /* HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with "Connection: keep-alive" */
	bool expect_continue;
};

/*
 * Parses a complete head (as ss_wire_scan() found it: head_len bytes). The
 * fields point into buf. SS_WIRE_DONE or SS_WIRE_ERROR.
 */
enum ss_wire_result ss_wire_parse(const char *buf, size_t head_len, struct ss_wire_head *h, struct ss_wire_error *err);

/* True if the n bytes at s, compared without regard to ASCII case, are the C string lit. */
bool ss_wire_is(const char *s, size_t n, const char *lit);

/* A chunked body being decoded: zero it before the first piece. */
struct ss_wire_chunked {
	int state;
	uint64_t left; /* bytes of chunk data still to come */
	unsigned digits;
	size_t line;     /* bytes of the current size or trailer line */
	size_t trailers; /* bytes of trailer fields so far */
};

/*
 * Decodes in place: the n bytes at buf are a further piece of a chunked body;
 * the data they carry is moved to the front of buf (*data bytes) and *used
 * bytes of buf were consumed. SS_WIRE_DONE once the last chunk and its
 * trailers (read and dropped) have ended: bytes after *used belong to the
 * next request. SS_WIRE_MORE when all n were consumed. SS_WIRE_ERROR (400)
 * for a malformed size, line or trailer.
 */
enum ss_wire_result ss_wire_chunked_decode(struct ss_wire_chunked *c, char *buf, size_t n, size_t *used, size_t *data,
                                           struct ss_wire_error *err);

/* The reason phrase of status ("OK", "Not Found", ...; "Unknown" for one not listed). */
const char *ss_wire_reason(int status);

/* The IMF-fixdate of unix time t ("Sun, 06 Nov 1994 08:49:37 GMT"): 29 characters and a NUL. */
void ss_wire_date(int64_t t, char out[30]);

#endif
