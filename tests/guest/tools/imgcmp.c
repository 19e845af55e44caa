/* imgcmp: compares two screenshots (PNG from osio, PPM from QEMU's screendump) pixel for pixel,
 * outside masked rectangles, and checks probe pixels and sizes the test expects. */
#include <errno.h>
#include <png.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct image {
	unsigned w, h;
	uint8_t *rgb; /* w * h * 3 */
};

struct rect {
	unsigned x, y, w, h;
};

struct probe {
	unsigned x, y;
	uint32_t rgb;
};

#define MAX_ITEMS 64

static void usage(FILE *f)
{
	fprintf(f,
		"usage: imgcmp A B [options]     compare two images (PNG or binary PPM)\n"
		"       imgcmp A [options]       only check A\n"
		"\n"
		"  --mask X,Y,W,H     ignore this rectangle (repeatable)\n"
		"  --size WxH         both images must have this size\n"
		"  --probe X,Y,RRGGBB this pixel must have this colour in both (repeatable)\n"
		"  --diff OUT.ppm     write a picture of the differing pixels (red)\n"
		"  --png OUT.png      write A as a PNG (QEMU's PPM screendumps, for people)\n"
		"  --min-colours N    each image must use at least N different colours (not\n"
		"                     blank, not a plain background)...\n"
		"  --region X,Y,W,H   ... within this rectangle\n"
		"Exit status: 0 same (and probes right), 1 different, 2 usage or file errors.\n");
}

static int load_ppm(FILE *f, const char *path, struct image *img)
{
	unsigned maxval;
	int c;

	if (fscanf(f, "P6 %u %u %u", &img->w, &img->h, &maxval) != 3 || maxval != 255 ||
	    img->w == 0 || img->h == 0 || img->w > 16384 || img->h > 16384) {
		fprintf(stderr, "imgcmp: %s: not a binary PPM (P6, maxval 255) of sane size\n",
			path);
		return -EINVAL;
	}
	c = fgetc(f); /* the single whitespace after maxval */
	if (c == EOF)
		return -EINVAL;
	img->rgb = malloc((size_t)img->w * img->h * 3);
	if (!img->rgb)
		return -ENOMEM;
	if (fread(img->rgb, 3, (size_t)img->w * img->h, f) != (size_t)img->w * img->h) {
		fprintf(stderr, "imgcmp: %s: truncated pixel data\n", path);
		return -EINVAL;
	}
	return 0;
}

static int load_png(FILE *f, const char *path, struct image *img)
{
	png_image p;

	memset(&p, 0, sizeof(p));
	p.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_stdio(&p, f)) {
		fprintf(stderr, "imgcmp: %s: %s\n", path, p.message);
		return -EINVAL;
	}
	p.format = PNG_FORMAT_RGB;
	img->w = p.width;
	img->h = p.height;
	img->rgb = malloc(PNG_IMAGE_SIZE(p));
	if (!img->rgb) {
		png_image_free(&p);
		return -ENOMEM;
	}
	if (!png_image_finish_read(&p, NULL, img->rgb, 0, NULL)) {
		fprintf(stderr, "imgcmp: %s: %s\n", path, p.message);
		return -EINVAL;
	}
	return 0;
}

static int load(const char *path, struct image *img)
{
	uint8_t magic[8];
	FILE *f = fopen(path, "rb");
	int err;

	if (!f) {
		fprintf(stderr, "imgcmp: cannot open %s: %s\n", path, strerror(errno));
		return -errno;
	}
	if (fread(magic, 1, sizeof(magic), f) != sizeof(magic)) {
		fprintf(stderr, "imgcmp: %s: too short for an image\n", path);
		fclose(f);
		return -EINVAL;
	}
	rewind(f);
	if (png_sig_cmp(magic, 0, sizeof(magic)) == 0)
		err = load_png(f, path, img);
	else if (magic[0] == 'P' && magic[1] == '6')
		err = load_ppm(f, path, img);
	else {
		fprintf(stderr, "imgcmp: %s: neither PNG nor binary PPM\n", path);
		err = -EINVAL;
	}
	fclose(f);
	return err;
}

static bool masked(const struct rect *m, unsigned n, unsigned x, unsigned y)
{
	for (unsigned i = 0; i < n; i++)
		if (x - m[i].x < m[i].w && y - m[i].y < m[i].h)
			return true;
	return false;
}

static uint32_t pixel(const struct image *img, unsigned x, unsigned y)
{
	const uint8_t *p = img->rgb + ((size_t)y * img->w + x) * 3;

	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static int check_probes(const char *path, const struct image *img, const struct probe *p,
			unsigned n)
{
	int bad = 0;

	for (unsigned i = 0; i < n; i++) {
		if (p[i].x >= img->w || p[i].y >= img->h) {
			printf("imgcmp: %s: probe %u,%u outside the %ux%u picture\n", path, p[i].x,
			       p[i].y, img->w, img->h);
			bad++;
			continue;
		}
		uint32_t got = pixel(img, p[i].x, p[i].y);
		if (got != p[i].rgb) {
			printf("imgcmp: %s: pixel %u,%u is %06x, expected %06x\n", path, p[i].x,
			       p[i].y, got, p[i].rgb);
			bad++;
		}
	}
	return bad;
}

static int write_diff(const char *path, const struct image *a, const struct image *b,
		      const struct rect *m, unsigned nm)
{
	FILE *f = fopen(path, "wb");

	if (!f) {
		fprintf(stderr, "imgcmp: cannot create %s: %s\n", path, strerror(errno));
		return -errno;
	}
	fprintf(f, "P6\n%u %u\n255\n", a->w, a->h);
	for (unsigned y = 0; y < a->h; y++)
		for (unsigned x = 0; x < a->w; x++) {
			uint32_t pa = pixel(a, x, y), pb = pixel(b, x, y);
			uint8_t out[3];
			if (masked(m, nm, x, y)) {
				out[0] = out[1] = out[2] = 0x40;
			} else if (pa != pb) {
				out[0] = 0xff;
				out[1] = out[2] = 0;
			} else {
				/* Same: a dimmed grey of the picture. */
				uint8_t g = (uint8_t)((((pa >> 16) & 0xff) + ((pa >> 8) & 0xff) +
						       (pa & 0xff)) /
						      6);
				out[0] = out[1] = out[2] = g;
			}
			fwrite(out, 1, 3, f);
		}
	return fclose(f) == 0 ? 0 : -EIO;
}

/* Different colours in the picture, counting stops at limit (a small open-addressing set). */
static unsigned count_colours(const struct image *img, const struct rect *r, unsigned limit)
{
	enum { SLOTS = 4096 };
	uint32_t set[SLOTS];
	unsigned n = 0;

	if (limit > SLOTS / 2)
		limit = SLOTS / 2;
	memset(set, 0xff, sizeof(set)); /* 0xffffffff: empty (no RGB value has it) */
	for (unsigned y = r->y; y - r->y < r->h && y < img->h && n < limit; y++)
		for (unsigned x = r->x; x - r->x < r->w && x < img->w && n < limit; x++) {
			uint32_t c = pixel(img, x, y), h = (c * 2654435761u) % SLOTS;
			while (set[h] != 0xffffffffu && set[h] != c)
				h = (h + 1) % SLOTS;
			if (set[h] == 0xffffffffu) {
				set[h] = c;
				n++;
			}
		}
	return n;
}

static int write_png(const char *path, const struct image *img)
{
	png_image p;

	memset(&p, 0, sizeof(p));
	p.version = PNG_IMAGE_VERSION;
	p.width = img->w;
	p.height = img->h;
	p.format = PNG_FORMAT_RGB;
	if (!png_image_write_to_file(&p, path, 0, img->rgb, 0, NULL)) {
		fprintf(stderr, "imgcmp: cannot write %s: %s\n", path, p.message);
		return -EIO;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *files[2] = {NULL, NULL}, *diff = NULL, *png = NULL;
	struct rect masks[MAX_ITEMS];
	struct probe probes[MAX_ITEMS];
	unsigned nmask = 0, nprobe = 0, nfiles = 0, want_w = 0, want_h = 0, min_colours = 0;
	struct rect region = {0, 0, ~0u, ~0u};
	struct image img[2] = {{0}};
	int bad = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(a, "--mask") == 0 && v && nmask < MAX_ITEMS) {
			struct rect *r = &masks[nmask++];
			if (sscanf(v, "%u,%u,%u,%u", &r->x, &r->y, &r->w, &r->h) != 4)
				goto bad_usage;
			i++;
		} else if (strcmp(a, "--probe") == 0 && v && nprobe < MAX_ITEMS) {
			struct probe *p = &probes[nprobe++];
			if (sscanf(v, "%u,%u,%x", &p->x, &p->y, &p->rgb) != 3)
				goto bad_usage;
			i++;
		} else if (strcmp(a, "--size") == 0 && v) {
			if (sscanf(v, "%ux%u", &want_w, &want_h) != 2)
				goto bad_usage;
			i++;
		} else if (strcmp(a, "--diff") == 0 && v) {
			diff = v;
			i++;
		} else if (strcmp(a, "--region") == 0 && v) {
			if (sscanf(v, "%u,%u,%u,%u", &region.x, &region.y, &region.w, &region.h) !=
			    4)
				goto bad_usage;
			i++;
		} else if (strcmp(a, "--min-colours") == 0 && v) {
			if (sscanf(v, "%u", &min_colours) != 1)
				goto bad_usage;
			i++;
		} else if (strcmp(a, "--png") == 0 && v) {
			png = v;
			i++;
		} else if (a[0] != '-' && nfiles < 2) {
			files[nfiles++] = a;
		} else {
			goto bad_usage;
		}
	}
	if (nfiles == 0)
		goto bad_usage;
	for (unsigned i = 0; i < nfiles; i++) {
		if (load(files[i], &img[i])) {
			bad = -1;
			goto out;
		}
		printf("imgcmp: %s: %ux%u\n", files[i], img[i].w, img[i].h);
		if (want_w && (img[i].w != want_w || img[i].h != want_h)) {
			printf("imgcmp: %s: %ux%u, expected %ux%u\n", files[i], img[i].w, img[i].h,
			       want_w, want_h);
			bad++;
		}
		bad += check_probes(files[i], &img[i], probes, nprobe);
		if (min_colours) {
			unsigned n = count_colours(&img[i], &region, min_colours);
			if (n < min_colours) {
				printf(
				    "imgcmp: %s: only %u different colours, expected at least %u\n",
				    files[i], n, min_colours);
				bad++;
			}
		}
	}
	if (png && write_png(png, &img[0]))
		bad++;
	if (nfiles == 2) {
		if (img[0].w != img[1].w || img[0].h != img[1].h) {
			printf("imgcmp: sizes differ: %ux%u and %ux%u\n", img[0].w, img[0].h,
			       img[1].w, img[1].h);
			bad++;
		} else {
			unsigned long ndiff = 0;
			unsigned x0 = ~0u, y0 = ~0u, x1 = 0, y1 = 0;
			for (unsigned y = 0; y < img[0].h; y++)
				for (unsigned x = 0; x < img[0].w; x++) {
					if (masked(masks, nmask, x, y) ||
					    pixel(&img[0], x, y) == pixel(&img[1], x, y))
						continue;
					if (ndiff++ < 5)
						printf("imgcmp: pixel %u,%u: %06x vs %06x\n", x, y,
						       pixel(&img[0], x, y), pixel(&img[1], x, y));
					x0 = x < x0 ? x : x0;
					y0 = y < y0 ? y : y0;
					x1 = x > x1 ? x : x1;
					y1 = y > y1 ? y : y1;
				}
			if (ndiff) {
				printf("imgcmp: %lu pixels differ, within %u,%u-%u,%u\n", ndiff, x0,
				       y0, x1, y1);
				bad++;
				if (diff && write_diff(diff, &img[0], &img[1], masks, nmask) == 0)
					printf("imgcmp: differences drawn in %s\n", diff);
			} else {
				printf("imgcmp: identical pixels (%u masked rectangles)\n", nmask);
			}
		}
	}
out:
	free(img[0].rgb);
	free(img[1].rgb);
	return bad < 0 ? 2 : bad ? 1 : 0;

bad_usage:
	usage(stderr);
	return 2;
}
