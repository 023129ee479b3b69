/* png: drawing a QR symbol as a PNG image with libpng, written into an ss_buf (see qr.h). */
#include "qr/qr.h"

#include <setjmp.h>
#include <stdlib.h>

#include <png.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"

/* Where libpng's output goes; too_big is set by the write callback before it makes libpng give up. */
struct sink {
	struct ss_buf *out;
	volatile bool too_big;
};

static void write_cb(png_structp png, png_bytep data, size_t n)
{
	struct sink *s = png_get_io_ptr(png);
	if (ss_buf_append(s->out, data, n) != SS_OK) {
		s->too_big = true;
		png_error(png, "image does not fit its buffer");
	}
}

static void flush_cb(png_structp png)
{
	(void)png;
}

/* libpng's default handler prints to stderr; ours logs once (unless it is our own refusal) and unwinds. */
static void error_cb(png_structp png, png_const_charp msg)
{
	struct sink *s = png_get_error_ptr(png);
	if (!s->too_big)
		ss_log_error("qr", "msg=\"libpng cannot write an image\" detail=\"%s\"", msg);
	png_longjmp(png, 1);
}

static void warning_cb(png_structp png, png_const_charp msg)
{
	(void)png, (void)msg;
}

enum ss_err ss_qr_png(const struct ss_qr *qr, int scale, enum ss_qr_ink ink, struct ss_buf *out)
{
	if (scale < 1 || scale > SS_QR_SCALE_MAX || (unsigned)ink > SS_INK_RED)
		return ss_fail(SS_INVALID, NULL, "bad QR scale or ink");

	int w = ss_qr_width(qr), side = (w + 2 * SS_QR_QUIET) * scale;
	size_t row_bytes = ((size_t)side + 7) / 8; /* one bit a pixel: index 0 light, 1 dark */
	struct sink sink = {out, false};
	size_t start = out->len;
	enum ss_err err = SS_OK;
	uint8_t dark[3], light[3] = {0xff, 0xff, 0xff};

	ss_qr_ink_rgb(ink, dark);
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &sink, error_cb, warning_cb);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	if (!info) {
		ss_log_error("qr", "msg=\"out of memory\"");
		abort();
	}
	uint8_t *row = ss_malloc(row_bytes);

	/* png, info and row are not changed after setjmp, so they keep their values when libpng unwinds */
	if (setjmp(png_jmpbuf(png))) {
		err = sink.too_big ? SS_TOO_BIG : SS_INTERNAL;
		goto out;
	}
	png_set_write_fn(png, &sink, write_cb, flush_cb);
	/*
	 * A two-colour palette at one bit a pixel: the whole image is a few
	 * kilobytes before compression, so a code drawn per request costs tens of
	 * microseconds and a few hundred bytes (8-bit RGB took about 450 us and
	 * 3.3 KB). "Up" turns each repeated pixel row into zeros.
	 */
	png_set_IHDR(png, info, (png_uint_32)side, (png_uint_32)side, 1, PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_NONE,
	             PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_color palette[2] = {{light[0], light[1], light[2]}, {dark[0], dark[1], dark[2]}};
	png_set_PLTE(png, info, palette, 2);
	png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_UP);
	png_write_info(png, info);
	for (int my = -SS_QR_QUIET; my < w + SS_QR_QUIET; my++) {
		memset(row, 0, row_bytes);
		int x = 0;
		for (int mx = -SS_QR_QUIET; mx < w + SS_QR_QUIET; mx++) {
			bool is_dark = ss_qr_dark(qr, mx, my);
			for (int i = 0; i < scale; i++, x++)
				if (is_dark)
					row[x / 8] |= (uint8_t)(0x80 >> (x % 8));
		}
		for (int i = 0; i < scale; i++)
			png_write_row(png, row);
	}
	png_write_end(png, info);
out:
	png_destroy_write_struct(&png, &info);
	free(row);
	if (err) {
		out->len = start;
		if (out->ptr)
			out->ptr[start] = '\0';
		return ss_fail(err, NULL, "cannot draw the QR code as PNG");
	}
	return SS_OK;
}
