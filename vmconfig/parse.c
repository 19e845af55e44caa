/* Reading a vmconfig: the file (size cap, OS errors), then each line checked
 * (UTF-8, syntax, schema), with FILE:LINE:COLUMN on the first error. */
#include "vmconfig/internal.h"

#include "hypervisor/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_HEADERS (VMCONFIG_MAX_REPEAT * 8)

struct parse_state {
	const char *path;
	struct vmconfig *cfg;
	struct vmconfig_error *err;
	unsigned lineno;
	/* The section being read: its header's index, or -1 before the first. */
	long header;
	const struct vmconfig_section_info *info;
	size_t keys[16]; /* indexes of its key lines so far */
	unsigned nkeys;
	size_t headers[MAX_HEADERS]; /* every header so far */
	unsigned nheaders;
};

static int fail_at(struct parse_state *st, const struct vc_line *l, size_t at, const char *msg)
{
	vc_error(st->err, st->path, st->lineno, vc_column(l->text, at), "%s", msg);
	return -EINVAL;
}

static int check_section(struct parse_state *st, const struct vc_line *l)
{
	const struct vmconfig_section_info *info = NULL;
	char msg[512], label[160];
	unsigned same_type = 0;
	int r;

	if (l->name && !l->name[0]) {
		snprintf(msg, sizeof(msg),
			 "[%.64s \"\"]: empty section name; leave it out ([%.64s]) or write one",
			 l->type, l->type);
		return fail_at(st, l, l->at, msg);
	}
	r = vc_check_section(l->type, l->name, &info, msg, sizeof(msg));
	if (r)
		return fail_at(st, l, l->at, msg);
	vc_section_label(l->type, l->name, label, sizeof(label));
	for (unsigned i = 0; i < st->nheaders; i++) {
		const struct vc_line *h = &st->cfg->lines[st->headers[i]];

		if (strcmp(h->type, l->type) != 0)
			continue;
		same_type++;
		if (h->name && l->name ? strcmp(h->name, l->name) != 0 : h->name != l->name)
			continue;
		if (info->naming == VMCONFIG_SINGLE)
			snprintf(msg, sizeof(msg),
				 "%s already appears on line %zu; merge the two sections", label,
				 st->headers[i] + 1);
		else if (!l->name)
			snprintf(msg, sizeof(msg),
				 "%s without a name already appears on line %zu; name them: [%s "
				 "\"NAME\"]",
				 label, st->headers[i] + 1, l->type);
		else
			snprintf(msg, sizeof(msg),
				 "%s already appears on line %zu; give each [%s] its own name",
				 label, st->headers[i] + 1, l->type);
		return fail_at(st, l, l->at, msg);
	}
	if (same_type >= VMCONFIG_MAX_REPEAT || st->nheaders >= MAX_HEADERS) {
		snprintf(msg, sizeof(msg), "too many [%s] sections (at most %u)", l->type,
			 VMCONFIG_MAX_REPEAT);
		return fail_at(st, l, l->at, msg);
	}
	st->headers[st->nheaders++] = st->cfg->nlines;
	st->header = (long)st->cfg->nlines;
	st->info = info;
	st->nkeys = 0;
	return 0;
}

static int check_key(struct parse_state *st, const struct vc_line *l)
{
	const struct vmconfig_key_info *k = NULL;
	const char *home = NULL;
	char msg[512], ex[96];
	size_t part;

	if (st->header < 0) {
		vc_value_excerpt(l->key, ex, sizeof(ex));
		for (unsigned i = 0; i < vmconfig_nsections && !home; i++)
			if (vmconfig_schema_key(&vmconfig_sections[i], l->key))
				home = vmconfig_sections[i].type;
		if (home)
			snprintf(msg, sizeof(msg),
				 "key '%s' is outside any section; put a [%s] header above it", ex,
				 home);
		else
			snprintf(msg, sizeof(msg),
				 "key '%s' is outside any section; put a section header such as "
				 "[vm] above it",
				 ex);
		return fail_at(st, l, l->at, msg);
	}
	if (vc_find_key_info(st->info, l->key, &k, msg, sizeof(msg)))
		return fail_at(st, l, l->at, msg);
	for (unsigned i = 0; i < st->nkeys; i++) {
		if (strcmp(st->cfg->lines[st->keys[i]].key, l->key) == 0) {
			snprintf(msg, sizeof(msg),
				 "key '%s' is already set on line %zu; remove one of them", l->key,
				 st->keys[i] + 1);
			return fail_at(st, l, l->at, msg);
		}
	}
	if (vc_check_key_value(k, l->value, &part, msg, sizeof(msg)))
		return fail_at(st, l, vc_value_offset(l, part), msg);
	/* Keys are unique and come from the schema: there are few. */
	if (st->nkeys < sizeof(st->keys) / sizeof(st->keys[0]))
		st->keys[st->nkeys++] = st->cfg->nlines;
	return 0;
}

/* One line of text (without its end): checked, lexed, checked against the
 * schema and appended. */
static int add_line(struct parse_state *st, const char *text, size_t len, const char *eol)
{
	struct vc_line l = {0};
	char msg[512];
	size_t at = 0;
	int r;

	if (vc_check_text(text, len, false, &at, msg, sizeof(msg))) {
		/* The bytes before at are valid: count characters on a copy. */
		char *prefix = strndup(text, at);

		vc_error(st->err, st->path, st->lineno, prefix ? vc_column(prefix, at) : 0, "%s",
			 msg);
		free(prefix);
		return -EINVAL;
	}
	l.text = malloc(len + 1);
	if (!l.text)
		goto nomem;
	memcpy(l.text, text, len);
	l.text[len] = '\0';
	l.len = len;
	strcpy(l.eol, eol);
	r = vc_lex_line(&l, &at, msg, sizeof(msg));
	if (r == -ENOMEM)
		goto nomem;
	if (r) {
		r = fail_at(st, &l, at, msg);
		goto out;
	}
	if (l.kind == VC_SECTION)
		r = check_section(st, &l);
	else if (l.kind == VC_KEY)
		r = check_key(st, &l);
	if (r)
		goto out;
	if (vc_reserve(st->cfg, 1))
		goto nomem;
	st->cfg->lines[st->cfg->nlines++] = l;
	return 0;
nomem:
	vc_error(st->err, st->path, st->lineno, 0, "out of memory");
	r = -ENOMEM;
out:
	vc_line_clear(&l);
	return r;
}

static void too_large(struct vmconfig_error *err, const char *path)
{
	vc_error(err, path, 0, 0, "the file is larger than %u MiB; a vmconfig holds settings only",
		 VMCONFIG_MAX_SIZE >> 20);
	errno = EFBIG;
}

struct vmconfig *vmconfig_parse(const char *text, size_t len, const char *path,
				struct vmconfig_error *err)
{
	struct parse_state *st;
	struct vmconfig *cfg;
	size_t pos = 0;

	if (len > VMCONFIG_MAX_SIZE) {
		too_large(err, path);
		return NULL;
	}
	cfg = vmconfig_new(path);
	st = calloc(1, sizeof(*st));
	if (!cfg || !st) {
		vc_error(err, path, 0, 0, "out of memory");
		goto fail;
	}
	st->path = path;
	st->cfg = cfg;
	st->err = err;
	st->header = -1;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		cfg->bom = true;
		pos = 3;
	}
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len, tlen = end - pos;
		const char *eol = "";

		if (nl) {
			eol = "\n";
			if (tlen && text[end - 1] == '\r') {
				tlen--;
				eol = "\r\n";
			}
		}
		st->lineno++;
		if (add_line(st, text + pos, tlen, eol))
			goto fail;
		pos = nl ? end + 1 : len;
	}
	if (vmconfig_validate(cfg, err))
		goto fail;
	free(st);
	return cfg;
fail:
	free(st);
	vmconfig_free(cfg);
	errno = EINVAL;
	return NULL;
}

struct vmconfig *vmconfig_load(const char *path, struct vmconfig_error *err)
{
	struct vmconfig *cfg = NULL;
	char *buf = NULL;
	struct stat st;
	size_t len;
	int fd, e, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		vc_error(err, path, 0, 0, "cannot open: %s", strerror(e));
		errno = e;
		return NULL;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		vc_error(err, path, 0, 0, "cannot read: %s; name a .vmconfig file",
			 strerror(EISDIR));
		e = EISDIR;
		goto out;
	}
	/* Read to its end, whatever its size claims (pipes, /proc). */
	r = file_read_whole_fd(fd, VMCONFIG_MAX_SIZE, &buf, &len);
	if (r == -EFBIG) {
		too_large(err, path);
		e = EFBIG;
		goto out;
	}
	if (r == -ENOMEM) {
		vc_error(err, path, 0, 0, "out of memory");
		e = ENOMEM;
		goto out;
	}
	if (r < 0) {
		e = -r;
		vc_error(err, path, 0, 0, "cannot read: %s", strerror(e));
		goto out;
	}
	cfg = vmconfig_parse(buf, len, path, err);
	e = cfg ? 0 : errno;
out:
	free(buf);
	close(fd);
	errno = e;
	return cfg;
}
