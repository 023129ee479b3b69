/*
 * qr: drawing codes as QR symbols (the only files that include <qrencode.h>
 * and <png.h>).
 *
 * ss_qr_encode() makes the module matrix of a text at error-correction level
 * M, choosing the smallest version; the renderers draw it with a quiet zone
 * of 4 modules as SVG, as PNG (8-bit greyscale or RGB, written in memory), or
 * as Unicode half blocks for a terminal. Dark modules may be drawn in a
 * colour (a resident's code is drawn in the colour of their status), chosen
 * dark enough that ordinary readers (zbar) still read it. Thread-safe;
 * objects are per caller.
 */
#ifndef SS_QR_QR_H
#define SS_QR_QR_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

struct ss_qr;

#define SS_QR_TEXT_MAX  1024 /* bytes of text ss_qr_encode() accepts */
#define SS_QR_QUIET     4    /* modules of white border drawn around the symbol */
#define SS_QR_SCALE_MAX 64   /* most pixels (SVG: px) per module */

/*
 * Encodes text (1 to SS_QR_TEXT_MAX bytes); SS_INVALID if it is empty, too
 * long or cannot be encoded. Text of the QR alphanumeric set (upper case) is
 * encoded in alphanumeric mode, so a 56-character code is version 3.
 */
enum ss_err ss_qr_encode(const char *text, struct ss_qr **out) SS_MUST;

void ss_qr_free(struct ss_qr *qr);

/* Modules per side (without the quiet zone), and the QR version (1-40). */
int ss_qr_width(const struct ss_qr *qr);
int ss_qr_version(const struct ss_qr *qr);

/* True if the module at column x, row y is dark; false outside the symbol (the quiet zone). */
bool ss_qr_dark(const struct ss_qr *qr, int x, int y);

/*
 * Colours for dark modules: black, and the status colours. The status
 * colours are dark (at least 6.5:1 contrast against white, as WCAG measures
 * it); yellow in particular is a dark amber, since bright yellow on white is
 * too faint for a camera.
 */
enum ss_qr_ink { SS_INK_BLACK, SS_INK_GREEN, SS_INK_YELLOW, SS_INK_RED };

/* The sRGB colour of ink (black for an unknown ink); for pages that draw beside the code. */
void ss_qr_ink_rgb(enum ss_qr_ink ink, uint8_t rgb[3]);

/*
 * The renderers append to out and on failure leave it as it was: SS_INVALID
 * for a scale outside 1..SS_QR_SCALE_MAX or an unknown ink, SS_TOO_BIG if out
 * would pass its maximum.
 */

/* Appends an SVG document (viewBox in modules; scale px per module for width/height). */
enum ss_err ss_qr_svg(const struct ss_qr *qr, int scale, enum ss_qr_ink ink, struct ss_buf *out) SS_MUST;

/* Appends a PNG image, scale pixels per module: 8-bit greyscale for black, else 8-bit RGB. */
enum ss_err ss_qr_png(const struct ss_qr *qr, int scale, enum ss_qr_ink ink, struct ss_buf *out) SS_MUST;

/*
 * Appends the symbol drawn with Unicode half blocks (two rows a line, "\n"
 * after each) and its quiet zone, for a terminal with a dark background:
 * light modules are drawn (in the text colour) and dark modules left as
 * background, so a camera sees dark on light as a QR reader expects. Drawing
 * dark modules as blocks would show a dark terminal an inverted symbol, which
 * many readers do not read. ceil((width + 2 * SS_QR_QUIET) / 2) lines.
 */
enum ss_err ss_qr_terminal(const struct ss_qr *qr, struct ss_buf *out) SS_MUST;

/* The same for a terminal with a light background: dark modules are drawn, light ones left as background. */
enum ss_err ss_qr_terminal_light(const struct ss_qr *qr, struct ss_buf *out) SS_MUST;

#endif
