/*
 * Unit tests of QR drawing (src/qr/): the version of a code, PNG decoded by a
 * real reader (zbarimg, from Debian's zbar-tools) in every ink, SVG and
 * terminal output redrawn from their text and compared module by module,
 * refusals.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "check.h"
#include "crypto/code.h"
#include "crypto/crypto.h"
#include "crypto/keyring.h"
#include "qr/qr.h"

#define NOW INT64_C(1795680000)

/* A real code, as residents get them. */
static void make_code(char code[SS_CODE_LEN + 1])
{
	static const uint8_t master[32] = {1}, secret[32] = {2};
	struct ss_keyring *kr = ss_keyring_new(master);
	ss_keyring_add(kr, 1, SS_KEY_CODE, secret, SS_KEY_CURRENT);
	if (ss_code_issue(kr, 12345, 0, NOW, code) != SS_OK)
		code[0] = '\0';
	ss_keyring_free(kr);
}

static void test_code_version(void)
{
	char code[SS_CODE_LEN + 1];
	for (int i = 0; i < 50; i++) {
		struct ss_qr *qr = NULL;
		make_code(code);
		CHECK(strlen(code) == SS_CODE_LEN);
		CHECK(ss_qr_encode(code, &qr) == SS_OK);
		if (!qr)
			return;
		CHECK(ss_qr_version(qr) <= 3);
		CHECK(ss_qr_width(qr) == 17 + 4 * ss_qr_version(qr));
		ss_qr_free(qr);
	}
	/* alphanumeric text costs the same whatever its letters: version 3 at level M holds 61 characters, then 4 */
	char text[64];
	for (size_t n = 56; n <= 62; n++) {
		struct ss_qr *qr = NULL;
		memset(text, 'Z', n);
		text[0] = '1', text[n] = '\0';
		CHECK(ss_qr_encode(text, &qr) == SS_OK);
		CHECK(qr && ss_qr_version(qr) == (n <= 61 ? 3 : 4));
		ss_qr_free(qr);
	}
}

/* Writes n bytes to a new temporary file; its name goes to path. */
static bool write_temp(const void *p, size_t n, char path[64])
{
	strcpy(path, "/tmp/ss_test_qr_XXXXXX.png");
	int fd = mkstemps(path, 4);
	if (fd < 0)
		return false;
	bool ok = write(fd, p, n) == (ssize_t)n;
	return close(fd) == 0 && ok;
}

/* What zbarimg reads from the image file at path ("" if nothing), without the newline it adds. */
static void zbar(const char *path, char *out, size_t size)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "zbarimg --raw -q '%s' 2>/dev/null", path);
	out[0] = '\0';
	FILE *p = popen(cmd, "r");
	if (!p)
		return;
	if (!fgets(out, (int)size, p))
		out[0] = '\0';
	pclose(p);
	out[strcspn(out, "\n")] = '\0';
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Draws code as a PNG in ink at scale, checks the header, and has zbarimg read it back. */
static void check_png(const struct ss_qr *qr, const char *code, enum ss_qr_ink ink, int scale)
{
	char path[64], got[256];
	struct ss_buf png;

	ss_buf_init(&png, 1 << 20);
	CHECK(ss_qr_png(qr, scale, ink, &png) == SS_OK);
	const uint8_t *b = (const uint8_t *)png.ptr;
	CHECK(png.len > 33 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0 && memcmp(b + 12, "IHDR", 4) == 0);
	if (png.len > 33) {
		uint32_t side = (uint32_t)(ss_qr_width(qr) + 2 * SS_QR_QUIET) * (uint32_t)scale;
		CHECK(be32(b + 16) == side && be32(b + 20) == side);
		CHECK(b[24] == 1); /* one bit a pixel */
		CHECK(b[25] == 3); /* a palette of light and the ink */
	}
	CHECK(write_temp(png.ptr, png.len, path));
	zbar(path, got, sizeof(got));
	if (strcmp(got, code) != 0)
		printf("# ink %d scale %d: zbarimg read \"%s\"\n", (int)ink, scale, got);
	CHECK_STR(got, code);
	unlink(path);
	ss_buf_release(&png);
}

static void test_png_decodes_in_every_ink(void)
{
	/* zbar cannot read most symbols at 1 pixel a module, whatever the ink; from 2 up it read every one */
	static const int scales[] = {2, 4, 8};
	char code[SS_CODE_LEN + 1];

	CHECK(system("zbarimg --version >/dev/null 2>&1") == 0); /* scripts/install-deps installs zbar-tools */
	for (int round = 0; round < 3; round++) {
		struct ss_qr *qr = NULL;
		make_code(code);
		CHECK(ss_qr_encode(code, &qr) == SS_OK);
		if (!qr)
			return;
		for (int ink = SS_INK_BLACK; ink <= SS_INK_RED; ink++)
			for (size_t s = 0; s < sizeof(scales) / sizeof(scales[0]); s++)
				check_png(qr, code, (enum ss_qr_ink)ink, scales[s]);
		ss_qr_free(qr);
	}
}

/* x to the power 2.4 for x in (0, 1], as x^2 times the fifth root of x^2 (by Newton), so tests need no libm. */
static double pow24(double x)
{
	double a = x * x, r = 1;
	for (int i = 0; i < 100; i++)
		r -= (r * r * r * r * r - a) / (5 * r * r * r * r);
	return a * r;
}

/* The sRGB transfer function undone: how much light a channel value c gives. */
static double linear(uint8_t c)
{
	double v = c / 255.0;
	return v <= 0.04045 ? v / 12.92 : pow24((v + 0.055) / 1.055);
}

/* Inks that a camera reads: dark against white (WCAG contrast), and still the colour they stand for. */
static void test_inks(void)
{
	uint8_t c[3];
	for (int ink = SS_INK_BLACK; ink <= SS_INK_RED; ink++) {
		ss_qr_ink_rgb((enum ss_qr_ink)ink, c);
		double lum = 0.2126 * linear(c[0]) + 0.7152 * linear(c[1]) + 0.0722 * linear(c[2]);
		double contrast = 1.05 / (lum + 0.05);
		if (contrast < 6.5)
			printf("# ink %d: contrast %.2f\n", ink, contrast);
		CHECK(contrast >= 6.5);
	}
	ss_qr_ink_rgb(SS_INK_GREEN, c);
	CHECK(c[1] > c[0] && c[1] > c[2]);
	ss_qr_ink_rgb(SS_INK_RED, c);
	CHECK(c[0] > c[1] && c[0] > c[2]);
	ss_qr_ink_rgb(SS_INK_YELLOW, c); /* amber: red and green, little blue */
	CHECK(c[0] >= c[1] && c[1] > c[2] && c[1] >= c[0] / 2);
}

static void test_svg(void)
{
	char code[SS_CODE_LEN + 1];
	struct ss_qr *qr = NULL;
	struct ss_buf svg;

	make_code(code);
	CHECK(ss_qr_encode(code, &qr) == SS_OK);
	if (!qr)
		return;
	ss_buf_init(&svg, 1 << 20);
	CHECK(ss_qr_svg(qr, 4, SS_INK_RED, &svg) == SS_OK);
	const char *s = ss_buf_str(&svg);
	int w = ss_qr_width(qr), side = w + 2 * SS_QR_QUIET;
	char expect[128];
	CHECK(strncmp(s, "<svg", 4) == 0);
	CHECK(svg.len > 6 && strcmp(s + svg.len - 6, "</svg>") == 0);
	CHECK(strstr(s, "shape-rendering=\"crispEdges\"") != NULL);
	snprintf(expect, sizeof(expect), "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\"", side, side, side * 4,
	         side * 4);
	CHECK(strstr(s, expect) != NULL);
	CHECK(strstr(s, "<rect width=\"37\" height=\"37\" fill=\"#ffffff\"/>") != NULL);
	CHECK(strstr(s, "fill=\"#b3001b\"") != NULL);

	/* exactly one path; redraw it and compare with the symbol, module by module */
	const char *path = strstr(s, "<path");
	CHECK(path && !strstr(path + 1, "<path"));
	const char *d = path ? strstr(path, " d=\"") : NULL;
	CHECK(d != NULL);
	if (d) {
		static bool drawn[64][64];
		int x, y, run, back, used, last_y = -1, last_end = -1, bad = 0;
		memset(drawn, 0, sizeof(drawn));
		for (d += 4; *d == 'M'; d += used) {
			used = 0;
			if (sscanf(d, "M%d %dh%dv1h-%dz%n", &x, &y, &run, &back, &used) != 4 || used == 0 ||
			    run != back || x < 0 || y < 0 || run < 1 || x + run > side || y >= side) {
				bad++;
				break;
			}
			/* runs are merged: the next run on a row starts past a light module */
			if (y == last_y && x <= last_end)
				bad++;
			last_y = y, last_end = x + run;
			for (int k = 0; k < run; k++)
				drawn[y][x + k] = true;
		}
		CHECK(bad == 0);
		CHECK(*d == '"');
		int mismatches = 0;
		for (y = 0; y < side; y++)
			for (x = 0; x < side; x++)
				mismatches += drawn[y][x] != ss_qr_dark(qr, x - SS_QR_QUIET, y - SS_QR_QUIET);
		CHECK(mismatches == 0);
	}
	ss_buf_release(&svg);
	ss_qr_free(qr);
}

/* Redraws terminal output: true where a cell's half is drawn. Returns the number of lines, -1 if malformed. */
static int read_terminal(const char *s, int side, bool drawn[64][64])
{
	static const char *const cells[4] = {" ", "\u2580", "\u2584", "\u2588"};
	int line = 0, col = 0;
	while (*s) {
		if (*s == '\n') {
			if (col != side)
				return -1;
			line++, col = 0, s++;
			continue;
		}
		int k = 0;
		while (k < 4 && strncmp(s, cells[k], strlen(cells[k])) != 0)
			k++;
		if (k == 4 || col >= side || 2 * line + 1 >= 64)
			return -1;
		drawn[2 * line][col] = k & 1;
		drawn[2 * line + 1][col] = k & 2;
		col++;
		s += strlen(cells[k]);
	}
	return col == 0 ? line : -1;
}

static void test_terminal(void)
{
	char code[SS_CODE_LEN + 1];
	struct ss_qr *qr = NULL;
	static bool drawn[64][64];

	make_code(code);
	CHECK(ss_qr_encode(code, &qr) == SS_OK);
	if (!qr)
		return;
	int w = ss_qr_width(qr), side = w + 2 * SS_QR_QUIET;
	for (int light_bg = 0; light_bg <= 1; light_bg++) {
		struct ss_buf t;
		ss_buf_init(&t, 1 << 16);
		CHECK((light_bg ? ss_qr_terminal_light(qr, &t) : ss_qr_terminal(qr, &t)) == SS_OK);
		memset(drawn, 0, sizeof(drawn));
		int lines = read_terminal(ss_buf_str(&t), side, drawn);
		CHECK(lines == (side + 1) / 2);
		int mismatches = 0;
		for (int y = 0; y < side; y++)
			for (int x = 0; x < side; x++) {
				bool dark = ss_qr_dark(qr, x - SS_QR_QUIET, y - SS_QR_QUIET);
				/* dark background: light modules are drawn; light background: dark ones */
				mismatches += drawn[y][x] != (light_bg ? dark : !dark);
			}
		CHECK(mismatches == 0);
		/* the half row below an odd-sized symbol is never drawn */
		if (side % 2)
			for (int x = 0; x < side; x++)
				CHECK(!drawn[side][x]);
		ss_buf_release(&t);
	}
	ss_qr_free(qr);
}

static void test_dark_outside_is_light(void)
{
	struct ss_qr *qr = NULL;
	CHECK(ss_qr_encode("HELLO", &qr) == SS_OK);
	if (!qr)
		return;
	int w = ss_qr_width(qr);
	CHECK(ss_qr_version(qr) == 1 && w == 21);
	CHECK(ss_qr_dark(qr, 0, 0)); /* the corner of a finder pattern */
	CHECK(!ss_qr_dark(qr, -1, 0) && !ss_qr_dark(qr, 0, -1) && !ss_qr_dark(qr, w, 0) && !ss_qr_dark(qr, 0, w));
	CHECK(!ss_qr_dark(qr, 1 << 30, 1 << 30) && !ss_qr_dark(qr, -(1 << 30), 0));
	ss_qr_free(qr);
}

static void test_refusals(void)
{
	static char text[SS_QR_TEXT_MAX + 2];
	struct ss_qr *qr = (struct ss_qr *)&qr;

	memset(text, 'A', SS_QR_TEXT_MAX + 1);
	CHECK(ss_qr_encode(text, &qr) == SS_INVALID);
	CHECK(qr == NULL);
	text[SS_QR_TEXT_MAX] = '\0';
	CHECK(ss_qr_encode(text, &qr) == SS_OK);
	CHECK(qr && ss_qr_version(qr) <= 40);
	ss_qr_free(qr);
	CHECK(ss_qr_encode("", &qr) == SS_INVALID && qr == NULL);
	CHECK(ss_qr_encode(NULL, &qr) == SS_INVALID && qr == NULL);
	/* bytes outside ASCII are 8-bit data, not an error */
	CHECK(ss_qr_encode("\xe9\x9a\x8f\xe7\x94\xb3\xe7\xa0\x81", &qr) == SS_OK);
	ss_qr_free(qr);
	ss_qr_free(NULL);

	/* bad scales and inks, and buffers too small: refused, buffer unchanged */
	CHECK(ss_qr_encode("HELLO", &qr) == SS_OK);
	if (!qr)
		return;
	struct ss_buf b;
	ss_buf_init(&b, 200);
	CHECK(ss_buf_puts(&b, "kept") == SS_OK);
	CHECK(ss_qr_svg(qr, 0, SS_INK_BLACK, &b) == SS_INVALID);
	CHECK(ss_qr_svg(qr, SS_QR_SCALE_MAX + 1, SS_INK_BLACK, &b) == SS_INVALID);
	CHECK(ss_qr_svg(qr, 4, (enum ss_qr_ink)4, &b) == SS_INVALID);
	CHECK(ss_qr_png(qr, 0, SS_INK_BLACK, &b) == SS_INVALID);
	CHECK(ss_qr_png(qr, 4, (enum ss_qr_ink) - 1, &b) == SS_INVALID);
	CHECK(ss_qr_svg(qr, 4, SS_INK_GREEN, &b) == SS_TOO_BIG);
	CHECK(ss_qr_png(qr, 4, SS_INK_GREEN, &b) == SS_TOO_BIG);
	CHECK(ss_qr_png(qr, 4, SS_INK_BLACK, &b) == SS_TOO_BIG);
	CHECK(ss_qr_terminal(qr, &b) == SS_TOO_BIG);
	CHECK(ss_qr_terminal_light(qr, &b) == SS_TOO_BIG);
	CHECK(b.len == 4);
	CHECK_STR(ss_buf_str(&b), "kept");
	/* and with room, it appends after what was there */
	struct ss_buf big;
	ss_buf_init(&big, 1 << 20);
	CHECK(ss_buf_puts(&big, "kept") == SS_OK);
	CHECK(ss_qr_png(qr, 2, SS_INK_BLACK, &big) == SS_OK);
	CHECK(big.len > 4 && memcmp(big.ptr, "kept\x89PNG", 8) == 0);
	ss_buf_release(&big);
	ss_buf_release(&b);
	ss_qr_free(qr);
}

int main(void)
{
	if (ss_crypto_init() != SS_OK)
		return 1;
	RUN(test_code_version);
	RUN(test_png_decodes_in_every_ink);
	RUN(test_inks);
	RUN(test_svg);
	RUN(test_terminal);
	RUN(test_dark_outside_is_light);
	RUN(test_refusals);
	return check_done();
}
