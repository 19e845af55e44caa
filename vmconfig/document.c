/* The vmconfig document: its lines in order, lookups of sections and keys,
 * and the text written back (the very bytes read when nothing was edited). */
#include "vmconfig/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

struct vmconfig *vmconfig_new(const char *path)
{
	struct vmconfig *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		return NULL;
	if (path) {
		cfg->path = strdup(path);
		if (!cfg->path) {
			free(cfg);
			return NULL;
		}
	}
	return cfg;
}

void vmconfig_free(struct vmconfig *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->nlines; i++)
		vc_line_clear(&cfg->lines[i]);
	free(cfg->lines);
	free(cfg->path);
	free(cfg);
}

const char *vmconfig_path(const struct vmconfig *cfg)
{
	return cfg->path;
}

char *vmconfig_format(const struct vmconfig *cfg, size_t *len)
{
	size_t total = cfg->bom ? 3 : 0, o = 0;
	char *s;

	for (size_t i = 0; i < cfg->nlines; i++)
		total += cfg->lines[i].len + strlen(cfg->lines[i].eol);
	s = malloc(total + 1);
	if (!s)
		return NULL;
	if (cfg->bom) {
		memcpy(s, "\xef\xbb\xbf", 3);
		o = 3;
	}
	for (size_t i = 0; i < cfg->nlines; i++) {
		const struct vc_line *l = &cfg->lines[i];
		size_t e = strlen(l->eol);

		memcpy(s + o, l->text, l->len);
		o += l->len;
		memcpy(s + o, l->eol, e);
		o += e;
	}
	s[o] = '\0';
	if (len)
		*len = o;
	return s;
}

static bool same_name(const char *a, const char *b)
{
	if (a && !a[0])
		a = NULL;
	if (b && !b[0])
		b = NULL;
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

long vc_find_section(const struct vmconfig *cfg, const char *type, const char *name)
{
	for (size_t i = 0; i < cfg->nlines; i++) {
		const struct vc_line *l = &cfg->lines[i];

		if (l->kind == VC_SECTION && strcmp(l->type, type) == 0 && same_name(l->name, name))
			return (long)i;
	}
	return -1;
}

size_t vc_section_end(const struct vmconfig *cfg, size_t header)
{
	size_t i = header + 1;

	while (i < cfg->nlines && cfg->lines[i].kind != VC_SECTION)
		i++;
	return i;
}

long vc_find_key(const struct vmconfig *cfg, size_t header, const char *key)
{
	size_t end = vc_section_end(cfg, header);

	for (size_t i = header + 1; i < end; i++)
		if (cfg->lines[i].kind == VC_KEY && strcmp(cfg->lines[i].key, key) == 0)
			return (long)i;
	return -1;
}

const char *vmconfig_get(const struct vmconfig *cfg, const char *section, const char *name,
			 const char *key)
{
	long h = vc_find_section(cfg, section, name), k;

	if (h < 0)
		return NULL;
	k = vc_find_key(cfg, (size_t)h, key);
	return k < 0 ? NULL : cfg->lines[k].value;
}

unsigned vmconfig_count(const struct vmconfig *cfg, const char *section)
{
	unsigned n = 0;

	for (size_t i = 0; i < cfg->nlines; i++)
		if (cfg->lines[i].kind == VC_SECTION && strcmp(cfg->lines[i].type, section) == 0)
			n++;
	return n;
}

const char *vmconfig_section_name(const struct vmconfig *cfg, const char *section, unsigned i)
{
	for (size_t j = 0; j < cfg->nlines; j++) {
		const struct vc_line *l = &cfg->lines[j];

		if (l->kind == VC_SECTION && strcmp(l->type, section) == 0 && i-- == 0)
			return l->name ? l->name : "";
	}
	return NULL;
}

unsigned vmconfig_line(const struct vmconfig *cfg, const char *section, const char *name,
		       const char *key)
{
	long h = vc_find_section(cfg, section, name), k;

	if (h < 0)
		return 0;
	if (!key)
		return (unsigned)h + 1;
	k = vc_find_key(cfg, (size_t)h, key);
	return k < 0 ? 0 : (unsigned)k + 1;
}

const char *vc_default_eol(const struct vmconfig *cfg)
{
	for (size_t i = 0; i < cfg->nlines; i++)
		if (cfg->lines[i].eol[0])
			return cfg->lines[i].eol;
	return "\n";
}

int vc_reserve(struct vmconfig *cfg, size_t n)
{
	size_t cap = cfg->cap ? cfg->cap : 32;
	struct vc_line *lines;

	if (cfg->cap - cfg->nlines >= n)
		return 0;
	while (cap - cfg->nlines < n)
		cap *= 2;
	lines = realloc(cfg->lines, cap * sizeof(*lines));
	if (!lines)
		return -ENOMEM;
	cfg->lines = lines;
	cfg->cap = cap;
	return 0;
}

int vc_insert_line(struct vmconfig *cfg, size_t at, struct vc_line *line)
{
	/* A copy: vc_default_eol may point into cfg->lines, which vc_reserve
	 * may move. */
	char eolbuf[sizeof(line->eol)];
	const char *eol = eolbuf;
	snprintf(eolbuf, sizeof(eolbuf), "%s", vc_default_eol(cfg));

	if (vc_reserve(cfg, 1))
		return -ENOMEM;
	memmove(&cfg->lines[at + 1], &cfg->lines[at], (cfg->nlines - at) * sizeof(*line));
	/* Appended after a last line without a line end: that line gets one,
	 * and the new last line goes without, as the file did. */
	if (at == cfg->nlines && at > 0 && !cfg->lines[at - 1].eol[0]) {
		strcpy(cfg->lines[at - 1].eol, eol);
		eol = "";
	}
	strcpy(line->eol, eol);
	cfg->lines[at] = *line;
	cfg->nlines++;
	return 0;
}

void vc_remove_lines(struct vmconfig *cfg, size_t from, size_t to)
{
	bool no_final_eol = to == cfg->nlines && to > from && !cfg->lines[to - 1].eol[0];

	for (size_t i = from; i < to; i++)
		vc_line_clear(&cfg->lines[i]);
	memmove(&cfg->lines[from], &cfg->lines[to], (cfg->nlines - to) * sizeof(cfg->lines[0]));
	cfg->nlines -= to - from;
	if (no_final_eol && from > 0)
		cfg->lines[from - 1].eol[0] = '\0';
}
