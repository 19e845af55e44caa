/* vmconfig messages: "FILE:LINE:COLUMN: error: MESSAGE", columns counted in
 * characters, and excerpts of values and section names fit for a message. */
#include "vmconfig/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void vc_error(struct vmconfig_error *err, const char *path, unsigned line, unsigned column,
	      const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	snprintf(err->file, sizeof(err->file), "%s", path ? path : "");
	err->line = line;
	err->column = line ? column : 0;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

void vmconfig_error_format(const struct vmconfig_error *e, char *buf, size_t size)
{
	char where[PATH_MAX + 32];
	size_t n = 0;

	if (!size)
		return;
	where[0] = '\0';
	if (e->file[0])
		n += snprintf(where + n, sizeof(where) - n, "%s:", e->file);
	if (e->line) {
		n += snprintf(where + n, sizeof(where) - n, "%u:", e->line);
		if (e->column)
			n += snprintf(where + n, sizeof(where) - n, "%u:", e->column);
	}
	snprintf(buf, size, "%s%serror: %s", where, n ? " " : "", e->message);
}

unsigned vc_column(const char *text, size_t at)
{
	unsigned col = 1;

	for (size_t i = 0; i < at && text[i]; i++)
		if (((unsigned char)text[i] & 0xc0) != 0x80)
			col++;
	return col;
}

void vc_section_label(const char *type, const char *name, char *buf, size_t size)
{
	char ex[96];

	if (name && name[0]) {
		vc_value_excerpt(name, ex, sizeof(ex));
		snprintf(buf, size, "[%s \"%s\"]", type, ex);
	} else {
		snprintf(buf, size, "[%s]", type);
	}
}

void vc_value_excerpt(const char *value, char *buf, size_t size)
{
	const size_t keep = 60; /* characters of the value shown */
	size_t o = 0, shown = 0;
	const char *p = value;

	if (!size)
		return;
	/* Room for the longest step (an escape or a 4-byte character), "..."
	 * and the NUL. */
	while (*p && o + 8 < size) {
		unsigned char c = (unsigned char)*p;
		size_t clen = 1;

		if (shown == keep)
			break;
		if (c == '\n' || c == '\t') {
			buf[o++] = '\\';
			buf[o++] = c == '\n' ? 'n' : 't';
		} else if (c < 0x20 || c == 0x7f) {
			buf[o++] = '?';
		} else {
			size_t at;
			char msg[8];

			if (c >= 0xc0)
				while (clen < 4 && ((unsigned char)p[clen] & 0xc0) == 0x80)
					clen++;
			if (c >= 0x80 && vc_check_text(p, clen, false, &at, msg, sizeof(msg))) {
				buf[o++] = '?'; /* not UTF-8: one '?' per byte */
				clen = 1;
			} else {
				memcpy(buf + o, p, clen);
				o += clen;
			}
		}
		p += clen;
		shown++;
	}
	if (*p) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
}
