/* Screen captures for `osio run`: the display surface as PNG, the text
 * screen as text. */
#include "hypervisor/capture.h"

#include "devices/device.h"
#include "devices/display.h"
#include "devices/vga/vga.h"
#include "hypervisor/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_MAX (256 * 1024)

static int write_text(void *vga, const char *path)
{
	char *buf = malloc(TEXT_MAX);
	if (!buf)
		return -ENOMEM;
	unsigned cols = 0, rows = 0;
	int r = vga_text_snapshot(vga, buf, TEXT_MAX, &cols, &rows);
	if (r == -EINVAL) {
		log_error("--screen-text %s: the screen is in a graphics mode, not a text mode; "
			  "use --screenshot for a picture",
			  path);
		goto out;
	}
	if (r < 0) {
		log_error("--screen-text %s: cannot read the screen: %s", path, strerror(-r));
		goto out;
	}
	FILE *f = fopen(path, "w");
	if (!f) {
		r = -errno;
		log_error("--screen-text %s: %s", path, strerror(errno));
		goto out;
	}
	size_t len = strlen(buf);
	if (fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		r = -EIO;
		log_error("--screen-text %s: write failed", path);
	}
out:
	free(buf);
	return r;
}

int capture_screen(struct machine *m, const char *png, const char *text)
{
	void *vga = machine_device(m, "vga");
	if (!vga) {
		log_error("%s: this VM has no display adapter", png ? "--screenshot" : "--screen-text");
		return -ENODEV;
	}
	int r = 0, e;
	if (png) {
		struct display_surface *s = vga_surface(vga);
		display_refresh(s);
		if ((e = display_save_png(s, png)) < 0)
			r = e;
	}
	if (text && (e = write_text(vga, text)) < 0)
		r = e;
	return r;
}
