/* Screenshots: the PNG writer's file reads back through libpng with the
 * surface's pixels; it refreshes first; errors name the file. */
#include "devices/display.h"

#include <errno.h>
#include <fcntl.h>
#include <png.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static int setup(void **state)
{
	strcpy(dir, "/tmp/osio-png-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static uint32_t pattern(unsigned x, unsigned y)
{
	return (x * 7 + y * 13) << 16 ^ (x * y) << 8 ^ (x ^ y * 3);
}

static void fill(struct display_surface *s)
{
	struct display_view v;
	display_lock(s, &v);
	for (unsigned y = 0; y < v.height; y++)
		for (unsigned x = 0; x < v.width; x++)
			v.pixels[y * v.width + x] = pattern(x, y) & 0xffffff;
	display_unlock(s);
}

/* Reads a PNG as 8-bit RGB; returns the pixels (caller frees). */
static uint8_t *read_png(const char *path, unsigned *w, unsigned *h)
{
	png_image img;
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	assert_true(png_image_begin_read_from_file(&img, path));
	/* The file itself is RGB without alpha, 8 bits per channel. */
	assert_int_equal(img.format, PNG_FORMAT_RGB);
	img.format = PNG_FORMAT_RGB;
	uint8_t *buf = malloc(PNG_IMAGE_SIZE(img));
	assert_non_null(buf);
	assert_true(png_image_finish_read(&img, NULL, buf, 0, NULL));
	*w = img.width;
	*h = img.height;
	return buf;
}

static void test_round_trip(void **state)
{
	struct display_surface *s = display_new(123, 45);
	fill(s);
	char path[128];
	snprintf(path, sizeof(path), "%s/shot.png", dir);
	assert_int_equal(display_save_png(s, path), 0);
	unsigned w, h;
	uint8_t *rgb = read_png(path, &w, &h);
	assert_int_equal(w, 123);
	assert_int_equal(h, 45);
	for (unsigned y = 0; y < h; y++)
		for (unsigned x = 0; x < w; x++) {
			uint32_t p = pattern(x, y) & 0xffffff;
			const uint8_t *q = rgb + 3 * (y * w + x);
			assert_int_equal(q[0], (p >> 16) & 0xff);
			assert_int_equal(q[1], (p >> 8) & 0xff);
			assert_int_equal(q[2], p & 0xff);
		}
	free(rgb);
	display_put(s);
}

static void paint_red(void *opaque)
{
	struct display_surface *s = opaque;
	struct display_view v;
	display_lock(s, &v);
	for (unsigned i = 0; i < v.width * v.height; i++)
		v.pixels[i] = 0xff0000;
	display_unlock(s);
}

static void test_refreshes_first(void **state)
{
	struct display_surface *s = display_new(4, 4);
	display_set_update(s, paint_red, s);
	char path[128];
	snprintf(path, sizeof(path), "%s/red.png", dir);
	assert_int_equal(display_save_png(s, path), 0);
	unsigned w, h;
	uint8_t *rgb = read_png(path, &w, &h);
	for (unsigned i = 0; i < w * h; i++) {
		assert_int_equal(rgb[3 * i], 0xff);
		assert_int_equal(rgb[3 * i + 1], 0);
		assert_int_equal(rgb[3 * i + 2], 0);
	}
	free(rgb);
	display_set_update(s, NULL, NULL);
	display_put(s);
}

/* Runs display_save_png with stderr captured; returns its result and the
 * message in msg. */
static int save_capturing(struct display_surface *s, const char *path, char *msg, size_t size)
{
	char log[128];
	snprintf(log, sizeof(log), "%s/stderr.txt", dir);
	fflush(stderr);
	int saved = dup(2);
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	close(fd);
	int r = display_save_png(s, path);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	FILE *f = fopen(log, "r");
	assert_non_null(f);
	size_t n = fread(msg, 1, size - 1, f);
	msg[n] = 0;
	fclose(f);
	return r;
}

static void test_errors_name_the_file(void **state)
{
	struct display_surface *s = display_new(4, 4);
	char msg[512], path[128];
	snprintf(path, sizeof(path), "%s/no/such/dir/shot.png", dir);
	assert_int_equal(save_capturing(s, path, msg, sizeof(msg)), -ENOENT);
	assert_non_null(strstr(msg, path));
	assert_non_null(strstr(msg, "No such file"));
	/* A directory is not a file to write. */
	assert_int_equal(save_capturing(s, dir, msg, sizeof(msg)), -EISDIR);
	assert_non_null(strstr(msg, dir));
	/* A full disk: the partial file is removed. */
	if (access("/dev/full", W_OK) == 0) {
		assert_true(save_capturing(s, "/dev/full", msg, sizeof(msg)) < 0);
		assert_non_null(strstr(msg, "/dev/full"));
	}
	display_put(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_refreshes_first),
	    cmocka_unit_test(test_errors_name_the_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
