/* Screenshots: the display surface written as an 8-bit RGB PNG with libpng. */
#include "devices/display.h"
#include "hypervisor/log.h"

#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct png_job {
	const char *path;
	FILE *f;
	const uint8_t *rgb;
	unsigned width, height;
	char error[160];
};

static void png_error_fn(png_structp png, png_const_charp msg)
{
	struct png_job *job = png_get_error_ptr(png);
	snprintf(job->error, sizeof(job->error), "%s", msg);
	png_longjmp(png, 1);
}

static void png_warning_fn(png_structp png, png_const_charp msg)
{
}

/* Everything libpng may longjmp out of lives here, with nothing changed
 * after setjmp but through job. */
static int encode(struct png_job *job)
{
	png_structp png =
	    png_create_write_struct(PNG_LIBPNG_VER_STRING, job, png_error_fn, png_warning_fn);
	if (!png)
		return -ENOMEM;
	png_infop info = png_create_info_struct(png);
	if (!info) {
		png_destroy_write_struct(&png, NULL);
		return -ENOMEM;
	}
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		return -EIO;
	}
	png_init_io(png, job->f);
	png_set_IHDR(png, info, job->width, job->height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (unsigned y = 0; y < job->height; y++)
		png_write_row(png, job->rgb + (size_t)y * job->width * 3);
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	return 0;
}

/* Writes the picture to f (closed here), which is path or, when path is
 * NULL, the descriptor called name. */
static int save_to(struct display_surface *s, FILE *f, const char *path, const char *name)
{
	display_refresh(s);

	/* Copy out under the lock; compress without it. */
	struct display_view v;
	display_lock(s, &v);
	struct png_job job = {.path = name, .f = f, .width = v.width, .height = v.height};
	uint8_t *rgb = malloc((size_t)v.width * v.height * 3);
	if (rgb) {
		for (unsigned y = 0; y < v.height; y++) {
			const uint32_t *src =
			    (const uint32_t *)((const uint8_t *)v.pixels + (size_t)y * v.stride);
			uint8_t *dst = rgb + (size_t)y * v.width * 3;
			for (unsigned x = 0; x < v.width; x++) {
				dst[3 * x] = (uint8_t)(src[x] >> 16);
				dst[3 * x + 1] = (uint8_t)(src[x] >> 8);
				dst[3 * x + 2] = (uint8_t)src[x];
			}
		}
	}
	display_unlock(s);
	if (!rgb) {
		log_error("cannot save the screenshot %s: out of memory", name);
		fclose(f);
		return -ENOMEM;
	}
	job.rgb = rgb;

	/* A partial file at path is removed on failure; a device (/dev/stdout)
	 * is not. */
	struct stat st;
	bool regular = path && fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode);
	int r = encode(&job);
	if (fflush(f) != 0 || ferror(f)) {
		if (r == 0) {
			r = -(errno ? errno : EIO);
			snprintf(job.error, sizeof(job.error), "%s", strerror(-r));
		}
	}
	if (fclose(f) != 0 && r == 0) {
		r = -errno;
		snprintf(job.error, sizeof(job.error), "%s", strerror(errno));
	}
	if (r < 0) {
		log_error("cannot write the screenshot %s: %s", name,
			  job.error[0] ? job.error : strerror(-r));
		if (regular)
			unlink(path);
	}
	free(rgb);
	return r;
}

int display_save_png(struct display_surface *s, const char *path)
{
	FILE *f = fopen(path, "wb");
	if (!f) {
		int r = -errno;
		log_error("cannot write the screenshot %s: %s", path, strerror(errno));
		return r;
	}
	return save_to(s, f, path, path);
}

int display_save_png_fd(struct display_surface *s, int fd, const char *name)
{
	FILE *f = fdopen(fd, "wb");
	if (!f) {
		int r = -errno;
		log_error("cannot write the screenshot %s: %s", name, strerror(errno));
		close(fd);
		return r;
	}
	return save_to(s, f, NULL, name);
}
