/* Editing a vmconfig in place: set a value on its own line (comment,
 * indentation and quoting kept), add keys and sections, remove them. */
#include "vmconfig/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Builds a line record from text (malloc'd, taken over) by lexing it, so
 * that the record always says what its text says. */
static int make_line(char *text, struct vc_line *l)
{
	char msg[256];
	size_t at;
	int r;

	memset(l, 0, sizeof(*l));
	if (!text)
		return -ENOMEM;
	l->text = text;
	l->len = strlen(text);
	r = vc_lex_line(l, &at, msg, sizeof(msg));
	if (r)
		vc_line_clear(l);
	return r;
}

static char *concat(const char *a, size_t alen, const char *b, const char *c, size_t clen)
{
	size_t blen = strlen(b);
	char *s = malloc(alen + blen + clen + 1);

	if (!s)
		return NULL;
	memcpy(s, a, alen);
	memcpy(s + alen, b, blen);
	memcpy(s + alen + blen, c, clen);
	s[alen + blen + clen] = '\0';
	return s;
}

/* The value as written: vc_encode_value's choice, but a list (of choices or
 * of forwards) reads well
 * bare with its spaces ("dvd, disk"); its entries hold no quote, '#' or
 * ';', and only spaces at its ends need quotes to be kept. */
static char *encode(const struct vmconfig_key_info *k, const char *value, bool quoted)
{
	size_t len = strlen(value);

	if (!quoted && (k->type == VMCONFIG_T_LIST || k->type == VMCONFIG_T_FORWARDS) && len &&
	    value[0] != ' ' && value[0] != '\t' && value[len - 1] != ' ' &&
	    value[len - 1] != '\t' && !strpbrk(value, "\"#;\\\n"))
		return strdup(value);
	return vc_encode_value(value, quoted);
}

static int replace_value(struct vmconfig *cfg, size_t i, const struct vmconfig_key_info *k,
			 const char *value)
{
	struct vc_line *old = &cfg->lines[i], l;
	char *enc = encode(k, value, old->quoted), *mid;
	const char *tail = old->text + old->value_end;
	size_t tail_len = old->len - old->value_end;
	/* An empty value, as in "key =# c", gets room on both sides:
	 * "key = VALUE # c". Otherwise the spacing is the writer's. */
	bool empty = old->value_at == old->value_end;
	bool space_before = empty && old->value_at > 0 && old->text[old->value_at - 1] == '=';
	bool space_after = empty && tail_len && (tail[0] == '#' || tail[0] == ';');
	int r;

	if (!enc)
		return -ENOMEM;
	mid = malloc(strlen(enc) + 3);
	if (!mid) {
		free(enc);
		return -ENOMEM;
	}
	snprintf(mid, strlen(enc) + 3, "%s%s%s", space_before ? " " : "", enc,
		 space_after ? " " : "");
	r = make_line(concat(old->text, old->value_at, mid, tail, tail_len), &l);
	free(mid);
	free(enc);
	if (r)
		return r;
	if (l.kind != VC_KEY || strcmp(l.value, value) != 0) {
		vc_line_clear(&l); /* cannot happen: the value was checked */
		return -EINVAL;
	}
	strcpy(l.eol, old->eol);
	vc_line_clear(old);
	*old = l;
	return 0;
}

static char *key_text(const char *indent, size_t indent_len, const struct vmconfig_key_info *k,
		      const char *value)
{
	const char *key = k->key;
	char *enc = encode(k, value, false), *s;
	size_t n;

	if (!enc)
		return NULL;
	n = indent_len + strlen(key) + strlen(enc) + 4;
	s = malloc(n);
	if (s)
		snprintf(s, n, "%.*s%s = %s", (int)indent_len, indent, key, enc);
	free(enc);
	return s;
}

static int add_key(struct vmconfig *cfg, size_t h, const struct vmconfig_key_info *key,
		   const char *value)
{
	size_t end = vc_section_end(cfg, h), last = h;
	struct vc_line l;
	int r;

	for (size_t i = h + 1; i < end; i++)
		if (cfg->lines[i].kind == VC_KEY)
			last = i;
	/* Indented like the key line above it. */
	r = make_line(
	    key_text(cfg->lines[last].text, last == h ? 0 : cfg->lines[last].at, key, value), &l);
	if (r)
		return r;
	r = vc_insert_line(cfg, last + 1, &l);
	if (r)
		vc_line_clear(&l);
	return r;
}

static int add_section(struct vmconfig *cfg, const char *type, const char *name,
		       const struct vmconfig_key_info *key, const char *value)
{
	struct vc_line lines[3];
	size_t n = 0, len;
	char *header;
	int r;

	if (cfg->nlines && cfg->lines[cfg->nlines - 1].kind != VC_BLANK) {
		r = make_line(strdup(""), &lines[n]);
		if (r)
			goto fail;
		n++;
	}
	/* Names were checked: no quote or backslash to escape. */
	len = strlen(type) + (name ? strlen(name) : 0) + 6;
	header = malloc(len);
	if (header) {
		if (name)
			snprintf(header, len, "[%s \"%s\"]", type, name);
		else
			snprintf(header, len, "[%s]", type);
	}
	r = make_line(header, &lines[n]);
	if (r)
		goto fail;
	n++;
	r = make_line(key_text("", 0, key, value), &lines[n]);
	if (r)
		goto fail;
	n++;
	r = vc_reserve(cfg, n);
	if (r)
		goto fail;
	for (size_t i = 0; i < n; i++)
		vc_insert_line(cfg, cfg->nlines, &lines[i]); /* cannot fail: reserved */
	return 0;
fail:
	while (n)
		vc_line_clear(&lines[--n]);
	return r;
}

int vmconfig_set(struct vmconfig *cfg, const char *section, const char *name, const char *key,
		 const char *value, struct vmconfig_error *err)
{
	const struct vmconfig_section_info *s = NULL;
	const struct vmconfig_key_info *k = NULL;
	char msg[512];
	long h, ki;
	int r;

	if (name && !name[0])
		name = NULL;
	if (vc_check_section(section, name, &s, msg, sizeof(msg)) ||
	    vc_find_key_info(s, key, &k, msg, sizeof(msg)) ||
	    vc_check_key_value(k, value, NULL, msg, sizeof(msg))) {
		vc_error(err, cfg->path, 0, 0, "%s", msg);
		return -EINVAL;
	}
	h = vc_find_section(cfg, section, name);
	if (h < 0) {
		if (vmconfig_count(cfg, section) >= VMCONFIG_MAX_REPEAT) {
			vc_error(err, cfg->path, 0, 0, "too many [%s] sections (at most %u)",
				 section, VMCONFIG_MAX_REPEAT);
			return -EINVAL;
		}
		r = add_section(cfg, section, name, k, value);
	} else {
		ki = vc_find_key(cfg, (size_t)h, key);
		if (ki >= 0)
			r = replace_value(cfg, (size_t)ki, k, value);
		else
			r = add_key(cfg, (size_t)h, k, value);
	}
	if (r == -ENOMEM)
		vc_error(err, cfg->path, 0, 0, "out of memory");
	else if (r)
		vc_error(err, cfg->path, 0, 0, "%s = ...: cannot be written back", key);
	return r;
}

int vmconfig_unset(struct vmconfig *cfg, const char *section, const char *name, const char *key)
{
	long h = vc_find_section(cfg, section, name), k;

	if (h < 0)
		return -ENOENT;
	k = vc_find_key(cfg, (size_t)h, key);
	if (k < 0)
		return -ENOENT;
	vc_remove_lines(cfg, (size_t)k, (size_t)k + 1);
	return 0;
}

int vmconfig_remove_section(struct vmconfig *cfg, const char *section, const char *name)
{
	long found = vc_find_section(cfg, section, name);
	const struct vc_line *lines = cfg->lines;
	size_t h, start, end, j;

	if (found < 0)
		return -ENOENT;
	h = (size_t)found;
	end = vc_section_end(cfg, h);
	/* A comment block right above the next header, after a blank line,
	 * speaks of that section: it stays. */
	if (end < cfg->nlines) {
		for (j = end; j > h + 1 && lines[j - 1].kind == VC_COMMENT; j--)
			;
		if (j < end && lines[j - 1].kind == VC_BLANK)
			end = j;
	}
	/* The comment block right above this header, after a blank line or at
	 * the top of the file, speaks of this section: it goes. */
	start = h;
	for (j = h; j > 0 && lines[j - 1].kind == VC_COMMENT; j--)
		;
	if (j < h && (j == 0 || lines[j - 1].kind == VC_BLANK))
		start = j;
	/* The last section: the blank lines that separated it go too. */
	if (end == cfg->nlines)
		while (start > 0 && lines[start - 1].kind == VC_BLANK)
			start--;
	vc_remove_lines(cfg, start, end);
	return 0;
}
