/* xwdcrop: cuts a rectangle out of an X screen dump (XWD, such as the file
 * Xvfb -fbdir keeps of its screen) and writes it as a binary PPM, so that
 * the tests can compare what a window shows with a screenshot. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The XWD header: 25 big-endian 32-bit fields (X11's XWDFile.h). */
enum {
	H_HEADER_SIZE,
	H_VERSION,
	H_FORMAT,
	H_DEPTH,
	H_WIDTH,
	H_HEIGHT,
	H_XOFFSET,
	H_BYTE_ORDER,
	H_BITMAP_UNIT,
	H_BIT_ORDER,
	H_PAD,
	H_BPP,
	H_BYTES_PER_LINE,
	H_VISUAL,
	H_RED_MASK,
	H_GREEN_MASK,
	H_BLUE_MASK,
	H_BITS_PER_RGB,
	H_CMAP_ENTRIES,
	H_NCOLORS,
	H_FIELDS = 25,
};
#define XWD_VERSION    7
#define ZPIXMAP	       2
#define XWD_COLOR_SIZE 12

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: xwdcrop SCREEN.xwd X Y W H OUT.ppm [--scale N]\n"
	       "\n"
	       "Writes the W x H rectangle at X,Y of SCREEN.xwd (32 bits per pixel, TrueColor)\n"
	       "as OUT.ppm. With --scale N the rectangle must show a picture scaled up N times\n"
	       "by repeating pixels: every N x N block must be of one colour, and OUT.ppm is\n"
	       "the picture at 1:1 (W/N x H/N).\n"
	       "Exit status: 0 written, 1 a block is not of one colour, 2 usage or file errors.\n");
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool number(const char *s, long lo, long hi, long *v)
{
	char *end;
	errno = 0;
	*v = strtol(s, &end, 10);
	return !errno && end != s && !*end && *v >= lo && *v <= hi;
}

/* Reads the whole file; the screen file of Xvfb is a few megabytes. */
static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "xwdcrop: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	size_t cap = 1 << 20, n = 0;
	uint8_t *buf = malloc(cap);
	while (buf) {
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
		uint8_t *b = cap < (1u << 30) ? realloc(buf, cap * 2) : NULL;
		if (!b) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = b;
		cap *= 2;
	}
	if (!buf || ferror(f))
		fprintf(stderr, "xwdcrop: %s: cannot read it\n", path);
	fclose(f);
	*len = n;
	return buf;
}

static uint32_t pixel(const uint8_t *row, long x, bool lsb)
{
	const uint8_t *p = row + x * 4;
	return lsb ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
			 (uint32_t)p[3] << 24
		   : be32(p);
}

static unsigned component(uint32_t v, uint32_t mask)
{
	if (!mask)
		return 0;
	while (!(mask & 1)) {
		mask >>= 1;
		v >>= 1;
	}
	return (unsigned)((v & mask) * 255 / mask);
}

int main(int argc, char **argv)
{
	long x, y, w, h, scale = 1;
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if ((argc != 7 && argc != 9) || !number(argv[2], 0, 1 << 16, &x) ||
	    !number(argv[3], 0, 1 << 16, &y) || !number(argv[4], 1, 1 << 16, &w) ||
	    !number(argv[5], 1, 1 << 16, &h) ||
	    (argc == 9 && (strcmp(argv[7], "--scale") || !number(argv[8], 1, 64, &scale)))) {
		usage(stderr);
		return 2;
	}
	if (w % scale || h % scale) {
		fprintf(stderr, "xwdcrop: %ldx%ld is not a multiple of the scale %ld\n", w, h,
			scale);
		return 2;
	}
	size_t len;
	uint8_t *file = slurp(argv[1], &len);
	if (!file)
		return 2;
	uint32_t hd[H_FIELDS];
	int rc = 2;
	if (len < H_FIELDS * 4) {
		fprintf(stderr, "xwdcrop: %s: too short for an XWD file\n", argv[1]);
		goto out;
	}
	for (int i = 0; i < H_FIELDS; i++)
		hd[i] = be32(file + i * 4);
	if (hd[H_VERSION] != XWD_VERSION || hd[H_FORMAT] != ZPIXMAP || hd[H_BPP] != 32 ||
	    hd[H_HEADER_SIZE] < H_FIELDS * 4) {
		fprintf(stderr,
			"xwdcrop: %s: not a 32-bit ZPixmap XWD file (version %u, format %u, "
			"%u bits per pixel)\n",
			argv[1], hd[H_VERSION], hd[H_FORMAT], hd[H_BPP]);
		goto out;
	}
	uint64_t data = (uint64_t)hd[H_HEADER_SIZE] + (uint64_t)hd[H_NCOLORS] * XWD_COLOR_SIZE;
	uint64_t bpl = hd[H_BYTES_PER_LINE];
	if (bpl < (uint64_t)hd[H_WIDTH] * 4 || data + bpl * hd[H_HEIGHT] > len) {
		fprintf(stderr, "xwdcrop: %s: the image is larger than the file\n", argv[1]);
		goto out;
	}
	if (x + w > (long)hd[H_WIDTH] || y + h > (long)hd[H_HEIGHT]) {
		fprintf(stderr, "xwdcrop: %ldx%ld at %ld,%ld is not inside the %ux%u screen\n", w,
			h, x, y, hd[H_WIDTH], hd[H_HEIGHT]);
		goto out;
	}
	bool lsb = hd[H_BYTE_ORDER] == 0;
	FILE *out = fopen(argv[6], "wb");
	if (!out) {
		fprintf(stderr, "xwdcrop: %s: %s\n", argv[6], strerror(errno));
		goto out;
	}
	fprintf(out, "P6\n%ld %ld\n255\n", w / scale, h / scale);
	rc = 0;
	for (long py = 0; py < h / scale; py++) {
		for (long px = 0; px < w / scale; px++) {
			const uint8_t *row = file + data + (uint64_t)(y + py * scale) * bpl;
			uint32_t v = pixel(row, x + px * scale, lsb);
			for (long dy = 0; dy < scale && rc == 0; dy++) {
				const uint8_t *r2 = row + (uint64_t)dy * bpl;
				for (long dx = 0; dx < scale; dx++) {
					if (pixel(r2, x + px * scale + dx, lsb) == v)
						continue;
					fprintf(
					    stderr,
					    "xwdcrop: the %ldx%ld block of picture pixel %ld,%ld "
					    "is not of one colour (scaled by repeating pixels?)\n",
					    scale, scale, px, py);
					rc = 1;
					break;
				}
			}
			uint8_t rgb[3] = {(uint8_t)component(v, hd[H_RED_MASK]),
					  (uint8_t)component(v, hd[H_GREEN_MASK]),
					  (uint8_t)component(v, hd[H_BLUE_MASK])};
			fwrite(rgb, 1, 3, out);
		}
	}
	if (fclose(out) != 0) {
		fprintf(stderr, "xwdcrop: %s: %s\n", argv[6], strerror(errno));
		rc = 2;
	}
out:
	free(file);
	return rc;
}
