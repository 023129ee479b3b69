/* wire: HTTP/1.1 request heads, chunked bodies and response heads, strictly (see wire.h). */
#include "http/wire.h"

#include <string.h>
#include <time.h>

static enum ss_wire_result fail(struct ss_wire_error *err, enum ss_err code, const char *why)
{
	err->err = code;
	err->why = why;
	return SS_WIRE_ERROR;
}

/* RFC 9110 5.6.2: tchar. */
static bool is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A byte a field value may hold: HTAB, SP, VCHAR, obs-text. */
static bool is_field_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

bool ss_wire_is(const char *s, size_t n, const char *lit)
{
	size_t m = strlen(lit);
	if (n != m)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char a = (unsigned char)s[i], b = (unsigned char)lit[i];
		if (a >= 'A' && a <= 'Z')
			a = (unsigned char)(a - 'A' + 'a');
		if (b >= 'A' && b <= 'Z')
			b = (unsigned char)(b - 'A' + 'a');
		if (a != b)
			return false;
	}
	return true;
}

enum ss_wire_result ss_wire_scan(struct ss_wire_scan *s, const char *buf, size_t len, size_t *head_len,
                                 struct ss_wire_error *err)
{
	for (size_t i = s->pos; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (i >= SS_WIRE_HEAD_MAX)
			return fail(err, SS_HEADERS_TOO_BIG, "the request head is too large");
		if (c == '\r') {
			if (i + 1 == len) { /* look again when the next byte is in */
				s->pos = i;
				return SS_WIRE_MORE;
			}
			if (buf[i + 1] != '\n')
				return fail(err, SS_INVALID, "a CR not followed by LF in the request head");
			continue;
		}
		if (c == '\n') {
			if (i == 0 || buf[i - 1] != '\r' || i - 1 < s->line_start)
				return fail(err, SS_INVALID, "a line of the request head ends in LF without CR");
			bool empty = i - 1 == s->line_start;
			s->line_start = i + 1;
			if (!empty) {
				if (++s->lines > SS_WIRE_HEADERS_MAX + 1)
					return fail(err, SS_HEADERS_TOO_BIG, "too many header fields");
				continue;
			}
			if (s->lines == 0) /* an empty line before the request line */
				continue;
			*head_len = i + 1;
			s->pos = i + 1;
			return SS_WIRE_DONE;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(err, SS_INVALID, "a control character in the request head");
		if (s->lines == 0 && i - s->line_start >= SS_WIRE_LINE_MAX)
			return fail(err, SS_URI_TOO_LONG, "the request line is too long");
	}
	s->pos = len;
	return SS_WIRE_MORE;
}

/* Parses the request line at p (up to its CRLF at end); sets method, target and minor. */
static enum ss_wire_result request_line(const char *p, const char *end, struct ss_wire_head *h,
                                        struct ss_wire_error *err)
{
	const char *q = p;
	while (q < end && is_tchar((unsigned char)*q))
		q++;
	if (q == p || q == end || *q != ' ')
		return fail(err, SS_INVALID, "a malformed request line (method)");
	h->method = p;
	h->method_len = (size_t)(q - p);
	p = ++q;
	while (q < end && (unsigned char)*q > 0x20 && (unsigned char)*q < 0x7f)
		q++;
	if (q == p || q == end || *q != ' ')
		return fail(err, SS_INVALID, "a malformed request line (target)");
	h->target = p;
	h->target_len = (size_t)(q - p);
	p = ++q;
	size_t n = (size_t)(end - p);
	if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.' || p[5] < '0' || p[5] > '9' || p[7] < '0' || p[7] > '9')
		return fail(err, SS_INVALID, "a malformed request line (version)");
	if (p[5] != '1' || (p[7] != '0' && p[7] != '1'))
		return fail(err, SS_VERSION, "only HTTP/1.0 and HTTP/1.1 are supported");
	h->minor = p[7] - '0';
	if (h->target[0] != '/')
		return fail(err, SS_INVALID, "the request target must be a path");
	return SS_WIRE_DONE;
}

/* The tokens of a Connection field: close and keep-alive are the ones that matter. */
static void connection_tokens(const char *v, size_t n, bool *close, bool *keep)
{
	size_t i = 0;
	while (i < n) {
		while (i < n && (is_ows(v[i]) || v[i] == ','))
			i++;
		size_t start = i;
		while (i < n && v[i] != ',' && !is_ows(v[i]))
			i++;
		if (ss_wire_is(v + start, i - start, "close"))
			*close = true;
		else if (ss_wire_is(v + start, i - start, "keep-alive"))
			*keep = true;
	}
}

/* The framing and connection fields of h, checked. */
static enum ss_wire_result framing(struct ss_wire_head *h, struct ss_wire_error *err)
{
	unsigned lengths = 0, codings = 0, hosts = 0;
	bool close = false, keep = false;
	for (size_t i = 0; i < h->nfields; i++) {
		const struct ss_wire_field *f = &h->fields[i];
		if (ss_wire_is(f->name, f->name_len, "content-length")) {
			if (++lengths > 1)
				return fail(err, SS_INVALID, "more than one Content-Length");
			if (f->value_len == 0 || f->value_len > 18)
				return fail(err, SS_INVALID, "Content-Length must be 1 to 18 digits");
			uint64_t v = 0;
			for (size_t k = 0; k < f->value_len; k++) {
				char c = f->value[k];
				if (c < '0' || c > '9')
					return fail(err, SS_INVALID, "Content-Length must be 1 to 18 digits");
				v = v * 10 + (uint64_t)(c - '0');
			}
			h->has_length = true;
			h->length = v;
		} else if (ss_wire_is(f->name, f->name_len, "transfer-encoding")) {
			if (++codings > 1)
				return fail(err, SS_INVALID, "more than one Transfer-Encoding");
			if (!ss_wire_is(f->value, f->value_len, "chunked"))
				return fail(err, SS_NOT_IMPLEMENTED, "only the chunked transfer coding is supported");
			h->chunked = true;
		} else if (ss_wire_is(f->name, f->name_len, "host")) {
			hosts++;
		} else if (ss_wire_is(f->name, f->name_len, "connection")) {
			connection_tokens(f->value, f->value_len, &close, &keep);
		} else if (ss_wire_is(f->name, f->name_len, "expect")) {
			h->expect_continue = ss_wire_is(f->value, f->value_len, "100-continue");
		}
	}
	if (h->chunked && h->has_length)
		return fail(err, SS_INVALID, "both Transfer-Encoding and Content-Length");
	if (hosts > 1 || (h->minor == 1 && hosts != 1))
		return fail(err, SS_INVALID, "an HTTP/1.1 request needs exactly one Host");
	h->keep_alive = h->minor == 1 ? !close : keep && !close;
	return SS_WIRE_DONE;
}

enum ss_wire_result ss_wire_parse(const char *buf, size_t head_len, struct ss_wire_head *h, struct ss_wire_error *err)
{
	memset(h, 0, sizeof(*h));
	const char *p = buf, *end = buf + head_len;
	while (end - p >= 2 && p[0] == '\r' && p[1] == '\n') /* empty lines before the request line */
		p += 2;
	bool first = true;
	for (;;) {
		const char *eol = p;
		while (eol < end && *eol != '\r' && *eol != '\n')
			eol++;
		if (end - eol < 2 || eol[0] != '\r' || eol[1] != '\n')
			return fail(err, SS_INVALID, "a line of the request head is not ended by CRLF");
		if (first) {
			if (request_line(p, eol, h, err) != SS_WIRE_DONE)
				return SS_WIRE_ERROR;
			first = false;
		} else if (eol == p) {
			if (eol + 2 != end)
				return fail(err, SS_INVALID, "bytes after the end of the request head");
			return framing(h, err);
		} else {
			if (is_ows(*p))
				return fail(err, SS_INVALID, "a folded header line (obs-fold)");
			const char *colon = p;
			while (colon < eol && is_tchar((unsigned char)*colon))
				colon++;
			if (colon == eol || *colon != ':')
				return fail(err, SS_INVALID,
				            colon < eol && is_ows(*colon)
				                    ? "white space before the colon of a header field"
				                    : "a malformed header field name");
			if (colon == p)
				return fail(err, SS_INVALID, "an empty header field name");
			const char *v = colon + 1, *ve = eol;
			while (v < ve && is_ows(*v))
				v++;
			while (ve > v && is_ows(ve[-1]))
				ve--;
			for (const char *c = v; c < ve; c++)
				if (!is_field_char((unsigned char)*c))
					return fail(err, SS_INVALID, "a control character in a header field");
			if (h->nfields == SS_WIRE_HEADERS_MAX)
				return fail(err, SS_HEADERS_TOO_BIG, "too many header fields");
			h->fields[h->nfields++] = (struct ss_wire_field){
			        .name = p, .name_len = (size_t)(colon - p), .value = v, .value_len = (size_t)(ve - v)};
		}
		p = eol + 2;
		if (p >= end)
			return fail(err, SS_INVALID, "the request head has no blank line");
	}
}

enum {
	C_SIZE = 0, /* hex digits of a chunk size */
	C_SIZE_WS,  /* white space after the size: only ';' may follow */
	C_EXT,      /* a chunk extension, up to CR (read and dropped) */
	C_SIZE_LF,  /* CR seen after the size line */
	C_DATA,
	C_DATA_CR, /* the CRLF after a chunk's data */
	C_DATA_LF,
	C_TRAILER,      /* the start of a trailer line, or the final CRLF */
	C_TRAILER_LINE, /* within a trailer field (read and dropped) */
	C_TRAILER_LF,
	C_END_LF, /* CR of the final blank line seen */
};

#define CHUNK_LINE_MAX   256  /* a size line with its extensions */
#define CHUNK_DIGITS_MAX 15   /* below 2^60 */
#define TRAILERS_MAX     4096 /* trailer fields in all */

enum ss_wire_result ss_wire_chunked_decode(struct ss_wire_chunked *c, char *buf, size_t n, size_t *used, size_t *data,
                                           struct ss_wire_error *err)
{
	size_t i = 0, w = 0;
	*data = 0;
	*used = 0;
	while (i < n) {
		unsigned char ch = (unsigned char)buf[i];
		switch (c->state) {
		case C_SIZE: {
			int v = ch >= '0' && ch <= '9'   ? ch - '0'
			        : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
			        : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
			                                 : -1;
			if (v >= 0) {
				if (++c->digits > CHUNK_DIGITS_MAX)
					return fail(err, SS_INVALID, "a chunk size is too large");
				c->left = c->left * 16 + (uint64_t)v;
			} else if (c->digits == 0) {
				return fail(err, SS_INVALID, "a malformed chunk size");
			} else if (ch == '\r') {
				c->state = C_SIZE_LF;
			} else if (ch == ';') {
				c->state = C_EXT;
			} else if (is_ows((char)ch)) {
				c->state = C_SIZE_WS;
			} else {
				return fail(err, SS_INVALID, "a malformed chunk size");
			}
			i++;
			break;
		}
		case C_SIZE_WS:
			if (ch == ';')
				c->state = C_EXT;
			else if (!is_ows((char)ch))
				return fail(err, SS_INVALID, "a malformed chunk size line");
			i++;
			break;
		case C_EXT:
			if (ch == '\r')
				c->state = C_SIZE_LF;
			else if (!is_field_char(ch))
				return fail(err, SS_INVALID, "a control character in a chunk extension");
			if (++c->line > CHUNK_LINE_MAX)
				return fail(err, SS_INVALID, "a chunk extension is too long");
			i++;
			break;
		case C_SIZE_LF:
			if (ch != '\n')
				return fail(err, SS_INVALID, "a chunk size line not ended by CRLF");
			i++;
			c->line = 0;
			c->digits = 0;
			c->state = c->left ? C_DATA : C_TRAILER;
			break;
		case C_DATA: {
			size_t take = n - i;
			if ((uint64_t)take > c->left)
				take = (size_t)c->left;
			memmove(buf + w, buf + i, take);
			w += take;
			i += take;
			c->left -= take;
			if (c->left == 0)
				c->state = C_DATA_CR;
			break;
		}
		case C_DATA_CR:
			if (ch != '\r')
				return fail(err, SS_INVALID, "chunk data not followed by CRLF");
			c->state = C_DATA_LF;
			i++;
			break;
		case C_DATA_LF:
			if (ch != '\n')
				return fail(err, SS_INVALID, "chunk data not followed by CRLF");
			c->state = C_SIZE;
			i++;
			break;
		case C_TRAILER:
			if (ch == '\r') {
				c->state = C_END_LF;
				i++;
				break;
			}
			if (is_ows((char)ch) || !is_tchar(ch))
				return fail(err, SS_INVALID, "a malformed trailer field");
			c->state = C_TRAILER_LINE;
			break;
		case C_TRAILER_LINE:
			if (ch == '\r')
				c->state = C_TRAILER_LF;
			else if (!is_field_char(ch))
				return fail(err, SS_INVALID, "a control character in a trailer field");
			if (++c->trailers > TRAILERS_MAX)
				return fail(err, SS_INVALID, "the trailer fields are too large");
			i++;
			break;
		case C_TRAILER_LF:
			if (ch != '\n')
				return fail(err, SS_INVALID, "a trailer field not ended by CRLF");
			c->state = C_TRAILER;
			i++;
			break;
		case C_END_LF:
			if (ch != '\n')
				return fail(err, SS_INVALID, "a chunked body not ended by CRLF");
			*used = i + 1;
			*data = w;
			return SS_WIRE_DONE;
		}
	}
	*used = n;
	*data = w;
	return SS_WIRE_MORE;
}

const char *ss_wire_reason(int status)
{
	static const struct {
		int status;
		const char *reason;
	} reasons[] = {
	        {100, "Continue"},
	        {200, "OK"},
	        {201, "Created"},
	        {202, "Accepted"},
	        {204, "No Content"},
	        {304, "Not Modified"},
	        {400, "Bad Request"},
	        {401, "Unauthorized"},
	        {403, "Forbidden"},
	        {404, "Not Found"},
	        {405, "Method Not Allowed"},
	        {408, "Request Timeout"},
	        {409, "Conflict"},
	        {413, "Content Too Large"},
	        {414, "URI Too Long"},
	        {422, "Unprocessable Content"},
	        {429, "Too Many Requests"},
	        {431, "Request Header Fields Too Large"},
	        {500, "Internal Server Error"},
	        {501, "Not Implemented"},
	        {503, "Service Unavailable"},
	        {505, "HTTP Version Not Supported"},
	};
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return "Unknown";
}

void ss_wire_date(int64_t t, char out[30])
{
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	time_t tt = (time_t)t;
	gmtime_r(&tt, &tm);
	/* by hand, not strftime: the names must not follow the locale */
	static const char digits[] = "0123456789";
	char *p = out;
	memcpy(p, days[tm.tm_wday], 3);
	p += 3;
	*p++ = ',';
	*p++ = ' ';
	*p++ = digits[tm.tm_mday / 10];
	*p++ = digits[tm.tm_mday % 10];
	*p++ = ' ';
	memcpy(p, months[tm.tm_mon], 3);
	p += 3;
	*p++ = ' ';
	int y = tm.tm_year + 1900;
	*p++ = digits[(y / 1000) % 10];
	*p++ = digits[(y / 100) % 10];
	*p++ = digits[(y / 10) % 10];
	*p++ = digits[y % 10];
	*p++ = ' ';
	*p++ = digits[tm.tm_hour / 10];
	*p++ = digits[tm.tm_hour % 10];
	*p++ = ':';
	*p++ = digits[tm.tm_min / 10];
	*p++ = digits[tm.tm_min % 10];
	*p++ = ':';
	*p++ = digits[tm.tm_sec / 10];
	*p++ = digits[tm.tm_sec % 10];
	memcpy(p, " GMT", 5);
}
