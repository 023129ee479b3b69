/* qr: encoding text as a QR symbol with libqrencode, and drawing it as SVG or terminal text (see qr.h). */
#include "qr/qr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "base/log.h"
#include "base/mem.h"

struct ss_qr {
	QRcode *code;
};

/*
 * Status inks, chosen with a simulated camera (uneven light, lifted blacks,
 * blur, noise, downscaling, then zbar): each decodes as reliably as black
 * where black itself starts to fail; bright yellow (#ffd700) never did, and
 * dark modules lighter than about luma 100 began to fail. All are at least
 * 6.6:1 against white.
 */
static const uint8_t inks[][3] = {
        [SS_INK_BLACK] = {0x00, 0x00, 0x00},
        [SS_INK_GREEN] = {0x00, 0x6b, 0x35},
        [SS_INK_YELLOW] = {0x70, 0x4e, 0x00}, /* dark amber */
        [SS_INK_RED] = {0xb3, 0x00, 0x1b},
};

void ss_qr_ink_rgb(enum ss_qr_ink ink, uint8_t rgb[3])
{
	if ((unsigned)ink >= sizeof(inks) / sizeof(inks[0]))
		ink = SS_INK_BLACK;
	memcpy(rgb, inks[ink], 3);
}

enum ss_err ss_qr_encode(const char *text, struct ss_qr **out)
{
	size_t n = text ? strnlen(text, SS_QR_TEXT_MAX + 1) : 0;

	*out = NULL;
	if (n == 0)
		return ss_fail(SS_INVALID, NULL, "nothing to encode as a QR code");
	if (n > SS_QR_TEXT_MAX)
		return ss_fail(SS_INVALID, NULL, "text longer than %d bytes for a QR code", SS_QR_TEXT_MAX);
	/*
	 * Mode 8 with case sensitivity lets libqrencode split the text into the
	 * cheapest modes: an upper-case code is all alphanumeric (5.5 bits a
	 * character), version 3 for 56 characters, where bytes would need 4.
	 */
	errno = 0;
	QRcode *code = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (!code) {
		if (errno == ENOMEM) {
			ss_log_error("qr", "msg=\"out of memory\"");
			abort();
		}
		return ss_fail(SS_INVALID, NULL, "text cannot be encoded as a QR code");
	}
	*out = ss_calloc(1, sizeof(**out));
	(*out)->code = code;
	return SS_OK;
}

void ss_qr_free(struct ss_qr *qr)
{
	if (!qr)
		return;
	QRcode_free(qr->code);
	free(qr);
}

int ss_qr_width(const struct ss_qr *qr)
{
	return qr->code->width;
}

int ss_qr_version(const struct ss_qr *qr)
{
	return qr->code->version;
}

bool ss_qr_dark(const struct ss_qr *qr, int x, int y)
{
	int w = qr->code->width;
	if (x < 0 || y < 0 || x >= w || y >= w)
		return false;
	return qr->code->data[(size_t)y * (size_t)w + (size_t)x] & 1;
}

static bool ink_is_valid(enum ss_qr_ink ink)
{
	return (unsigned)ink < sizeof(inks) / sizeof(inks[0]);
}

/* Restores out to its first len bytes after a failed append. */
static enum ss_err undo(struct ss_buf *out, size_t len, enum ss_err err)
{
	out->len = len;
	if (out->ptr)
		out->ptr[len] = '\0';
	return ss_fail(err, NULL, "QR image does not fit its buffer");
}

enum ss_err ss_qr_svg(const struct ss_qr *qr, int scale, enum ss_qr_ink ink, struct ss_buf *out)
{
	int w = ss_qr_width(qr), side = w + 2 * SS_QR_QUIET;
	size_t start = out->len;
	enum ss_err err;

	if (scale < 1 || scale > SS_QR_SCALE_MAX || !ink_is_valid(ink))
		return ss_fail(SS_INVALID, NULL, "bad QR scale or ink");
	err = ss_buf_printf(out,
	                    "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" viewBox=\"0 0 %d %d\" "
	                    "width=\"%d\" height=\"%d\" shape-rendering=\"crispEdges\">"
	                    "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>"
	                    "<path fill=\"#%02x%02x%02x\" d=\"",
	                    side, side, side * scale, side * scale, side, side, inks[ink][0], inks[ink][1],
	                    inks[ink][2]);
	/* one subpath per horizontal run of dark modules: a row of a QR has a handful of runs, not w squares */
	for (int y = 0; y < w && !err; y++) {
		for (int x = 0; x < w && !err; x++) {
			if (!ss_qr_dark(qr, x, y))
				continue;
			int run = 1;
			while (ss_qr_dark(qr, x + run, y))
				run++;
			err = ss_buf_printf(out, "M%d %dh%dv1h-%dz", x + SS_QR_QUIET, y + SS_QR_QUIET, run, run);
			x += run;
		}
	}
	if (!err)
		err = ss_buf_puts(out, "\"/></svg>");
	return err ? undo(out, start, err) : SS_OK;
}

/*
 * Draws two module rows a line; a module is "ink" (drawn in the text colour)
 * if it is light when light_ink, else if it is dark. The quiet zone is light,
 * and the half row past the bottom of an odd-sized symbol is left undrawn.
 */
static enum ss_err terminal(const struct ss_qr *qr, bool light_ink, struct ss_buf *out)
{
	static const char *const cells[4] = {" ", "\u2580", "\u2584", "\u2588"}; /* none, upper, lower, both */
	int w = ss_qr_width(qr), side = w + 2 * SS_QR_QUIET;
	size_t start = out->len;
	enum ss_err err = SS_OK;

	for (int y = 0; y < side && !err; y += 2) {
		for (int x = 0; x < side && !err; x++) {
			int mx = x - SS_QR_QUIET, my = y - SS_QR_QUIET;
			bool top = ss_qr_dark(qr, mx, my) != light_ink;
			bool bottom = y + 1 < side && ss_qr_dark(qr, mx, my + 1) != light_ink;
			err = ss_buf_puts(out, cells[top | bottom << 1]);
		}
		if (!err)
			err = ss_buf_putc(out, '\n');
	}
	return err ? undo(out, start, err) : SS_OK;
}

enum ss_err ss_qr_terminal(const struct ss_qr *qr, struct ss_buf *out)
{
	return terminal(qr, true, out);
}

enum ss_err ss_qr_terminal_light(const struct ss_qr *qr, struct ss_buf *out)
{
	return terminal(qr, false, out);
}
